/**
 * Existing data onto record keys (issue 14 part 1): every signing request and KYC case created before record
 * keys gets its key, then its encrypted personal fields and its blobs are re-encrypted under it. Run by the
 * worker at start, in the background (src/service.ts).
 *
 * Idempotent and resumable: step 1 creates the key and marks it `legacy_data_pending` in one transaction;
 * step 2 moves a marked record's data and clears the mark last, so an interrupted run leaves marks that the
 * next start finishes. Values already under the key are recognised (format byte / format version) and left
 * alone, so a record moved twice is moved once. Several workers running it at once do the same work twice
 * at worst, never wrong work: fields are rewritten under a row lock.
 *
 * Audit events written in clear (before their personal data went under the record key) are sealed in place
 * last (src/privacy/audit-personal-data.ts).
 *
 * Records of a closed organisation (closing under way or done: `closed_at`, or its key destroyed) are left
 * out quietly: their data is being, or has been, made unreadable with the organisation key, so there is
 * nothing to move and a new key could not be made under a destroyed organisation key.
 *
 * Temporal histories of these records cannot be re-encrypted (history is immutable): their payloads stay
 * under the deployment key. Shredding deletes such workflow executions (src/privacy/shred-record.ts).
 */
import { storedUploadName } from '../kyc/kyc-upload-names';
import { sealRoundPersonalData } from '../signing/round-personal-data';
import { writeKycCustomerContact, type KycCustomerContact } from '../kyc/kyc-customer-contact';
import type { Logger } from '../logger';
import { EncryptedBlobStore } from '../adapters/encrypted-blob-store';
import {
  nationalIdContext as identificationNationalIdContext,
  sealClearEvidence,
  tokenContext as identificationTokenContext,
  type IdentificationSubjectKind,
} from '../identity/identification-evidence';
import { nationalIdContext as kycNationalIdContext } from '../kyc/create-kyc-case';
import { answersContext } from '../kyc/get-kyc-case';
import { expectedNationalIdContext } from '../signing/create-signing-request';
import { evidenceBlobKeyFor } from '../signing/read-request-document';
import type { SigningContext } from '../signing/signing-context';
import { nonPersonalDetailKeys, sealAuditPersonalData, type AuditTrailTable } from './audit-personal-data';
import { recordFieldFormat, type Queryable, type RecordRef } from './record-keys';

export interface MoveProgress {
  keysCreated: number;
  recordsMoved: number;
  fieldsMoved: number;
  blobsMoved: number;
  auditEventsSealed: number;
  evidenceSealed: number;
  customersSealed: number;
  roundsSealed: number;
  uploadNamesSealed: number;
  failures: number;
}

const batchSize = 100;

/**
 * The organisation (column `organization`, qualified by its table: inside these subqueries a bare
 * `organization_id` would name organization_keys' own) is closed or its key destroyed: its records are not moved.
 */
const closedOrganization = (organization: string) =>
  `(EXISTS (SELECT 1 FROM organizations o WHERE o.id = ${organization} AND o.closed_at IS NOT NULL)
    OR EXISTS (SELECT 1 FROM organization_keys ok WHERE ok.organization_id = ${organization} AND ok.wrapped_key IS NULL))`;

/** Which legacy records exist: their table and kind. */
const legacyTables: Array<{ table: string; kind: 'signing_request' | 'kyc_case' }> = [
  { table: 'signing_requests', kind: 'signing_request' },
  { table: 'kyc_cases', kind: 'kyc_case' },
];

export async function moveToRecordKeys(context: SigningContext, log: Logger, signal?: AbortSignal): Promise<MoveProgress> {
  const progress: MoveProgress = { keysCreated: 0, recordsMoved: 0, fieldsMoved: 0, blobsMoved: 0, auditEventsSealed: 0, evidenceSealed: 0, customersSealed: 0, roundsSealed: 0, uploadNamesSealed: 0, failures: 0 };
  const db = context.dataSource;

  // 1. A key for every record that has none (only records from before record keys lack one).
  for (const { table, kind } of legacyTables) {
    for (;;) {
      if (signal?.aborted) return progress;
      const rows: Array<{ id: string; organization_id: string }> = await db.query(
        `SELECT r.id, r.organization_id FROM ${table} r
         WHERE NOT EXISTS (SELECT 1 FROM record_keys k WHERE k.record_kind = $1 AND k.record_id = r.id)
           AND NOT ${closedOrganization('r.organization_id')}
         ORDER BY r.id LIMIT ${batchSize}`,
        [kind],
      );
      if (rows.length === 0) break;
      for (const row of rows) {
        await db.transaction(async (tx) => {
          await context.recordKeys.ensureKey(tx, row.organization_id, { kind, id: row.id });
          await tx.query(`UPDATE record_keys SET legacy_data_pending = true WHERE record_kind = $1 AND record_id = $2`, [kind, row.id]);
        });
        progress.keysCreated += 1;
      }
      log.info({ kind, keysCreated: progress.keysCreated }, 'record keys: keys created for existing records');
    }
  }

  // 2. Each marked record's fields and blobs under its key; the mark goes last.
  let after = '00000000-0000-0000-0000-000000000000';
  for (;;) {
    if (signal?.aborted) return progress;
    const pending: Array<{ key_id: string; record_kind: RecordRef['kind']; record_id: string }> = await db.query(
      `SELECT key_id, record_kind, record_id FROM record_keys
       WHERE legacy_data_pending AND wrapped_key IS NOT NULL AND key_id > $1 AND NOT ${closedOrganization('record_keys.organization_id')}
       ORDER BY key_id LIMIT ${batchSize}`,
      [after],
    );
    if (pending.length === 0) break;
    for (const row of pending) {
      if (signal?.aborted) return progress;
      after = row.key_id;
      const record = { kind: row.record_kind, id: row.record_id };
      try {
        await moveRecord(context, record, progress);
        await db.query(`UPDATE record_keys SET legacy_data_pending = false WHERE key_id = $1`, [row.key_id]);
        progress.recordsMoved += 1;
      } catch (error) {
        // Left marked: the next start tries again. Ids only in the log.
        progress.failures += 1;
        log.warn({ err: error, recordKind: record.kind, recordId: record.id }, 'record keys: a record could not be moved yet');
      }
    }
    log.info({ ...progress }, 'record keys: existing records moved under their keys');
  }
  // Keys destroyed before their record was moved, themselves or with their organisation's: nothing left to move.
  await db.query(
    `UPDATE record_keys r SET legacy_data_pending = false
      WHERE legacy_data_pending
        AND (wrapped_key IS NULL OR EXISTS (SELECT 1 FROM organization_keys ok WHERE ok.organization_id = r.organization_id AND ok.wrapped_key IS NULL))`,
  );

  // 3-7: what was written in clear before its record had a key (or before it was sealed at all), sealed in place.
  const run = { log, progress, signal };
  const zeroUuid = '00000000-0000-0000-0000-000000000000';
  // 3. Audit events (migration 1763940000000).
  for (const trail of auditTrails) {
    const finished = await sealRowsInClear(
      { what: `${trail.table} rows`, counted: 'auditEventsSealed', start: '0' },
      (after) =>
        db.query(
          `SELECT e.id::text AS id, e.${trail.recordColumn} AS record_id, e.event_key, e.ip, e.user_agent, e.detail
             FROM ${trail.table} e
             JOIN record_keys k ON k.record_kind = $1 AND k.record_id = e.${trail.recordColumn} AND k.wrapped_key IS NOT NULL
                                 AND NOT ${closedOrganization('k.organization_id')}
            WHERE e.id > $2::bigint AND e.sealed IS NULL ${trail.erasable ? 'AND e.erased_at IS NULL' : ''}
              AND (e.ip IS NOT NULL OR e.user_agent IS NOT NULL
                   OR (jsonb_typeof(e.detail) = 'object' AND EXISTS (SELECT 1 FROM jsonb_object_keys(e.detail) m WHERE m <> ALL($3::text[]))))
            ORDER BY e.id LIMIT ${batchSize}`,
          [trail.kind, after, nonPersonalDetailKeys],
        ),
      (row: ClearAuditRow) => sealClearAuditRow(context, trail, row),
      run,
    );
    if (!finished) return progress;
  }
  // 4. eID evidence: name, birth date, masked national id (migration 1763944000000).
  if (
    !(await sealRowsInClear(
      { what: 'eID evidence', counted: 'evidenceSealed', start: zeroUuid },
      (after) =>
        db.query(
          `SELECT id, subject_kind, subject_id, name, birthdate, national_id_masked FROM eid_identifications
            WHERE id > $1 AND evidence_sealed IS NULL AND (name IS NOT NULL OR birthdate IS NOT NULL OR national_id_masked IS NOT NULL)
              AND NOT ${closedOrganization('eid_identifications.organization_id')}
            ORDER BY id LIMIT ${batchSize}`,
          [after],
        ),
      (row: { id: string; subject_kind: IdentificationSubjectKind; subject_id: string; name: string | null; birthdate: string | null; national_id_masked: string | null }) =>
        sealClearEvidence(db, row),
      run,
    ))
  ) {
    return progress;
  }
  // 5. KYC customers' contacts (migration 1763946000000).
  if (
    !(await sealRowsInClear(
      { what: "KYC customers' contacts", counted: 'customersSealed', start: zeroUuid },
      (after) =>
        db.query(
          `SELECT c.id, c.organization_id, c.customer_name, c.customer_email, c.customer_phone, c.customer_business_id FROM kyc_cases c
            WHERE c.id > $1 AND c.customer_sealed IS NULL AND c.deleted_at IS NULL
              AND (c.customer_name IS NOT NULL OR c.customer_email IS NOT NULL OR c.customer_phone IS NOT NULL OR c.customer_business_id IS NOT NULL)
              AND EXISTS (SELECT 1 FROM record_keys k WHERE k.record_kind = 'kyc_case' AND k.record_id = c.id AND k.wrapped_key IS NOT NULL)
              AND NOT ${closedOrganization('c.organization_id')}
            ORDER BY c.id LIMIT ${batchSize}`,
          [after],
        ),
      (row: { id: string; organization_id: string } & KycCustomerContact) =>
        db.transaction(async (tx) => {
          // Locked and checked again: a rectification meanwhile has sealed it already.
          const [locked]: Array<{ customer_sealed: Buffer | null }> = await tx.query(`SELECT customer_sealed FROM kyc_cases WHERE id = $1 FOR UPDATE`, [row.id]);
          if (locked?.customer_sealed) return false;
          await writeKycCustomerContact(tx, row.organization_id, row.id, row);
          return true;
        }),
      run,
    ))
  ) {
    return progress;
  }
  // 6. Signing requests' titles and signers' contacts, and their search tokens (migration 1763948000000).
  if (
    !(await sealRowsInClear(
      { what: "signing requests' titles and contacts", counted: 'roundsSealed', start: zeroUuid },
      (after) =>
        db.query(
          `SELECT r.id, r.organization_id FROM signing_requests r
            WHERE r.id > $1 AND r.deleted_at IS NULL
              AND (r.text_sealed IS NULL AND (r.title IS NOT NULL OR r.message IS NOT NULL OR r.document_filename IS NOT NULL)
                   OR r.search_tokens IS NULL
                   OR EXISTS (SELECT 1 FROM signers s WHERE s.request_id = r.id AND s.contact_sealed IS NULL
                                AND (s.name IS NOT NULL OR s.email IS NOT NULL OR s.phone IS NOT NULL)))
              AND EXISTS (SELECT 1 FROM record_keys k WHERE k.record_kind = 'signing_request' AND k.record_id = r.id AND k.wrapped_key IS NOT NULL)
              AND NOT ${closedOrganization('r.organization_id')}
            ORDER BY r.id LIMIT ${batchSize}`,
          [after],
        ),
      async (row: { id: string; organization_id: string }) => {
        await db.transaction((tx) => sealRoundPersonalData(tx, row.organization_id, row.id));
        return true;
      },
      run,
    ))
  ) {
    return progress;
  }
  // 7. KYC upload names (migration 1763950000000).
  await sealRowsInClear(
    { what: 'KYC upload names', counted: 'uploadNamesSealed', start: zeroUuid },
    (after) =>
      db.query(
        `SELECT u.id, u.case_id, u.filename FROM kyc_uploads u JOIN kyc_cases c ON c.id = u.case_id
          WHERE u.id > $1 AND u.filename IS NOT NULL AND u.filename_sealed IS NULL AND c.deleted_at IS NULL
            AND EXISTS (SELECT 1 FROM record_keys k WHERE k.record_kind = 'kyc_case' AND k.record_id = u.case_id AND k.wrapped_key IS NOT NULL)
            AND NOT ${closedOrganization('c.organization_id')}
          ORDER BY u.id LIMIT ${batchSize}`,
        [after],
      ),
    async (row: { id: string; case_id: string; filename: string }) => {
      const stored = await storedUploadName(db, row.case_id, row.filename);
      if (!stored.filename_sealed) return false;
      await db.query(`UPDATE kyc_uploads SET filename = NULL, filename_sealed = $2 WHERE id = $1 AND filename_sealed IS NULL`, [row.id, stored.filename_sealed]);
      return true;
    },
    run,
  );
  return progress;
}

type SealedCount = 'auditEventsSealed' | 'evidenceSealed' | 'customersSealed' | 'roundsSealed' | 'uploadNamesSealed';

/**
 * Seals, batch by batch in key order, the rows `next` finds still in clear. Each row on its own: one that fails
 * (an outage, a key destroyed meanwhile) is logged by id and left for the next start. False when stopped.
 */
async function sealRowsInClear<Row extends { id: string }>(
  step: { what: string; counted: SealedCount; start: string },
  next: (after: string) => Promise<Row[]>,
  seal: (row: Row) => Promise<boolean>,
  run: { log: Logger; progress: MoveProgress; signal?: AbortSignal },
): Promise<boolean> {
  for (let after = step.start; ; ) {
    if (run.signal?.aborted) return false;
    const rows = await next(after);
    if (rows.length === 0) return true;
    for (const row of rows) {
      after = row.id;
      try {
        if (await seal(row)) run.progress[step.counted] += 1;
      } catch (error) {
        run.progress.failures += 1;
        run.log.warn({ err: error, rowId: row.id }, `record keys: one of the ${step.what} could not be sealed yet`);
      }
    }
    run.log.info({ [step.counted]: run.progress[step.counted] }, `record keys: ${step.what} sealed under record keys`);
  }
}

interface ClearAuditRow {
  id: string;
  record_id: string;
  event_key: string;
  ip: string | null;
  user_agent: string | null;
  detail: Record<string, unknown> | null;
}

const auditTrails: Array<{ table: AuditTrailTable; recordColumn: string; kind: RecordRef['kind']; erasable: boolean }> = [
  { table: 'audit_events', recordColumn: 'request_id', kind: 'signing_request', erasable: true },
  { table: 'kyc_audit_events', recordColumn: 'case_id', kind: 'kyc_case', erasable: true },
  { table: 'dsr_audit_events', recordColumn: 'dsr_id', kind: 'data_subject_request', erasable: false },
];

/** Moves one row's personal data into `sealed` (the append-only trigger lets exactly this through, once). */
async function sealClearAuditRow(context: SigningContext, trail: (typeof auditTrails)[number], row: ClearAuditRow): Promise<boolean> {
  return context.dataSource.transaction(async (tx) => {
    await tx.query(`SELECT set_config('sigill.allow_audit_seal', 'on', true)`);
    const record = { kind: trail.kind, id: row.record_id };
    const stored = await sealAuditPersonalData(tx, record, trail.table, row.event_key, { ip: row.ip, userAgent: row.user_agent, detail: row.detail });
    if (!stored.sealed) return false;
    // Only if still in clear: a concurrent mover's seal is left as it is.
    await tx.query(`UPDATE ${trail.table} SET ip = NULL, user_agent = NULL, detail = $2::jsonb, sealed = $3 WHERE id = $1::bigint AND sealed IS NULL`, [
      row.id,
      stored.detail === null ? null : JSON.stringify(stored.detail),
      stored.sealed,
    ]);
    return true;
  });
}

async function moveRecord(context: SigningContext, record: RecordRef, progress: MoveProgress): Promise<void> {
  await context.dataSource.transaction(async (tx) => {
    for (const field of await legacyFieldsOf(tx, record)) {
      // Locked, then checked again: a value rewritten meanwhile (already under the key) is left alone.
      const rows: Array<{ value: Buffer | null }> = await tx.query(
        `SELECT ${field.column} AS value FROM ${field.table} WHERE id = $1 FOR UPDATE`,
        [field.id],
      );
      const sealed = rows[0]?.value;
      if (!sealed || sealed[0] === recordFieldFormat) continue;
      const plaintext = await context.recordKeys.decryptField(record, field.context, sealed, tx);
      const moved = await context.recordKeys.encryptField(record, field.context, plaintext, tx);
      await tx.query(`UPDATE ${field.table} SET ${field.column} = $2 WHERE id = $1`, [field.id, moved]);
      progress.fieldsMoved += 1;
    }
  });
  const blobStore = context.adapters.blobStore;
  if (!(blobStore instanceof EncryptedBlobStore)) return;
  for (const key of await blobKeysOf(context.dataSource, record)) {
    if (await blobStore.moveUnderRecordKey(key)) progress.blobsMoved += 1;
  }
}

interface LegacyField {
  table: string;
  column: string;
  id: string;
  context: Record<string, string>;
}

/** The record's encrypted personal fields still in the older per-value format (format byte 1). */
async function legacyFieldsOf(db: Queryable, record: RecordRef): Promise<LegacyField[]> {
  const legacy = (column: string) => `(${column} IS NOT NULL AND get_byte(${column}, 0) <> ${recordFieldFormat})`;
  const fields: LegacyField[] = [];
  const identifications: Array<{ id: string; national_id: boolean; id_token: boolean }> = await db.query(
    `SELECT i.id, ${legacy('i.national_id_encrypted')} AS national_id, ${legacy('i.id_token_encrypted')} AS id_token
     FROM eid_identifications i
     WHERE ${record.kind === 'kyc_case' ? `i.subject_kind = 'kyc_case' AND i.subject_id = $1` : `i.subject_kind = 'signer' AND i.subject_id IN (SELECT id FROM signers WHERE request_id = $1)`}`,
    [record.id],
  );
  for (const row of identifications) {
    if (row.national_id) fields.push({ table: 'eid_identifications', column: 'national_id_encrypted', id: row.id, context: identificationNationalIdContext(row.id) });
    if (row.id_token) fields.push({ table: 'eid_identifications', column: 'id_token_encrypted', id: row.id, context: identificationTokenContext(row.id) });
  }
  if (record.kind === 'signing_request') {
    const signers: Array<{ id: string }> = await db.query(`SELECT id FROM signers WHERE request_id = $1 AND ${legacy('expected_national_id')}`, [record.id]);
    for (const signer of signers) fields.push({ table: 'signers', column: 'expected_national_id', id: signer.id, context: expectedNationalIdContext(signer.id) });
  }
  if (record.kind === 'kyc_case') {
    const [row]: Array<{ national_id: boolean; draft: boolean; answers: boolean }> = await db.query(
      `SELECT ${legacy('customer_national_id')} AS national_id, ${legacy('draft')} AS draft, ${legacy('answers')} AS answers FROM kyc_cases WHERE id = $1`,
      [record.id],
    );
    if (row?.national_id) fields.push({ table: 'kyc_cases', column: 'customer_national_id', id: record.id, context: kycNationalIdContext(record.id) });
    if (row?.draft) fields.push({ table: 'kyc_cases', column: 'draft', id: record.id, context: answersContext(record.id, 'draft') });
    if (row?.answers) fields.push({ table: 'kyc_cases', column: 'answers', id: record.id, context: answersContext(record.id, 'answers') });
  }
  return fields;
}

/** Every blob a record may have (missing ones are skipped by the move). */
async function blobKeysOf(db: Queryable, record: RecordRef): Promise<string[]> {
  if (record.kind === 'signing_request') {
    const [request]: Array<{ organization_id: string; original_blob_key: string | null; sealed_blob_key: string | null }> = await db.query(
      `SELECT organization_id, original_blob_key, sealed_blob_key FROM signing_requests WHERE id = $1`,
      [record.id],
    );
    if (!request) return [];
    const folder = `orgs/${request.organization_id}/requests/${record.id}`;
    const versions: Array<{ sha256: string }> = await db.query(`SELECT sha256 FROM sealed_document_versions WHERE request_id = $1`, [record.id]);
    const sealed = [`${folder}/sealed.pdf`, ...(request.sealed_blob_key ? [request.sealed_blob_key] : []), ...versions.map((v) => `${folder}/renewals/${v.sha256}/sealed.pdf`)];
    return unique([...(request.original_blob_key ? [request.original_blob_key] : []), ...sealed.flatMap((key) => [key, evidenceBlobKeyFor(key)])]);
  }
  if (record.kind === 'kyc_case') {
    const [kycCase]: Array<{ organization_id: string; evidence_blob_key: string | null }> = await db.query(
      `SELECT organization_id, evidence_blob_key FROM kyc_cases WHERE id = $1`,
      [record.id],
    );
    if (!kycCase) return [];
    const uploads: Array<{ blob_key: string }> = await db.query(`SELECT blob_key FROM kyc_uploads WHERE case_id = $1`, [record.id]);
    return unique([
      ...uploads.map((upload) => upload.blob_key),
      `orgs/${kycCase.organization_id}/kyc/${record.id}/evidence.zip`,
      ...(kycCase.evidence_blob_key ? [kycCase.evidence_blob_key] : []),
    ]);
  }
  return [];
}

const unique = (keys: string[]) => [...new Set(keys)];
