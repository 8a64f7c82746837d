/**
 * Signing rounds end to end through the API, against a real Temporal dev server, real PostgreSQL and a real
 * SMTP server: invitations arrive by email, PINs by SMS (outbox) or to the sender, signers open their link,
 * sign or decline, and a completed round yields a sealed PDF that an independent validator (pdfsig) accepts.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { DataSource } from 'typeorm';
import { workflowIdForRequest } from '../../src/signing/create-signing-request';
import { SigningRequest } from '../../src/database/entities';
import { apiClient, type Json } from '../support/api-client';
import { createTestOrganization } from '../support/factories';
import { harness, openTestDataSource, startTestApi, type TestApi } from '../support/harness';
import { signingTokenIn, startSmtpCatcher } from '../support/smtp-catcher';
import { waitFor } from '../support/wait-for';
import { createTestPdf } from '../support/pdf-factories';
import { pdfsig } from '../support/pdf-validators';
import { reportDocumentDisplayed } from '../support/signer-reading';
import { PDFDocument, PDFName } from 'pdf-lib';

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
  pdfBase64 = Buffer.from(await createTestPdf([{}, {}])).toString('base64');
});

afterAll(async () => {
  await api?.close();
  await smtp?.close();
  await dataSource?.destroy();
});

const call = apiClient(() => api.url, () => org.apiKey);

let emailCounter = 0;
const uniqueEmail = (name: string) => `${name}-${++emailCounter}-${Date.now()}@example.test`;

function requestBody(overrides: Record<string, unknown> = {}) {
  return {
    title: 'Consulting agreement',
    document: { filename: 'agreement.pdf', contentBase64: pdfBase64 },
    signers: [{ name: 'Aino Virtanen', email: uniqueEmail('aino') }],
    ...overrides,
  };
}

async function create(body: Record<string, unknown>, headers?: Record<string, string>) {
  const response = await call('/v1/signing-requests', { body, headers });
  expect(response.status).toBe(201);
  return response.body as Json;
}

const signerAgent = (name: string) => `Mozilla/5.0 (test signer ${name})`;

/** What a signer does: open the emailed link with the PIN, read the document, sign. */
async function signAs(email: string, pin: string, name: string) {
  const [invitation] = await smtp.waitForMail(email, 'Please sign');
  const token = signingTokenIn(invitation!);
  const session = await call('/v1/signer/session', { key: null, body: { token, pin }, headers: { 'user-agent': signerAgent(name) } });
  expect(session.status).toBe(200);
  const auth = { authorization: `Bearer ${session.body.sessionToken}`, 'user-agent': signerAgent(name) };
  const document = await call('/v1/signer/document', { key: null, headers: auth });
  expect(document.status).toBe(200);
  expect(document.body.subarray(0, 5).toString()).toBe('%PDF-');
  // What the signing page reports once it has drawn the first page on screen.
  await reportDocumentDisplayed(call, session.body.sessionToken, { 'user-agent': signerAgent(name) });
  const signed = await call('/v1/signer/sign', { key: null, headers: auth, body: { typedName: name, consent: true } });
  expect(signed.status).toBe(200);
  return { token, auth, round: signed.body };
}

function smsPinFor(phone: string): string {
  const dir = path.join(api.config.dataDir, 'outbox', 'sms');
  const files = fs.existsSync(dir) ? fs.readdirSync(dir).filter((file) => file.endsWith('.json')) : [];
  const message = files
    .map((file) => JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8')) as { to: string; text: string })
    .find((sms) => sms.to === phone);
  const pin = message && /\b(\d{6})\b/.exec(message.text)?.[1];
  if (!pin) throw new Error(`no PIN SMS to ${phone}`);
  return pin;
}

const roundResult = (id: string) => api.client.workflow.getHandle(workflowIdForRequest(id)).result();

describe('a 3-signer parallel round', () => {
  test('goes from POST to completed; the sealed PDF is valid, its hash stored, the audit trail complete', async () => {
    const signers = [
      { name: 'Aino Virtanen', email: uniqueEmail('aino') },
      { name: 'Bertil Berg', email: uniqueEmail('bertil'), pinDelivery: 'sender' },
      { name: 'Chidi Okafor', email: uniqueEmail('chidi'), phone: '+358401234567' },
    ];
    const created = await create(requestBody({ signers }));
    expect(created.status).toBe('pending');
    expect(created.signers.map((s: Json) => s.status)).toEqual(['invited', 'invited', 'invited']);
    expect(created.signers[0].pin).toMatch(/^\d{6}$/);
    expect(created.signers[1].pin).toMatch(/^\d{6}$/);
    expect(created.signers[2].pin).toBeUndefined(); // it travels by SMS
    await waitFor('the SMS PIN', () => {
      try {
        return smsPinFor('+358401234567');
      } catch {
        return undefined;
      }
    });

    await signAs(signers[0]!.email, created.signers[0].pin, 'Aino Virtanen');
    await signAs(signers[1]!.email, created.signers[1].pin, 'Bertil Berg');
    // The status view is PostgreSQL, brought up to date by the activity recording each signature: a read
    // right after an action may trail it by that activity's latency.
    const midway = await waitFor('both signatures in the status view', async () => {
      const read = await call(`/v1/signing-requests/${created.id}`);
      return read.body.signers.filter((s: Json) => s.status === 'signed').length === 2 && read;
    });
    expect(midway.body.status).toBe('pending');
    expect(midway.body.signers.map((s: Json) => s.status)).toEqual(['signed', 'signed', 'invited']);
    await signAs(signers[2]!.email, smsPinFor('+358401234567'), 'Chidi Okafor');

    const final = await roundResult(created.id);
    expect(final.status).toBe('completed');
    const status = await call(`/v1/signing-requests/${created.id}`);
    expect(status.body).toMatchObject({ status: 'completed', sha256: expect.stringMatching(/^[0-9a-f]{64}$/), sealedAt: expect.any(String) });
    expect(status.body.signers.every((s: Json) => s.status === 'signed' && s.signedAt)).toBe(true);

    const sealed = await call(`/v1/signing-requests/${created.id}/document`);
    expect(sealed.status).toBe(200);
    expect(sealed.headers.get('content-type')).toBe('application/pdf');
    expect(createHash('sha256').update(sealed.body).digest('hex')).toBe(status.body.sha256);
    const file = path.join(harness.tempDir('sealed'), 'sealed.pdf');
    fs.writeFileSync(file, sealed.body);
    const validation = pdfsig(file);
    expect(validation.stdout).toContain('Signature is Valid');
    expect(validation.stdout).toContain('Total document signed');

    const trail = await call(`/v1/signing-requests/${created.id}/audit-trail`);
    expect(trail.body.chainValid).toBe(true);
    const events: Json[] = trail.body.events;
    const count = (type: string) => events.filter((event) => event.type === type).length;
    expect(count('invited')).toBe(3);
    expect(count('pin_sent')).toBe(1);
    expect(count('opened')).toBe(3);
    expect(count('viewed')).toBe(3);
    expect(count('signed')).toBe(3);
    expect(count('sealed')).toBe(1);
    expect(count('archived')).toBe(1);
    for (const event of events.filter((e) => ['opened', 'viewed', 'signed'].includes(e.type))) {
      expect(event.ip).toMatch(/127\.0\.0\.1/);
      expect(event.userAgent).toMatch(/test signer/);
    }

    // Everyone concerned is told: every signer, and the organisation's owner.
    for (const signer of signers) await smtp.waitForMail(signer.email, 'Signed:');
    expect(smtp.to(signers[0]!.email, 'Please sign')).toHaveLength(1);
  });
});

describe('a 2-signer sequential round', () => {
  test('invites the second signer only after the first has signed, then completes', async () => {
    const first = uniqueEmail('first');
    const second = uniqueEmail('second');
    const created = await create(
      requestBody({
        routing: 'sequential',
        signers: [
          { name: 'First Signer', email: first },
          { name: 'Second Signer', email: second },
        ],
      }),
    );
    expect(created.signers.map((s: Json) => s.status)).toEqual(['invited', 'waiting']);
    await smtp.waitForMail(first, 'Please sign');
    expect(smtp.to(second, 'Please sign')).toHaveLength(0);

    await signAs(first, created.signers[0].pin, 'First Signer');
    await signAs(second, created.signers[1].pin, 'Second Signer');
    expect((await roundResult(created.id)).status).toBe('completed');
    expect((await call(`/v1/signing-requests/${created.id}`)).body.status).toBe('completed');
  });
});

describe('ending a round early', () => {
  test('a decline ends the round as declined and everyone is told who declined and why', async () => {
    const email = uniqueEmail('decliner');
    const other = uniqueEmail('other');
    // A title of its own: the organisation's owner hears of every round in this file.
    const title = `Agreement to decline ${Date.now()}`;
    const created = await create(requestBody({ title, signers: [{ name: 'Dana Decliner', email }, { name: 'Olli', email: other }] }));
    const [invitation] = await smtp.waitForMail(email, 'Please sign');
    const session = await call('/v1/signer/session', { key: null, body: { token: signingTokenIn(invitation!), pin: created.signers[0].pin } });
    const reason = 'The fee is wrong.\nClause 4 names the wrong party.';
    const declined = await call('/v1/signer/decline', {
      key: null,
      headers: { authorization: `Bearer ${session.body.sessionToken}` },
      body: { reason },
    });
    expect(declined.status).toBe(200);
    expect(declined.body.status).toBe('declined');
    expect((await roundResult(created.id)).status).toBe('declined');
    const trail = await call(`/v1/signing-requests/${created.id}/audit-trail`);
    expect(trail.body.events.find((e: Json) => e.type === 'declined').detail).toEqual({ reason });

    // The other signer and the sender (the organisation's owner) read who declined and the reason, quoted.
    const [owner] = await dataSource.query(
      `SELECT u.email FROM memberships m JOIN users u ON u.id = m.user_id WHERE m.organization_id = $1 AND m.role = 'owner'`,
      [org.orgId],
    );
    const [toOther] = await smtp.waitForMail(other, 'Not signed:');
    const [toSender] = await smtp.waitForMail(owner.email, `Not signed: ${title}`);
    for (const mail of [toOther!, toSender!]) {
      expect(mail.text).toContain('was declined by Dana Decliner.');
      expect(mail.text).toContain('> The fee is wrong.\n> Clause 4 names the wrong party.');
    }
    // The decliner gets the record of what the others were told.
    const [toDecliner] = await smtp.waitForMail(email, 'Not signed:');
    expect(toDecliner!.text).toContain('was declined by you.');
    expect(toDecliner!.text).toContain('> The fee is wrong.');
    for (const mail of [toOther!, toSender!, toDecliner!]) {
      for (const signer of created.signers as Json[]) expect(mail.text).not.toContain(signer.pin);
      expect(mail.text).not.toMatch(/https?:\/\//);
    }
  });

  test('the sender cancels; a second cancel is a conflict; signers are told', async () => {
    const email = uniqueEmail('cancelled');
    const created = await create(requestBody({ signers: [{ name: 'Eero', email }] }));
    const cancelled = await call(`/v1/signing-requests/${created.id}/cancel`, { body: { reason: 'Wrong version attached' } });
    expect(cancelled.status).toBe(200);
    expect(cancelled.body.status).toBe('cancelled');
    expect((await roundResult(created.id)).status).toBe('cancelled');
    await smtp.waitForMail(email, 'Not signed:');
    const again = await call(`/v1/signing-requests/${created.id}/cancel`, { body: { reason: 'again' } });
    expect(again.status).toBe(409);
    expect((await call(`/v1/signing-requests/${created.id}/document`)).status).toBe(409);
  });
});

describe('a seal that cannot be made', () => {
  test('ends the round visibly as failed (never stuck pending), and everyone is told', async () => {
    const email = uniqueEmail('unlucky');
    const created = await create(requestBody({ signers: [{ name: 'Ulla', email }] }));
    // The stored original disappears before sealing: a permanent failure, not one a retry can fix.
    const [row] = await dataSource.query(`SELECT original_blob_key FROM signing_requests WHERE id = $1`, [created.id]);
    fs.rmSync(path.join(api.config.dataDir, 'blobs', row.original_blob_key));
    const [invitation] = await smtp.waitForMail(email, 'Please sign');
    const session = await call('/v1/signer/session', { key: null, body: { token: signingTokenIn(invitation!), pin: created.signers[0].pin } });
    const auth = { authorization: `Bearer ${session.body.sessionToken}` };
    await reportDocumentDisplayed(call, session.body.sessionToken);
    expect((await call('/v1/signer/sign', { key: null, headers: auth, body: { typedName: 'Ulla', consent: true } })).status).toBe(200);

    expect((await roundResult(created.id)).status).toBe('failed');
    expect((await call(`/v1/signing-requests/${created.id}`)).body.status).toBe('failed');
    const [notice] = await smtp.waitForMail(email, 'Not signed:');
    expect(notice!.text).toContain('technical problem');
    const history = await call(`/v1/signing-requests/${created.id}/history`);
    expect(history.body.steps.some((step: Json) => step.summary === 'sealSignedDocument failed' && /missing/.test(step.failure))).toBe(true);
  });
});

describe('a stored original that was tampered with', () => {
  test('is refused at sealing at once (no hours of retries): the round fails visibly', async () => {
    const email = uniqueEmail('tampered');
    const created = await create(requestBody({ signers: [{ name: 'Tuula', email }] }));
    const [row] = await dataSource.query(`SELECT original_blob_key FROM signing_requests WHERE id = $1`, [created.id]);
    const file = path.join(api.config.dataDir, 'blobs', row.original_blob_key);
    const stored = fs.readFileSync(file);
    stored[stored.length - 1] ^= 0x01; // inside the ciphertext: authentication must fail
    fs.writeFileSync(file, stored);
    const [invitation] = await smtp.waitForMail(email, 'Please sign');
    const session = await call('/v1/signer/session', { key: null, body: { token: signingTokenIn(invitation!), pin: created.signers[0].pin } });
    const auth = { authorization: `Bearer ${session.body.sessionToken}` };
    await reportDocumentDisplayed(call, session.body.sessionToken);
    expect((await call('/v1/signer/sign', { key: null, headers: auth, body: { typedName: 'Tuula', consent: true } })).status).toBe(200);

    expect((await roundResult(created.id)).status).toBe('failed');
    const history = await call(`/v1/signing-requests/${created.id}/history`);
    const sealAttempts = history.body.steps.filter((step: Json) => step.summary === 'sealSignedDocument failed');
    expect(sealAttempts).toHaveLength(1);
    expect(sealAttempts[0].failure).toMatch(/failed authentication/);
  });
});

describe('signer protections', () => {
  test('five wrong PINs lock the link; the right PIN no longer opens it', async () => {
    const email = uniqueEmail('locked');
    const created = await create(requestBody({ signers: [{ name: 'Frida', email }] }));
    const token = signingTokenIn((await smtp.waitForMail(email, 'Please sign'))[0]!);
    const wrongPin = created.signers[0].pin === '000000' ? '111111' : '000000';
    for (const attemptsLeft of [4, 3, 2, 1]) {
      const attempt = await call('/v1/signer/session', { key: null, body: { token, pin: wrongPin } });
      expect(attempt.status).toBe(401);
      expect(attempt.body.attemptsLeft).toBe(attemptsLeft);
    }
    expect((await call('/v1/signer/session', { key: null, body: { token, pin: wrongPin } })).status).toBe(423);
    const rightPin = await call('/v1/signer/session', { key: null, body: { token, pin: created.signers[0].pin } });
    expect(rightPin.status).toBe(423);
    expect((await call(`/v1/signing-requests/${created.id}`)).body.signers[0].status).toBe('locked');
    const trail = await call(`/v1/signing-requests/${created.id}/audit-trail`);
    expect(trail.body.events.filter((e: Json) => e.type === 'pin_failed')).toHaveLength(5);
    expect(trail.body.events.filter((e: Json) => e.type === 'locked')).toHaveLength(1);
  });

  test('a double sign records one signature', async () => {
    const email = uniqueEmail('double');
    const other = uniqueEmail('pending');
    const created = await create(requestBody({ signers: [{ name: 'Gus', email }, { name: 'Hanna', email: other }] }));
    const { auth } = await signAs(email, created.signers[0].pin, 'Gus');
    const again = await call('/v1/signer/sign', { key: null, headers: auth, body: { typedName: 'Gus', consent: true } });
    expect(again.status).toBe(200);
    await waitFor('the signature in the audit trail', async () => {
      const trail = await call(`/v1/signing-requests/${created.id}/audit-trail`);
      return trail.body.events.some((e: Json) => e.type === 'signed');
    });
    const trail = await call(`/v1/signing-requests/${created.id}/audit-trail`);
    expect(trail.body.events.filter((e: Json) => e.type === 'signed')).toHaveLength(1);
  });

  test('a wrong link token is not found, and signer endpoints need a session', async () => {
    expect((await call('/v1/signer/session', { key: null, body: { token: 'f'.repeat(64), pin: '123456' } })).status).toBe(404);
    expect((await call('/v1/signer/document', { key: null })).status).toBe(401);
    expect((await call('/v1/signer/sign', { key: null, headers: { authorization: 'Bearer forged.session' }, body: { typedName: 'X', consent: true } })).status).toBe(401);
  });
});

describe('creating requests', () => {
  test('two creates with one Idempotency-Key start one round and return the same request', async () => {
    const body = requestBody();
    const headers = { 'idempotency-key': `create-${Date.now()}` };
    const [first, second] = await Promise.all([create(body, headers), create(body, headers)]);
    expect(second.id).toBe(first.id);
    expect(second.signers[0].pin).toBe(first.signers[0].pin);
    const other = await call('/v1/signing-requests', { body: { ...body, title: 'Something else' }, headers });
    expect(other.status).toBe(409);
    await smtp.waitForMail(body.signers[0]!.email, 'Please sign');
    expect(smtp.to(body.signers[0]!.email, 'Please sign')).toHaveLength(1);
    const listed = await api.client.workflow.count(`WorkflowId = '${workflowIdForRequest(first.id)}'`);
    expect(listed.count).toBe(1);
  });

  test('an Idempotency-Key in the namespace of KYC declarations is refused, nothing created', async () => {
    const refused = await call('/v1/signing-requests', { body: requestBody(), headers: { 'idempotency-key': `kyc-declaration:${Date.now()}:1` } });
    expect(refused).toMatchObject({ status: 400, body: { error: { code: 'invalid_request', message: 'Idempotency-Key: keys starting with "kyc-declaration:" are reserved.' } } });
  });

  test('a retried create of a request that has ended starts no new round: it stays cancelled', async () => {
    const body = requestBody();
    const headers = { 'idempotency-key': `create-ended-${Date.now()}` };
    const first = await create(body, headers);
    expect((await call(`/v1/signing-requests/${first.id}/cancel`, { body: { reason: 'Sent by mistake.' } })).status).toBe(200);
    const handle = api.client.workflow.getHandle(workflowIdForRequest(first.id));
    await handle.result();
    const run = await handle.describe();
    const again = await call('/v1/signing-requests', { body, headers });
    expect(again).toMatchObject({ status: 201, body: { id: first.id } });
    const after = await handle.describe();
    expect({ runId: after.runId, status: after.status.name }).toEqual({ runId: run.runId, status: 'COMPLETED' });
    expect((await call(`/v1/signing-requests/${first.id}`)).body.status).toBe('cancelled');
  });

  const badInputs: Array<[string, number, string, () => Record<string, unknown>]> = [
    ['not a PDF', 422, 'invalid_document', () => requestBody({ document: { filename: 'x.pdf', contentBase64: Buffer.from('hello world').toString('base64') } })],
    ['a malformed PDF', 422, 'invalid_document', () => requestBody({ document: { filename: 'x.pdf', contentBase64: Buffer.from('%PDF-1.7\ngarbage').toString('base64') } })],
    ['no signers', 400, 'invalid_request', () => requestBody({ signers: [] })],
    ['duplicate signer emails', 422, 'unprocessable', () => requestBody({ signers: [{ name: 'A', email: 'same@example.test' }, { name: 'B', email: 'SAME@example.test' }] })],
    ['an invalid email', 400, 'invalid_request', () => requestBody({ signers: [{ name: 'A', email: 'not-an-email' }] })],
    ['an invalid phone', 400, 'invalid_request', () => requestBody({ signers: [{ name: 'A', email: uniqueEmail('p'), phone: '0401234567' }] })],
    ['SMS delivery without a phone', 422, 'unprocessable', () => requestBody({ signers: [{ name: 'A', email: uniqueEmail('p'), pinDelivery: 'sms' }] })],
    ['an expiry in the past', 422, 'unprocessable', () => requestBody({ expiresAt: '2020-01-01T00:00:00Z' })],
    ['both expiresIn and expiresAt', 400, 'invalid_request', () => requestBody({ expiresIn: 'P1D', expiresAt: '2099-01-01T00:00:00Z' })],
    ['an unknown field', 400, 'invalid_request', () => requestBody({ colour: 'blue' })],
    ['a bad reminder duration', 400, 'invalid_request', () => requestBody({ reminders: { firstAfter: 'P1M', every: 'P1D', max: 1 } })],
  ];

  test.each(badInputs)('%s → %d %s, nothing created', async (_, status, code, body) => {
    const before = await dataSource.query(`SELECT count(*)::int AS n FROM signing_requests WHERE organization_id = $1`, [org.orgId]);
    const response = await call('/v1/signing-requests', { body: body() });
    expect(response.status).toBe(status);
    expect(response.body.error.code).toBe(code);
    expect(response.body.error.message).toEqual(expect.any(String));
    const after = await dataSource.query(`SELECT count(*)::int AS n FROM signing_requests WHERE organization_id = $1`, [org.orgId]);
    expect(after[0].n).toBe(before[0].n);
  });

  test('multipart upload (a "document" PDF part and a "request" JSON part) creates the same request', async () => {
    const email = uniqueEmail('multipart');
    const form = new FormData();
    form.set('request', JSON.stringify({ title: 'Uploaded as multipart', signers: [{ name: 'Mona Part', email }] }));
    form.set('document', new Blob([Buffer.from(pdfBase64, 'base64')], { type: 'application/pdf' }), 'upload.pdf');
    const response = await fetch(`${api.url}/v1/signing-requests`, {
      method: 'POST',
      headers: { authorization: `Bearer ${org.apiKey}` },
      body: form,
    });
    expect(response.status).toBe(201);
    const created = (await response.json()) as Json;
    await smtp.waitForMail(email, 'Please sign');
    // Through the entity: the file name is stored under the request's key (src/signing/round-personal-data.ts).
    const stored = await dataSource.getRepository(SigningRequest).findOneByOrFail({ id: created.id });
    expect(stored.documentFilename).toBe('upload.pdf');
    expect(stored.originalSha256).toBe(createHash('sha256').update(Buffer.from(pdfBase64, 'base64')).digest('hex'));

    const missingPart = new FormData();
    missingPart.set('request', JSON.stringify({ title: 'No file', signers: [{ name: 'X', email: uniqueEmail('x') }] }));
    const refused = await fetch(`${api.url}/v1/signing-requests`, { method: 'POST', headers: { authorization: `Bearer ${org.apiKey}` }, body: missingPart });
    expect(refused.status).toBe(400);
    const plain = await fetch(`${api.url}/v1/signing-requests`, {
      method: 'POST',
      headers: { authorization: `Bearer ${org.apiKey}`, 'content-type': 'text/plain' },
      body: 'a document',
    });
    expect(plain.status).toBe(415);
  });

  test('an encrypted PDF → 422 encrypted_document', async () => {
    const { execFileSync } = await import('node:child_process');
    const dir = harness.tempDir('encrypted');
    fs.writeFileSync(path.join(dir, 'plain.pdf'), Buffer.from(pdfBase64, 'base64'));
    execFileSync('qpdf', ['--encrypt', 'user', 'owner', '256', '--', path.join(dir, 'plain.pdf'), path.join(dir, 'locked.pdf')]);
    const locked = fs.readFileSync(path.join(dir, 'locked.pdf')).toString('base64');
    const response = await call('/v1/signing-requests', { body: requestBody({ document: { filename: 'l.pdf', contentBase64: locked } }) });
    expect(response.status).toBe(422);
    expect(response.body.error.code).toBe('encrypted_document');
  });

  test('bytes before the PDF header are skipped: the stored original is the file from its header on', async () => {
    const pdf = Buffer.from(pdfBase64, 'base64');
    const prefixed = Buffer.concat([Buffer.from('Content-Type: application/pdf\r\n\r\n', 'latin1'), pdf]);
    const created = await create(requestBody({ document: { filename: 'prefixed.pdf', contentBase64: prefixed.toString('base64') } }));
    const original = await call(`/v1/signing-requests/${created.id}/original`);
    expect(original.status).toBe(200);
    expect(Buffer.compare(original.body, pdf)).toBe(0);
  });

  test('a PDF certified with no changes permitted → 422 document_certified_no_changes', async () => {
    const document = await PDFDocument.load(Buffer.from(pdfBase64, 'base64'));
    const { context } = document;
    const params = context.obj({ Type: 'TransformParams', P: 1, V: '1.2' });
    const signature = context.register(context.obj({ Type: 'Sig', Reference: [context.obj({ Type: 'SigRef', TransformMethod: 'DocMDP', TransformParams: params })] }));
    document.catalog.set(PDFName.of('Perms'), context.obj({ DocMDP: signature }));
    const certified = Buffer.from(await document.save()).toString('base64');
    const response = await call('/v1/signing-requests', { body: requestBody({ document: { filename: 'certified.pdf', contentBase64: certified } }) });
    expect(response.status).toBe(422);
    expect(response.body.error.code).toBe('document_certified_no_changes');
  });

  test('a document over the size limit → 413', async () => {
    const limited = await startTestApi(dataSource, { env: { MAX_DOCUMENT_MB: '0.01' }, withWorker: false });
    try {
      const big = await createTestPdf(Array.from({ length: 60 }, () => ({ text: 'x'.repeat(80) })));
      expect(big.length).toBeGreaterThan(0.01 * 1024 * 1024);
      const response = await fetch(`${limited.url}/v1/signing-requests`, {
        method: 'POST',
        headers: { authorization: `Bearer ${org.apiKey}`, 'content-type': 'application/json' },
        body: JSON.stringify(requestBody({ document: { filename: 'big.pdf', contentBase64: Buffer.from(big).toString('base64') } })),
      });
      expect(response.status).toBe(413);
      expect(((await response.json()) as Json).error.code).toBe('payload_too_large');

      const form = new FormData();
      form.set('request', JSON.stringify({ title: 'Too big', signers: [{ name: 'B', email: uniqueEmail('big') }] }));
      form.set('document', new Blob([big], { type: 'application/pdf' }), 'big.pdf');
      const multipart = await fetch(`${limited.url}/v1/signing-requests`, {
        method: 'POST',
        headers: { authorization: `Bearer ${org.apiKey}` },
        body: form,
      });
      expect(multipart.status).toBe(413);
    } finally {
      await limited.close();
    }
  });

  test("another organisation's request is not found on every route", async () => {
    const created = await create(requestBody());
    const stranger = await createTestOrganization(dataSource);
    for (const [pathname, body] of [
      [`/v1/signing-requests/${created.id}`, undefined],
      [`/v1/signing-requests/${created.id}/document`, undefined],
      [`/v1/signing-requests/${created.id}/audit-trail`, undefined],
      [`/v1/signing-requests/${created.id}/cancel`, { reason: 'not mine' }],
    ] as const) {
      const response = await call(pathname, { key: stranger.apiKey, body });
      expect(response.status).toBe(404);
    }
  });
});
