/**
 * Webhooks (issue 12 §1) against the real parts: the API and a worker on the real Temporal and PostgreSQL,
 * rounds driven the way people drive them (real SMTP, the signer API), and receivers that are plain HTTP
 * servers verifying every delivery with the official `standardwebhooks` package (test/support/webhook-receiver.ts).
 * The retry schedule is shortened through configuration (WEBHOOK_RETRY_SCHEDULE), as an operator could.
 */
import 'reflect-metadata';
import fs from 'node:fs';
import type { DataSource } from 'typeorm';
import type { KeyService } from '../../src/adapters/key-service';
import type { Mailer } from '../../src/adapters/mailer';
import { webhookTaskQueueOf } from '../../src/config';
import { webhookEventTypes } from '../../src/contract/webhooks';
import { metricsRegistry } from '../../src/observability/metrics';
import { workflowIdForDelivery } from '../../src/webhooks/dispatcher';
import { createWebhookEndpoint } from '../../src/webhooks/endpoints';
import { notifyEndpointDisabled } from '../../src/webhooks/notify-endpoint-disabled';
import { signingSecrets, UnreadableSecretError } from '../../src/webhooks/secrets';
import { apiClient, type ApiCall, type Json } from '../support/api-client';
import { createTestOrganization } from '../support/factories';
import { openTestDataSource, startTestApi, type TestApi } from '../support/harness';
import { createTestPdf } from '../support/pdf-factories';
import { reportDocumentDisplayed } from '../support/signer-reading';
import { signingTokenIn, startSmtpCatcher } from '../support/smtp-catcher';
import { waitFor } from '../support/wait-for';
import { startWebhookReceiver, type Respond, type WebhookReceiver } from '../support/webhook-receiver';

let dataSource: DataSource;
let smtp: Awaited<ReturnType<typeof startSmtpCatcher>>;
let api: TestApi;
let pdfBase64: string;
const organizations: string[] = [];
const receivers: WebhookReceiver[] = [];

beforeAll(async () => {
  dataSource = await openTestDataSource();
  smtp = await startSmtpCatcher();
  api = await startTestApi(dataSource, {
    env: {
      SMTP_URL: smtp.url,
      WEBHOOK_RETRY_SCHEDULE: 'PT0.2S,PT0.2S,PT0.2S,PT0.5S,PT1S,PT1S,PT1S',
      WEBHOOK_DISABLE_AFTER: 'PT3S',
      WEBHOOK_TIMEOUT: 'PT5S',
    },
    webhookOrganizations: () => organizations,
  });
  pdfBase64 = Buffer.from(await createTestPdf([{}])).toString('base64');
});

afterAll(async () => {
  for (const receiver of receivers) await receiver.close();
  await api?.close();
  await smtp?.close();
  await dataSource?.destroy();
});

interface Subscriber {
  orgId: string;
  ownerUserId: string;
  ownerEmail: string;
  call: ApiCall;
  receiver: WebhookReceiver;
  endpoint: Json;
}

/** An organisation whose webhooks this test's API dispatches, with one endpoint at a receiver that trusts its secret. */
async function subscriber(events: readonly string[], respond?: Respond, on: TestApi = api, list = organizations): Promise<Subscriber> {
  const ownerEmail = `owner-${Math.random().toString(36).slice(2)}@example.test`;
  const org = await createTestOrganization(dataSource, { ownerEmail });
  list.push(org.orgId);
  const call = apiClient(() => on.url, () => org.apiKey);
  const receiver = await startWebhookReceiver({ respond });
  receivers.push(receiver);
  const created = await call('/v1/webhook-endpoints', { body: { url: receiver.url, events, description: 'Back office' } });
  expect(created.status).toBe(201);
  receiver.trust(created.body.secret);
  return { orgId: org.orgId, ownerUserId: org.ownerUserId, ownerEmail, call, receiver, endpoint: created.body };
}

const signerEmail = () => `signer-${Math.random().toString(36).slice(2)}@example.test`;

async function createRequest(call: ApiCall, title = 'Supply agreement', email = signerEmail()) {
  const created = await call('/v1/signing-requests', {
    body: { title, document: { filename: 'agreement.pdf', contentBase64: pdfBase64 }, signers: [{ name: 'Aino Virtanen', email }] },
  });
  expect(created.status).toBe(201);
  return { id: created.body.id as string, pin: created.body.signers[0].pin as string, email };
}

/** Opens the signer's session from the real invitation mail. */
async function signerSession(call: ApiCall, request: { pin: string; email: string }) {
  const [invitation] = await smtp.waitForMail(request.email, 'Please sign');
  const session = await call('/v1/signer/session', { key: null, body: { token: signingTokenIn(invitation!), pin: request.pin } });
  expect(session.status).toBe(200);
  return session.body.sessionToken as string;
}

const deliveriesOf = async (s: Subscriber, query = '') => (await s.call(`/v1/webhook-endpoints/${s.endpoint.id}/deliveries${query}`)).body;

async function deliveryWorkflowsDone(messageId: string): Promise<string[]> {
  const rows: Array<{ id: string; run: number }> = await dataSource.query(`SELECT id, run FROM webhook_deliveries WHERE message_id = $1`, [messageId]);
  return Promise.all(rows.map((row) => api.client.workflow.getHandle(workflowIdForDelivery(row.id, row.run)).result() as Promise<string>));
}

test('a round’s events arrive signed, verifiable with standardwebhooks, in the payload shape, with no personal data', async () => {
  const s = await subscriber(webhookEventTypes);
  const request = await createRequest(s.call, 'Confidential merger of Acme Oy');
  const sessionToken = await signerSession(s.call, request);
  await reportDocumentDisplayed(s.call, sessionToken);
  const signed = await s.call('/v1/signer/sign', { key: null, headers: { authorization: `Bearer ${sessionToken}` }, body: { typedName: 'Aino Virtanen', consent: true } });
  expect(signed.status).toBe(200);

  const expected = ['signing_request.created', 'signer.invited', 'signer.viewed', 'signer.signed', 'signing_request.completed'];
  await waitFor('every event of the round delivered', () => expected.every((type) => s.receiver.ofType(type).length > 0), 90_000).catch((error) => {
    throw new Error(`${error.message}; received ${s.receiver.deliveries.map((d) => d.payload?.type).join(', ')}`);
  });
  const [row]: Array<{ folder_id: string; sealed_sha256: string }> = await dataSource.query(
    `SELECT folder_id, sealed_sha256 FROM signing_requests WHERE id = $1`,
    [request.id],
  );
  const [signer]: Array<{ id: string }> = await dataSource.query(`SELECT id FROM signers WHERE request_id = $1`, [request.id]);
  for (const delivery of s.receiver.deliveries) {
    // Verified by the official library with the endpoint's secret; the id is the Standard Webhooks message id.
    expect(delivery.verifiedBy).toEqual([0]);
    expect(delivery.messageId).toMatch(/^msg_[A-Za-z0-9]+$/);
    expect(Number(delivery.headers['webhook-timestamp'])).toBeGreaterThan(Date.now() / 1000 - 300);
    expect(delivery.payload).toEqual({ type: expect.any(String), timestamp: expect.any(String), data: expect.any(Object) });
    expect(delivery.payload.data).toMatchObject({ signingRequestId: request.id, folderId: row!.folder_id, occurredAt: delivery.payload.timestamp });
    // Ids, types, times and statuses only: nothing a person typed, nobody's address, no PIN.
    for (const personal of ['Aino', 'Virtanen', request.email, 'Confidential', 'Acme', request.pin, '127.0.0.1']) {
      expect(delivery.body).not.toContain(personal);
    }
  }
  expect(s.receiver.ofType('signing_request.created')[0]!.payload.data.status).toBe('pending');
  expect(s.receiver.ofType('signer.signed')[0]!.payload.data).toMatchObject({ signerId: signer!.id, signerStatus: 'signed' });
  expect(s.receiver.ofType('signing_request.completed')[0]!.payload.data).toMatchObject({ status: 'completed', sealedDocumentSha256: row!.sealed_sha256 });
  // One message per event, each delivered once.
  for (const type of expected) expect(s.receiver.ofType(type)).toHaveLength(1);

  const log = await deliveriesOf(s);
  expect(log.items.map((item: Json) => item.eventType).sort()).toEqual([...expected].sort());
  for (const item of log.items) {
    expect(item.status).toBe('delivered');
    // The log names what each message is about.
    expect(item.signingRequestId).toBe(request.id);
    expect(item.attempts).toEqual([{ attempt: 1, attemptedAt: expect.any(String), httpStatus: 200, latencyMs: expect.any(Number), error: null }]);
  }

  // A decline is the signer's event and the request's.
  const declining = await createRequest(s.call, 'Second agreement');
  const declineToken = await signerSession(s.call, declining);
  const declined = await s.call('/v1/signer/decline', { key: null, headers: { authorization: `Bearer ${declineToken}` }, body: { reason: 'Wrong company name' } });
  expect(declined.status).toBe(200);
  const declineEvents = () => s.receiver.deliveries.filter((d) => d.payload?.data?.signingRequestId === declining.id && d.payload.type.endsWith('declined'));
  await waitFor('both decline events', () => declineEvents().length === 2);
  expect(declineEvents().map((d) => d.payload.type).sort()).toEqual(['signer.declined', 'signing_request.declined']);
  expect(declineEvents().every((d) => !d.body.includes('Wrong company'))).toBe(true);
}, 120_000);

test('an organisation without webhook endpoints stores no messages', async () => {
  const org = await createTestOrganization(dataSource);
  const request = await createRequest(apiClient(() => api.url, () => org.apiKey));
  await waitFor('the invitation recorded', async () => (await dataSource.query(`SELECT 1 FROM audit_events WHERE request_id = $1 AND type = 'invited'`, [request.id])).length > 0);
  expect(await dataSource.query(`SELECT id FROM webhook_messages WHERE organization_id = $1`, [org.orgId])).toEqual([]);
});

test('a receiver that fails 3 times then succeeds gets each message id delivered successfully exactly once', async () => {
  const s = await subscriber(['signing_request.created'], (delivery) => (delivery.seen <= 3 ? 500 : 200));
  await createRequest(s.call);
  await createRequest(s.call);
  await waitFor('both messages accepted', () => new Set(s.receiver.deliveries.filter((d) => d.answered === 200).map((d) => d.messageId)).size === 2, 30_000);
  const messageIds = [...new Set(s.receiver.deliveries.map((d) => d.messageId))];
  expect(messageIds).toHaveLength(2);
  for (const messageId of messageIds) {
    // The workflow has finished: nothing more will come.
    expect(await deliveryWorkflowsDone(messageId)).toEqual(['delivered']);
    expect(s.receiver.acceptedCount(messageId)).toBe(1);
    expect(s.receiver.deliveries.filter((d) => d.messageId === messageId).map((d) => d.answered)).toEqual([500, 500, 500, 200]);
    expect(s.receiver.deliveries.filter((d) => d.messageId === messageId).every((d) => d.verifiedBy.length === 1)).toBe(true);
  }
  // The delivery log shows every attempt, newest first.
  const log = await deliveriesOf(s);
  for (const item of log.items) {
    expect(item.status).toBe('delivered');
    expect(item.attempts.map((a: Json) => [a.attempt, a.httpStatus])).toEqual([[4, 200], [3, 500], [2, 500], [1, 500]]);
    expect(item.attempts[1].error).toBe('HTTP 500');
  }
  const endpoint = (await s.call(`/v1/webhook-endpoints/${s.endpoint.id}`)).body;
  expect(endpoint.failingSince).toBeNull();
  // The metrics count attempts, and say so in their names (this process runs the worker).
  const exposition = await metricsRegistry.metrics();
  expect(exposition).toMatch(/^sigill_webhook_delivery_attempts_total\{outcome="failed"\} [1-9]\d*$/m);
  expect(exposition).toMatch(/^sigill_webhook_delivery_attempt_duration_seconds_count\{outcome="delivered"\} [1-9]\d*$/m);
  expect(exposition).not.toContain('sigill_webhook_deliveries_total');
  // Paging and the status filter.
  const first = await deliveriesOf(s, '?limit=1');
  expect(first.items).toHaveLength(1);
  const second = await deliveriesOf(s, `?limit=1&cursor=${first.nextCursor}`);
  expect(second.items).toHaveLength(1);
  expect(second.items[0].messageId).not.toBe(first.items[0].messageId);
  expect((await deliveriesOf(s, '?status=failed')).items).toEqual([]);
  // Another organisation cannot have these messages sent to its own endpoint.
  const stranger = await subscriber(['signing_request.created']);
  const stolen = await stranger.call(`/v1/webhook-endpoints/${stranger.endpoint.id}/redeliver`, { body: { messageId: messageIds[0] } });
  expect(stolen.status).toBe(404);
  expect(await dataSource.query(`SELECT 1 FROM webhook_deliveries WHERE endpoint_id = $1`, [stranger.endpoint.id])).toEqual([]);
}, 60_000);

test('410 Gone disables the endpoint; re-enabled, the failed delivery is redelivered with the same id', async () => {
  const s = await subscriber(['signing_request.created'], () => 410);
  await createRequest(s.call);
  const endpoint = await waitFor('the endpoint disabled', async () => {
    const read = (await s.call(`/v1/webhook-endpoints/${s.endpoint.id}`)).body;
    return read.enabled === false ? read : undefined;
  });
  expect(endpoint).toMatchObject({ enabled: false, disabledReason: 'gone', disabledAt: expect.any(String) });
  const [gone] = s.receiver.deliveries;
  expect(s.receiver.deliveries).toHaveLength(1);
  expect(await deliveryWorkflowsDone(gone!.messageId)).toEqual(['gone']);
  expect((await deliveriesOf(s)).items[0]).toMatchObject({ status: 'failed', attempts: [{ attempt: 1, httpStatus: 410 }] });

  // Disabled: nothing more is delivered, and redelivery asks for the endpoint to be enabled first.
  expect((await s.call(`/v1/webhook-endpoints/${s.endpoint.id}/redeliver`, { body: { messageId: gone!.messageId } })).status).toBe(409);
  const since = new Date(Date.now() - 60_000).toISOString();
  s.receiver.respondWith(() => 200);
  const enabled = await s.call(`/v1/webhook-endpoints/${s.endpoint.id}`, { method: 'PATCH', body: { enabled: true } });
  expect(enabled.body).toMatchObject({ enabled: true, disabledReason: null, disabledAt: null, failingSince: null });
  const redelivered = await s.call(`/v1/webhook-endpoints/${s.endpoint.id}/redeliver`, { body: { since } });
  expect(redelivered.status).toBe(202);
  expect(redelivered.body).toEqual({ messageIds: [gone!.messageId] });
  await waitFor('the redelivery accepted', () => s.receiver.acceptedCount(gone!.messageId) === 1);
  expect(s.receiver.deliveries.map((d) => d.messageId)).toEqual([gone!.messageId, gone!.messageId]);
  expect(s.receiver.deliveries[1]!.verifiedBy).toEqual([0]);
  await waitFor('the log says delivered', async () => (await deliveriesOf(s)).items[0].status === 'delivered');
  expect((await deliveriesOf(s)).items[0].attempts.map((a: Json) => a.httpStatus)).toEqual([200, 410]);
});

test('a rotated secret: during the overlap deliveries verify with the old and the new secret, after it with the new one only', async () => {
  const s = await subscriber(['signing_request.created']);
  await createRequest(s.call);
  await waitFor('first delivery', () => s.receiver.deliveries.length === 1);
  expect(s.receiver.deliveries[0]!.verifiedBy).toEqual([0]);

  const rotated = await s.call(`/v1/webhook-endpoints/${s.endpoint.id}/rotate-secret`, { body: { overlap: 'PT1H' } });
  expect(rotated.status).toBe(200);
  expect(rotated.body.secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
  expect(rotated.body.secret).not.toBe(s.endpoint.secret);
  const overlapEnd = Date.parse(rotated.body.previousSecretExpiresAt);
  expect(Math.abs(overlapEnd - (Date.now() + 3600_000))).toBeLessThan(60_000);
  s.receiver.trust(rotated.body.secret);
  await createRequest(s.call);
  await waitFor('second delivery', () => s.receiver.deliveries.length === 2);
  expect(s.receiver.deliveries[1]!.verifiedBy).toEqual([0, 1]);
  expect(String(s.receiver.deliveries[1]!.headers['webhook-signature']).split(' ')).toHaveLength(2);

  // No overlap: the old secrets stop signing at once.
  const again = await s.call(`/v1/webhook-endpoints/${s.endpoint.id}/rotate-secret`, { body: { overlap: 'PT0S' } });
  s.receiver.trust(again.body.secret);
  expect(again.body.previousSecretExpiresAt).toBeNull();
  await createRequest(s.call);
  await waitFor('third delivery', () => s.receiver.deliveries.length === 3);
  expect(s.receiver.deliveries[2]!.verifiedBy).toEqual([2]);
  expect((await s.call(`/v1/webhook-endpoints/${s.endpoint.id}/rotate-secret`, { body: { overlap: 'P8D' } })).status).toBe(400);
});

test('an endpoint failing for longer than WEBHOOK_DISABLE_AFTER is disabled and the owner emailed once; redelivery resends the same id', async () => {
  const s = await subscriber(['signing_request.created'], () => ({ status: 503, headers: { 'retry-after': '0' } }));
  await createRequest(s.call);
  await createRequest(s.call);
  const endpoint = await waitFor('the endpoint disabled for failing', async () => {
    const read = (await s.call(`/v1/webhook-endpoints/${s.endpoint.id}`)).body;
    return read.enabled === false ? read : undefined;
  });
  expect(endpoint).toMatchObject({ disabledReason: 'failing', failingSince: expect.any(String) });
  expect(Date.parse(endpoint.disabledAt) - Date.parse(endpoint.failingSince)).toBeGreaterThanOrEqual(3000);
  const [mail] = await smtp.waitForMail(s.ownerEmail, 'Webhook endpoint disabled');
  expect(mail!.text).toContain(`http://127.0.0.1:${s.receiver.port}`);
  expect(mail!.text).not.toContain('/hooks');
  expect(mail!.text).toContain('/admin/webhooks/');
  const messageIds = [...new Set(s.receiver.deliveries.map((d) => d.messageId))];
  expect(messageIds).toHaveLength(2);
  // The attempt that found the endpoint failing too long ends 'failed'; the other delivery stops at its next attempt.
  const outcomes = (await Promise.all(messageIds.map(deliveryWorkflowsDone))).flat().sort();
  expect(outcomes[0]).toBe('failed');
  expect(['failed', 'stopped']).toContain(outcomes[1]);
  // Both deliveries stopped, but the admins heard of it once.
  expect(smtp.messages.filter((m) => m.to === s.ownerEmail && m.subject.includes('Webhook endpoint disabled'))).toHaveLength(1);
  const log = await deliveriesOf(s);
  expect(log.items.map((item: Json) => item.status)).toEqual(['failed', 'failed']);
  expect(log.items[0].attempts[0].error).toBe('HTTP 503');

  s.receiver.respondWith(() => 200);
  expect((await s.call(`/v1/webhook-endpoints/${s.endpoint.id}`, { method: 'PATCH', body: { enabled: true } })).body.failingSince).toBeNull();
  const [first] = messageIds;
  const redelivered = await s.call(`/v1/webhook-endpoints/${s.endpoint.id}/redeliver`, { body: { messageId: first } });
  expect(redelivered.status).toBe(202);
  expect(redelivered.body).toEqual({ messageIds: [first] });
  await waitFor('the redelivered message accepted', () => s.receiver.acceptedCount(first!) === 1);
  expect(s.receiver.deliveries.at(-1)).toMatchObject({ messageId: first, verifiedBy: [0] });
  await waitFor('the log says delivered', async () => (await deliveriesOf(s)).items.find((i: Json) => i.messageId === first).status === 'delivered');
  // Even a delivered message is sent again on request (same id).
  expect((await s.call(`/v1/webhook-endpoints/${s.endpoint.id}/redeliver`, { body: { messageId: first } })).body).toEqual({ messageIds: [first] });
  await waitFor('sent once more', () => s.receiver.acceptedCount(first!) === 2);
}, 60_000);

test('the API: validation (422), unknown and other organisations’ endpoints (404), organisation admins only (403), audited without the secret', async () => {
  const s = await subscriber(['signer.signed']);
  const other = await subscriber(['signer.signed']);
  const base = `/v1/webhook-endpoints/${s.endpoint.id}`;
  expect(s.endpoint).toEqual({
    id: expect.any(String),
    url: s.receiver.url,
    description: 'Back office',
    events: ['signer.signed'],
    enabled: true,
    disabledReason: null,
    disabledAt: null,
    failingSince: null,
    previousSecretExpiresAt: null,
    createdAt: expect.any(String),
    updatedAt: expect.any(String),
    secret: expect.stringMatching(/^whsec_/),
  });
  expect(Buffer.from(s.endpoint.secret.slice('whsec_'.length), 'base64')).toHaveLength(32);
  expect((await s.call('/v1/webhook-event-types')).body).toEqual({ items: [...webhookEventTypes] });

  const unknownType = await s.call('/v1/webhook-endpoints', { body: { url: 'https://example.com/hook', events: ['signer.signed', 'invoice.paid'] } });
  expect(unknownType.status).toBe(422);
  expect(unknownType.body.error.message).toContain('invoice.paid');
  for (const url of ['ftp://example.com/x', 'not a url', 'https://user:pw@example.com/']) {
    const bad = await s.call('/v1/webhook-endpoints', { body: { url, events: ['signer.signed'] } });
    expect(bad.status).toBe(422);
    expect(bad.body.error.message).toMatch(/^url: /);
  }
  expect((await s.call('/v1/webhook-endpoints', { body: { url: 'https://example.com/x', events: [] } })).status).toBe(422);
  expect((await s.call('/v1/webhook-endpoints', { body: { events: ['signer.signed'] } })).status).toBe(400);
  expect((await s.call(base, { method: 'PATCH', body: { events: ['nope'] } })).status).toBe(422);

  // A redelivery says what it needs: one message or a time.
  for (const body of [{}, { messageId: 'msg_x', since: new Date().toISOString() }]) {
    const neither = await s.call(`${base}/redeliver`, { body });
    expect(neither.status).toBe(400);
    expect(neither.body.error.message).toMatch(/^body: `messageId` or `since` is required/);
  }
  const badSince = await s.call(`${base}/redeliver`, { body: { since: 'yesterday' } });
  expect(badSince.body.error.message).toBe('body.since: must be an ISO 8601 date-time');

  // Unknown ids and another organisation's endpoint look the same.
  for (const path of ['/v1/webhook-endpoints/00000000-0000-4000-8000-000000000000', '/v1/webhook-endpoints/not-an-id', `/v1/webhook-endpoints/${other.endpoint.id}`]) {
    expect((await s.call(path)).status).toBe(404);
    expect((await s.call(path, { method: 'PATCH', body: { enabled: false } })).status).toBe(404);
    expect((await s.call(`${path}/deliveries`)).status).toBe(404);
    expect((await s.call(`${path}/rotate-secret`, { body: {} })).status).toBe(404);
    expect((await s.call(`${path}/redeliver`, { body: { since: new Date().toISOString() } })).status).toBe(404);
    expect((await s.call(path, { method: 'DELETE' })).status).toBe(404);
  }
  expect((await s.call(`${base}/redeliver`, { body: { messageId: 'msg_doesnotexist' } })).status).toBe(404);
  for (const cursor of ['abc', Buffer.from('["1","x"]').toString('base64url')]) expect((await s.call(`${base}/deliveries?cursor=${cursor}`)).status).toBe(400);
  expect((await other.call('/v1/webhook-endpoints')).body.items.map((e: Json) => e.id)).toEqual([other.endpoint.id]);

  // A folder-scoped admin key or a view-only key manages no organisation-wide webhooks.
  const folder = await s.call('/v1/folders', { body: { name: 'Sales' } });
  const scopedKey = (await s.call('/v1/api-keys', { body: { name: 'Sales admin', folderId: folder.body.id, permissions: ['view', 'admin'] } })).body.key;
  const viewerKey = (await s.call('/v1/api-keys', { body: { name: 'Reporting', permissions: ['view'] } })).body.key;
  for (const key of [scopedKey, viewerKey]) {
    expect((await s.call('/v1/webhook-endpoints', { key })).status).toBe(403);
    expect((await s.call('/v1/webhook-endpoints', { key, body: { url: 'https://example.com/x', events: ['signer.signed'] } })).status).toBe(403);
    expect((await s.call(base, { key })).status).toBe(403);
  }

  const patched = await s.call(base, { method: 'PATCH', body: { description: null, events: ['signer.viewed', 'signer.signed'], enabled: false } });
  expect(patched.body).toMatchObject({ description: null, events: ['signer.viewed', 'signer.signed'], enabled: false, disabledReason: 'manual' });
  expect((await s.call(base, { method: 'DELETE' })).status).toBe(204);
  expect((await s.call(base)).status).toBe(404);
  expect((await s.call('/v1/webhook-endpoints')).body.items).toEqual([]);

  // At most 20 endpoints.
  for (let i = 0; i < 20; i++) {
    expect((await s.call('/v1/webhook-endpoints', { body: { url: `https://example.com/${i}`, events: ['signer.signed'] } })).status).toBe(201);
  }
  const tooMany = await s.call('/v1/webhook-endpoints', { body: { url: 'https://example.com/21', events: ['signer.signed'] } });
  expect(tooMany.status).toBe(422);
  expect(tooMany.body.error.code).toBe('webhook_endpoint_limit_reached');

  // Every change is in the organisation's audit log; the secret is nowhere in it, nor in the clear in the database.
  const log = (await s.call('/v1/audit-log')).body;
  expect(log.chain.valid).toBe(true);
  const types = (log.events as Json[]).map((event) => event.type);
  for (const type of ['webhook_endpoint.created', 'webhook_endpoint.updated', 'webhook_endpoint.deleted']) expect(types).toContain(type);
  expect(JSON.stringify(log)).not.toContain(s.endpoint.secret);
  const stored: Array<{ encrypted_secret: Buffer }> = await dataSource.query(`SELECT encrypted_secret FROM webhook_endpoint_secrets WHERE endpoint_id = $1`, [s.endpoint.id]);
  expect(stored).toHaveLength(1);
  const secretBytes = Buffer.from(s.endpoint.secret.slice('whsec_'.length), 'base64');
  expect(stored[0]!.encrypted_secret.includes(secretBytes)).toBe(false);
  expect(stored[0]!.encrypted_secret.includes(Buffer.from(s.endpoint.secret))).toBe(false);
}, 60_000);

test('a secret that can never be decrypted fails its attempts, in the delivery log, instead of retrying for ever; nothing is sent', async () => {
  const s = await subscriber(['signing_request.created']);
  const [stored]: Array<{ id: string; encrypted_secret: Buffer }> = await dataSource.query(
    `SELECT id, encrypted_secret FROM webhook_endpoint_secrets WHERE endpoint_id = $1`,
    [s.endpoint.id],
  );
  // Its ciphertext modified: authentication fails.
  const modified = Buffer.from(stored!.encrypted_secret);
  modified[modified.length - 1] ^= 1;
  await dataSource.query(`UPDATE webhook_endpoint_secrets SET encrypted_secret = $2 WHERE id = $1`, [stored!.id, modified]);
  await expect(signingSecrets(dataSource, api.signing.adapters.keyService, s.orgId, s.endpoint.id)).rejects.toThrow(UnreadableSecretError);
  // Its data key wrapped for something else (as after the master key was replaced): the key service refuses it.
  const other = await subscriber(['signing_request.created']);
  const [foreign]: Array<{ wrapped_key: Buffer }> = await dataSource.query(`SELECT wrapped_key FROM webhook_endpoint_secrets WHERE endpoint_id = $1`, [other.endpoint.id]);
  await dataSource.query(`UPDATE webhook_endpoint_secrets SET wrapped_key = $2 WHERE id = $1`, [stored!.id, foreign!.wrapped_key]);

  await createRequest(s.call);
  const [messageId] = await waitFor('the message', async () => (await dataSource.query(`SELECT id FROM webhook_messages WHERE organization_id = $1`, [s.orgId])).map((row: Json) => row.id));
  // The delivery ends on its schedule (or with the endpoint disabled for failing), every attempt logged.
  await waitFor('the delivery started', async () => (await dataSource.query(`SELECT 1 FROM webhook_deliveries WHERE message_id = $1 AND started_run = run`, [messageId])).length === 1);
  expect(await deliveryWorkflowsDone(messageId)).toEqual(['failed']);
  const [item] = (await deliveriesOf(s)).items;
  expect(item).toMatchObject({ messageId, status: 'failed' });
  expect(item.attempts.length).toBeGreaterThanOrEqual(2);
  for (const attempt of item.attempts) expect(attempt).toMatchObject({ httpStatus: null, error: "the endpoint's secret cannot be read" });
  expect(s.receiver.connections()).toBe(0);
}, 60_000);

test('the disabled-endpoint email shows scheme, host and port only, and is sent with no row lock held; once per admin', async () => {
  const s = await subscriber(['signing_request.created']);
  const slackStyle = `${s.receiver.url}/services/T0001/B0001/tokenInThePath0123456789?token=inTheQuery`;
  expect((await s.call(`/v1/webhook-endpoints/${s.endpoint.id}`, { method: 'PATCH', body: { url: slackStyle } })).status).toBe(200);
  await dataSource.query(
    `UPDATE webhook_endpoints SET enabled = false, disabled_reason = 'failing', disabled_at = now(), failing_since = now() - interval '6 days' WHERE id = $1`,
    [s.endpoint.id],
  );
  const locksSeen: string[] = [];
  // The real SMTP mailer; while it talks, another connection checks that nobody holds the endpoint's row.
  const mailer: Mailer = {
    kind: api.signing.adapters.mailer.kind,
    async send(message) {
      await dataSource.transaction(async (tx) => {
        const free = await tx.query(`SELECT 1 FROM webhook_endpoints WHERE id = $1 FOR UPDATE NOWAIT`, [s.endpoint.id]).then(
          () => 'free',
          (error: { code?: string }) => `locked (${error.code})`,
        );
        locksSeen.push(free);
      });
      await api.signing.adapters.mailer.send(message);
    },
  };
  const ctx = { dataSource, mailer, publicUrl: api.config.http.publicUrl };
  expect(await notifyEndpointDisabled(ctx, s.endpoint.id)).toBe(1);
  expect(locksSeen).toEqual(['free']);
  // Asked again (a retried activity): nothing more is sent.
  expect(await notifyEndpointDisabled(ctx, s.endpoint.id)).toBe(0);
  const mails = await smtp.waitForMail(s.ownerEmail, 'Webhook endpoint disabled');
  expect(mails).toHaveLength(1);
  for (const part of [mails[0]!.text, mails[0]!.subject]) {
    expect(part).not.toMatch(/services|tokenInThePath|inTheQuery|\/hooks/);
  }
  expect(mails[0]!.text).toContain(`http://127.0.0.1:${s.receiver.port}`);
  expect(mails[0]!.text).toContain(`/admin/webhooks/${s.endpoint.id}`);
});

test('creating an endpoint does not hold up the organisation’s other writes while the key service answers', async () => {
  const org = await createTestOrganization(dataSource);
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  let called!: () => void;
  const keyServiceCalled = new Promise<void>((resolve) => (called = resolve));
  const real = api.signing.adapters.keyService;
  // The real key service, answering only when the test says (as a slow KMS would).
  const slowKeyService: KeyService = {
    kind: real.kind,
    async generateDataKey(context) {
      called();
      await released;
      return real.generateDataKey(context);
    },
    unwrapDataKey: (wrapped, context) => real.unwrapDataKey(wrapped, context),
    checkReachable: () => real.checkReachable(),
  };
  const caller = {
    scope: { organizationId: org.orgId, permissions: new Set(['view', 'send', 'admin', 'documents'] as const) },
    actor: { actor: `user:${org.ownerUserId}` },
    isOwner: true,
  };
  const creating = createWebhookEndpoint({ dataSource, keyService: slowKeyService, webhooks: api.config.webhooks }, caller, {
    url: 'http://127.0.0.1:9/hooks',
    events: ['signing_request.created'],
  });
  try {
    await keyServiceCalled;
    // A row referencing the organisation (KEY SHARE on it) is written at once, not after the key service.
    await dataSource.transaction(async (tx) => {
      await tx.query(`SET LOCAL lock_timeout = '5s'`);
      await tx.query(
        `INSERT INTO webhook_messages (id, organization_id, type, payload, source_key, dispatched_at) VALUES ($1, $2, 'signing_request.created', '{}', $3, now())`,
        [`msg_lock${Date.now()}`, org.orgId, `lock-test:${org.orgId}`],
      );
    });
  } finally {
    release();
  }
  expect((await creating).url).toBe('http://127.0.0.1:9/hooks');
});

test('every foreign key of the webhook tables leads an index (cascading deletes, per-organisation and per-endpoint reads)', async () => {
  const unindexed = await dataSource.query(
    `SELECT c.conrelid::regclass::text AS "table", a.attname AS "column"
       FROM pg_constraint c JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]
      WHERE c.contype = 'f' AND c.conrelid::regclass::text LIKE 'webhook%'
        AND NOT EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = c.conrelid AND i.indkey[0] = c.conkey[1] AND i.indpred IS NULL)
      ORDER BY 1, 2`,
  );
  expect(unindexed).toEqual([]);
  const foreignKeys: Array<{ count: number }> = await dataSource.query(
    `SELECT count(*)::int AS count FROM pg_constraint WHERE contype = 'f' AND conrelid::regclass::text LIKE 'webhook%'`,
  );
  expect(foreignKeys[0]!.count).toBeGreaterThanOrEqual(6);
});

describe('redelivery since a time, with deliveries still waiting to retry (a long schedule)', () => {
  let patient: TestApi;
  const patientOrganizations: string[] = [];

  beforeAll(async () => {
    patient = await startTestApi(dataSource, {
      env: { SMTP_URL: smtp.url, WEBHOOK_RETRY_SCHEDULE: 'PT0.2S,PT10M,PT10M' },
      webhookOrganizations: () => patientOrganizations,
    });
  });
  afterAll(async () => patient?.close());

  test('`since` resends failed deliveries and pending ones waiting to retry after a failed attempt; the waiting run stops', async () => {
    const start = new Date(Date.now() - 1000).toISOString();
    const s = await subscriber(['signing_request.created'], () => 500, patient, patientOrganizations);
    const requests = [await createRequest(s.call), await createRequest(s.call)];
    // Both answered 500 twice and now wait ten minutes for their third attempt.
    const waiting = await waitFor('both deliveries waiting to retry', async () => {
      const log = await deliveriesOf(s);
      const ready = log.items.length === 2 && log.items.every((item: Json) => item.status === 'pending' && item.attempts.length === 2);
      return ready ? log : undefined;
      // Two rounds, two dispatches, two failed attempts each: seconds alone, longer beside CI's other files.
    }, 90_000);
    for (const item of waiting.items) {
      expect(Date.parse(item.nextAttemptAt)).toBeGreaterThan(Date.now() + 5 * 60_000);
      expect(item.attempts.map((a: Json) => a.httpStatus)).toEqual([500, 500]);
    }
    expect(waiting.items.map((item: Json) => item.signingRequestId).sort()).toEqual(requests.map((r) => r.id).sort());
    const messageIds = waiting.items.map((item: Json) => item.messageId).sort();

    // No attempt failed after a time later than both: nothing to resend.
    const later = await s.call(`/v1/webhook-endpoints/${s.endpoint.id}/redeliver`, { body: { since: new Date(Date.now() + 1000).toISOString() } });
    expect(later.body).toEqual({ messageIds: [] });

    // The receiver recovered: the operator need not wait ten minutes.
    s.receiver.respondWith(() => 200);
    const redelivered = await s.call(`/v1/webhook-endpoints/${s.endpoint.id}/redeliver`, { body: { since: start } });
    expect(redelivered.status).toBe(202);
    expect([...redelivered.body.messageIds].sort()).toEqual(messageIds);
    await waitFor('both accepted', () => messageIds.every((id: string) => s.receiver.acceptedCount(id) === 1), 15_000);
    // The delivery is recorded by its activity after the receiver's answer: wait for the record, not the receiver.
    const rows = await waitFor('both recorded delivered', async () => {
      const rows: Array<{ id: string; run: number; status: string }> = await dataSource.query(
        `SELECT id, run, status FROM webhook_deliveries WHERE endpoint_id = $1`,
        [s.endpoint.id],
      );
      return rows.length >= messageIds.length && rows.every((row) => row.status === 'delivered') ? rows : undefined;
    }, 30_000);
    for (const row of rows) {
      expect(row).toMatchObject({ run: 2, status: 'delivered' });
      expect(await patient.client.workflow.getHandle(workflowIdForDelivery(row.id, 2)).result()).toBe('delivered');
      // The superseded run, asleep until its next attempt, stops there without sending (attemptDelivery
      // compares runs); it is not waited for here.
      await patient.client.workflow.getHandle(workflowIdForDelivery(row.id, 1)).terminate('superseded; not waited for in the test');
    }
    const log = await deliveriesOf(s);
    for (const item of log.items) expect(item.attempts.map((a: Json) => a.httpStatus)).toEqual([200, 500, 500]);
  }, 150_000);
});

describe('webhook deliveries run on a task queue of their own, with bounded slots (WEBHOOK_CONCURRENCY)', () => {
  let isolated: TestApi;
  const isolatedOrganizations: string[] = [];

  beforeAll(async () => {
    isolated = await startTestApi(dataSource, {
      env: { SMTP_URL: smtp.url, WEBHOOK_CONCURRENCY: '1', WEBHOOK_TIMEOUT: 'PT60S', WEBHOOK_RETRY_SCHEDULE: 'PT0.2S' },
      webhookOrganizations: () => isolatedOrganizations,
    });
  });
  afterAll(async () => isolated?.close());

  test('a receiver that accepts and never answers holds only the webhook slot: rounds go on; deliveries wait their turn', async () => {
    const slow = await subscriber(['signing_request.created'], () => ({ status: 200, hold: true }), isolated, isolatedOrganizations);
    const other = await subscriber(['signing_request.created'], undefined, isolated, isolatedOrganizations);
    const first = await createRequest(slow.call);
    await waitFor('the first attempt held open by its receiver', () => slow.receiver.deliveries.length === 1);
    const second = await createRequest(other.call);
    // The signing rounds' own work is not queued behind the held attempt: both invitations go out.
    await smtp.waitForMail(first.email, 'Please sign');
    await smtp.waitForMail(second.email, 'Please sign');
    // The other organisation's delivery has started and scheduled its attempt, on the webhook queue, whose
    // one slot the held attempt has: it waits.
    const waiting = await waitFor('the other delivery’s attempt scheduled', async () => {
      const [row]: Array<{ id: string; run: number; started_run: number }> = await dataSource.query(
        `SELECT id, run, started_run FROM webhook_deliveries WHERE endpoint_id = $1`,
        [other.endpoint.id],
      );
      if (!row || row.started_run < row.run) return undefined;
      const described = await isolated.client.workflow.getHandle(workflowIdForDelivery(row.id, row.run)).describe();
      return (described.raw.pendingActivities ?? []).length === 1 ? described : undefined;
    });
    expect(waiting.taskQueue).toBe(webhookTaskQueueOf(isolated.taskQueue));
    expect(other.receiver.deliveries).toHaveLength(0);

    slow.receiver.release(200);
    await waitFor('the other organisation’s message accepted once the slot is free', () => other.receiver.acceptedCount(other.receiver.deliveries[0]?.messageId ?? '') === 1);
    for (const s of [slow, other]) {
      const rows: Array<{ id: string; run: number }> = await dataSource.query(`SELECT id, run FROM webhook_deliveries WHERE endpoint_id = $1`, [s.endpoint.id]);
      const handle = isolated.client.workflow.getHandle(workflowIdForDelivery(rows[0]!.id, rows[0]!.run));
      expect(await handle.result()).toBe('delivered');
      expect((await handle.describe()).taskQueue).toBe(webhookTaskQueueOf(isolated.taskQueue));
    }
  }, 60_000);
});

describe('production mode (NODE_ENV=production)', () => {
  let production: TestApi;
  const productionOrganizations: string[] = [];

  beforeAll(async () => {
    production = await startTestApi(dataSource, {
      env: { NODE_ENV: 'production', WEBHOOK_RETRY_SCHEDULE: 'PT0.2S', WEBHOOK_TIMEOUT: 'PT2S' },
      webhookOrganizations: () => productionOrganizations,
    });
  });
  afterAll(async () => production?.close());

  /** A host name other than localhost that resolves to loopback here (from /etc/hosts). */
  function loopbackName(): string {
    const names = fs
      .readFileSync('/etc/hosts', 'utf8')
      .split('\n')
      .filter((line) => /^127\.\d+\.\d+\.\d+\s/.test(line))
      .flatMap((line) => line.split(/\s+/).slice(1))
      .filter((name) => name && !name.startsWith('#') && !/localhost/i.test(name));
    if (!names[0]) throw new Error('/etc/hosts names no host on 127.0.0.0/8 other than localhost');
    return names[0];
  }

  test('refuses private destinations when an endpoint is created, and again at delivery after resolving', async () => {
    const org = await createTestOrganization(dataSource);
    productionOrganizations.push(org.orgId);
    const call = apiClient(() => production.url, () => org.apiKey);
    const create = (url: string) => call('/v1/webhook-endpoints', { body: { url, events: ['signing_request.created'] } });
    const refusals: Array<[string, RegExp]> = [
      ['http://example.com/hook', /must be an https:\/\/ URL/],
      ['https://127.0.0.1/hook', /loopback/],
      ['https://169.254.169.254/latest/meta-data/', /link-local/],
      ['https://[::ffff:127.0.0.1]/hook', /loopback/],
      ['https://[::1]:8443/hook', /loopback/],
      ['https://[::127.0.0.1]/hook', /non-public/],
      ['https://10.1.2.3/hook', /private/],
      ['https://localhost/hook', /loopback/],
    ];
    for (const [url, reason] of refusals) {
      const refused = await create(url);
      expect({ url, status: refused.status, code: refused.body.error.code }).toEqual({ url, status: 422, code: 'webhook_destination_refused' });
      expect(refused.body.error.message).toMatch(reason);
    }

    // A name is resolved at delivery, and the connection would go to the checked address only: refused.
    const receiver = await startWebhookReceiver();
    receivers.push(receiver);
    const endpoint = await create(`https://${loopbackName()}:${receiver.port}/hooks`);
    expect(endpoint.status).toBe(201);
    await createRequest(call);
    const failed = await waitFor('the attempt refused', async () => {
      const log = (await call(`/v1/webhook-endpoints/${endpoint.body.id}/deliveries`)).body;
      return log.items[0]?.attempts.length > 0 ? log.items[0] : undefined;
    });
    // The log says why, but not which address the name resolved to (that would map the deployment's network).
    expect(failed.attempts.at(-1)).toMatchObject({ httpStatus: null, error: 'destination refused: the host name resolves to a non-public address (loopback)' });

    // An endpoint stored before the rule (or by hand) with a metadata-service address is refused at delivery too.
    await dataSource.query(`UPDATE webhook_endpoints SET url = 'https://169.254.169.254/latest/meta-data/' WHERE id = $1`, [endpoint.body.id]);
    await waitFor('the first delivery finished', async () => (await call(`/v1/webhook-endpoints/${endpoint.body.id}/deliveries`)).body.items[0].status === 'failed');
    expect((await call(`/v1/webhook-endpoints/${endpoint.body.id}/redeliver`, { body: { messageId: failed.messageId } })).status).toBe(202);
    const metadata = await waitFor('the redelivery refused', async () => {
      const attempts = (await call(`/v1/webhook-endpoints/${endpoint.body.id}/deliveries`)).body.items[0].attempts as Json[];
      return attempts.find((attempt) => attempt.error?.includes('169.254.169.254'));
    });
    expect(metadata).toMatchObject({ httpStatus: null, error: 'destination refused: link-local address 169.254.169.254' });
    expect(receiver.connections()).toBe(0);
  }, 60_000);
});
