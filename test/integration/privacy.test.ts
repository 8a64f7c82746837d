/**
 * Private by design (R11): after a whole round, Temporal's own view of it (`temporal workflow show`, the
 * tool an operator would use) holds no signer name, email, phone or document bytes, and the API's logs hold
 * no PIN, link token, session token or API key.
 */
import { spawnSync } from 'node:child_process';
import { Writable } from 'node:stream';
import { PDFDocument } from 'pdf-lib';
import type { DataSource } from 'typeorm';
import { findExecutable } from '../../src/adapters/find-executable';
import { createLogger } from '../../src/logger';
import { workflowIdForRequest } from '../../src/signing/create-signing-request';
import { apiClient, type Json } from '../support/api-client';
import { createTestOrganization } from '../support/factories';
import { harness, openTestDataSource, startTestApi, type TestApi } from '../support/harness';
import { signingTokenIn, startSmtpCatcher } from '../support/smtp-catcher';
import { waitFor } from '../support/wait-for';
import { reportDocumentDisplayed } from '../support/signer-reading';

let dataSource: DataSource;
let smtp: Awaited<ReturnType<typeof startSmtpCatcher>>;
let api: TestApi;
let org: { orgId: string; apiKey: string };
const logLines: string[] = [];
const call = apiClient(() => api.url, () => org.apiKey);

beforeAll(async () => {
  dataSource = await openTestDataSource();
  smtp = await startSmtpCatcher();
  const capture = new Writable({
    write(chunk, _encoding, done) {
      logLines.push(chunk.toString());
      done();
    },
  });
  api = await startTestApi(dataSource, { env: { SMTP_URL: smtp.url }, log: createLogger('debug', capture) });
  org = await createTestOrganization(dataSource);
});

afterAll(async () => {
  await api?.close();
  await smtp?.close();
  await dataSource?.destroy();
});

/** Every payload's bytes in a JSON history, decoded from base64: what a reader of the history could see. */
function payloadBytes(node: unknown, into: Buffer[] = []): Buffer[] {
  if (Array.isArray(node)) node.forEach((item) => payloadBytes(item, into));
  else if (node && typeof node === 'object') {
    const record = node as Record<string, unknown>;
    if (typeof record.data === 'string' && record.metadata) into.push(Buffer.from(record.data, 'base64'));
    Object.values(record).forEach((value) => payloadBytes(value, into));
  }
  return into;
}

test('a completed round leaves no personal data in workflow history and no secret in the logs', async () => {
  const person = { name: 'Zelda Privatsphäre', email: `zelda-${Date.now()}@example.test`, phone: '+358409998877' };
  const marker = 'CONFIDENTIAL-MARKER-7f3a';
  const pdf = await PDFDocument.create();
  pdf.addPage().drawText(marker);
  const pdfBytes = Buffer.from(await pdf.save({ useObjectStreams: false }));

  const created = await call('/v1/signing-requests', {
    body: {
      title: 'Privacy check',
      document: { filename: 'private.pdf', contentBase64: pdfBytes.toString('base64') },
      signers: [{ ...person, pinDelivery: 'sender' }],
    },
  });
  expect(created.status).toBe(201);
  const pin: string = created.body.signers[0].pin;
  const token = signingTokenIn((await smtp.waitForMail(person.email, 'Please sign'))[0]!);
  const session = await call('/v1/signer/session', { key: null, body: { token, pin } });
  const sessionToken: string = session.body.sessionToken;
  await reportDocumentDisplayed(call, sessionToken, { 'user-agent': 'PrivacyBrowser/1.0' });
  const signed = await call('/v1/signer/sign', {
    key: sessionToken,
    body: { typedName: person.name, consent: true },
    headers: { 'user-agent': 'PrivacyBrowser/1.0' },
  });
  expect(signed.status).toBe(200);
  const workflowId = workflowIdForRequest(created.body.id);
  expect((await api.client.workflow.getHandle(workflowId).result()).status).toBe('completed');

  const temporalCli = findExecutable('temporal');
  expect(temporalCli).toBeDefined();
  const shown = spawnSync(
    temporalCli!,
    ['workflow', 'show', '--workflow-id', workflowId, '--address', harness.temporalAddress(), '--output', 'json'],
    { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 },
  );
  expect(shown.status).toBe(0);
  const history = JSON.parse(shown.stdout) as Json;
  const readable = Buffer.concat([Buffer.from(shown.stdout), ...payloadBytes(history)]).toString('latin1');
  expect(payloadBytes(history).length).toBeGreaterThan(10); // the check looked at real payloads
  for (const secret of [person.name, 'Zelda', person.email, person.phone, marker, 'PrivacyBrowser', pin]) {
    expect(readable).not.toContain(secret);
  }
  expect(readable).not.toContain(pdfBytes.subarray(0, 64).toString('latin1'));

  await waitFor('the request logs', () => logLines.some((line) => line.includes('/v1/signer/sign')));
  const logs = logLines.join('');
  for (const secret of [org.apiKey, token, sessionToken, `"${pin}"`, person.email]) {
    expect(logs).not.toContain(secret);
  }
});
