/**
 * A data-subject requester confirms their identity with eID (the local oidc-provider as a BankID-like
 * broker) instead of the code: the request records the identity (method eid, the scheme and masked national
 * id in its trail), discovery then finds a KYC case of theirs by the verified national id although it has
 * another email, and the national id is nowhere in clear — not in the database rows, not in the request's
 * Temporal history even decoded with the codec, not in the logs. Without a broker the API answers 422
 * `eid_unavailable` and the page does not offer eID.
 */
import { randomInt, randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import type { temporal } from '@temporalio/proto';
import type { DataSource } from 'typeorm';
import { workflowIdForDataSubjectRequest } from '../../src/dsr/create-data-subject-request';
import { createLogger } from '../../src/logger';
import { shredRecord } from '../../src/privacy/shred-record';
import { apiClient, type Json } from '../support/api-client';
import { freePort, identifyWithEid, startLocalEidBroker, type LocalEidBroker } from '../support/eid-broker';
import { createTestOrganization } from '../support/factories';
import { openTestDataSource, startTestApi, type TestApi } from '../support/harness';
import { outboxMessage } from '../support/members';
import { waitFor } from '../support/wait-for';

const serial = String(randomInt(1000, 9999));
const nationalId = `19800101${serial}`;
const shortNationalId = `800101-${serial}`;
const linnea = { sub: `linnea-${randomUUID().slice(0, 8)}`, name: 'Linnea Lund', birthdate: '1980-01-01', nationalId };

let dataSource: DataSource;
let broker: LocalEidBroker;
let api: TestApi;
let plain: TestApi;
let org: { orgId: string; apiKey: string; slug: string };
const logLines: string[] = [];
const call = apiClient(() => api.url, () => org.apiKey);
const callPlain = apiClient(() => plain.url, () => org.apiKey);

beforeAll(async () => {
  dataSource = await openTestDataSource();
  const port = await freePort();
  broker = await startLocalEidBroker({ port, people: [linnea] });
  const capture = new Writable({
    write(chunk, _encoding, done) {
      logLines.push(chunk.toString());
      done();
    },
  });
  api = await startTestApi(dataSource, { port, env: broker.env, log: createLogger('debug', capture) });
  plain = await startTestApi(dataSource);
  org = await createTestOrganization(dataSource);
});

afterAll(async () => {
  await api?.close();
  await plain?.close();
  await broker?.stop();
  await dataSource?.destroy();
});

async function requestWithLink(target: TestApi, callTarget: typeof call): Promise<{ id: string; token: string; email: string }> {
  const email = `linnea-${randomUUID()}@example.test`;
  const created = await callTarget('/v1/data-subject-requests', { body: { type: 'access', requester: { name: 'Linnea Lund', email } } });
  expect(created.status).toBe(201);
  const id: string = created.body.id;
  const text = await waitFor('the confirmation email', () => {
    try {
      return outboxMessage(target, 'mail', `dsr-code-${id}-v1`);
    } catch {
      return undefined;
    }
  });
  return { id, token: /\/privacy\/[a-z0-9-]+\/r\/([0-9a-f]{64})/.exec(text)![1]!, email };
}

async function startEid(url: string, token: string) {
  return fetch(`${url}/v1/privacy/requests/eid/start`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token }) });
}

type RawPayload = temporal.api.common.v1.IPayload;

/** Every payload in a history, found by shape (search attributes aside: Temporal reads those). */
function payloadsIn(node: unknown, into: RawPayload[] = []): RawPayload[] {
  if (Array.isArray(node)) node.forEach((item) => payloadsIn(item, into));
  else if (node && typeof node === 'object' && !(node instanceof Uint8Array)) {
    const record = node as Record<string, unknown>;
    if (record.metadata && typeof record.metadata === 'object' && record.data instanceof Uint8Array) into.push(record as RawPayload);
    else Object.entries(record).forEach(([key, value]) => key !== 'searchAttributes' && payloadsIn(value, into));
  }
  return into;
}

test('a requester confirms with eID: identity recorded, discovery finds their KYC case by national id, the number nowhere in clear', async () => {
  // A KYC case of the same person under another email: only the national id ties it to them.
  const kyc = await call('/v1/kyc-cases', {
    body: { customer: { type: 'person', name: 'Linnea Lund', email: `other-${randomUUID()}@example.test`, nationalId: shortNationalId } },
  });
  expect(kyc.status).toBe(201);

  expect((await call(`/v1/privacy/${org.slug}`, { key: null })).body).toMatchObject({ eidAvailable: true });
  const page = await fetch(`${api.url}/privacy/${org.slug}/r/${'a'.repeat(64)}`);
  expect(await page.text()).toContain('"eidAvailable":true');

  const request = await requestWithLink(api, call);
  const started = await startEid(api.url, request.token);
  expect(started.status).toBe(200);
  const { authorizationUrl } = (await started.json()) as { authorizationUrl: string };
  const back = await identifyWithEid(api.url, { authorizationUrl, setCookies: started.headers.getSetCookie() }, linnea.sub);
  expect(back.location).toBe(`/privacy/${org.slug}/r/${request.token}?eid=ok`);

  // Without the result cookie this browser got, the link alone opens no session.
  const without = await call('/v1/privacy/requests/eid/session', { key: null, body: { token: request.token } });
  expect(without.status).toBe(403);
  const session = await fetch(`${api.url}/v1/privacy/requests/eid/session`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', cookie: back.resultCookie! },
    body: JSON.stringify({ token: request.token }),
  });
  expect(session.status).toBe(200);
  const status = (await session.json()) as Json;
  expect(status).toMatchObject({ type: 'access', identityConfirmedAt: expect.any(String) });
  const sessionCookie = session.headers.getSetCookie().find((cookie) => cookie.startsWith('sigill_dsr='))!.split(';')[0]!;
  expect((await call('/v1/privacy/requests/status', { key: null, headers: { cookie: sessionCookie } })).body.identityConfirmedAt).toEqual(expect.any(String));
  // Confirmed once: eID cannot be started again for it.
  expect((await startEid(api.url, request.token)).status).toBe(409);

  const read = await waitFor('the request in progress', async () => {
    const view = (await call(`/v1/data-subject-requests/${request.id}`)).body;
    return view.status === 'in_progress' ? view : undefined;
  });
  expect(read).toMatchObject({ identityMethod: 'eid', identityConfirmedAt: expect.any(String) });
  const trail = await waitFor('the trail with the confirmation', async () => {
    const body = (await call(`/v1/data-subject-requests/${request.id}/audit-trail`)).body;
    return body.events?.some((event: Json) => event.type === 'identity_confirmed') ? body : undefined;
  });
  const confirmed = trail.events.find((event: Json) => event.type === 'identity_confirmed');
  expect(confirmed.detail).toMatchObject({ method: 'eid', scheme: 'sebankid', nationalIdMasked: '19800101-****' });

  // Discovery: the KYC case, matched by the verified national id (its email is another).
  const records = await call(`/v1/data-subject-requests/${request.id}/records`);
  expect(records.status).toBe(200);
  const found = records.body.items as Json[];
  expect(found).toEqual(expect.arrayContaining([expect.objectContaining({ kind: 'kyc_case', id: kyc.body.id, matchedBy: expect.arrayContaining(['national_id']) })]));

  // Nowhere in clear: the request's row and trail, the identification row, any answer.
  const rows = await dataSource.query(`SELECT * FROM data_subject_requests WHERE id = $1`, [request.id]);
  const identifications = await dataSource.query(`SELECT * FROM eid_identifications WHERE subject_kind = 'data_subject_request' AND subject_id = $1`, [request.id]);
  expect(identifications).toHaveLength(1);
  expect(rows[0].identification_id).toBe(identifications[0].id);
  expect(rows[0].requester_national_id).toBeInstanceOf(Buffer);
  const events = await dataSource.query(`SELECT * FROM dsr_audit_events WHERE dsr_id = $1`, [request.id]);
  const stored = [rows, identifications, events].map((value) =>
    JSON.stringify(value, (_key, item) => (item && item.type === 'Buffer' && Array.isArray(item.data) ? Buffer.from(item.data).toString('latin1') : item)),
  );
  for (const text of [...stored, JSON.stringify(read), JSON.stringify(trail), JSON.stringify(status), JSON.stringify(records.body)]) {
    expect(text).not.toContain(nationalId);
    expect(text).not.toContain(shortNationalId);
  }

  // The workflow's history, decoded with the codec as an operator could: no national id, no name of it.
  const history = await api.client.workflow.getHandle(workflowIdForDataSubjectRequest(request.id)).fetchHistory();
  const payloads = payloadsIn(history.events);
  expect(payloads.length).toBeGreaterThan(3);
  const decoded = await api.signing.payloadCodec.decode(payloads);
  const readable = Buffer.concat(decoded.map((payload) => Buffer.from(payload.data ?? new Uint8Array()))).toString('utf8');
  expect(readable).toContain('"eid"'); // the check looked at the identityConfirmed Update
  for (const secret of [nationalId, shortNationalId, '19800101-****', 'sebankid', 'Linnea']) expect(readable).not.toContain(secret);

  const logs = logLines.join('');
  expect(logs).toContain('/v1/eid/callback'); // the check looked at the flow's logs
  for (const secret of [nationalId, shortNationalId, request.token, sessionCookie.split('=')[1]!]) expect(logs).not.toContain(secret);
});

test("shredding a requester's request deletes their eID identification (name and birth date are in clear there)", async () => {
  const request = await requestWithLink(api, call);
  const started = await startEid(api.url, request.token);
  const { authorizationUrl } = (await started.json()) as { authorizationUrl: string };
  expect((await identifyWithEid(api.url, { authorizationUrl, setCookies: started.headers.getSetCookie() }, linnea.sub)).location).toContain('?eid=ok');
  const identified = `SELECT count(*)::int AS n FROM eid_identifications WHERE subject_kind = 'data_subject_request' AND subject_id = $1`;
  expect((await dataSource.query(identified, [request.id]))[0].n).toBe(1);
  await waitFor('identity confirmed', async () => (await call(`/v1/data-subject-requests/${request.id}`)).body.status === 'in_progress');
  expect((await call(`/v1/data-subject-requests/${request.id}/reject`, { body: { reason: 'Test request' } })).status).toBe(200);
  await api.client.workflow.getHandle(workflowIdForDataSubjectRequest(request.id)).result();
  await shredRecord(api.signing, { kind: 'data_subject_request', id: request.id }, { rule: 'manual', reason: 'test', actor: 'system:test' }, { temporal: { client: api.client, taskQueue: api.taskQueue } });
  expect((await dataSource.query(identified, [request.id]))[0].n).toBe(0);
  const [row] = await dataSource.query(`SELECT identification_id FROM data_subject_requests WHERE id = $1`, [request.id]);
  expect(row.identification_id).toBeNull();
});

test('without an eID broker: 422 eid_unavailable, and neither the organisation nor the page offers eID', async () => {
  const request = await requestWithLink(plain, callPlain);
  const refused = await startEid(plain.url, request.token);
  expect(refused.status).toBe(422);
  expect(((await refused.json()) as Json).error.code).toBe('eid_unavailable');
  expect(refused.headers.getSetCookie().some((cookie) => cookie.startsWith('sigill_eid='))).toBe(false);
  expect((await callPlain(`/v1/privacy/${org.slug}`, { key: null })).body).toMatchObject({ eidAvailable: false });
  const page = await fetch(`${plain.url}/privacy/${org.slug}/r/${request.token}`);
  expect(await page.text()).toContain('"eidAvailable":false');
  expect((await callPlain(`/v1/data-subject-requests/${request.id}`)).body.status).toBe('awaiting_identity');
});

test('the eID routes are in the OpenAPI document', async () => {
  const paths = Object.keys((await call('/openapi.json', { key: null })).body.paths);
  expect(paths).toEqual(expect.arrayContaining(['/v1/privacy/requests/eid/start', '/v1/privacy/requests/eid/session']));
});
