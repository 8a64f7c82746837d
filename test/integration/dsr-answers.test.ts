/**
 * A data-subject request from intake to answer, through the API with the real Temporal dev server and
 * PostgreSQL: the requester sends it on the organisation's public page, confirms with the emailed code, the
 * handler sees the person's records, assigns, fulfils and completes; the requester is emailed the answer and
 * downloads their access package only after re-confirming with a fresh code. An erasure request shreds a
 * cancelled round of the person and says so in the answer. The workflow refuses steps out of order (409).
 * A rectification that cannot be applied is refused at once (not retried) with its reason shown to the handler.
 */
import { createHash, randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { apiClient, type ApiCall, type Json } from '../support/api-client';
import { createTestOrganization, signingRequestBody } from '../support/factories';
import { openTestDataSource, startTestApi, type TestApi } from '../support/harness';
import { outboxMessage } from '../support/members';
import { createTestPdf } from '../support/pdf-factories';
import { waitFor } from '../support/wait-for';

let dataSource: DataSource;
let api: TestApi;
let org: { orgId: string; apiKey: string; slug: string; ownerUserId: string };
let call: ApiCall;
let pdfBase64: string;

const unique = (name: string) => `${name}-${randomUUID()}@example.test`;

beforeAll(async () => {
  dataSource = await openTestDataSource();
  api = await startTestApi(dataSource);
  org = await createTestOrganization(dataSource);
  call = apiClient(() => api.url, () => org.apiKey);
  pdfBase64 = Buffer.from(await createTestPdf()).toString('base64');
});

afterAll(async () => {
  await api?.close();
  await dataSource?.destroy();
});

const mail = (prefix: string) =>
  waitFor(`mail ${prefix}`, () => {
    try {
      return outboxMessage(api, 'mail', prefix);
    } catch {
      return undefined;
    }
  });

async function codeOf(dsrId: string, version: number): Promise<{ code: string; token: string }> {
  const text = await mail(`dsr-code-${dsrId}-v${version}`);
  return { code: /^(\d{8})\s*$/m.exec(text)![1]!, token: /\/r\/([0-9a-f]{64})/.exec(text)![1]! };
}

async function roundFor(email: string, title: string): Promise<string> {
  const body = signingRequestBody(pdfBase64, title);
  body.signers[0]!.email = email;
  const created = await call('/v1/signing-requests', { body });
  expect(created.status).toBe(201);
  return created.body.id as string;
}

async function confirm(token: string, code: string): Promise<string> {
  const confirmed = await call('/v1/privacy/requests/confirm', { key: null, body: { token, code } });
  expect(confirmed.status).toBe(200);
  return confirmed.headers.get('set-cookie')!.split(';')[0]!;
}

test('access: public intake, code, discovery, fulfil, complete, the answer emailed, the package only with a fresh code', async () => {
  const email = unique('subject');
  const roundId = await roundFor(email, 'Lease agreement');

  const received = await call(`/v1/privacy/${org.slug}/requests`, { key: null, body: { type: 'access', requester: { name: 'Sara Subject', email } } });
  expect(received.status).toBe(201);
  expect(received.body).toMatchObject({ type: 'access', status: 'awaiting_identity' });
  expect(received.body.id).toBeUndefined();
  const [{ id: dsrId }] = await dataSource.query(`SELECT id FROM data_subject_requests WHERE organization_id = $1 AND channel = 'public' ORDER BY created_at DESC LIMIT 1`, [org.orgId]);

  // Nothing can be fulfilled or discovered before the requester proves who they are.
  expect((await call(`/v1/data-subject-requests/${dsrId}/fulfil`, { body: {} })).status).toBe(409);
  expect((await call(`/v1/data-subject-requests/${dsrId}/records`)).status).toBe(409);

  const first = await codeOf(dsrId, 1);
  const cookie = await confirm(first.token, first.code);

  const records = await call(`/v1/data-subject-requests/${dsrId}/records`);
  expect(records.status).toBe(200);
  expect(records.body.items.map((record: Json) => record.id)).toContain(roundId);

  const assigned = await call(`/v1/data-subject-requests/${dsrId}/assign`, { body: { memberId: org.ownerUserId } });
  expect(assigned.status).toBe(200);
  expect(assigned.body.assignee).toMatchObject({ id: org.ownerUserId });
  expect((await call(`/v1/data-subject-requests/${dsrId}/assign`, { body: { memberId: randomUUID() } })).status).toBe(422);

  expect((await call(`/v1/data-subject-requests/${dsrId}/complete`, { body: {} })).status).toBe(409);
  expect((await call(`/v1/data-subject-requests/${dsrId}/fulfil`, { body: {} })).status).toBe(200);
  const fulfilled = await waitFor('the access package built', async () => {
    const read = await call(`/v1/data-subject-requests/${dsrId}`);
    return read.body.accessPackage ? read.body : undefined;
  });
  expect(fulfilled.accessPackage.sha256).toMatch(/^[0-9a-f]{64}$/);

  const completed = await call(`/v1/data-subject-requests/${dsrId}/complete`, { body: { answer: 'Your data is attached to your request page.' } });
  expect(completed.status).toBe(200);
  expect(completed.body).toMatchObject({ status: 'completed', answer: 'Your data is attached to your request page.' });
  const answer = await mail(`dsr-answer-${dsrId}`);
  expect(answer).toContain('Your data is attached to your request page.');
  expect(answer).toContain(email);

  const status = await call('/v1/privacy/requests/status', { key: null, headers: { cookie } });
  expect(status.body).toMatchObject({ status: 'completed', accessPackage: { expired: false } });
  // The code that opened the session does not download: a fresh one is needed.
  const stale = await call('/v1/privacy/requests/access-package', { key: null, headers: { cookie }, body: { code: first.code } });
  expect(stale.status).toBe(409);
  expect((await call('/v1/privacy/requests/resend-code', { key: null, body: { token: first.token } })).status).toBe(200);
  const fresh = await codeOf(dsrId, 2);
  expect(fresh.code).not.toBe(first.code);
  expect((await call('/v1/privacy/requests/access-package', { key: null, body: { code: fresh.code } })).status).toBe(401);
  const download = await call('/v1/privacy/requests/access-package', { key: null, headers: { cookie }, body: { code: fresh.code } });
  expect(download.status).toBe(200);
  const zip = download.body as Buffer;
  expect(zip.subarray(0, 2).toString('latin1')).toBe('PK');
  expect(createHash('sha256').update(zip).digest('hex')).toBe(fulfilled.accessPackage.sha256);

  const trail = await call(`/v1/data-subject-requests/${dsrId}/audit-trail`);
  expect(trail.body.chainValid).toBe(true);
  expect(trail.body.events.map((event: Json) => event.type)).toEqual(
    expect.arrayContaining(['created', 'code_sent', 'identity_confirmed', 'assigned', 'fulfilled', 'completed', 'answered', 'package_downloaded']),
  );
});

test('erasure: a cancelled round of the person is shredded and the answer says so; a rejected request tells the reason', async () => {
  const email = unique('erase');
  const roundId = await roundFor(email, 'Cancelled offer');
  expect((await call(`/v1/signing-requests/${roundId}/cancel`, { body: { reason: 'Withdrawn.' } })).status).toBe(200);
  await waitFor('the round cancelled', async () => ((await call(`/v1/signing-requests/${roundId}`)).body.status === 'cancelled' ? true : undefined));

  const created = await call('/v1/data-subject-requests', { body: { type: 'erasure', requester: { name: 'Eero Erase', email } } });
  const dsrId = created.body.id as string;
  const { code, token } = await codeOf(dsrId, 1);
  await confirm(token, code);
  expect((await call(`/v1/data-subject-requests/${dsrId}/fulfil`, { body: {} })).status).toBe(200);
  const fulfilled = await waitFor('the erasure done', async () => {
    const read = await call(`/v1/data-subject-requests/${dsrId}`);
    return read.body.fulfilledAt ? read.body : undefined;
  });
  expect(fulfilled.handledRecords).toEqual(expect.arrayContaining([expect.objectContaining({ kind: 'signing_request', id: roundId, action: 'erased' })]));
  // Shredded under this request's rule, with a receipt.
  const [receipt] = await dataSource.query(`SELECT rule FROM deletion_receipts WHERE record_kind = 'signing_request' AND record_id = $1`, [roundId]);
  expect(receipt.rule).toBe(`data-subject-request:${dsrId}`);
  expect((await call(`/v1/data-subject-requests/${dsrId}/complete`, { body: {} })).status).toBe(200);
  expect(await mail(`dsr-answer-${dsrId}`)).toContain('Records erased: 1');

  const other = await call('/v1/data-subject-requests', { body: { type: 'objection', requester: { name: 'Otto Other', email: unique('other') } } });
  const rejected = await call(`/v1/data-subject-requests/${other.body.id}/reject`, { body: { reason: 'We hold no data about you.' } });
  expect(rejected.body).toMatchObject({ status: 'rejected', rejectionReason: 'We hold no data about you.' });
  expect(await mail(`dsr-answer-${other.body.id}`)).toContain('We hold no data about you.');
  expect((await call(`/v1/data-subject-requests/${other.body.id}/reject`, { body: { reason: 'Again.' } })).status).toBe(409);
});

describe('a rectification that cannot be applied', () => {
  async function rectificationFor(email: string): Promise<string> {
    const created = await call('/v1/data-subject-requests', { body: { type: 'rectification', requester: { name: 'Rita Rectify', email } } });
    expect(created.status).toBe(201);
    const dsrId = created.body.id as string;
    const { code, token } = await codeOf(dsrId, 1);
    await confirm(token, code);
    return dsrId;
  }

  const refusalOf = (dsrId: string) =>
    waitFor('the refusal shown to the handler', async () => {
      const read = await call(`/v1/data-subject-requests/${dsrId}`);
      return read.body.fulfilmentRefusal ? read.body : undefined;
    });

  test("is refused at once with its reason when the address is another signer's; corrected, it goes through", async () => {
    const email = unique('rectify');
    const other = unique('co-signer');
    const body = signingRequestBody(pdfBase64, 'Two-party lease');
    body.signers = [
      { name: 'Rita', email, pinDelivery: 'sender' },
      { name: 'Olof', email: other, pinDelivery: 'sender' },
    ];
    const round = await call('/v1/signing-requests', { body });
    expect(round.status).toBe(201);
    const dsrId = await rectificationFor(email);

    expect((await call(`/v1/data-subject-requests/${dsrId}/fulfil`, { body: { change: { email: other } } })).status).toBe(200);
    const refused = await refusalOf(dsrId);
    expect(refused.fulfilledAt).toBeUndefined();
    expect(refused.fulfilmentRefusal).toMatchObject({ code: 'rectification_conflict', message: expect.stringContaining('already has another signer') });
    // Words for the handler, no personal data (they are in workflow history too).
    expect(refused.fulfilmentRefusal.message).not.toContain(other);
    expect(refused.fulfilmentRefusal.message).not.toContain(email);

    // One attempt, recorded with its reason: not retried, and not a bare "failed".
    const history = await api.client.workflow.getHandle(`data-subject-request-${dsrId}`).fetchHistory();
    const attempts = history.events!.filter((event) => event.activityTaskStartedEventAttributes && event.activityTaskStartedEventAttributes.attempt! > 1);
    expect(attempts).toEqual([]);
    const trail = await call(`/v1/data-subject-requests/${dsrId}/audit-trail`);
    const types = trail.body.events.map((event: Json) => event.type);
    expect(types).toContain('fulfilment_refused');
    expect(types).not.toContain('fulfilment_failed');
    expect(trail.body.events.find((event: Json) => event.type === 'fulfilment_refused').detail).toMatchObject({ code: 'rectification_conflict' });

    // The handler corrects the correction: it is applied and the refusal no longer shows.
    const corrected = unique('rectified');
    expect((await call(`/v1/data-subject-requests/${dsrId}/fulfil`, { body: { change: { email: corrected } } })).status).toBe(200);
    const fulfilled = await waitFor('the rectification done', async () => {
      const read = await call(`/v1/data-subject-requests/${dsrId}`);
      return read.body.fulfilledAt ? read.body : undefined;
    });
    expect(fulfilled.fulfilmentRefusal).toBeUndefined();
    expect(fulfilled.handledRecords).toEqual([expect.objectContaining({ kind: 'signing_request', id: round.body.id, action: 'rectified' })]);
  });

  test('with nothing open to correct is refused, and the handler rejects it with a reason', async () => {
    const email = unique('ended');
    const roundId = await roundFor(email, 'Cancelled lease');
    expect((await call(`/v1/signing-requests/${roundId}/cancel`, { body: { reason: 'Withdrawn.' } })).status).toBe(200);
    await waitFor('the round cancelled', async () => ((await call(`/v1/signing-requests/${roundId}`)).body.status === 'cancelled' ? true : undefined));
    const dsrId = await rectificationFor(email);

    expect((await call(`/v1/data-subject-requests/${dsrId}/fulfil`, { body: { change: { name: 'Rita Right' } } })).status).toBe(200);
    const refused = await refusalOf(dsrId);
    expect(refused).toMatchObject({ fulfilmentRefusal: { code: 'rectification_nothing_open' }, handledRecords: [] });
    expect(refused.fulfilledAt).toBeUndefined();
    // Not fulfilled, so it cannot be completed; the refusal is answered by rejecting with a reason.
    expect((await call(`/v1/data-subject-requests/${dsrId}/complete`, { body: {} })).status).toBe(409);
    const rejected = await call(`/v1/data-subject-requests/${dsrId}/reject`, { body: { reason: 'Your signed records keep what was true when they ended.' } });
    expect(rejected.body).toMatchObject({ status: 'rejected' });
  });
});
