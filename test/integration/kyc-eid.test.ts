/**
 * A KYC case whose customer identifies with eID (the local oidc-provider as a BankID-like broker): the
 * "must show" end to end. Another person's eID is refused when the sender named the national id; the
 * right person gets in without any PIN, answers (PEP yes), signs the declaration in its child round, which
 * names the identification; two different reviewers approve; the evidence package carries the
 * identification. The national id is never stored or answered in clear.
 */
import { randomInt, randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { apiClient, type Json } from '../support/api-client';
import type { TestBrowser } from '../support/browser';
import { freePort, identifyWithEid, startLocalEidBroker, type LocalEidBroker } from '../support/eid-broker';
import { createTestOrganization } from '../support/factories';
import { openTestDataSource, startTestApi, type TestApi } from '../support/harness';
import { goodPassword, inviteMember, outboxMessage, signIn } from '../support/members';
import { reportDocumentDisplayed } from '../support/signer-reading';
import { waitFor } from '../support/wait-for';

const serial = String(randomInt(1000, 9999));
const nationalId = `19800101${serial}`;
const alice = { sub: `alice-${randomUUID().slice(0, 8)}`, name: 'Alice Andersson', birthdate: '1980-01-01', nationalId };
const mallory = { sub: `mallory-${randomUUID().slice(0, 8)}`, name: 'Mallory Mellan', birthdate: '1975-05-05', nationalId: `19750505${serial}` };

let dataSource: DataSource;
let broker: LocalEidBroker;
let api: TestApi;
let org: { orgId: string; apiKey: string };
let reviewers: TestBrowser[];
const call = apiClient(() => api.url, () => org.apiKey);

beforeAll(async () => {
  dataSource = await openTestDataSource();
  const port = await freePort();
  broker = await startLocalEidBroker({ port, people: [alice, mallory] });
  api = await startTestApi(dataSource, { port, env: broker.env });
  org = await createTestOrganization(dataSource);
  reviewers = [];
  for (const label of ['first', 'second']) {
    const email = `${label}-${randomUUID()}@example.test`;
    await inviteMember(api, org.apiKey, { email, role: 'admin', name: `${label} reviewer`, password: goodPassword });
    reviewers.push((await signIn(api, email, goodPassword)).browser);
  }
});

afterAll(async () => {
  await api?.close();
  await broker?.stop();
  await dataSource?.destroy();
});

async function identify(token: string, person: { sub: string }) {
  const response = await fetch(`${api.url}/v1/kyc/customer/eid/start`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token }) });
  expect(response.status).toBe(200);
  const started = (await response.json()) as { authorizationUrl: string };
  return identifyWithEid(api.url, { authorizationUrl: started.authorizationUrl, setCookies: response.headers.getSetCookie() }, person.sub);
}

async function eidSession(token: string, resultCookie?: string) {
  const response = await fetch(`${api.url}/v1/kyc/customer/eid/session`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(resultCookie ? { cookie: resultCookie } : {}) },
    body: JSON.stringify({ token }),
  });
  return { status: response.status, body: (await response.json()) as Json };
}

test('an eID customer: the wrong person is refused, the right one answers PEP yes, signs, and two reviewers approve', async () => {
  const created = await call('/v1/kyc-cases', {
    body: { customer: { type: 'person', name: 'Alice Andersson', email: `alice-${randomUUID()}@example.test`, nationalId: `19800101-${serial}`, locale: 'sv' }, identification: 'eid' },
  });
  expect(created.status).toBe(201);
  expect(created.body.customer).toEqual({}); // no PIN for an eID case
  const caseId: string = created.body.id;
  const invitation = await waitFor('the invitation', () => {
    try {
      return outboxMessage(api, 'mail', `kyc-invitation-${caseId}`);
    } catch {
      return undefined;
    }
  });
  expect(invitation).toContain('e-legitimation');
  const token = /\/k\/([0-9a-f]{64})/.exec(invitation)![1]!;
  expect((await call('/v1/kyc/customer/link', { key: null, body: { token } })).body).toEqual({ state: 'open', locale: 'sv', identification: 'eid' });
  expect((await call('/v1/kyc/customer/session', { key: null, body: { token, pin: '123456' } }))).toMatchObject({ status: 403, body: { error: { code: 'identification_required' } } });

  // Someone else's eID: refused, told on the page, recorded, and no session.
  const wrong = await identify(token, mallory);
  expect(wrong.location).toBe(`/k/${token}?eid=mismatch`);
  expect((await eidSession(token, wrong.resultCookie)).status).toBe(403);

  const right = await identify(token, alice);
  expect(right.location).toBe(`/k/${token}?eid=ok`);
  const session = await eidSession(token, right.resultCookie);
  expect(session.status).toBe(200);
  const auth = { authorization: `Bearer ${session.body.sessionToken}` };
  const answers = { relationship_purpose: 'payments', source_of_funds: ['salary'], pep: true, pep_details: 'Member of a municipal council' };
  expect((await call('/v1/kyc/customer/submit', { key: null, headers: auth, body: { answers } })).body).toEqual({ status: 'signing' });

  const handed = await waitFor('the declaration', async () => {
    const response = await call('/v1/kyc/customer/declaration-session', { key: null, headers: auth, body: {} });
    return response.status === 200 ? response.body : undefined;
  });
  await reportDocumentDisplayed(call, handed.sessionToken);
  expect((await call('/v1/signer/sign', { key: null, headers: { authorization: `Bearer ${handed.sessionToken}` }, body: { typedName: 'Alice Andersson', consent: true } })).status).toBe(200);
  const inReview = await waitFor('in review', async () => {
    const view = (await call(`/v1/kyc-cases/${caseId}`)).body;
    return view.status === 'in_review' ? view : undefined;
  });
  expect(inReview).toMatchObject({
    identification: 'eid',
    customer: { hasNationalId: true },
    identificationEvidence: { name: 'Alice Andersson', nationalIdMasked: '19800101-****' },
    secondReviewReasons: ['pep'],
  });
  // The declaration's signer carries the case's identification.
  const [signer] = await dataSource.query(`SELECT identification_id, identification_method FROM signers WHERE request_id = $1`, [inReview.declaration.requestId]);
  // An eID case's declaration is signed with eID only: no PIN opens it.
  expect(signer.identification_method).toBe('eid');
  expect(signer.identification_id).toEqual(expect.any(String));

  expect((await reviewers[0]!.call(`/v1/kyc-cases/${caseId}/approve`, { body: {} })).body.status).toBe('in_review');
  expect((await reviewers[0]!.call(`/v1/kyc-cases/${caseId}/approve`, { body: {} })).status).toBe(409);
  expect((await reviewers[1]!.call(`/v1/kyc-cases/${caseId}/approve`, { body: {} })).body.status).toBe('approved');
  await waitFor('the evidence package', async () => Boolean((await call(`/v1/kyc-cases/${caseId}`)).body.evidencePackage));
  const evidence = (await call(`/v1/kyc-cases/${caseId}/evidence`)).body as Buffer;
  expect(evidence.includes(Buffer.from('identification.json'))).toBe(true);
  expect(evidence.includes(Buffer.from('identification-id-token.jwt'))).toBe(true);

  const trail = (await call(`/v1/kyc-cases/${caseId}/audit-trail`)).body;
  expect(trail.chainValid).toBe(true);
  expect(trail.events.map((event: Json) => event.type)).toEqual(expect.arrayContaining(['identification_mismatch', 'identified']));
  // Never in clear: not in the case's row, its trail, or any answer.
  const rows = await dataSource.query(`SELECT * FROM kyc_cases WHERE id = $1`, [caseId]);
  for (const text of [JSON.stringify(rows), JSON.stringify(trail), JSON.stringify(inReview)]) {
    expect(text).not.toContain(nationalId);
    expect(text).not.toContain(`19800101-${serial}`);
  }
});

test('without a national id given, the first identification binds the case: a forwarded link cannot replace it', async () => {
  const created = await call('/v1/kyc-cases', { body: { customer: { type: 'person', name: 'Alice Andersson', email: `alice-${randomUUID()}@example.test` }, identification: 'eid' } });
  expect(created.status).toBe(201);
  const invitation = await waitFor('the invitation', () => {
    try {
      return outboxMessage(api, 'mail', `kyc-invitation-${created.body.id}`);
    } catch {
      return undefined;
    }
  });
  const token = /\/k\/([0-9a-f]{64})/.exec(invitation)![1]!;
  expect((await identify(token, alice)).location).toBe(`/k/${token}?eid=ok`);
  const other = await identify(token, mallory);
  expect(other.location).toBe(`/k/${token}?eid=mismatch`);
  expect((await eidSession(token, other.resultCookie)).status).toBe(403);
  const view = (await call(`/v1/kyc-cases/${created.body.id}`)).body;
  expect(view.identificationEvidence).toMatchObject({ name: 'Alice Andersson' });
  const mismatch = (await call(`/v1/kyc-cases/${created.body.id}/audit-trail`)).body.events.find((event: Json) => event.type === 'identification_mismatch');
  expect(mismatch.detail).toMatchObject({ reason: 'earlier_identity', name: 'Mallory Mellan' });
});
