/**
 * Record keys in use (R13, issue 14 part 1) on a whole signing round with the real Temporal and PostgreSQL:
 * the round's history, read raw from Temporal, is under the request's key and nothing else; its documents
 * are too; destroying the key leaves history and documents unreadable; and a request from before record
 * keys is moved under its key by the start-up migration.
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { temporal } from '@temporalio/proto';
import type { DataSource } from 'typeorm';
import { EncryptedBlobStore } from '../../src/adapters/encrypted-blob-store';
import { FilesystemBlobStore } from '../../src/adapters/blob-store';
import { EncryptionPayloadCodec, RECORD_ENCODING, RECORD_KEY_METADATA } from '../../src/adapters/payload-codec';
import { readIdentificationEvidence } from '../../src/identity/identification-evidence';
import { encryptField as encryptLegacyField } from '../../src/privacy/encrypted-field';
import { createLogger } from '../../src/logger';
import { moveToRecordKeys } from '../../src/privacy/move-to-record-keys';
import { DatabaseRecordKeyring, RecordKeyDestroyedError, registerRecordKeyring } from '../../src/privacy/record-keys';
import { keyedAuditEventHash } from '../../src/signing/audit-chain';
import { auditChainKey } from '../../src/signing/audit-chain-key';
import { expectedNationalIdContext, workflowIdForRequest } from '../../src/signing/create-signing-request';
import { apiClient } from '../support/api-client';
import { createTestOrganization } from '../support/factories';
import { openTestDataSource, startTestApi, testLog, type TestApi } from '../support/harness';
import { createTestPdf } from '../support/pdf-factories';
import { completeOneRound } from '../support/rounds';
import { startSmtpCatcher } from '../support/smtp-catcher';

let dataSource: DataSource;
let smtp: Awaited<ReturnType<typeof startSmtpCatcher>>;
let api: TestApi;
let pdf: Buffer;
const codecToken = 'codec-token-for-record-keys-0123456789';

beforeAll(async () => {
  dataSource = await openTestDataSource();
  smtp = await startSmtpCatcher();
  api = await startTestApi(dataSource, { env: { SMTP_URL: smtp.url, CODEC_ACCESS_TOKEN: codecToken } });
  pdf = Buffer.from(await createTestPdf([{}]));
});

afterAll(async () => {
  await api?.close();
  await smtp?.close();
  await dataSource?.destroy();
});

type RawPayload = temporal.api.common.v1.IPayload;

/**
 * Every payload in a history as Temporal stores it (not decoded): found by shape, wherever it sits. Search
 * attributes are left out: Temporal must read them (ids and statuses only, see ARCHITECTURE.md).
 */
function payloadsIn(node: unknown, into: RawPayload[] = []): RawPayload[] {
  if (Array.isArray(node)) node.forEach((item) => payloadsIn(item, into));
  else if (node && typeof node === 'object' && !(node instanceof Uint8Array)) {
    const record = node as Record<string, unknown>;
    if (record.metadata && typeof record.metadata === 'object' && record.data instanceof Uint8Array) {
      into.push(record as RawPayload);
    } else Object.entries(record).forEach(([key, value]) => key !== 'searchAttributes' && payloadsIn(value, into));
  }
  return into;
}

async function rawHistory(workflowId: string) {
  const events: temporal.api.history.v1.IHistoryEvent[] = [];
  let nextPageToken: Uint8Array | undefined;
  do {
    const page = await api.client.workflowService.getWorkflowExecutionHistory({ namespace: 'default', execution: { workflowId }, nextPageToken });
    events.push(...(page.history?.events ?? []));
    nextPageToken = page.nextPageToken?.length ? page.nextPageToken : undefined;
  } while (nextPageToken);
  return events;
}

const rawBlob = (blobKey: string) => fs.readFileSync(path.join((api.config.blobStore as { root: string }).root, blobKey));
const keyIdOfBlob = (bytes: Buffer) => bytes.subarray(4, 20).toString('hex');
const hex = (uuid: string) => uuid.replace(/-/g, '');

test("a round's history and documents are under its record key, and unreadable once the key is destroyed", async () => {
  const signerName = `Record Keyholder ${randomUUID().slice(0, 6)}`;
  const round = await completeOneRound(api, dataSource, smtp, pdf, signerName);
  const record = { kind: 'signing_request', id: round.id } as const;
  const [{ key_id: keyId }]: Array<{ key_id: string }> = await dataSource.query(
    `SELECT key_id FROM record_keys WHERE record_kind = 'signing_request' AND record_id = $1`,
    [round.id],
  );

  const events = await rawHistory(workflowIdForRequest(round.id));
  // Temporal's core SDK writes a patch marker itself, outside the data converter (`patched(...)` in the
  // workflow): it holds the name of a code change and nothing of the round, so it is plain by design.
  const markers = events.filter((event) => event.markerRecordedEventAttributes);
  expect(markers.length).toBeGreaterThan(0);
  for (const marker of markers) {
    const { markerName, details } = marker.markerRecordedEventAttributes!;
    expect(markerName).toBe('core_patch');
    const markerPayloads = payloadsIn(details);
    expect(markerPayloads).toHaveLength(1);
    expect(JSON.parse(Buffer.from(markerPayloads[0]!.data!).toString())).toEqual({ id: expect.stringMatching(/^[a-z-]+$/), deprecated: false });
  }
  const payloads = payloadsIn(events.filter((event) => !event.markerRecordedEventAttributes));
  // Workflow input, activity inputs and results, Updates and their answers: all of them.
  expect(events.some((event) => event.activityTaskScheduledEventAttributes?.input?.payloads?.length)).toBe(true);
  expect(events.some((event) => event.activityTaskCompletedEventAttributes?.result?.payloads?.length)).toBe(true);
  expect(payloads.length).toBeGreaterThan(10);
  for (const payload of payloads) {
    expect(Buffer.from(payload.metadata!.encoding!).toString()).toBe(RECORD_ENCODING);
    expect(Buffer.from(payload.metadata![RECORD_KEY_METADATA]!).toString()).toBe(keyId);
    expect(Object.keys(payload.metadata!).sort()).toEqual(['encoding', RECORD_KEY_METADATA].sort());
  }
  const readable = Buffer.concat(payloads.map((payload) => Buffer.from(payload.data!))).toString('latin1');
  for (const secret of [signerName, round.signerEmail, round.id]) expect(readable).not.toContain(secret);
  // The worker's codec reads them back.
  const decoded = await api.signing.payloadCodec.decode(payloads.slice(0, 3));
  expect(decoded.every((payload) => Buffer.from(payload.metadata!.encoding!).toString() !== RECORD_ENCODING)).toBe(true);

  for (const blobKey of round.blobKeys) {
    const stored = rawBlob(blobKey);
    expect(stored.subarray(0, 4)).toEqual(Buffer.from([0x53, 0x47, 0x42, 2])); // "SGB", format 2
    expect(keyIdOfBlob(stored)).toBe(hex(keyId));
  }

  // The title and the signer's name and address only under the key; the sender reads them, the search finds them.
  const [titleRow]: Array<{ title: string | null; message: string | null; document_filename: string | null; text_sealed: Buffer }> = await dataSource.query(
    `SELECT title, message, document_filename, text_sealed FROM signing_requests WHERE id = $1`,
    [round.id],
  );
  expect(titleRow).toEqual({ title: null, message: null, document_filename: null, text_sealed: expect.any(Buffer) });
  expect(titleRow!.text_sealed.subarray(1, 17).toString('hex')).toBe(hex(keyId));
  const contactRows: Array<{ name: string | null; email: string | null; contact_sealed: Buffer }> = await dataSource.query(
    `SELECT name, email, contact_sealed FROM signers WHERE request_id = $1`,
    [round.id],
  );
  for (const row of contactRows) expect(row).toEqual({ name: null, email: null, contact_sealed: expect.any(Buffer) });
  const asSender = apiClient(() => api.url, () => round.apiKey);
  expect((await asSender(`/v1/signing-requests/${round.id}`)).body.signers[0]).toMatchObject({ name: signerName, email: round.signerEmail });
  const [firstWord, secondWord] = signerName.split(' ');
  const found = await asSender(`/v1/signing-requests?q=${encodeURIComponent(`${secondWord!.slice(0, 5)} ${firstWord}`)}`);
  expect(found.body.items.map((item: { id: string }) => item.id)).toContain(round.id);
  expect((await asSender(`/v1/signing-requests?q=${encodeURIComponent(round.signerEmail)}`)).body.items.map((item: { id: string }) => item.id)).toContain(round.id);

  // Audit events: the signer's IP address, browser and typed name only under the key; the sender still reads them.
  const rows: Array<{ type: string; ip: string | null; user_agent: string | null; detail: string | null; sealed: Buffer | null }> = await dataSource.query(
    `SELECT type, ip, user_agent, detail::text AS detail, sealed FROM audit_events WHERE request_id = $1 ORDER BY sequence`,
    [round.id],
  );
  expect(rows.filter((row) => row.ip !== null || row.user_agent !== null)).toEqual([]);
  expect(rows.map((row) => row.detail ?? '').join(' ')).not.toContain(signerName);
  const signedRow = rows.find((row) => row.type === 'signed')!;
  expect(signedRow.sealed![0]).toBe(2);
  expect(signedRow.sealed!.subarray(1, 17).toString('hex')).toBe(hex(keyId));
  const sender = apiClient(() => api.url, () => round.apiKey);
  const trail = await sender(`/v1/signing-requests/${round.id}/audit-trail`);
  expect(trail.body.chainValid).toBe(true);
  const signedEvent = trail.body.events.find((event: { type: string }) => event.type === 'signed');
  expect(signedEvent).toEqual(expect.objectContaining({ ip: expect.stringMatching(/127\.0\.0\.1|::1/), userAgent: expect.any(String) }));
  expect(JSON.stringify(signedEvent.detail)).toContain(signerName);

  // The Temporal UI's remote codec reads them without a workflow id: the key id in the metadata is enough.
  const codec = apiClient(() => api.url, () => codecToken);
  const asJson = (payload: RawPayload) => ({
    metadata: Object.fromEntries(Object.entries(payload.metadata!).map(([name, value]) => [name, Buffer.from(value).toString('base64')])),
    data: Buffer.from(payload.data!).toString('base64'),
  });
  expect((await codec('/codec/decode', { body: { payloads: [asJson(payloads[0]!)] } })).status).toBe(200);
  const damaged = { ...asJson(payloads[0]!), data: Buffer.from(payloads[0]!.data!).fill(7, 30, 40).toString('base64') };
  expect((await codec('/codec/decode', { body: { payloads: [damaged] } })).status).toBe(422);

  expect(await api.signing.recordKeys.destroyRecordKey(dataSource, record)).toEqual([keyId]);
  // This process (its cache dropped) and another one (never had it) alike.
  const { keyService } = api.signing.adapters;
  const elsewhere = new EncryptionPayloadCodec(keyService, Date.now, new DatabaseRecordKeyring(dataSource, keyService));
  for (const codec of [api.signing.payloadCodec, elsewhere]) {
    await expect(codec.decode(payloads.slice(0, 1))).rejects.toBeInstanceOf(RecordKeyDestroyedError);
  }
  const refused = await codec('/codec/decode', { body: { payloads: [asJson(payloads[0]!)] } });
  expect([refused.status, refused.body.error.code]).toEqual([410, 'record_deleted']);
  for (const blobKey of round.blobKeys) {
    await expect(api.signing.adapters.blobStore.get(blobKey)).rejects.toBeInstanceOf(RecordKeyDestroyedError);
  }
  const call = apiClient(() => api.url, () => round.apiKey);
  const document = await call(`/v1/signing-requests/${round.id}/document`);
  expect(document.status).toBe(410);
  expect(document.body.error.code).toBe('record_deleted');
});

test('a request from before record keys gets its key, and its document and personal fields move under it', async () => {
  const org = await createTestOrganization(dataSource);
  const call = apiClient(() => api.url, () => org.apiKey);
  const created = await call('/v1/signing-requests', {
    body: {
      title: 'From before record keys',
      document: { filename: 'old.pdf', contentBase64: pdf.toString('base64') },
      signers: [{ name: 'Old Signer', email: `old-${randomUUID()}@example.test`, pinDelivery: 'sender' }],
    },
  });
  expect(created.status).toBe(201);
  const requestId: string = created.body.id;
  const signerId: string = created.body.signers[0].id;
  expect((await call(`/v1/signing-requests/${requestId}/cancel`, { body: { reason: 'Replaced' } })).status).toBeLessThan(300);
  // Its round over first: the test removes its key row below, which Sigill itself never does.
  expect((await api.client.workflow.getHandle(workflowIdForRequest(requestId)).result()).status).toBe('cancelled');
  const [{ original_blob_key: originalKey }]: Array<{ original_blob_key: string }> = await dataSource.query(
    `SELECT original_blob_key FROM signing_requests WHERE id = $1`,
    [requestId],
  );

  // What such a request looks like: no record key, its original and a national id under the deployment's keys.
  await dataSource.query(`DELETE FROM record_keys WHERE record_kind = 'signing_request' AND record_id = $1`, [requestId]);
  const { keyService } = api.signing.adapters;
  const root = (api.config.blobStore as { root: string }).root;
  await new EncryptedBlobStore(new FilesystemBlobStore(root), keyService).put(originalKey, pdf);
  const legacyNationalId = await encryptLegacyField(keyService, expectedNationalIdContext(signerId), '131052-308T');
  await dataSource.query(`UPDATE signers SET expected_national_id = $2 WHERE id = $1`, [signerId, legacyNationalId]);
  expect(rawBlob(originalKey)[3]).toBe(1);
  // Its title and its signer's contact in clear, no search tokens.
  const signerEmail = `old-moved-${randomUUID()}@example.test`;
  await dataSource.query(
    `UPDATE signing_requests SET title = 'From before record keys', document_filename = 'old.pdf', text_sealed = NULL, search_tokens = NULL WHERE id = $1`,
    [requestId],
  );
  await dataSource.query(`UPDATE signers SET name = 'Old Signer', email = $2, contact_sealed = NULL, email_index = NULL WHERE id = $1`, [signerId, signerEmail]);

  // The worker that runs the move at its start: nothing cached.
  const recordKeys = new DatabaseRecordKeyring(dataSource, keyService);
  const worker = {
    ...api.signing,
    recordKeys,
    adapters: { ...api.signing.adapters, blobStore: new EncryptedBlobStore(new FilesystemBlobStore(root), keyService, recordKeys) },
  };
  // Code handed only a database finds the keyring registered for it: the worker's, in its own process.
  registerRecordKeyring(dataSource, recordKeys);
  try {
    await moveToRecordKeys(worker, testLog);
  } finally {
    registerRecordKeyring(dataSource, api.signing.recordKeys);
  }

  const [key]: Array<{ key_id: string; legacy_data_pending: boolean }> = await dataSource.query(
    `SELECT key_id, legacy_data_pending FROM record_keys WHERE record_kind = 'signing_request' AND record_id = $1`,
    [requestId],
  );
  expect(key).toEqual({ key_id: expect.any(String), legacy_data_pending: false });
  const moved = rawBlob(originalKey);
  expect(moved[3]).toBe(2);
  expect(keyIdOfBlob(moved)).toBe(hex(key!.key_id));
  expect(Buffer.from((await api.signing.adapters.blobStore.get(originalKey))!)).toEqual(pdf);
  const [{ expected_national_id: sealed }]: Array<{ expected_national_id: Buffer }> = await dataSource.query(
    `SELECT expected_national_id FROM signers WHERE id = $1`,
    [signerId],
  );
  expect(sealed[0]).toBe(2);
  expect(sealed.subarray(1, 17).toString('hex')).toBe(hex(key!.key_id));
  const record = { kind: 'signing_request', id: requestId } as const;
  expect(await api.signing.recordKeys.decryptField(record, expectedNationalIdContext(signerId), sealed)).toBe('131052-308T');

  // Title and contact sealed under the new key, indexed, and found by the list's search as before.
  const [requestRow]: Array<{ title: string | null; text_sealed: Buffer | null; search_tokens: Buffer[] | null }> = await dataSource.query(
    `SELECT title, text_sealed, search_tokens FROM signing_requests WHERE id = $1`,
    [requestId],
  );
  expect(requestRow).toEqual({ title: null, text_sealed: expect.any(Buffer), search_tokens: expect.any(Array) });
  expect(requestRow!.text_sealed!.subarray(1, 17).toString('hex')).toBe(hex(key!.key_id));
  const [signerRow]: Array<{ name: string | null; email: string | null; contact_sealed: Buffer | null; email_index: Buffer | null }> = await dataSource.query(
    `SELECT name, email, contact_sealed, email_index FROM signers WHERE id = $1`,
    [signerId],
  );
  expect(signerRow).toEqual({ name: null, email: null, contact_sealed: expect.any(Buffer), email_index: expect.any(Buffer) });
  expect((await call(`/v1/signing-requests/${requestId}`)).body).toMatchObject({ title: 'From before record keys', signers: [{ name: 'Old Signer', email: signerEmail }] });
  expect((await call(`/v1/signing-requests?q=${encodeURIComponent('before Old')}`)).body.items.map((item: { id: string }) => item.id)).toEqual([requestId]);

  // Again: nothing left to move, nothing changed.
  await moveToRecordKeys(worker, testLog);
  expect(rawBlob(originalKey)).toEqual(moved);
  // And now shredding it really removes it.
  await api.signing.recordKeys.destroyRecordKey(dataSource, record);
  await expect(api.signing.adapters.blobStore.get(originalKey)).rejects.toBeInstanceOf(RecordKeyDestroyedError);
});

test("a closed organisation's records are left out of the move quietly (no key made, no warning, the mark cleared); an open one's still move", async () => {
  const org = await createTestOrganization(dataSource);
  const openOrg = await createTestOrganization(dataSource);
  const ended = async (title: string, apiKey = org.apiKey) => {
    const call = apiClient(() => api.url, () => apiKey);
    const created = await call('/v1/signing-requests', {
      body: {
        title,
        document: { filename: 'closed.pdf', contentBase64: pdf.toString('base64') },
        signers: [{ name: 'Closed Signer', email: `closed-${randomUUID()}@example.test`, pinDelivery: 'sender' }],
      },
    });
    expect(created.status).toBe(201);
    expect((await call(`/v1/signing-requests/${created.body.id}/cancel`, { body: { reason: 'Replaced' } })).status).toBeLessThan(300);
    expect((await api.client.workflow.getHandle(workflowIdForRequest(created.body.id)).result()).status).toBe('cancelled');
    return { requestId: created.body.id as string, signerId: created.body.signers[0].id as string };
  };
  // One from before record keys (no key yet), one marked for the move with a field still in the older format.
  const keyless = await ended('Never got a key');
  await dataSource.query(`DELETE FROM record_keys WHERE record_kind = 'signing_request' AND record_id = $1`, [keyless.requestId]);
  const marked = await ended('Marked, not moved');
  const legacyNationalId = await encryptLegacyField(api.signing.adapters.keyService, expectedNationalIdContext(marked.signerId), '131052-308T');
  await dataSource.query(`UPDATE signers SET expected_national_id = $2 WHERE id = $1`, [marked.signerId, legacyNationalId]);
  await dataSource.query(`UPDATE record_keys SET legacy_data_pending = true WHERE record_kind = 'signing_request' AND record_id = $1`, [marked.requestId]);
  // The same in an organisation that stays open: moved as ever.
  const stillOpen = await ended('Open and marked', openOrg.apiKey);
  const openNationalId = await encryptLegacyField(api.signing.adapters.keyService, expectedNationalIdContext(stillOpen.signerId), '131052-308T');
  await dataSource.query(`UPDATE signers SET expected_national_id = $2 WHERE id = $1`, [stillOpen.signerId, openNationalId]);
  await dataSource.query(`UPDATE record_keys SET legacy_data_pending = true WHERE record_kind = 'signing_request' AND record_id = $1`, [stillOpen.requestId]);
  // eID evidence of its signer written the old way, in clear.
  const identificationId = randomUUID();
  await dataSource.query(
    `INSERT INTO eid_identifications (id, organization_id, subject_kind, subject_id, outcome, issuer, subject_sha256, scheme, name, birthdate, id_token_encrypted, identified_at)
     VALUES ($1, $2, 'signer', $3, 'identified', 'https://broker.example.test', $4, 'fi-ftn', 'Closed Signer', '1970-01-02', '\\x00'::bytea, now())`,
    [identificationId, org.orgId, marked.signerId, 'cd'.repeat(32)],
  );
  // The organisation closes: its key destroyed, then closed_at (src/organization-export/close-organization.ts).
  await api.signing.recordKeys.destroyOrganizationKey(dataSource, org.orgId);
  await dataSource.query(`UPDATE organizations SET closed_at = now() WHERE id = $1`, [org.orgId]);

  const lines: Array<{ level: number; recordId?: string; msg: string }> = [];
  const log = createLogger('debug', { write: (line: string) => void lines.push(JSON.parse(line)) });
  await moveToRecordKeys(api.signing, log);
  await moveToRecordKeys(api.signing, log);

  const ids = [keyless.requestId, marked.requestId, identificationId];
  expect(lines.filter((line) => line.level >= 40 && (ids.includes(line.recordId ?? '') || ids.some((id) => JSON.stringify(line).includes(id))))).toEqual([]);
  expect(await dataSource.query(`SELECT 1 FROM record_keys WHERE record_kind = 'signing_request' AND record_id = $1`, [keyless.requestId])).toEqual([]);
  const [mark]: Array<{ legacy_data_pending: boolean }> = await dataSource.query(
    `SELECT legacy_data_pending FROM record_keys WHERE record_kind = 'signing_request' AND record_id = $1`,
    [marked.requestId],
  );
  expect(mark).toEqual({ legacy_data_pending: false });
  const [open]: Array<{ legacy_data_pending: boolean; expected_national_id: Buffer }> = await dataSource.query(
    `SELECT k.legacy_data_pending, s.expected_national_id FROM record_keys k JOIN signers s ON s.request_id = k.record_id
      WHERE k.record_kind = 'signing_request' AND k.record_id = $1 AND s.id = $2`,
    [stillOpen.requestId, stillOpen.signerId],
  );
  expect(open!.legacy_data_pending).toBe(false);
  expect(open!.expected_national_id[0]).toBe(2);
});

test('audit events recorded in clear before their personal data went under the record key are sealed in place by the move', async () => {
  const org = await createTestOrganization(dataSource);
  const call = apiClient(() => api.url, () => org.apiKey);
  const created = await call('/v1/signing-requests', {
    body: {
      title: 'Trail from before',
      document: { filename: 'trail.pdf', contentBase64: pdf.toString('base64') },
      signers: [{ name: 'Trail Signer', email: `trail-${randomUUID()}@example.test`, pinDelivery: 'sender' }],
    },
  });
  expect(created.status).toBe(201);
  const requestId: string = created.body.id;
  const signerId: string = created.body.signers[0].id;
  expect((await call(`/v1/signing-requests/${requestId}/cancel`, { body: { reason: 'Replaced' } })).status).toBeLessThan(300);
  expect((await api.client.workflow.getHandle(workflowIdForRequest(requestId)).result()).status).toBe('cancelled');

  // A row as the code before migration 1763940000000 wrote it: IP, browser and detail in clear, hashed over them.
  const [last]: Array<{ sequence: number; hash: string }> = await dataSource.query(
    `SELECT sequence, hash FROM audit_events WHERE request_id = $1 ORDER BY sequence DESC LIMIT 1`,
    [requestId],
  );
  const fields = {
    requestId,
    eventKey: `downloaded:${signerId}:before-sealing`,
    type: 'downloaded',
    signerId,
    actor: 'signer',
    channel: 'link',
    ip: '203.0.113.77',
    userAgent: 'LegacyBrowser/1.0',
    detail: { note: 'Trail Signer downloaded it' },
    occurredAt: new Date(),
    sequence: last!.sequence + 1,
  };
  await dataSource.query(
    `INSERT INTO audit_events (request_id, event_key, type, signer_id, actor, channel, ip, user_agent, detail, occurred_at, sequence, prev_hash, hash, chain_format)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, 2)`,
    [requestId, fields.eventKey, fields.type, signerId, fields.actor, fields.channel, fields.ip, fields.userAgent, JSON.stringify(fields.detail), fields.occurredAt, fields.sequence, last!.hash,
      keyedAuditEventHash(auditChainKey(dataSource), last!.hash, fields)],
  );
  const row = () =>
    dataSource
      .query(`SELECT ip, user_agent, detail, sealed FROM audit_events WHERE request_id = $1 AND event_key = $2`, [requestId, fields.eventKey])
      .then((found: Array<{ ip: string | null; user_agent: string | null; detail: unknown; sealed: Buffer | null }>) => found[0]!);
  expect((await row()).ip).toBe('203.0.113.77');
  // Sealing in place is the move's one-time exception to the trail being append-only; nothing else may do it.
  await expect(dataSource.query(`UPDATE audit_events SET ip = NULL, user_agent = NULL, sealed = '\\x02' WHERE request_id = $1 AND event_key = $2`, [requestId, fields.eventKey])).rejects.toThrow(/append-only/);
  // Even with the move's flag, a seal must drop exactly the personal part: keeping (or inventing) detail is refused,
  // and so is sealing a row that holds nothing personal.
  const withSealFlag = (sql: string, params: unknown[]) =>
    dataSource.transaction(async (tx) => {
      await tx.query(`SELECT set_config('sigill.allow_audit_seal', 'on', true)`);
      await tx.query(sql, params);
    });
  await expect(
    withSealFlag(`UPDATE audit_events SET ip = NULL, user_agent = NULL, sealed = '\\x02' WHERE request_id = $1 AND event_key = $2`, [requestId, fields.eventKey]),
  ).rejects.toThrow(/append-only/);
  await expect(withSealFlag(`UPDATE audit_events SET sealed = '\\x02' WHERE request_id = $1 AND event_key = 'created'`, [requestId])).rejects.toThrow(/append-only/);

  // eID evidence written the old way: the person's name and birth date in clear.
  const identificationId = randomUUID();
  await dataSource.query(
    `INSERT INTO eid_identifications (id, organization_id, subject_kind, subject_id, outcome, issuer, subject_sha256, scheme, name, birthdate, id_token_encrypted, identified_at)
     VALUES ($1, $2, 'signer', $3, 'identified', 'https://broker.example.test', $4, 'fi-ftn', 'Trail Signer', '1970-01-02', '\\x00'::bytea, now())`,
    [identificationId, org.orgId, signerId, 'ab'.repeat(32)],
  );

  await moveToRecordKeys(api.signing, testLog);
  const [evidence]: Array<{ name: string | null; birthdate: string | null; evidence_sealed: Buffer | null }> = await dataSource.query(
    `SELECT name, birthdate, evidence_sealed FROM eid_identifications WHERE id = $1`,
    [identificationId],
  );
  expect(evidence).toEqual({ name: null, birthdate: null, evidence_sealed: expect.any(Buffer) });
  expect(await readIdentificationEvidence(dataSource, identificationId)).toMatchObject({ name: 'Trail Signer', birthdate: '1970-01-02', scheme: 'fi-ftn' });
  const sealed = await row();
  expect(sealed).toEqual({ ip: null, user_agent: null, detail: null, sealed: expect.any(Buffer) });
  const [{ key_id: keyId }]: Array<{ key_id: string }> = await dataSource.query(
    `SELECT key_id FROM record_keys WHERE record_kind = 'signing_request' AND record_id = $1`,
    [requestId],
  );
  expect(sealed.sealed!.subarray(1, 17).toString('hex')).toBe(hex(keyId));
  const trail = await call(`/v1/signing-requests/${requestId}/audit-trail`);
  expect(trail.body.chainValid).toBe(true);
  expect(trail.body.events.find((event: { eventKey: string }) => event.eventKey === fields.eventKey)).toEqual(
    expect.objectContaining({ ip: '203.0.113.77', userAgent: 'LegacyBrowser/1.0', detail: fields.detail }),
  );
  // Again: nothing left to seal, nothing changed.
  await moveToRecordKeys(api.signing, testLog);
  expect(await row()).toEqual(sealed);
});

test("a KYC case's national id and workflow payloads are under the case's own key", async () => {
  const org = await createTestOrganization(dataSource);
  const call = apiClient(() => api.url, () => org.apiKey);
  const created = await call('/v1/kyc-cases', {
    body: { customer: { type: 'person', name: 'Kyc Keyholder', email: `kyc-${randomUUID()}@example.test`, nationalId: '010180-123A' } },
  });
  expect(created.status).toBe(201);
  const caseId: string = created.body.id;
  const [{ key_id: keyId }]: Array<{ key_id: string }> = await dataSource.query(
    `SELECT key_id FROM record_keys WHERE record_kind = 'kyc_case' AND record_id = $1`,
    [caseId],
  );
  const [{ customer_national_id: sealed }]: Array<{ customer_national_id: Buffer }> = await dataSource.query(
    `SELECT customer_national_id FROM kyc_cases WHERE id = $1`,
    [caseId],
  );
  expect(sealed[0]).toBe(2);
  expect(sealed.subarray(1, 17).toString('hex')).toBe(hex(keyId));
  expect(sealed.toString('latin1')).not.toContain('010180-123A');

  // The customer's name, email and phone too: only under the key, with blind indexes of email and phone.
  const email = created.body.customer?.email ?? (await call(`/v1/kyc-cases/${caseId}`)).body.customer.email;
  const [stored]: Array<Record<string, unknown>> = await dataSource.query(
    `SELECT customer_name, customer_email, customer_phone, customer_sealed, customer_email_index FROM kyc_cases WHERE id = $1`,
    [caseId],
  );
  expect(stored).toEqual({ customer_name: null, customer_email: null, customer_phone: null, customer_sealed: expect.any(Buffer), customer_email_index: expect.any(Buffer) });
  expect((stored!.customer_sealed as Buffer).toString('latin1')).not.toContain('Kyc Keyholder');
  expect((await call(`/v1/kyc-cases/${caseId}`)).body.customer).toMatchObject({ name: 'Kyc Keyholder', email });
  expect((await call('/v1/kyc-cases')).body.items.find((item: { id: string }) => item.id === caseId).customer).toMatchObject({ name: 'Kyc Keyholder', email });
  // A row as written before (contact in clear, no index) is sealed and indexed by the move.
  await dataSource.query(
    `UPDATE kyc_cases SET customer_name = 'Kyc Before', customer_email = $2, customer_sealed = NULL, customer_email_index = NULL WHERE id = $1`,
    [caseId, email],
  );
  await moveToRecordKeys(api.signing, testLog);
  const [moved]: Array<Record<string, unknown>> = await dataSource.query(
    `SELECT customer_name, customer_email, customer_sealed, customer_email_index FROM kyc_cases WHERE id = $1`,
    [caseId],
  );
  expect(moved).toEqual({ customer_name: null, customer_email: null, customer_sealed: expect.any(Buffer), customer_email_index: stored!.customer_email_index });
  expect((await call(`/v1/kyc-cases/${caseId}`)).body.customer).toMatchObject({ name: 'Kyc Before', email });

  const started = (await rawHistory(`kyc-case-${caseId}`))[0]!.workflowExecutionStartedEventAttributes!.input!.payloads!;
  expect(started.length).toBeGreaterThan(0);
  for (const payload of started) expect(Buffer.from(payload.metadata![RECORD_KEY_METADATA]!).toString()).toBe(keyId);
});
