/**
 * Data-subject requests through the API, against the real Temporal dev server and PostgreSQL: the contract
 * of create and read, the confirmation code from the requester's email confirming their identity (a wrong
 * code refused, the link locked after five), the Art. 12(3) deadline from receivedAt, one extension told to
 * the requester, overdue requests on the attention list, webhook messages with ids only, and support staff
 * who follow a request without reading who made it.
 */
import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { apiClient, type ApiCall, type Json } from '../support/api-client';
import { createTestOrganization } from '../support/factories';
import { openTestDataSource, startTestApi, type TestApi } from '../support/harness';
import { goodPassword, inviteMember, outboxMessage, signIn } from '../support/members';
import { waitFor } from '../support/wait-for';
import type { TestBrowser } from '../support/browser';

let dataSource: DataSource;
let api: TestApi;
let org: { orgId: string; apiKey: string; slug: string };
let call: ApiCall;
let support: TestBrowser;

const unique = (name: string) => `${name}-${randomUUID()}@example.test`;

beforeAll(async () => {
  dataSource = await openTestDataSource();
  api = await startTestApi(dataSource);
  org = await createTestOrganization(dataSource, { name: `Åkerö Handel ${randomUUID().slice(0, 6)}` });
  call = apiClient(() => api.url, () => org.apiKey);
  const supportEmail = unique('support');
  await inviteMember(api, org.apiKey, { email: supportEmail, role: 'support', name: 'Support', password: goodPassword });
  support = (await signIn(api, supportEmail, goodPassword)).browser;
  expect((await call('/v1/webhook-endpoints', { body: { url: 'http://127.0.0.1:9/hooks', events: ['data_subject_request.received'] } })).status).toBe(201);
});

afterAll(async () => {
  await api?.close();
  await dataSource?.destroy();
});

async function createRequest(body: Record<string, unknown> = {}, headers?: Record<string, string>) {
  const email = unique('requester');
  const created = await call('/v1/data-subject-requests', { body: { type: 'access', requester: { name: 'Maja Lind', email }, ...body }, headers });
  expect(created.status).toBe(201);
  return { created: created.body as Json, email };
}

/** The requester's code and link token from their email. */
async function codeEmail(dsrId: string, version = 1): Promise<{ code: string; token: string; text: string }> {
  const text = await waitFor('the confirmation code email', () => {
    try {
      return outboxMessage(api, 'mail', `dsr-code-${dsrId}-v${version}`);
    } catch {
      return undefined;
    }
  });
  const code = /^(\d{8})\s*$/m.exec(text)?.[1];
  const token = /\/privacy\/[a-z0-9-]+\/r\/([0-9a-f]{64})/.exec(text)?.[1];
  expect(code).toBeDefined();
  expect(token).toBeDefined();
  return { code: code!, token: token!, text };
}

test('the organisation has a slug made from its name, shown in GET /v1/organization', async () => {
  const organization = await call('/v1/organization');
  expect(organization.status).toBe(200);
  expect(organization.body.slug).toBe(org.slug);
  expect(org.slug).toMatch(/^akero-handel-[a-z0-9]+$/);
  const page = await call(`/v1/privacy/${org.slug}`, { key: null });
  expect(page.body).toMatchObject({ slug: org.slug, name: expect.stringContaining('Åkerö Handel') });
});

test('create answers the contract; GET adds the rest; the same Idempotency-Key converges on one request', async () => {
  const before = Date.now();
  const key = `dsr-${randomUUID()}`;
  const { created, email } = await createRequest({ type: 'erasure', details: 'Please delete everything about me.' }, { 'idempotency-key': key });
  expect(Object.keys(created).sort()).toEqual(['dueAt', 'id', 'receivedAt', 'status', 'type']);
  expect(created).toMatchObject({ type: 'erasure', status: 'awaiting_identity' });
  expect(Date.parse(created.receivedAt)).toBeGreaterThanOrEqual(before - 1000);

  const replay = await call('/v1/data-subject-requests', { body: { type: 'erasure', requester: { name: 'Maja Lind', email }, details: 'Please delete everything about me.' }, headers: { 'idempotency-key': key } });
  expect(replay.status).toBe(201);
  expect(replay.body.id).toBe(created.id);

  const read = await call(`/v1/data-subject-requests/${created.id}`);
  expect(read.status).toBe(200);
  expect(read.body).toMatchObject({ ...created, overdue: false, deadline: created.dueAt, requester: { name: 'Maja Lind', email, phone: null }, details: 'Please delete everything about me.', assignee: null });
  expect(read.body.identityConfirmedAt).toBeUndefined();
  expect(read.body.extendedUntil).toBeUndefined();

  // The requester's data is only ciphertext in the database.
  const [raw] = await dataSource.query(`SELECT requester_name, requester_email, details, email_index FROM data_subject_requests WHERE id = $1`, [created.id]);
  expect(raw.requester_email.toString('latin1')).not.toContain(email);
  expect(raw.requester_name.toString('latin1')).not.toContain('Maja');
  expect(raw.email_index).toMatch(/^[0-9a-f]{64}$/);
});

test('every route is in the OpenAPI document', async () => {
  const document = await call('/openapi.json', { key: null });
  expect(document.status).toBe(200);
  const paths = Object.keys(document.body.paths);
  for (const path of [
    '/v1/data-subject-requests',
    '/v1/data-subject-requests/{id}',
    '/v1/data-subject-requests/{id}/records',
    '/v1/data-subject-requests/{id}/extend',
    '/v1/data-subject-requests/{id}/assign',
    '/v1/data-subject-requests/{id}/fulfil',
    '/v1/data-subject-requests/{id}/complete',
    '/v1/data-subject-requests/{id}/reject',
    '/v1/data-subject-requests/{id}/audit-trail',
    '/v1/privacy/{orgSlug}',
    '/v1/privacy/{orgSlug}/requests',
    '/v1/privacy/requests/confirm',
    '/v1/privacy/requests/resend-code',
    '/v1/privacy/requests/status',
    '/v1/privacy/requests/access-package',
  ]) {
    expect(paths).toContain(path);
  }
  expect(document.body.paths['/v1/data-subject-requests'].post.responses['201']).toBeDefined();
});

test('bad input is refused naming the field, never a 5xx', async () => {
  const wrongType = await call('/v1/data-subject-requests', { body: { type: 'delete', requester: { name: 'A', email: unique('a') } } });
  expect(wrongType.status).toBe(400);
  expect(wrongType.body.error.message).toContain('body.type');
  const noEmail = await call('/v1/data-subject-requests', { body: { type: 'access', requester: { name: 'A', email: 'not-an-email' } } });
  expect(noEmail.body.error.message).toContain('body.requester.email');
  const future = await call('/v1/data-subject-requests', { body: { type: 'access', requester: { name: 'A', email: unique('a') }, receivedAt: new Date(Date.now() + 86_400_000).toISOString() } });
  expect(future.status).toBe(422);
  expect(future.body.error.message).toContain('receivedAt');
  const odd: Array<[string, Parameters<ApiCall>[1], number]> = [
    ['/v1/data-subject-requests?overdue=maybe', {}, 400],
    ['/v1/data-subject-requests?cursor=bm90LWEtY3Vyc29y', {}, 400],
    [`/v1/data-subject-requests/${randomUUID()}`, {}, 404],
    ['/v1/data-subject-requests/not-a-uuid', {}, 400],
    [`/v1/data-subject-requests/${randomUUID()}/extend`, { body: { months: 1, reason: 'x' } }, 404],
    ['/v1/privacy/requests/confirm', { key: null, body: { token: 'f'.repeat(64), code: '12345678' } }, 404],
    ['/v1/privacy/requests/confirm', { key: null, body: { token: 'x', code: '1234' } }, 400],
    ['/v1/privacy/requests/resend-code', { key: null, body: { token: '0'.repeat(64) } }, 404],
    ['/v1/privacy/requests/status', { key: null, headers: { cookie: 'sigill_dsr=eyJ9.garbage' } }, 401],
    ['/v1/privacy/requests/access-package', { key: null, body: { code: '12345678' } }, 401],
    ['/v1/privacy/no-such-organisation', { key: null }, 404],
    ['/v1/privacy/no-such-organisation/requests', { key: null, body: { type: 'access', requester: { name: 'A', email: unique('a') } } }, 404],
  ];
  for (const [pathname, init, status] of odd) {
    expect({ pathname, status: (await call(pathname, init)).status }).toEqual({ pathname, status });
  }
});

test('receivedAt before the GDPR took effect (e.g. year 0031, which Date.UTC read as 1931) is 422 naming it; from 2018-05-25 on it counts', async () => {
  for (const receivedAt of ['0031-01-31T00:00:00Z', '0000-01-01T00:00:00Z', '2018-05-24T23:59:59Z']) {
    const refused = await call('/v1/data-subject-requests', { body: { type: 'access', requester: { name: 'A', email: unique('a') }, receivedAt } });
    expect({ receivedAt, status: refused.status, code: refused.body.error?.code }).toEqual({ receivedAt, status: 422, code: 'unprocessable' });
    expect(refused.body.error.message).toContain('receivedAt');
    expect(refused.body.error.message).toContain('2018-05-25');
  }
  const { created } = await createRequest({ receivedAt: '2018-05-25T00:00:00Z' });
  expect(created).toMatchObject({ receivedAt: '2018-05-25T00:00:00.000Z', dueAt: '2018-06-25T00:00:00.000Z' });
});

test('31 January → due 28 February (receivedAt); past its deadline the request is overdue and on the attention list', async () => {
  const { created } = await createRequest({ receivedAt: '2026-01-31T09:30:00Z' });
  expect(created.dueAt).toBe('2026-02-28T09:30:00.000Z');
  // Past its deadline from the start: overdue at once, before its workflow has marked it.
  expect((await call(`/v1/data-subject-requests/${created.id}`)).body.overdue).toBe(true);
  await waitFor('the request marked overdue by its workflow', async () => {
    const read = await call(`/v1/data-subject-requests/${created.id}`);
    return read.body.overdueAt ? read.body : undefined;
  });
  const list = await call('/v1/data-subject-requests?overdue=true&limit=100');
  expect(list.body.items.map((item: Json) => item.id)).toContain(created.id);
  const onTime = await createRequest();
  const notOverdue = await call('/v1/data-subject-requests?overdue=true&limit=100');
  expect(notOverdue.body.items.map((item: Json) => item.id)).not.toContain(onTime.created.id);
  // The webhook messages say what happened with ids, type, status and times only.
  const messages = await waitFor('the overdue webhook message', async () => {
    const rows: Array<{ type: string; payload: Json }> = await dataSource.query(`SELECT type, payload FROM webhook_messages WHERE payload->'data'->>'dataSubjectRequestId' = $1 ORDER BY created_at`, [created.id]);
    return rows.some((row) => row.type === 'data_subject_request.overdue') ? rows : undefined;
  });
  expect(messages.map((message) => message.type)).toEqual(['data_subject_request.received', 'data_subject_request.overdue']);
  expect(messages[0]!.payload.data).toMatchObject({ dataSubjectRequestId: created.id, status: 'awaiting_identity', requestType: 'access' });
  expect(JSON.stringify(messages)).not.toContain('Maja');
});

test('the emailed code confirms the identity; a wrong code is refused; five wrong codes lock the link', async () => {
  const { created } = await createRequest({ requester: { name: 'Maja Lind', email: unique('requester'), locale: 'sv' } });
  const { code, token, text } = await codeEmail(created.id);
  expect(text).toContain('Hej Maja Lind'); // in the requester's language

  const wrong = await call('/v1/privacy/requests/confirm', { key: null, body: { token, code: code === '00000000' ? '11111111' : '00000000' } });
  expect(wrong.status).toBe(401);
  expect(wrong.body.error.details ?? wrong.body.error).toBeDefined();
  expect((await call(`/v1/data-subject-requests/${created.id}`)).body.identityConfirmedAt).toBeUndefined();

  const confirmed = await call('/v1/privacy/requests/confirm', { key: null, body: { token, code } });
  expect(confirmed.status).toBe(200);
  expect(confirmed.body).toMatchObject({ status: 'in_progress', organization: { slug: org.slug } });
  const cookie = confirmed.headers.get('set-cookie')!.split(';')[0]!;
  const status = await call('/v1/privacy/requests/status', { key: null, headers: { cookie } });
  expect(status.status).toBe(200);
  expect(status.body.identityConfirmedAt).toBeDefined();
  expect((await call('/v1/privacy/requests/status', { key: null })).status).toBe(401);

  const read = await call(`/v1/data-subject-requests/${created.id}`);
  expect(read.body).toMatchObject({ status: 'in_progress', identityMethod: 'email_code' });
  expect(Date.parse(read.body.identityConfirmedAt)).toBeGreaterThan(Date.parse(created.receivedAt));

  // Another request: five wrong codes lock its link, and then even the right code is refused.
  const other = await createRequest();
  const otherMail = await codeEmail(other.created.id);
  const badCode = otherMail.code === '12345678' ? '87654321' : '12345678';
  for (let attempt = 1; attempt <= 4; attempt++) {
    const refused = await call('/v1/privacy/requests/confirm', { key: null, body: { token: otherMail.token, code: badCode } });
    expect(refused.status).toBe(401);
  }
  expect((await call('/v1/privacy/requests/confirm', { key: null, body: { token: otherMail.token, code: badCode } })).status).toBe(423);
  expect((await call('/v1/privacy/requests/confirm', { key: null, body: { token: otherMail.token, code: otherMail.code } })).status).toBe(423);
  expect((await call(`/v1/data-subject-requests/${other.created.id}`)).body.identityConfirmedAt).toBeUndefined();
  const trail = await call(`/v1/data-subject-requests/${other.created.id}/audit-trail`);
  expect(trail.body.chainValid).toBe(true);
  expect(trail.body.events.map((event: Json) => event.type)).toEqual(expect.arrayContaining(['created', 'code_sent', 'code_failed', 'locked']));
});

test('one extension, with a reason, told to the requester; a second is refused', async () => {
  const { created, email } = await createRequest();
  await codeEmail(created.id);
  const extended = await call(`/v1/data-subject-requests/${created.id}/extend`, { body: { months: 2, reason: 'Many records across several systems.' } });
  expect(extended.status).toBe(200);
  const due = new Date(created.dueAt);
  const expected = new Date(Date.UTC(due.getUTCFullYear(), due.getUTCMonth() + 2, Math.min(due.getUTCDate(), new Date(Date.UTC(due.getUTCFullYear(), due.getUTCMonth() + 3, 0)).getUTCDate()), due.getUTCHours(), due.getUTCMinutes(), due.getUTCSeconds(), due.getUTCMilliseconds()));
  expect(extended.body).toMatchObject({ extendedUntil: expected.toISOString(), extensionReason: 'Many records across several systems.', deadline: expected.toISOString() });
  const told = await waitFor('the extension email', () => {
    try {
      return outboxMessage(api, 'mail', `dsr-extended-${created.id}`);
    } catch {
      return undefined;
    }
  });
  expect(told).toContain('Many records across several systems.');
  expect(told).toContain(email);
  await waitFor('extension_notified', async () => (await call(`/v1/data-subject-requests/${created.id}`)).body.extensionNotifiedAt);

  const again = await call(`/v1/data-subject-requests/${created.id}/extend`, { body: { months: 1, reason: 'More time.' } });
  expect(again.status).toBe(409);
  expect(again.body.error.message).toMatch(/one extension/);
  const noReason = await call(`/v1/data-subject-requests/${created.id}/extend`, { body: { months: 3, reason: '' } });
  expect(noReason.status).toBe(400);
});

test('support staff follow a request without the requester\'s details; discovery is refused to them', async () => {
  const { created } = await createRequest({ details: 'My account number is 1234.' });
  const seen = await support.call(`/v1/data-subject-requests/${created.id}`);
  expect(seen.status).toBe(200);
  expect(seen.body).toMatchObject({ id: created.id, status: 'awaiting_identity', dueAt: created.dueAt });
  expect(seen.body.requester).toBeUndefined();
  expect(seen.body.details).toBeUndefined();
  const listed = await support.call('/v1/data-subject-requests?limit=100');
  const item = listed.body.items.find((entry: Json) => entry.id === created.id);
  expect(item).toBeDefined();
  expect(item.requesterName).toBeUndefined();
  expect((await support.call(`/v1/data-subject-requests/${created.id}/records`)).status).toBe(403);
  expect((await call(`/v1/data-subject-requests?limit=100`)).body.items.find((entry: Json) => entry.id === created.id).requesterName).toBe('Maja Lind');
});
