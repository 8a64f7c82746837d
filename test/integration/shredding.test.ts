/**
 * Provable deletion (R13, issue 14 "must show"): a completed two-signer request is shredded, and then the raw
 * bytes everywhere — every object left in the blob store (moto S3), every table of the database, the round's
 * Temporal history as `temporal workflow show` prints it — hold nothing of it: no signer name or email, no
 * title, no document. The history's payloads no longer decode. Yet `/v1/verify` on the sealed PDF kept by a
 * signer still answers that the document existed, was sealed, and was deleted when and under which rule.
 */
import { spawnSync } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Payload } from '@temporalio/common';
import type { DataSource } from 'typeorm';
import { WorkflowNotFoundError } from '@temporalio/client';
import { MockActivityEnvironment } from '@temporalio/testing';
import { everyPermission } from '../../src/accounts/access';
import { findExecutable } from '../../src/adapters/find-executable';
import { OutboxMailer } from '../../src/adapters/mailer';
import { EncryptionPayloadCodec } from '../../src/adapters/payload-codec';
import { verifyKycAuditChain } from '../../src/kyc/kyc-audit-trail';
import { verifyAuditChain } from '../../src/signing/audit-trail';
import { createSigningRequest, createSigningRequestInput, workflowIdForRequest } from '../../src/signing/create-signing-request';
import { shredRecord, type DeletionReceipt } from '../../src/privacy/shred-record';
import { moveToRecordKeys } from '../../src/privacy/move-to-record-keys';
import { apiClient, type Json } from '../support/api-client';
import { createTestOrganization } from '../support/factories';
import { connectTestClient, harness, openTestDataSource, startTestApi, testLog, type TestApi } from '../support/harness';
import { createMotoBucket, motoAwsEnv, motoUrl, readBucketObjects, useMotoCredentials } from '../support/moto';
import { createTestPdf } from '../support/pdf-factories';
import { reportDocumentDisplayed } from '../support/signer-reading';
import { signingTokenIn, startSmtpCatcher } from '../support/smtp-catcher';
import { waitFor } from '../support/wait-for';

// Before any AWS client exists: the SDK's default credential chain reads them from the environment.
useMotoCredentials();

let dataSource: DataSource;
let smtp: Awaited<ReturnType<typeof startSmtpCatcher>>;
let api: TestApi;
let bucket: string;
let org: { orgId: string; apiKey: string };
const call = apiClient(() => api.url, () => org.apiKey);

beforeAll(async () => {
  dataSource = await openTestDataSource();
  smtp = await startSmtpCatcher();
  bucket = await createMotoBucket();
  api = await startTestApi(dataSource, { env: { SMTP_URL: smtp.url, S3_BUCKET: bucket, S3_ENDPOINT: motoUrl(), ...motoAwsEnv } });
  org = await createTestOrganization(dataSource);
});

afterAll(async () => {
  await api?.close();
  await smtp?.close();
  await dataSource?.destroy();
});

const unique = () => randomUUID().slice(0, 8);

/** A request of two signers whose PINs go to the sender; each signs through the signer API. */
async function completeTwoSignerRequest(people: { title: string; signers: Array<{ name: string; email: string }> }) {
  const pdf = Buffer.from(await createTestPdf([{}, {}]));
  const created = await call('/v1/signing-requests', {
    body: {
      title: people.title,
      message: `Please sign, ${people.signers[0]!.name}`,
      document: { filename: `${people.title}.pdf`, contentBase64: pdf.toString('base64') },
      signers: people.signers.map((signer) => ({ ...signer, pinDelivery: 'sender' })),
    },
  });
  expect(created.status).toBe(201);
  const id: string = created.body.id;
  const signerAccess: Array<{ token: string; pin: string; sessionToken: string }> = [];
  for (const [index, signer] of people.signers.entries()) {
    const [invitation] = await smtp.waitForMail(signer.email, 'Please sign');
    const token = signingTokenIn(invitation!);
    const session = await call('/v1/signer/session', { key: null, body: { token, pin: created.body.signers[index].pin } });
    expect(session.status).toBe(200);
    signerAccess.push({ token, pin: created.body.signers[index].pin, sessionToken: session.body.sessionToken });
    await reportDocumentDisplayed(call, session.body.sessionToken, { 'user-agent': `ShredBrowser-${index}/1.0` });
    const signed = await call('/v1/signer/sign', {
      key: session.body.sessionToken,
      headers: { 'user-agent': `ShredBrowser-${index}/1.0` },
      body: { typedName: signer.name, consent: true },
    });
    expect(signed.status).toBe(200);
  }
  expect((await api.client.workflow.getHandle(workflowIdForRequest(id)).result()).status).toBe('completed');
  const sealed = await call(`/v1/signing-requests/${id}/document`);
  expect(sealed.status).toBe(200);
  return { id, pdf, sealed: sealed.body as Buffer, signerAccess };
}

/** Every table of the database, every row as text (bytea as hex), concatenated. */
async function dumpDatabase(): Promise<string> {
  const tables: Array<{ table_name: string }> = await dataSource.query(
    `SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY table_name`,
  );
  expect(tables.map((table) => table.table_name)).toEqual(expect.arrayContaining(['signing_requests', 'signers', 'audit_events', 'deletion_receipts']));
  const parts: string[] = [];
  for (const { table_name } of tables) {
    const rows: Array<{ row: string }> = await dataSource.query(`SELECT t::text AS row FROM "${table_name}" t`);
    parts.push(...rows.map((row) => row.row));
  }
  return parts.join('\n');
}

/** Every payload in a JSON history (`temporal workflow show --output json`), as the codec receives them. */
function payloadsIn(node: unknown, into: Payload[] = []): Payload[] {
  if (Array.isArray(node)) node.forEach((item) => payloadsIn(item, into));
  else if (node && typeof node === 'object') {
    const record = node as Record<string, unknown>;
    if (typeof record.data === 'string' && record.metadata && typeof record.metadata === 'object') {
      const metadata = Object.fromEntries(Object.entries(record.metadata as Record<string, string>).map(([key, value]) => [key, Buffer.from(value, 'base64')]));
      into.push({ metadata, data: Buffer.from(record.data, 'base64') });
    }
    Object.values(record).forEach((value) => payloadsIn(value, into));
  }
  return into;
}

function showHistory(workflowId: string): { text: string; payloads: Payload[] } {
  const temporalCli = findExecutable('temporal');
  expect(temporalCli).toBeDefined();
  const shown = spawnSync(temporalCli!, ['workflow', 'show', '--workflow-id', workflowId, '--address', harness.temporalAddress(), '--output', 'json'], {
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  expect(shown.status).toBe(0);
  const payloads = payloadsIn(JSON.parse(shown.stdout));
  return { text: Buffer.concat([Buffer.from(shown.stdout), ...payloads.map((payload) => Buffer.from(payload.data!))]).toString('latin1'), payloads };
}

test('a shredded completed request is unreadable everywhere, while /v1/verify still says it was sealed and deleted', async () => {
  const marker = unique();
  const people = {
    title: `Shredded agreement ${marker}`,
    signers: [
      { name: `Aurora Poistettava ${marker}`, email: `aurora-${marker}@example.test` },
      { name: `Birger Raderad ${marker}`, email: `birger-${marker}@example.test` },
    ],
  };
  const { id, pdf, sealed, signerAccess } = await completeTwoSignerRequest(people);
  const sealedSha256 = createHash('sha256').update(sealed).digest('hex');
  const workflowId = workflowIdForRequest(id);
  const secrets = [people.title, ...people.signers.flatMap((signer) => [signer.name, signer.email]), 'ShredBrowser'];

  // Before: the bucket holds the request's documents and the history decodes, so the checks below are not vacuous.
  const storedBefore = (await readBucketObjects(bucket)).filter((object) => object.key.includes(id)).map((object) => object.key);
  expect(storedBefore).toEqual(expect.arrayContaining([expect.stringMatching(/original\.pdf$/), expect.stringMatching(/sealed\.pdf$/)]));
  const before = showHistory(workflowId);
  expect(before.payloads.length).toBeGreaterThan(10);
  await expect(api.signing.payloadCodec.decode(before.payloads)).resolves.toHaveLength(before.payloads.length);

  // The first signer's eID evidence as a broker would have left it (the name and masked national id in clear).
  const nationalIdMasked = `19${marker.slice(0, 4).replace(/\D/g, '0')}0101-****`;
  const [firstSigner]: Array<{ id: string }> = await dataSource.query(`SELECT id FROM signers WHERE request_id = $1 ORDER BY position LIMIT 1`, [id]);
  const identificationId = randomUUID();
  await dataSource.query(
    `INSERT INTO eid_identifications (id, organization_id, subject_kind, subject_id, outcome, issuer, subject_sha256, scheme, name, national_id_masked, id_token_encrypted, identified_at)
     VALUES ($1, $2, 'signer', $3, 'identified', 'https://broker.example.test', $4, 'se-bankid', $5, $6, '\\x00'::bytea, now())`,
    [identificationId, org.orgId, firstSigner!.id, 'ab'.repeat(32), `${people.signers[0]!.name} eID`, nationalIdMasked],
  );
  await dataSource.query(`UPDATE signers SET identification_id = $2 WHERE id = $1`, [firstSigner!.id, identificationId]);
  secrets.push(nationalIdMasked);

  const deleted = await call(`/v1/signing-requests/${id}`, { method: 'DELETE', body: { reason: 'The customer asked us to delete it.' } });
  expect(deleted.status).toBe(200);
  expect(deleted.body).toMatchObject({
    record: { kind: 'signing_request', id },
    rule: 'manual',
    reason: 'The customer asked us to delete it.',
    actor: expect.stringMatching(/^api-key:/),
    sealedSha256,
  });
  expect(deleted.body.keyIdsDestroyed.length).toBeGreaterThan(0);

  // Idempotent: the second deletion answers the first receipt.
  const again = await call(`/v1/signing-requests/${id}`, { method: 'DELETE', body: { reason: 'Once more.' } });
  expect(again.status).toBe(200);
  expect(again.body).toEqual(deleted.body);

  // The blob store: nothing of the request is left, and no object holds its words.
  const objects = await readBucketObjects(bucket);
  expect(objects.filter((object) => object.key.includes(id))).toEqual([]);
  const pdfStart = pdf.subarray(0, 64).toString('latin1');
  for (const object of objects) {
    const text = object.body.toString('latin1');
    for (const secret of [...secrets, pdfStart]) expect(text).not.toContain(secret);
  }

  // The database, every table, as text.
  const dump = await dumpDatabase();
  for (const secret of secrets) {
    expect(dump).not.toContain(secret);
    expect(dump).not.toContain(Buffer.from(secret).toString('hex'));
  }

  // Temporal: the history is there, holds none of it, and its payloads no longer decode (their key is gone).
  const after = showHistory(workflowId);
  expect(after.payloads.length).toBe(before.payloads.length);
  for (const secret of secrets) expect(after.text).not.toContain(secret);
  await expect(api.signing.payloadCodec.decode(after.payloads)).rejects.toThrow();

  // /v1/verify with the sealed PDF a signer kept: it existed, was sealed, and was deleted under the rule.
  const verified = await fetch(`${api.url}/v1/verify`, { method: 'POST', headers: { 'content-type': 'application/pdf' }, body: sealed });
  expect(verified.status).toBe(200);
  const verdict = (await verified.json()) as Json;
  expect(verdict).toMatchObject({ verdict: 'authentic', sha256: sealedSha256, signers: [] });
  // The rule and the date only: the reason is free text someone typed (it may name people); the receipt keeps it.
  expect(verdict.deleted).toEqual({ at: deleted.body.deletedAt, rule: 'manual' });
  expect(JSON.stringify(verdict)).not.toContain('The customer asked us');
  expect(verdict.sealedAt).toEqual(deleted.body.sealedAt);
  expect(JSON.stringify(verdict)).not.toContain(people.signers[0]!.name);
  // The verify page says so too, in the visitor's language.
  const form = new FormData();
  form.set('document', new Blob([sealed], { type: 'application/pdf' }), 'sealed.pdf');
  const page = await (await fetch(`${api.url}/verify`, { method: 'POST', body: form, headers: { 'accept-language': 'sv' } })).text();
  expect(page).toContain('Raderad');
  expect(page).toContain('manual');
  expect(page).not.toContain(people.signers[0]!.name);
  expect(page).not.toContain('The customer asked us');
  const byCode = await call(`/v1/verify/${verdict.documentCode}`, { key: null });
  expect(byCode.body.deleted).toEqual({ at: deleted.body.deletedAt, rule: 'manual' });
  expect((await call(`/v1/deletion-receipts/${deleted.body.id}`)).body.reason).toBe('The customer asked us to delete it.');

  // What users see: a tombstone; the document, trail and history are gone (410).
  const tombstone = await call(`/v1/signing-requests/${id}`);
  expect(tombstone.status).toBe(200);
  expect(tombstone.body).toMatchObject({
    status: 'completed',
    title: '',
    sha256: sealedSha256,
    deletedAt: deleted.body.deletedAt,
    deletion: { receiptId: deleted.body.id, rule: 'manual', reason: 'The customer asked us to delete it.' },
  });
  expect(tombstone.body.signers.map((signer: Json) => [signer.name, signer.email, signer.status])).toEqual([
    ['', '', 'signed'],
    ['', '', 'signed'],
  ]);
  for (const part of ['document', 'original', 'audit-trail', 'history']) {
    const gone = await call(`/v1/signing-requests/${id}/${part}`);
    expect([part, gone.status, gone.body.error?.code]).toEqual([part, 410, 'record_deleted']);
  }
  // A signer's link and the session they still hold lead nowhere now.
  const [signerOne] = signerAccess;
  const kept = await call('/v1/signer/round', { key: signerOne!.sessionToken });
  expect([kept.status, kept.body.error?.code]).toEqual([410, 'record_deleted']);
  const reopened = await call('/v1/signer/session', { key: null, body: { token: signerOne!.token, pin: signerOne!.pin } });
  expect([reopened.status, reopened.body.error?.code]).toEqual([410, 'record_deleted']);
  expect((await call('/v1/signer/link', { key: null, body: { token: signerOne!.token } })).body).toMatchObject({ state: 'ended' });
  const listed = await call(`/v1/signing-requests?q=${encodeURIComponent(marker)}`);
  expect(listed.body.items).toEqual([]); // nothing left to find it by
  const listedAll = await call('/v1/signing-requests?limit=100');
  expect(listedAll.body.items.find((item: Json) => item.id === id)).toMatchObject({ title: '', deletedAt: deleted.body.deletedAt });

  // The receipt, and the organisation's audit log naming it.
  const receipt = await call(`/v1/deletion-receipts/${deleted.body.id}`);
  expect(receipt.status).toBe(200);
  expect(receipt.body).toEqual(deleted.body);
  const logged: Array<{ actor: string }> = await dataSource.query(
    `SELECT actor FROM organization_audit_events WHERE organization_id = $1 AND type = 'record_deleted' AND detail->>'receiptId' = $2`,
    [org.orgId, deleted.body.id],
  );
  expect(logged).toEqual([{ actor: deleted.body.actor }]);

  // The request's audit chain: erased, its linkage intact.
  const chain = await verifyAuditChain(dataSource, id);
  expect(chain).toMatchObject({ valid: true, erased: { at: deleted.body.deletedAt, linkageIntact: true } });
});

test('a pending request cannot be shredded (409), and a shred repeated after it ended converges on one receipt', async () => {
  const pdf = Buffer.from(await createTestPdf([{}]));
  const marker = unique();
  const created = await call('/v1/signing-requests', {
    body: {
      title: `Still pending ${marker}`,
      document: { filename: 'pending.pdf', contentBase64: pdf.toString('base64') },
      signers: [{ name: `Pending Person ${marker}`, email: `pending-${marker}@example.test`, pinDelivery: 'sender' }],
    },
  });
  expect(created.status).toBe(201);
  const id: string = created.body.id;

  const refused = await call(`/v1/signing-requests/${id}`, { method: 'DELETE', body: { reason: 'Too early.' } });
  expect(refused.status).toBe(409);
  expect(refused.body.error.code).toBe('record_in_progress');
  expect((await call(`/v1/signing-requests/${id}`)).body.deletedAt).toBeUndefined();

  expect((await call(`/v1/signing-requests/${id}/cancel`, { body: { reason: 'Not needed' } })).status).toBe(200);
  await api.client.workflow.getHandle(workflowIdForRequest(id)).result();

  // Two deletions at once (the retention sweep and a person, say): one receipt.
  const grounds = { rule: 'retention:test', reason: 'Cancelled requests are kept 30 days.', actor: 'system:retention' };
  const temporal = { client: api.client, taskQueue: api.taskQueue };
  const [first, second] = await Promise.all([
    shredRecord(api.signing, { kind: 'signing_request', id }, grounds, { temporal }),
    shredRecord(api.signing, { kind: 'signing_request', id }, grounds, { temporal }),
  ]);
  expect(second).toEqual(first);
  const receipts: unknown[] = await dataSource.query(`SELECT 1 FROM deletion_receipts WHERE record_kind = 'signing_request' AND record_id = $1`, [id]);
  expect(receipts).toHaveLength(1);
  expect((await call(`/v1/signing-requests/${id}`)).body).toMatchObject({ status: 'cancelled', deletion: { receiptId: first.id, rule: 'retention:test' } });
});

/** A request cancelled at once, so it can be deleted. */
async function cancelledRequest(title: string): Promise<string> {
  const pdf = Buffer.from(await createTestPdf([{}]));
  const created = await call('/v1/signing-requests', {
    body: {
      title,
      document: { filename: 'held.pdf', contentBase64: pdf.toString('base64') },
      signers: [{ name: 'Held Person', email: `held-${unique()}@example.test`, pinDelivery: 'sender' }],
    },
  });
  expect(created.status).toBe(201);
  expect((await call(`/v1/signing-requests/${created.body.id}/cancel`, { body: { reason: 'Not needed' } })).status).toBe(200);
  await api.client.workflow.getHandle(workflowIdForRequest(created.body.id)).result();
  return created.body.id;
}

test('a legal hold on the request, or on a folder above it, stops its deletion until it is lifted', async () => {
  const id = await cancelledRequest(`Held ${unique()}`);
  const remove = () => call(`/v1/signing-requests/${id}`, { method: 'DELETE', body: { reason: 'Clean-up' } });

  await dataSource.query(`UPDATE signing_requests SET legal_hold_at = now(), legal_hold_reason = 'Dispute', legal_hold_by = 'user:test' WHERE id = $1`, [id]);
  const held = await remove();
  expect([held.status, held.body.error?.code]).toEqual([409, 'legal_hold']);
  await dataSource.query(`UPDATE signing_requests SET legal_hold_at = NULL, legal_hold_reason = NULL, legal_hold_by = NULL WHERE id = $1`, [id]);

  // Moved into a subfolder: a hold on the folder above it counts too.
  const parentId = randomUUID();
  await dataSource.query(`INSERT INTO folders (id, organization_id, name, legal_hold_at, legal_hold_reason, legal_hold_by) VALUES ($1, $2, $3, now(), 'Audit', 'user:test')`, [
    parentId,
    org.orgId,
    `Held parent ${unique()}`,
  ]);
  const child = randomUUID();
  await dataSource.query(`INSERT INTO folders (id, organization_id, name, parent_id) VALUES ($1, $2, $3, $4)`, [child, org.orgId, `Held child ${unique()}`, parentId]);
  await dataSource.query(`UPDATE signing_requests SET folder_id = $2 WHERE id = $1`, [id, child]);
  const heldByFolder = await remove();
  expect([heldByFolder.status, heldByFolder.body.error?.code]).toEqual([409, 'legal_hold']);
  expect((await call(`/v1/signing-requests/${id}/original`)).status).toBe(200); // nothing was touched

  await dataSource.query(`UPDATE folders SET legal_hold_at = NULL, legal_hold_reason = NULL, legal_hold_by = NULL WHERE id = $1`, [parentId]);
  expect((await remove()).status).toBe(200);
});

test('a deleted request or KYC case cannot be put under a legal hold: 410 record_deleted, nothing recorded', async () => {
  const requestId = await cancelledRequest(`Deleted then held ${unique()}`);
  expect((await call(`/v1/signing-requests/${requestId}`, { method: 'DELETE', body: { reason: 'Clean-up' } })).status).toBe(200);
  const kyc = await call('/v1/kyc-cases', { body: { customer: { type: 'person', name: 'Hold Late', email: `hold-late-${unique()}@example.test` } } });
  expect(kyc.status).toBe(201);
  expect((await call(`/v1/kyc-cases/${kyc.body.id}/cancel`, { body: { reason: 'Not needed' } })).status).toBe(200);
  await api.client.workflow.getHandle(`kyc-case-${kyc.body.id}`).result();
  expect((await call(`/v1/kyc-cases/${kyc.body.id}`, { method: 'DELETE', body: { reason: 'Clean-up' } })).status).toBe(200);

  for (const path of [`/v1/signing-requests/${requestId}/legal-hold`, `/v1/kyc-cases/${kyc.body.id}/legal-hold`]) {
    const held = await call(path, { method: 'PUT', body: { reason: 'Dispute' } });
    expect([path, held.status, held.body.error?.code]).toEqual([path, 410, 'record_deleted']);
    expect((await call(path)).body.legalHold).toBeNull();
  }
  const placed: unknown[] = await dataSource.query(
    `SELECT 1 FROM organization_audit_events WHERE organization_id = $1 AND type = 'legal_hold.placed' AND detail->>'id' = ANY($2)`,
    [org.orgId, [requestId, kyc.body.id]],
  );
  expect(placed).toEqual([]);
});

test('a row marked erased in a live trail (forged with database access) breaks its chain: only a deleted record\'s rows are erased', async () => {
  const pdf = Buffer.from(await createTestPdf([{}]));
  const created = await call('/v1/signing-requests', {
    body: { title: `Live ${unique()}`, document: { filename: 'live.pdf', contentBase64: pdf.toString('base64') }, signers: [{ name: 'Lia Live', email: `live-${unique()}@example.test`, pinDelivery: 'sender' }] },
  });
  const id: string = created.body.id;
  expect((await call(`/v1/signing-requests/${id}/cancel`, { body: { reason: 'Not needed' } })).status).toBe(200);
  await api.client.workflow.getHandle(workflowIdForRequest(id)).result();
  expect((await call(`/v1/signing-requests/${id}/audit-trail`)).body.chainValid).toBe(true);
  const [last] = await dataSource.query(`SELECT sequence, hash FROM audit_events WHERE request_id = $1 ORDER BY sequence DESC LIMIT 1`, [id]);
  await dataSource.query(
    `INSERT INTO audit_events (request_id, event_key, type, actor, occurred_at, sequence, prev_hash, hash, chain_format, erased_at)
     VALUES ($1, 'forged', 'signed', NULL, now(), $2, $3, $4, 2, now())`,
    [id, last.sequence + 1, last.hash, 'ab'.repeat(32)],
  );
  expect((await call(`/v1/signing-requests/${id}/audit-trail`)).body.chainValid).toBe(false);
});

test('a request from before record keys, shredded before the move gave it one, never gets a live key afterwards', async () => {
  const pdf = Buffer.from(await createTestPdf([{}]));
  const created = await call('/v1/signing-requests', {
    body: { title: `Pre-key ${unique()}`, document: { filename: 'old.pdf', contentBase64: pdf.toString('base64') }, signers: [{ name: 'Pia Prekey', email: `pre-${unique()}@example.test`, pinDelivery: 'sender' }] },
  });
  expect(created.status).toBe(201);
  const id: string = created.body.id;
  expect((await call(`/v1/signing-requests/${id}/cancel`, { body: { reason: 'Not needed' } })).status).toBe(200);
  await api.client.workflow.getHandle(workflowIdForRequest(id)).result();
  // As a request created before record keys: no key row at all.
  await dataSource.query(`DELETE FROM record_keys WHERE record_kind = 'signing_request' AND record_id = $1`, [id]);

  const deleted = await call(`/v1/signing-requests/${id}`, { method: 'DELETE', body: { reason: 'Old data' } });
  expect(deleted.status).toBe(200);
  await moveToRecordKeys(api.signing, testLog);
  const keys: Array<{ live: boolean }> = await dataSource.query(`SELECT wrapped_key IS NOT NULL AS live FROM record_keys WHERE record_kind = 'signing_request' AND record_id = $1`, [id]);
  expect(keys).toEqual([{ live: false }]);
  expect(await api.signing.recordKeys.isDestroyed({ kind: 'signing_request', id })).toBe(true);
});

test('a round whose history was written before record keys is deleted from Temporal when shredded in an activity: its payloads cannot be shredded', async () => {
  // A client whose codec knows no record keys starts the round: its input is under the deployment key, as
  // every history recorded before record keys is.
  const legacyClient = await connectTestClient(new EncryptionPayloadCodec(api.signing.adapters.keyService));
  try {
    const pdf = Buffer.from(await createTestPdf([{}]));
    const created = await createSigningRequest(
      api.signing,
      { client: legacyClient, taskQueue: api.taskQueue },
      {
        scope: { organizationId: org.orgId, permissions: everyPermission },
        request: createSigningRequestInput.parse({
          title: `Old history ${unique()}`,
          document: { filename: 'old.pdf', contentBase64: pdf.toString('base64') },
          signers: [{ name: 'Old Person', email: `old-${unique()}@example.test`, pinDelivery: 'sender' }],
        }),
        now: new Date(),
      },
    );
    const workflowId = workflowIdForRequest(created.id);
    expect((await call(`/v1/signing-requests/${created.id}/cancel`, { body: { reason: 'Not needed' } })).status).toBe(200);
    await api.client.workflow.getHandle(workflowId).result();
    const started = (await api.client.workflow.getHandle(workflowId).fetchHistory()).events![0]!.workflowExecutionStartedEventAttributes!;
    expect(started.input!.payloads!.every((payload) => !payload.metadata?.['sigill-record-key'])).toBe(true);

    // As the retention sweep shreds: inside an activity, with no client passed (the activity's own is used).
    const activity = new MockActivityEnvironment({ taskQueue: api.taskQueue }, { client: api.client });
    const grounds = { rule: 'retention:test', reason: 'Cancelled requests are kept 30 days.', actor: 'system:retention' };
    const receipt = (await activity.run(() => shredRecord(api.signing, { kind: 'signing_request', id: created.id }, grounds))) as DeletionReceipt;
    expect(receipt.record).toEqual({ kind: 'signing_request', id: created.id });
    // Temporal deletes an execution asynchronously after accepting the request (slowly on a busy test server).
    const gone = await waitFor(
      'the old history deleted',
      () =>
        api.client.workflow
          .getHandle(workflowId)
          .describe()
          .then(() => false, (error: unknown) => error),
      120_000,
    );
    expect(gone).toBeInstanceOf(WorkflowNotFoundError);
  } finally {
    await legacyClient.connection.close();
  }
}, 180_000);

test('a cancelled KYC case is shredded: its tombstone shows, the customer is nowhere in the database, its trail is erased with linkage intact', async () => {
  const marker = unique();
  // The phone is unique too: the dump below is of the whole database, which other test files share.
  const phone = `+35840${String(Math.floor(Math.random() * 1e7)).padStart(7, '0')}`;
  const customer = { type: 'person', name: `Kaisa Asiakas ${marker}`, email: `kaisa-${marker}@example.test`, phone, nationalId: '131052-308T' };
  const created = await call('/v1/kyc-cases', { body: { customer } });
  expect(created.status).toBe(201);
  const caseId: string = created.body.id;

  const refused = await call(`/v1/kyc-cases/${caseId}`, { method: 'DELETE', body: { reason: 'Too early.' } });
  expect([refused.status, refused.body.error?.code]).toEqual([409, 'record_in_progress']);

  expect((await call(`/v1/kyc-cases/${caseId}/cancel`, { body: { reason: 'Customer withdrew' } })).status).toBe(200);
  await api.client.workflow.getHandle(`kyc-case-${caseId}`).result();

  // eID evidence of the customer as a broker would have left it (the name in clear).
  await dataSource.query(
    `INSERT INTO eid_identifications (id, organization_id, subject_kind, subject_id, outcome, issuer, subject_sha256, scheme, name, id_token_encrypted, identified_at)
     VALUES ($1, $2, 'kyc_case', $3, 'identified', 'https://broker.example.test', $4, 'fi-ftn', $5, '\\x00'::bytea, now())`,
    [randomUUID(), org.orgId, caseId, 'cd'.repeat(32), `${customer.name} eID`],
  );
  const deleted = await call(`/v1/kyc-cases/${caseId}`, { method: 'DELETE', body: { reason: 'Withdrawn cases are not kept.' } });
  expect(deleted.status).toBe(200);
  expect(deleted.body).toMatchObject({ record: { kind: 'kyc_case', id: caseId }, rule: 'manual', sealedSha256: null });

  const tombstone = await call(`/v1/kyc-cases/${caseId}`);
  expect(tombstone.status).toBe(200);
  expect(tombstone.body).toMatchObject({
    status: 'cancelled',
    customer: { name: '', email: '', phone: null, hasNationalId: false },
    deletedAt: deleted.body.deletedAt,
    deletion: { receiptId: deleted.body.id, rule: 'manual' },
  });
  const trail = await call(`/v1/kyc-cases/${caseId}/audit-trail`);
  expect([trail.status, trail.body.error?.code]).toEqual([410, 'record_deleted']);

  const dump = await dumpDatabase();
  for (const secret of [customer.name, customer.email, customer.phone, 'Customer withdrew']) {
    expect(dump).not.toContain(secret);
  }
  const chain = await verifyKycAuditChain(dataSource, caseId);
  expect(chain).toMatchObject({ valid: true, erased: { at: deleted.body.deletedAt, linkageIntact: true } });
});

test("the default outbox's copies of a shredded request's emails go with it, and no one else's", async () => {
  const dir = harness.tempDir('outbox');
  const mailer = new OutboxMailer(dir, 'Sigill <sigill@example.test>');
  const [requestId, signerId, otherSignerId] = [randomUUID(), randomUUID(), randomUUID()];
  const mail = (messageId: string) => mailer.send({ messageId, to: 'someone@example.test', subject: 'Please sign', text: 'Dear Someone' });
  await mail(`invitation-${signerId}`);
  await mail(`outcome-${requestId}-${randomUUID()}`);
  await mail(`invitation-${otherSignerId}`);
  await mailer.forgetMessagesNaming([requestId, signerId]);
  expect(fs.readdirSync(dir)).toEqual([`invitation-${otherSignerId}.eml`]);
  await mailer.forgetMessagesNaming([requestId, signerId]); // again: nothing left to remove, no error
  await new OutboxMailer(path.join(dir, 'never-written'), 'Sigill <sigill@example.test>').forgetMessagesNaming([requestId]);
});

test('a rejected data-subject request is shredded once its workflow has ended: its key is destroyed, one receipt', async () => {
  const marker = unique();
  const created = await call('/v1/data-subject-requests', {
    body: { type: 'erasure', requester: { name: `Dora Pyytäjä ${marker}`, email: `dora-${marker}@example.test` } },
  });
  expect(created.status).toBe(201);
  const id: string = created.body.id;
  const temporal = { client: api.client, taskQueue: api.taskQueue };
  const grounds = { rule: 'retention:dsr', reason: 'Answered requests are kept 3 years.', actor: 'system:retention' };
  await expect(shredRecord(api.signing, { kind: 'data_subject_request', id }, grounds, { temporal })).rejects.toMatchObject({ code: 'record_in_progress' });

  expect((await call(`/v1/data-subject-requests/${id}/reject`, { body: { reason: 'Manifestly unfounded' } })).status).toBe(200);
  await api.client.workflow.getHandle(`data-subject-request-${id}`).result();
  const receipt = await shredRecord(api.signing, { kind: 'data_subject_request', id }, grounds, { temporal });
  expect(receipt).toMatchObject({ record: { kind: 'data_subject_request', id }, rule: 'retention:dsr' });
  expect(receipt.keyIdsDestroyed.length).toBe(1);
  expect(await shredRecord(api.signing, { kind: 'data_subject_request', id }, grounds, { temporal })).toEqual(receipt);
  expect(await api.signing.recordKeys.isDestroyed({ kind: 'data_subject_request', id })).toBe(true);
  const dump = await dumpDatabase();
  expect(dump).not.toContain(`dora-${marker}@example.test`);
});

test("a folder-scoped key deletes and reads receipts only in its folders; a key without admin cannot delete", async () => {
  const sales = (await call('/v1/folders', { body: { name: `Sales ${unique()}` } })).body;
  const legal = (await call('/v1/folders', { body: { name: `Legal ${unique()}` } })).body;
  const salesAdminKey: string = (await call('/v1/api-keys', { body: { name: 'Sales admin', folderId: sales.id, permissions: ['view', 'admin'] } })).body.key;
  const salesSenderKey: string = (await call('/v1/api-keys', { body: { name: 'Sales sender', folderId: sales.id, permissions: ['view', 'send'] } })).body.key;
  const inSales = await cancelledRequest(`Sales ${unique()}`);
  const inLegal = await cancelledRequest(`Legal ${unique()}`);
  await dataSource.query(`UPDATE signing_requests SET folder_id = $2 WHERE id = $1`, [inSales, sales.id]);
  await dataSource.query(`UPDATE signing_requests SET folder_id = $2 WHERE id = $1`, [inLegal, legal.id]);
  const body = { reason: 'Clean-up' };

  expect((await call(`/v1/signing-requests/${inSales}`, { method: 'DELETE', key: salesSenderKey, body })).status).toBe(403);
  expect((await call(`/v1/signing-requests/${inLegal}`, { method: 'DELETE', key: salesAdminKey, body })).status).toBe(404);
  const inSalesDeleted = await call(`/v1/signing-requests/${inSales}`, { method: 'DELETE', key: salesAdminKey, body });
  expect(inSalesDeleted.status).toBe(200);
  const inLegalDeleted = await call(`/v1/signing-requests/${inLegal}`, { method: 'DELETE', body });
  expect(inLegalDeleted.status).toBe(200);

  expect((await call(`/v1/deletion-receipts/${inSalesDeleted.body.id}`, { key: salesSenderKey })).status).toBe(200);
  expect((await call(`/v1/deletion-receipts/${inLegalDeleted.body.id}`, { key: salesSenderKey })).status).toBe(404);
  expect((await call(`/v1/deletion-receipts/${inLegalDeleted.body.id}`)).status).toBe(200);
  const other = await createTestOrganization(dataSource);
  expect((await call(`/v1/deletion-receipts/${inLegalDeleted.body.id}`, { key: other.apiKey })).status).toBe(404);
});
