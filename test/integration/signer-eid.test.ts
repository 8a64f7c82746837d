/**
 * Strong identification of signers with a national eID (R6), through a real OpenID Connect broker (the
 * local oidc-provider in its own process, with BankID-like claims and acr values): a signer with `eid`
 * cannot see the document before identifying; another person's identity cannot sign when the sender named
 * the expected national id (told, the sender emailed, the attempt in the trail); `pin+eid` needs both; the
 * sealed audit page names the identification with the national id masked; and the national id is nowhere
 * in clear — database, blob store, Temporal history, logs.
 */
import { randomInt, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Writable } from 'node:stream';
import type { Payload } from '@temporalio/common';
import type { DataSource } from 'typeorm';
import { createLogger } from '../../src/logger';
import { workflowIdForRequest } from '../../src/signing/create-signing-request';
import { apiClient } from '../support/api-client';
import { freePort, identifyWithEid, startLocalEidBroker, swedishBankId, type LocalEidBroker } from '../support/eid-broker';
import { createTestOrganization } from '../support/factories';
import { harness, openTestDataSource, startTestApi, type TestApi } from '../support/harness';
import { inviteMember } from '../support/members';
import { createTestPdf } from '../support/pdf-factories';
import { runTool } from '../support/pdf-validators';
import { reportDocumentDisplayed } from '../support/signer-reading';
import { signingTokenIn, startSmtpCatcher } from '../support/smtp-catcher';
import { waitFor } from '../support/wait-for';

// A number unique to this run, so that finding it anywhere means this test put it there.
const birth = '19800101';
const serial = String(randomInt(1000, 9999));
const nationalId = `${birth}${serial}`;
const expected = `${birth}-${serial}`;
const alice = { sub: `alice-${randomUUID().slice(0, 8)}`, name: 'Alice Andersson', birthdate: '1980-01-01', nationalId };
const mallory = { sub: `mallory-${randomUUID().slice(0, 8)}`, name: 'Mallory Mellan', birthdate: '1975-05-05', nationalId: `19750505${serial}` };
const bob = { sub: `bob-${randomUUID().slice(0, 8)}`, name: 'Bob Berg', birthdate: '1990-02-02', nationalId: `19900202${serial}` };
// Picks the Finnish Trust Network whatever eID was asked for.
const finn = { sub: `finn-${randomUUID().slice(0, 8)}`, name: 'Finn Fors', birthdate: '1970-07-07', nationalId: '070770-123A', country: 'FI', scheme: 'fi-ftn', acr: 'urn:grn:authn:fi:all' };

let dataSource: DataSource;
let broker: LocalEidBroker;
let api: TestApi;
let smtp: Awaited<ReturnType<typeof startSmtpCatcher>>;
let org: { orgId: string; apiKey: string };
const logLines: string[] = [];
const call = apiClient(() => api.url, () => org.apiKey);
const admin = { email: `eid-admin-${randomUUID().slice(0, 8)}@example.test` };

beforeAll(async () => {
  dataSource = await openTestDataSource();
  smtp = await startSmtpCatcher();
  const port = await freePort();
  broker = await startLocalEidBroker({ port, people: [alice, mallory, bob, finn] });
  const capture = new Writable({
    write(chunk, _encoding, done) {
      logLines.push(chunk.toString());
      done();
    },
  });
  api = await startTestApi(dataSource, { port, env: { ...broker.env, SMTP_URL: smtp.url }, log: createLogger('debug', capture) });
  org = await createTestOrganization(dataSource);
  await inviteMember(api, org.apiKey, { email: admin.email, role: 'admin' });
});
afterAll(async () => {
  await api?.close();
  await broker?.stop();
  await smtp?.close();
  await dataSource?.destroy();
});

const pdfBase64 = async () => Buffer.from(await createTestPdf()).toString('base64');

async function startEid(token: string, sessionToken?: string) {
  const response = await fetch(`${api.url}/v1/signer/eid/start`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(sessionToken ? { authorization: `Bearer ${sessionToken}` } : {}) },
    body: JSON.stringify({ token }),
  });
  const body = (await response.json()) as { authorizationUrl?: string; error?: { code: string } };
  return { status: response.status, body, setCookies: response.headers.getSetCookie() };
}

async function eidSession(token: string, resultCookie?: string) {
  const response = await fetch(`${api.url}/v1/signer/eid/session`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(resultCookie ? { cookie: resultCookie } : {}) },
    body: JSON.stringify({ token }),
  });
  return { status: response.status, body: (await response.json()) as { sessionToken?: string; error?: { code: string } } };
}

/** Identifies as `person` from the start endpoint through the broker back to a session. */
async function identify(token: string, person: { sub: string }, sessionToken?: string) {
  const started = await startEid(token, sessionToken);
  expect(started.status).toBe(200);
  return identifyWithEid(api.url, { authorizationUrl: started.body.authorizationUrl!, setCookies: started.setCookies }, person.sub);
}

test('an eID signer sees nothing before identifying, another identity is refused and reported, and the seal names the identification', async () => {
  const aliceEmail = `alice-${randomUUID().slice(0, 8)}@example.test`;
  const bobEmail = `bob-${randomUUID().slice(0, 8)}@example.test`;
  const created = await call('/v1/signing-requests', {
    body: {
      title: 'Loan agreement',
      document: { filename: 'loan.pdf', contentBase64: await pdfBase64() },
      signers: [
        { name: 'Alice Andersson', email: aliceEmail, identification: { method: 'eid', eid: { acr: swedishBankId, expectedNationalId: expected } } },
        { name: 'Bob Berg', email: bobEmail, pinDelivery: 'sender', identification: { method: 'pin+eid' } },
      ],
    },
  });
  expect(created.status).toBe(201);
  // An eID-only signer has no PIN; the pin+eid signer's comes back for the sender to pass on.
  expect(created.body.signers[0].pin).toBeUndefined();
  const bobPin: string = created.body.signers[1].pin;
  expect(bobPin).toMatch(/^\d{6}$/);

  const invitation = (await smtp.waitForMail(aliceEmail, 'Please sign'))[0]!;
  expect(invitation.text).toContain('electronic ID');
  const aliceToken = signingTokenIn(invitation);
  const bobToken = signingTokenIn((await smtp.waitForMail(bobEmail, 'Please sign'))[0]!);

  const link = await call('/v1/signer/link', { key: null, body: { token: aliceToken } });
  expect(link.body).toMatchObject({ state: 'open', identification: 'eid' });
  // No PIN opens an eID link, and no session means no document.
  const byPin = await call('/v1/signer/session', { key: null, body: { token: aliceToken, pin: '000000' } });
  expect(byPin.status).toBe(403);
  expect(byPin.body.error.code).toBe('identification_required');
  expect((await eidSession(aliceToken)).status).toBe(403);

  // The broker is asked for the eID the sender chose.
  const started = await startEid(aliceToken);
  expect(new URL(started.body.authorizationUrl!).searchParams.get('acr_values')).toBe(swedishBankId);
  // Every identification is a fresh one: a sign-in left open at the broker must not identify the next person.
  expect(new URL(started.body.authorizationUrl!).searchParams.get('prompt')).toBe('login');

  // Mallory identifies on Alice's link: refused, told, recorded, the sender emailed.
  const refused = await identify(aliceToken, mallory);
  expect(refused.location).toBe(`/s/${aliceToken}?eid=mismatch`);
  expect(refused.resultCookie).toBeUndefined();
  expect((await eidSession(aliceToken)).status).toBe(403);
  const notice = (await smtp.waitForMail(admin.email, 'Identity not accepted'))[0]!;
  expect(notice.text).toContain('Alice Andersson');
  expect(notice.text).not.toContain(mallory.nationalId);

  // Alice herself: identified, a session, the document.
  const accepted = await identify(aliceToken, alice);
  expect(accepted.location).toBe(`/s/${aliceToken}?eid=ok`);
  // The result cookie belongs to this browser: without it the link alone opens nothing.
  expect((await eidSession(aliceToken)).status).toBe(403);
  const aliceSession = await eidSession(aliceToken, accepted.resultCookie);
  expect(aliceSession.status).toBe(200);
  const aliceSessionToken = aliceSession.body.sessionToken!;
  const round = await call('/v1/signer/round', { key: aliceSessionToken });
  expect(round.status).toBe(200);
  expect(round.body.you.identification).toMatchObject({
    method: 'eid',
    evidence: { name: 'Alice Andersson', nationalIdMasked: `${birth}-****`, acr: swedishBankId, scheme: 'sebankid' },
  });
  expect(round.body.you.identification.evidence.transactionId).toMatch(/^[0-9a-f]{24}$/);
  expect((await call('/v1/signer/document', { key: aliceSessionToken })).status).toBe(200);
  await reportDocumentDisplayed(call, aliceSessionToken);
  expect((await call('/v1/signer/sign', { key: aliceSessionToken, body: { typedName: 'Alice Andersson', consent: true } })).status).toBe(200);

  // pin+eid: the PIN alone opens no document; eID after the PIN (and only with the PIN's session).
  const bobPinSession = await call('/v1/signer/session', { key: null, body: { token: bobToken, pin: bobPin } });
  expect(bobPinSession.status).toBe(200);
  const bobPinOnly: string = bobPinSession.body.sessionToken;
  const blocked = await call('/v1/signer/document', { key: bobPinOnly });
  expect(blocked.status).toBe(403);
  expect(blocked.body.error.code).toBe('identification_required');
  expect((await startEid(bobToken)).status).toBe(401);
  const bobIdentified = await identify(bobToken, bob, bobPinOnly);
  expect(bobIdentified.location).toBe(`/s/${bobToken}?eid=ok`);
  const bobSession = (await eidSession(bobToken, bobIdentified.resultCookie)).body.sessionToken!;
  await reportDocumentDisplayed(call, bobSession);
  expect((await call('/v1/signer/sign', { key: bobSession, body: { typedName: 'Bob Berg', consent: true } })).status).toBe(200);

  const requestId: string = created.body.id;
  const outcome = await api.client.workflow.getHandle(workflowIdForRequest(requestId)).result();
  expect(outcome.status).toBe('completed');

  // The sender's view and the audit trail name the identification; the trail also holds the refused one.
  const view = await call(`/v1/signing-requests/${requestId}`);
  expect(view.body.signers[0].identification).toMatchObject({ method: 'eid', acr: swedishBankId, expectsNationalId: true, evidence: { nationalIdMasked: `${birth}-****` } });
  expect(view.body.signers[1].identification).toMatchObject({ method: 'pin+eid', expectsNationalId: false, evidence: { name: 'Bob Berg' } });
  // What names the person is stored only under the request's key; scheme, country and times stay readable.
  const stored: Array<{ name: string | null; birthdate: string | null; national_id_masked: string | null; scheme: string | null; evidence_sealed: Buffer | null }> =
    await dataSource.query(
      `SELECT i.name, i.birthdate, i.national_id_masked, i.scheme, i.evidence_sealed FROM eid_identifications i JOIN signers s ON s.id = i.subject_id
        WHERE i.subject_kind = 'signer' AND s.request_id = $1`,
      [requestId],
    );
  expect(stored.length).toBeGreaterThanOrEqual(2);
  for (const row of stored) expect(row).toMatchObject({ name: null, birthdate: null, national_id_masked: null, scheme: expect.any(String), evidence_sealed: expect.any(Buffer) });
  const trail = await call(`/v1/signing-requests/${requestId}/audit-trail`);
  const types = (trail.body.events as Array<{ type: string }>).map((event) => event.type);
  expect(types).toEqual(expect.arrayContaining(['identification_mismatch', 'identified', 'signed']));

  // The sealed audit page.
  const sealed = await call(`/v1/signing-requests/${requestId}/document`);
  expect(sealed.status).toBe(200);
  const sealedFile = path.join(harness.tempDir('eid'), 'sealed.pdf');
  fs.writeFileSync(sealedFile, sealed.body as Buffer);
  const pages = runTool('pdftotext', ['-layout', sealedFile, '-']).output;
  expect(pages).toContain('Identified with');
  expect(pages).toContain('Swedish BankID');
  // Alice's opening was her identification (no PIN); Bob's was his PIN.
  expect(pages).toContain('Document opened after eID identification');
  expect(pages).toContain('PIN accepted');
  expect(pages).toContain(`${birth}-****`);
  expect(pages).not.toContain(nationalId);
  expect(pages).not.toContain(expected);

  // The national id in clear: nowhere.
  await expectNationalIdNowhere(requestId, [nationalId, expected, nationalId.slice(2), mallory.nationalId, bob.nationalId]);
});

async function expectNationalIdNowhere(requestId: string, secrets: string[]) {
  // Every table, row by row as text.
  const tables: Array<{ table_name: string }> = await dataSource.query(
    `SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE'`,
  );
  // bytea columns print as hex: look for that form too.
  const asText = [...secrets, ...secrets.map((secret) => Buffer.from(secret).toString('hex'))];
  for (const { table_name } of tables) {
    for (const secret of asText) {
      const rows: Array<{ count: string }> = await dataSource.query(
        `SELECT count(*) AS count FROM "${table_name}" t WHERE t::text LIKE $1`,
        [`%${secret}%`],
      );
      expect({ table: table_name, found: Number(rows[0]!.count) }).toEqual({ table: table_name, found: 0 });
    }
  }
  // Every blob, as bytes.
  const blobRoot = api.config.blobStore.kind === 'filesystem' ? api.config.blobStore.root : undefined;
  expect(blobRoot).toBeDefined();
  for (const file of fs.readdirSync(blobRoot!, { recursive: true }) as string[]) {
    const full = path.join(blobRoot!, file);
    if (!fs.statSync(full).isFile()) continue;
    const bytes = fs.readFileSync(full).toString('latin1');
    for (const secret of secrets) expect(bytes.includes(secret)).toBe(false);
  }
  // The round's Temporal history, as stored and with every payload decrypted.
  const history = await api.client.workflow.getHandle(workflowIdForRequest(requestId)).fetchHistory();
  const payloads: Payload[] = [];
  const collect = (node: unknown) => {
    if (Array.isArray(node)) node.forEach(collect);
    else if (node && typeof node === 'object') {
      const record = node as Record<string, unknown>;
      if (record.data instanceof Uint8Array && record.metadata) payloads.push(record as Payload);
      Object.values(record).forEach(collect);
    }
  };
  collect(history);
  expect(payloads.length).toBeGreaterThan(10);
  const decoded = await api.signing.payloadCodec.decode(payloads);
  const historyText = [JSON.stringify(history), ...payloads.map((p) => Buffer.from(p.data!).toString('latin1')), ...decoded.map((p) => Buffer.from(p.data ?? []).toString('utf8'))].join('\n');
  for (const secret of secrets) expect(historyText.includes(secret)).toBe(false);
  // The logs.
  await waitFor('the request logs', () => logLines.some((line) => line.includes('/v1/signer/sign')));
  const logs = logLines.join('');
  for (const secret of secrets) expect(logs.includes(secret)).toBe(false);
}

test('with a broker, eID is offered with its acr values, and an eID the broker does not offer is refused with 422', async () => {
  const methods = await call('/v1/identification-methods');
  expect(methods.body).toEqual({ methods: ['pin', 'eid', 'pin+eid'], eid: { available: true, acrValues: [swedishBankId, 'urn:grn:authn:fi:all'] } });
  const refusedAcr = await call('/v1/signing-requests', {
    body: {
      title: 'Unknown eID',
      document: { filename: 'x.pdf', contentBase64: await pdfBase64() },
      signers: [{ name: 'X', email: `x-${randomUUID().slice(0, 8)}@example.test`, identification: { method: 'eid', eid: { acr: 'urn:grn:authn:xx:unknown' } } }],
    },
  });
  expect(refusedAcr.status).toBe(422);
  expect(refusedAcr.body.error.message).toContain('urn:grn:authn:xx:unknown');
});

async function createRequest(signers: unknown[]) {
  const created = await call('/v1/signing-requests', {
    body: { title: 'eID edge cases', document: { filename: 'e.pdf', contentBase64: await pdfBase64() }, signers },
  });
  expect(created.status).toBe(201);
  const rows: Array<{ id: string; link_version: number }> = await dataSource.query(`SELECT id, link_version FROM signers WHERE request_id = $1 ORDER BY position`, [created.body.id]);
  return { created, tokens: rows.map((row) => api.signing.credentials.linkToken({ signerId: row.id, linkVersion: row.link_version })), signerIds: rows.map((row) => row.id) };
}

test('an identity from another eID than the one asked for is not accepted; a forged callback ends nobody\'s flow', async () => {
  const { tokens } = await createRequest([{ name: 'Finn Fors', email: `finn-${randomUUID().slice(0, 8)}@example.test`, identification: { method: 'eid', eid: { acr: swedishBankId } } }]);
  // A link to the callback with an error and no state (e.g. planted on another site) does not cancel the flow.
  const started = await startEid(tokens[0]!);
  const flowCookie = started.setCookies.find((cookie) => cookie.startsWith('sigill_eid='))!.split(';')[0]!;
  const forged = await fetch(`${api.url}/v1/eid/callback?error=access_denied`, { redirect: 'manual', headers: { cookie: flowCookie } });
  expect(forged.headers.get('location')).toBe(`/s/${tokens[0]}?eid=failed`);
  expect(forged.headers.getSetCookie().some((cookie) => cookie.startsWith('sigill_eid=;'))).toBe(false);
  // Finn identifies with the Finnish Trust Network where Swedish BankID was asked for: refused, nothing bound.
  const back = await identifyWithEid(api.url, { authorizationUrl: started.body.authorizationUrl!, setCookies: started.setCookies }, finn.sub);
  expect(back.location).toBe(`/s/${tokens[0]}?eid=failed`);
  expect(back.resultCookie).toBeUndefined();
  expect((await eidSession(tokens[0]!)).status).toBe(403);
});

test('pin+eid: a PIN renewed while the person is at the broker binds nothing; the sender can undo a wrong binding', async () => {
  const { created, tokens, signerIds } = await createRequest([
    { name: 'Bob Berg', email: `bob2-${randomUUID().slice(0, 8)}@example.test`, pinDelivery: 'sender', identification: { method: 'pin+eid' } },
    { name: 'Alice Andersson', email: `alice2-${randomUUID().slice(0, 8)}@example.test`, identification: { method: 'eid' } },
  ]);
  const requestId: string = created.body.id;
  const pinSession = (await call('/v1/signer/session', { key: null, body: { token: tokens[0], pin: created.body.signers[0].pin } })).body.sessionToken as string;
  const started = await startEid(tokens[0]!, pinSession);
  // Meanwhile the sender issues a new PIN (someone else had the old one).
  const reset = await call(`/v1/signing-requests/${requestId}/signers/${signerIds[0]}/reset-pin`, { body: {} });
  expect(reset.status).toBe(200);
  const back = await identifyWithEid(api.url, { authorizationUrl: started.body.authorizationUrl!, setCookies: started.setCookies }, mallory.sub);
  expect(back.location).toBe(`/s/${tokens[0]}`);
  const bound: Array<{ identification_id: string | null }> = await dataSource.query(`SELECT identification_id FROM signers WHERE id = $1`, [signerIds[0]]);
  expect(bound[0]!.identification_id).toBeNull();

  // An eID-only signer has no PIN to reset; Mallory identifies first on Alice's link (no number was expected).
  expect((await call(`/v1/signing-requests/${requestId}/signers/${signerIds[1]}/reset-pin`, { body: {} })).status).toBe(409);
  expect((await identify(tokens[1]!, mallory)).location).toBe(`/s/${tokens[1]}?eid=ok`);
  // Now the link is Mallory's: Alice is refused as another person than the one who identified.
  expect((await identify(tokens[1]!, alice)).location).toBe(`/s/${tokens[1]}?eid=mismatch`);
  // The sender undoes the binding; Alice identifies and gets in, Mallory's session is over.
  const undone = await call(`/v1/signing-requests/${requestId}/signers/${signerIds[1]}/reset-identification`, { body: {} });
  expect(undone.body).toEqual({ reset: true });
  const aliceBack = await identify(tokens[1]!, alice);
  expect(aliceBack.location).toBe(`/s/${tokens[1]}?eid=ok`);
  const session = await eidSession(tokens[1]!, aliceBack.resultCookie);
  expect((await call('/v1/signer/round', { key: session.body.sessionToken! })).body.you.identification.evidence.name).toBe('Alice Andersson');
  const trail = await call(`/v1/signing-requests/${requestId}/audit-trail`);
  expect((trail.body.events as Array<{ type: string }>).map((event) => event.type)).toContain('identification_reset');
});
