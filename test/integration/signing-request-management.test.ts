/**
 * What a sender does with running requests: list them, remind, issue a new PIN, read the history that
 * support staff see. Real Temporal, PostgreSQL and SMTP, as in signing-round.test.ts.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { DataSource } from 'typeorm';
import { WithStartWorkflowOperation } from '@temporalio/client';
import { createSigningRequestInput, recordSigningRequest, roundInputFor, workflowIdForRequest } from '../../src/signing/create-signing-request';
import { exportSigningRequests } from '../../src/signing/export-signing-requests';
import { remindNowUpdate, signingRoundWorkflow } from '../../src/workflows/signing-round';
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

test('the list searches title, document code and signers (LIKE characters literal), filters by creation time, shows signers, and exports the same as CSV', async () => {
  const own = await createTestOrganization(dataSource);
  const create = async (title: string, signers: Array<{ name: string; email: string }>) => {
    const response = await call('/v1/signing-requests', {
      key: own.apiKey,
      body: { title, document: { filename: 'd.pdf', contentBase64: pdfBase64 }, signers: signers.map((signer) => ({ ...signer, pinDelivery: 'sender' })) },
    });
    expect(response.status).toBe(201);
    return (await call(`/v1/signing-requests/${response.body.id}`, { key: own.apiKey })).body;
  };
  const lease = await create('Lease 100% final', [{ name: 'Åsa Öberg', email: email('asa') }, { name: 'Matti Meikäläinen', email: email('matti') }]);
  const formula = await create('=HYPERLINK("http://evil.example")', [{ name: '@Eve', email: email('eve') }]);
  const plain = await create('Lease 1000 draft', [{ name: 'Nils Holm', email: email('nils') }]);
  const ids = async (query: string) => {
    const response = await call(`/v1/signing-requests?${query}`, { key: own.apiKey });
    expect(response.status).toBe(200);
    return response.body.items.map((item: Json) => item.id);
  };

  expect(await ids('q=lease')).toEqual([plain.id, lease.id]);
  // Titles, names and emails are found by word beginnings (they are stored encrypted: src/signing/round-personal-data.ts).
  expect(await ids('q=fin')).toEqual([lease.id]);
  expect(await ids(`q=${encodeURIComponent('Å f')}`)).toEqual([lease.id]); // a letter at a time, as typed
  expect(await ids('q=1000')).toEqual([plain.id]); // "1000" begins no word of "Lease 100% final"
  expect(await ids('q=ease')).toEqual([]); // not the middle of a word
  expect(await ids(`q=${encodeURIComponent('%')}`)).toEqual([]); // `%` is a character, not a wildcard
  expect(await ids('q=_')).toEqual([]);
  expect(await ids(`q=${encodeURIComponent('meikäläinen')}`)).toEqual([lease.id]);
  expect(await ids(`q=${encodeURIComponent(lease.signers[1].email.toUpperCase())}`)).toEqual([lease.id]);
  expect(await ids(`q=${lease.documentCode.slice(4, 13)}`)).toEqual([lease.id]);
  expect(await ids(`createdFrom=${encodeURIComponent(formula.createdAt)}&createdTo=${encodeURIComponent(plain.createdAt)}`)).toEqual([formula.id]);
  expect(await ids(`createdTo=${encodeURIComponent(lease.createdAt)}`)).toEqual([]);
  expect((await call('/v1/signing-requests?createdFrom=yesterday', { key: own.apiKey })).status).toBe(400);

  const [listed] = (await call(`/v1/signing-requests?q=final`, { key: own.apiKey })).body.items;
  expect(listed.signers).toEqual([
    { name: 'Åsa Öberg', email: lease.signers[0].email, status: expect.stringMatching(/^(waiting|invited)$/) },
    { name: 'Matti Meikäläinen', email: lease.signers[1].email, status: expect.stringMatching(/^(waiting|invited)$/) },
  ]);

  const exported = await call('/v1/signing-requests/export.csv?q=lease', { key: own.apiKey });
  expect(exported.status).toBe(200);
  expect(exported.headers.get('content-type')).toMatch(/^text\/csv/);
  const csv = exported.body.toString('utf8').replace(/^\uFEFF/, '');
  const lines = csv.trimEnd().split('\r\n');
  expect(lines[0]).toBe('id,title,status,documentCode,folderId,createdAt,expiresAt,signersSigned,signersTotal,signers');
  expect(lines.slice(1).map((line: string) => line.split(',')[0])).toEqual([plain.id, lease.id]);
  expect(csv).toContain('Åsa Öberg');
  // A title or name a spreadsheet would run as a formula is exported as text.
  const all = (await call('/v1/signing-requests/export.csv', { key: own.apiKey })).body.toString('utf8');
  expect(all).toContain(`${formula.id},"'=HYPERLINK(""http://evil.example"")"`);
  expect(all).toContain("'@Eve <");
  // Another organisation's export has none of these.
  const others = (await call('/v1/signing-requests/export.csv')).body.toString('utf8');
  expect(others).not.toContain(lease.id);

  // A whole list is not marked; a cut one says so (the limit is 10,000 in the route, a few rows here).
  expect(exported.headers.get('x-sigill-truncated')).toBeNull();
  const scope = { organizationId: own.orgId, permissions: new Set(['view'] as const) };
  const cut = await exportSigningRequests(dataSource, scope, {}, 2);
  expect(cut.truncated).toBe(true);
  expect(cut.csv.trimEnd().split('\r\n').slice(1).map((line) => line.split(',')[0])).toEqual([plain.id, formula.id]);
  expect((await exportSigningRequests(dataSource, scope, {}, 3)).truncated).toBe(false);
  expect((await exportSigningRequests(dataSource, scope, { q: 'lease' }, 2)).truncated).toBe(false);
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

test('a reminder that reaches the round together with its start reminds the invited signers', async () => {
  // A back-office system may remind the moment it created a request; on a busy worker the Update then arrives
  // in the round's first step, with its start. Update-with-start makes that order certain here.
  const [first, second] = [email('early'), email('early')];
  const scope = { organizationId: org.orgId, permissions: new Set(['view', 'send', 'admin', 'documents'] as const) };
  const request = createSigningRequestInput.parse({
    title: 'Reminded at once',
    document: { filename: 'd.pdf', contentBase64: pdfBase64 },
    signers: [
      { name: 'First Early', email: first },
      { name: 'Second Early', email: second },
    ],
  });
  const { requestId } = await recordSigningRequest(api.signing, { scope, request, now: new Date() });
  const { roundInput } = await roundInputFor(api.signing, requestId, org.orgId);
  const reminded = await api.client.workflow.executeUpdateWithStart(remindNowUpdate, {
    startWorkflowOperation: new WithStartWorkflowOperation(signingRoundWorkflow, {
      taskQueue: api.taskQueue,
      workflowId: workflowIdForRequest(requestId),
      workflowIdConflictPolicy: 'FAIL',
      args: [roundInput],
    }),
  });
  expect(reminded).toEqual({ reminded: 2 });
  for (const address of [first, second]) {
    await smtp.waitForMail(address, 'Please sign');
    await smtp.waitForMail(address, 'Reminder');
  }
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
  // Structured fields a page can put in its reader's words: which activity, for which signer, until when.
  const invited = history.body.steps.find((step: Json) => step.event === 'ActivityTaskCompleted' && step.activity === 'sendInvitation');
  expect(invited).toMatchObject({ activity: 'sendInvitation', signerId: request.signers[0].id });
  const waiting = history.body.steps.find((step: Json) => step.event === 'TimerStarted');
  expect(waiting.timer.seconds).toBeGreaterThan(0);
  expect(Math.abs(Date.parse(waiting.timer.firesAt) - Date.parse(waiting.at) - waiting.timer.seconds * 1000)).toBeLessThan(1000);
  const text = JSON.stringify(history.body);
  expect(text).not.toContain('Hidden Name');
  expect(text).not.toContain(signerEmail);
});
