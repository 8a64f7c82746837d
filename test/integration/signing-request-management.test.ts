/**
 * What a sender does with running requests: list them, remind, issue a new PIN, read the history that
 * support staff see. Real Temporal, PostgreSQL and SMTP, as in signing-round.test.ts.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { DataSource } from 'typeorm';
import { apiClient, type Json } from '../support/api-client';
import { createTestOrganization } from '../support/factories';
import { openTestDataSource, startTestApi, type TestApi } from '../support/harness';
import { createTestPdf } from '../support/pdf-factories';
import { signingTokenIn, startSmtpCatcher } from '../support/smtp-catcher';
import { waitFor } from '../support/wait-for';

let dataSource: DataSource;
let smtp: Awaited<ReturnType<typeof startSmtpCatcher>>;
let api: TestApi;
let org: { orgId: string; apiKey: string };
let pdfBase64: string;

beforeAll(async () => {
  dataSource = await openTestDataSource();
  smtp = await startSmtpCatcher();
  api = await startTestApi(dataSource, { env: { SMTP_URL: smtp.url } });
  org = await createTestOrganization(dataSource);
  pdfBase64 = Buffer.from(await createTestPdf()).toString('base64');
});

afterAll(async () => {
  await api?.close();
  await smtp?.close();
  await dataSource?.destroy();
});

const call = apiClient(() => api.url, () => org.apiKey);

let counter = 0;
async function createRequest(signers: Array<Record<string, unknown>>, title = `Request ${++counter}`) {
  const response = await call('/v1/signing-requests', {
    body: { title, document: { filename: 'd.pdf', contentBase64: pdfBase64 }, signers },
  });
  expect(response.status).toBe(201);
  return response.body;
}

const email = (name: string) => `${name}-${++counter}-${Date.now()}@example.test`;

test('listing is newest first, filtered by status, paginated by cursor, and scoped to the organisation', async () => {
  const own = await createTestOrganization(dataSource);
  const created: string[] = [];
  for (let i = 0; i < 5; i += 1) {
    const response = await call('/v1/signing-requests', {
      key: own.apiKey,
      body: { title: `Listed ${i}`, document: { filename: 'd.pdf', contentBase64: pdfBase64 }, signers: [{ name: 'L', email: email('l') }] },
    });
    created.push(response.body.id);
  }
  await call(`/v1/signing-requests/${created[0]}/cancel`, { key: own.apiKey, body: { reason: 'test' } });
  await waitFor('the cancellation to be recorded', async () => {
    const rows = await dataSource.query(`SELECT status FROM signing_requests WHERE id = $1`, [created[0]]);
    return rows[0].status === 'cancelled';
  });

  const first = await call('/v1/signing-requests?limit=2', { key: own.apiKey });
  expect(first.status).toBe(200);
  expect(first.body.items.map((item: Json) => item.id)).toEqual([created[4], created[3]]);
  const second = await call(`/v1/signing-requests?limit=2&cursor=${first.body.nextCursor}`, { key: own.apiKey });
  expect(second.body.items.map((item: Json) => item.id)).toEqual([created[2], created[1]]);
  const last = await call(`/v1/signing-requests?limit=2&cursor=${second.body.nextCursor}`, { key: own.apiKey });
  expect(last.body.items.map((item: Json) => item.id)).toEqual([created[0]]);
  expect(last.body.nextCursor).toBeUndefined();

  const cancelled = await call('/v1/signing-requests?status=cancelled', { key: own.apiKey });
  expect(cancelled.body.items.map((item: Json) => item.id)).toEqual([created[0]]);
  const others = await call('/v1/signing-requests?limit=100');
  expect(others.body.items.some((item: Json) => created.includes(item.id))).toBe(false);

  expect((await call('/v1/signing-requests?limit=101', { key: own.apiKey })).status).toBe(400);
  expect((await call('/v1/signing-requests?cursor=garbage', { key: own.apiKey })).status).toBe(400);
  expect((await call('/v1/signing-requests?status=unknown', { key: own.apiKey })).status).toBe(400);
});

test('remind sends a reminder to pending signers now, and a second one within the hour is rate-limited', async () => {
  const pending = email('pending');
  const request = await createRequest([{ name: 'Pending Person', email: pending }]);
  await smtp.waitForMail(pending, 'Please sign');
  const reminded = await call(`/v1/signing-requests/${request.id}/remind`, { method: 'POST' });
  expect(reminded.status).toBe(200);
  expect(reminded.body).toEqual({ reminded: 1 });
  const [reminder] = await smtp.waitForMail(pending, 'Reminder');
  expect(signingTokenIn(reminder!)).toBe(signingTokenIn(smtp.to(pending, 'Please sign')[0]!));
  const again = await call(`/v1/signing-requests/${request.id}/remind`, { method: 'POST' });
  expect(again.status).toBe(429);
  expect(again.body.error.code).toBe('rate_limited');
});

test('reset-pin unlocks a locked signer; the new PIN opens the link and the old one no longer does', async () => {
  const locked = email('locked');
  const request = await createRequest([{ name: 'Locked Out', email: locked }]);
  const token = signingTokenIn((await smtp.waitForMail(locked, 'Please sign'))[0]!);
  const oldPin: string = request.signers[0].pin;
  const wrong = oldPin === '000000' ? '111111' : '000000';
  for (let i = 0; i < 5; i += 1) await call('/v1/signer/session', { body: { token, pin: wrong } });
  expect((await call('/v1/signer/session', { body: { token, pin: oldPin } })).status).toBe(423);

  const reset = await call(`/v1/signing-requests/${request.id}/signers/${request.signers[0].id}/reset-pin`, { method: 'POST' });
  expect(reset.status).toBe(200);
  expect(reset.body).toEqual({ delivery: 'sender', pin: expect.stringMatching(/^\d{6}$/) });
  expect((await call(`/v1/signing-requests/${request.id}`)).body.signers[0].status).toBe('invited');
  if (reset.body.pin !== oldPin) expect((await call('/v1/signer/session', { body: { token, pin: oldPin } })).status).toBe(401);
  expect((await call('/v1/signer/session', { body: { token, pin: reset.body.pin } })).status).toBe(200);
});

test('reset-pin for SMS delivery sends the new PIN by SMS through the round', async () => {
  const phone = `+35840${String(Date.now()).slice(-7)}`;
  const request = await createRequest([{ name: 'Sms Person', email: email('sms'), phone }]);
  const smsDir = path.join(api.config.dataDir, 'outbox', 'sms');
  const pinsTo = () =>
    fs.existsSync(smsDir)
      ? fs
          .readdirSync(smsDir)
          .filter((file) => file.endsWith('.json'))
          .map((file) => JSON.parse(fs.readFileSync(path.join(smsDir, file), 'utf8')) as { to: string; text: string })
          .filter((sms) => sms.to === phone)
      : [];
  await waitFor('the first PIN by SMS', () => pinsTo().length === 1);
  const reset = await call(`/v1/signing-requests/${request.id}/signers/${request.signers[0].id}/reset-pin`, { method: 'POST' });
  expect(reset.body).toEqual({ delivery: 'sms' });
  const [, second] = await waitFor('the second PIN by SMS', () => (pinsTo().length === 2 ? pinsTo() : undefined));
  expect(second!.text).toMatch(/\b\d{6}\b/);
});

test('history shows the round step by step from Temporal, with no personal data', async () => {
  const signerEmail = email('history');
  const request = await createRequest([{ name: 'Hidden Name', email: signerEmail }], 'History check');
  await smtp.waitForMail(signerEmail, 'Please sign');
  await waitFor('the invitation and the timer for the next reminder in the history', async () => {
    const history = await call(`/v1/signing-requests/${request.id}/history`);
    const summaries: string[] = history.body.steps.map((step: Json) => step.summary);
    return summaries.includes('sendInvitation completed') && summaries.some((summary) => summary.startsWith('waiting up to'));
  });
  const history = await call(`/v1/signing-requests/${request.id}/history`);
  expect(history.status).toBe(200);
  const summaries = history.body.steps.map((step: Json) => step.summary);
  expect(summaries[0]).toBe('round started (signingRoundWorkflow)');
  expect(summaries).toEqual(expect.arrayContaining(['sendInvitation scheduled', 'sendInvitation completed']));
  expect(summaries.some((summary: string) => summary.startsWith('waiting up to'))).toBe(true);
  const text = JSON.stringify(history.body);
  expect(text).not.toContain('Hidden Name');
  expect(text).not.toContain(signerEmail);
});
