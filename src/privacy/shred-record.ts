/**
 * Provable deletion of one record (R13, issue 14): crypto-shredding plus a tombstone. See docs/ARCHITECTURE.md
 * "Shredding and tombstones".
 *
 * One transaction decides: it destroys the record's key (every copy of what was encrypted under it — database,
 * blob store, Temporal history, backups — becomes unreadable), erases the personal clear columns, reduces the
 * rows to a tombstone (ids, statuses, times, hashes), stores the receipt and appends `record_deleted` to the
 * organisation's audit log. Clean-up follows it: the record's blobs are deleted and a Temporal history written
 * before record keys (its payloads are not under the record key, so they cannot be shredded) is deleted. Every
 * call runs the clean-up again, so a crash between the two converges on the next call, which answers the
 * receipt of the first.
 */
import { randomUUID } from 'node:crypto';
import { Context } from '@temporalio/activity';
import { WorkflowNotFoundError } from '@temporalio/client';
import type { EntityManager } from 'typeorm';
import { recordOrganizationEvent } from '../accounts/organization-audit-log';
import { RECORD_KEY_METADATA } from '../adapters/payload-codec';
import type { TemporalTarget } from '../adapters/temporal-connection';
import { kycEndStatuses } from '../contract/kyc-cases';
import { AppError } from '../errors';
import { nonPersonalDetailKeys } from './audit-personal-data';
import { evidenceBlobKeyFor } from '../signing/read-request-document';
import type { SigningContext } from '../signing/signing-context';

export type ShreddableRecord = { kind: 'signing_request' | 'kyc_case' | 'data_subject_request'; id: string };

export interface ShredGrounds {
  /** Which rule: 'retention:<policy id or name>', 'data-subject-request:<dsr id>', 'organization-closed', 'manual'. */
  rule: string;
  /** Human-readable reason kept in the receipt, e.g. "Completed requests are kept 10 years (policy default)". */
  reason: string;
  /** Who: 'system:retention', 'user:<id>', 'api-key:<id>'. */
  actor: string;
}

/** What a receipt is about: one record, or (destroyOrganizationKey) the whole organisation. */
export type DeletionReceiptSubject = ShreddableRecord | { kind: 'organization'; id: string };

export interface DeletionReceipt {
  id: string;
  organizationId: string;
  record: DeletionReceiptSubject;
  rule: string;
  reason: string;
  actor: string;
  deletedAt: string;
  keyIdsDestroyed: string[];
  /** For a sealed request: its sealed document's SHA-256 and seal time, kept so /v1/verify can say it existed. */
  sealedSha256: string | null;
  sealedAt: string | null;
}

export interface ShredOptions {
  /**
   * The Temporal client, when the caller has one (the API does). Inside an activity (the retention sweep, a
   * data-subject erasure) the activity's own client is used when none is given. With a client, a record whose
   * workflow is still open is refused even when its row already reads ended, and a history written before
   * record keys is deleted. Without any (a script), the row's status alone decides and such a history stays.
   */
  temporal?: TemporalTarget;
}

/** The caller's client, else the running activity's (bound to the worker's namespace), else none. */
function temporalOf(options: ShredOptions): TemporalTarget | undefined {
  if (options.temporal) return options.temporal;
  let activity: Context;
  try {
    activity = Context.current();
  } catch {
    return undefined; // not inside an activity
  }
  try {
    return { client: activity.client, taskQueue: activity.info.taskQueue };
  } catch {
    return undefined; // an activity environment without a client (tests' MockActivityEnvironment)
  }
}

const workflowIdOf = (record: ShreddableRecord) =>
  record.kind === 'signing_request'
    ? `signing-request-${record.id}`
    : record.kind === 'kyc_case'
      ? `kyc-case-${record.id}`
      : `data-subject-request-${record.id}`;

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

interface RecordRow {
  organization_id: string;
  status: string;
  folder_id: string | null;
  legal_hold_at: Date | null;
  deletion_receipt_id: string | null;
}

/**
 * Destroys the record's key, deletes its blobs, reduces its rows to a tombstone (ids, times, statuses, hashes),
 * records the receipt in the organisation's audit log. Idempotent: a second call returns the first receipt.
 * Refuses (409 'legal_hold') while a legal hold applies to the record or its folder (or a folder above), and
 * (409 'record_in_progress') a record still running. A KYC case's declaration requests are shredded with it.
 */
export async function shredRecord(
  context: SigningContext,
  record: ShreddableRecord,
  grounds: ShredGrounds,
  options: ShredOptions = {},
): Promise<DeletionReceipt> {
  checkGrounds(grounds);
  if (!uuidPattern.test(record.id)) throw new AppError('not_found', 'No such record.');
  record = { kind: record.kind, id: record.id.toLowerCase() };
  options = { temporal: temporalOf(options) };
  const row = await readRecordRow(context.dataSource.manager, record);
  if (!row) throw new AppError('not_found', 'No such record.');
  if (!row.deletion_receipt_id) {
    await refuseIfNotShreddable(context, record, row, options);
    if (record.kind === 'kyc_case') {
      // The declarations carry the customer's name and signature: they go with the case.
      const declarations: Array<{ request_id: string }> = await context.dataSource.query(
        `SELECT request_id FROM kyc_declarations WHERE case_id = $1 ORDER BY attempt`,
        [record.id],
      );
      for (const declaration of declarations) {
        await shredRecord(context, { kind: 'signing_request', id: declaration.request_id }, grounds, options);
      }
    }
  }
  const receipt = await context.dataSource.transaction(async (tx) => {
    const locked = await readRecordRow(tx, record, { lock: true });
    if (!locked) throw new AppError('not_found', 'No such record.');
    if (locked.deletion_receipt_id) return (await receiptById(tx, locked.deletion_receipt_id))!;
    // Checked again under the row's lock: a hold placed since the first look wins.
    await refuseHeld(tx, record, locked);
    if (record.kind === 'signing_request' && locked.status === 'pending') throw inProgress(record);
    if (record.kind === 'kyc_case' && !kycEndStatuses.includes(locked.status as never)) throw inProgress(record);
    return tombstone(context, tx, record, locked, grounds);
  });
  await cleanUp(context, record, receipt, options);
  return receipt;
}

/** Destroys the organisation's key (every record key under it becomes unreadable) and issues the final receipt. */
export async function destroyOrganizationKey(context: SigningContext, organizationId: string, grounds: ShredGrounds): Promise<DeletionReceipt> {
  checkGrounds(grounds);
  if (!uuidPattern.test(organizationId)) throw new AppError('not_found', 'No such organisation.');
  return context.dataSource.transaction(async (tx) => {
    const organizations: Array<{ id: string }> = await tx.query(`SELECT id FROM organizations WHERE id = $1 FOR UPDATE`, [organizationId]);
    if (organizations.length === 0) throw new AppError('not_found', 'No such organisation.');
    const [existing]: ReceiptRow[] = await tx.query(
      `SELECT * FROM deletion_receipts WHERE organization_id = $1 AND record_kind = 'organization'`,
      [organizationId],
    );
    if (existing) return receiptOf(existing);
    const keyIds = await context.recordKeys.destroyOrganizationKey(tx, organizationId);
    const [stored]: ReceiptRow[] = await tx.query(
      `INSERT INTO deletion_receipts (id, organization_id, record_kind, record_id, rule, reason, actor, deleted_at, key_ids_destroyed)
       VALUES ($1, $2, 'organization', NULL, $3, $4, $5, now(), $6) RETURNING *`,
      [randomUUID(), organizationId, grounds.rule, grounds.reason, grounds.actor, keyIds],
    );
    const receipt = receiptOf(stored!);
    await recordOrganizationEvent(tx, {
      organizationId,
      type: 'organization_key_destroyed',
      actor: grounds.actor,
      detail: { receiptId: receipt.id, rule: receipt.rule, keyIdsDestroyed: receipt.keyIdsDestroyed },
    });
    return receipt;
  });
}

/** Whether the organisation's key was destroyed (its final receipt issued). */
export async function hasClosingReceipt(context: SigningContext, organizationId: string): Promise<boolean> {
  const rows: unknown[] = await context.dataSource.query(
    `SELECT 1 FROM deletion_receipts WHERE organization_id = $1 AND record_kind = 'organization'`,
    [organizationId],
  );
  return rows.length > 0;
}

/**
 * After the organisation's key was destroyed (src/organization-export/close-organization.ts): every record of
 * it not deleted yet is reduced to its tombstone under the closing's rule, each with its own receipt (so
 * `/v1/verify` still says a sealed document existed and when it was deleted), its blobs and outbox copies
 * deleted first (a record whose clean-up failed is still listed, so a retry cleans it). No hold or status
 * check: the key is gone, so is the data; a record still open when the closing stopped waiting is tombstoned
 * too. One transaction per record, and at most `budgetMs` of work per call: a large organisation takes several
 * calls (the activity's retries), each continuing where the last stopped, none overlapping the next.
 * Resolves when none is left; else throws a retryable error saying how many remain.
 */
export async function tombstoneOrganizationRecords(
  context: SigningContext,
  organizationId: string,
  closing: DeletionReceipt,
  budgetMs = 60_000,
): Promise<number> {
  if (closing.record.kind !== 'organization' || closing.organizationId !== organizationId) throw new Error("not this organisation's closing receipt");
  const grounds: ShredGrounds = { rule: closing.rule, reason: closing.reason, actor: closing.actor };
  const temporal = temporalOf({});
  const stopAt = Date.now() + budgetMs;
  let count = 0;
  const remaining = (limit: number): Promise<ShreddableRecord[]> =>
    context.dataSource.query(
      `(SELECT 'kyc_case' AS kind, id FROM kyc_cases WHERE organization_id = $1 AND deleted_at IS NULL ORDER BY id LIMIT $2)
       UNION ALL
       (SELECT 'signing_request', id FROM signing_requests WHERE organization_id = $1 AND deleted_at IS NULL ORDER BY id LIMIT $2)
       UNION ALL
       (SELECT 'data_subject_request', d.id FROM data_subject_requests d WHERE d.organization_id = $1
           AND NOT EXISTS (SELECT 1 FROM deletion_receipts r WHERE r.record_kind = 'data_subject_request' AND r.record_id = d.id)
         ORDER BY d.id LIMIT $2)`,
      [organizationId, limit],
    );
  for (let batch = await remaining(100); batch.length > 0 && Date.now() < stopAt; batch = await remaining(100)) {
    let progressed = false;
    for (const record of batch) {
      if (Date.now() >= stopAt) break;
      // Files, outbox copies and an old history first: until the tombstone commits, the record stays listed.
      await cleanUp(context, record, closing, { temporal });
      const receipt = await context.dataSource.transaction(async (tx) => {
        const locked = await readRecordRow(tx, record, { lock: true });
        if (!locked || locked.deletion_receipt_id) return undefined;
        return tombstone(context, tx, record, locked, grounds);
      });
      if (receipt) {
        count += 1;
        progressed = true;
      }
      heartbeatIfInActivity({ tombstoned: count });
    }
    // Listed but not reducible (it should not happen): stop rather than loop; the count below says so.
    if (!progressed) break;
  }
  const [left]: Array<{ kind: string }> = await remaining(1);
  if (left) throw new Error(`closing organisation ${organizationId}: ${count} records reduced in this attempt, more remain; the next attempt continues`);
  return count;
}

function heartbeatIfInActivity(details: unknown): void {
  try {
    Context.current().heartbeat(details);
  } catch {
    // not inside an activity
  }
}

export async function findDeletionReceipt(context: SigningContext, record: ShreddableRecord): Promise<DeletionReceipt | undefined> {
  if (!uuidPattern.test(record.id)) return undefined;
  const [row]: ReceiptRow[] = await context.dataSource.query(`SELECT * FROM deletion_receipts WHERE record_kind = $1 AND record_id = $2`, [
    record.kind,
    record.id,
  ]);
  return row ? receiptOf(row) : undefined;
}

/** A receipt by its id, within the organisation (undefined when it is another's or none). */
export async function findDeletionReceiptById(context: SigningContext, organizationId: string, receiptId: string): Promise<DeletionReceipt | undefined> {
  if (!uuidPattern.test(receiptId)) return undefined;
  const receipt = await receiptById(context.dataSource.manager, receiptId);
  return receipt?.organizationId === organizationId ? receipt : undefined;
}

function checkGrounds(grounds: ShredGrounds): void {
  const bad = (['rule', 'reason', 'actor'] as const).find((field) => {
    const value = grounds[field];
    const max = field === 'reason' ? 2000 : 200;
    return typeof value !== 'string' || value.trim().length === 0 || value.length > max;
  });
  if (bad) throw new AppError('invalid_request', `A deletion needs a ${bad} (${bad === 'reason' ? 2000 : 200} characters at most).`);
}

const inProgress = (record: ShreddableRecord) =>
  new AppError(
    'record_in_progress',
    record.kind === 'kyc_case'
      ? 'This KYC case is still open: only ended cases can be deleted.'
      : record.kind === 'signing_request'
        ? 'This signing request is still running: only ended requests can be deleted.'
        : 'This data-subject request is still open: only ended requests can be deleted.',
  );

async function readRecordRow(db: EntityManager, record: ShreddableRecord, options: { lock?: boolean } = {}): Promise<RecordRow | undefined> {
  const lock = options.lock ? 'FOR UPDATE' : '';
  if (record.kind === 'signing_request' || record.kind === 'kyc_case') {
    const table = record.kind === 'signing_request' ? 'signing_requests' : 'kyc_cases';
    const [row]: RecordRow[] = await db.query(
      `SELECT organization_id, status, folder_id, legal_hold_at, deletion_receipt_id FROM ${table} WHERE id = $1 ${lock}`,
      [record.id],
    );
    return row;
  }
  // Data-subject requests have no tombstone columns of their own: their receipt marks them.
  const [present]: Array<{ found: string | null }> = await db.query(`SELECT to_regclass('data_subject_requests')::text AS found`);
  if (!present?.found) return undefined;
  const [row]: Array<{ organization_id: string; status: string }> = await db.query(
    `SELECT organization_id, status FROM data_subject_requests WHERE id = $1 ${lock}`,
    [record.id],
  );
  if (!row) return undefined;
  const [receipt]: Array<{ id: string }> = await db.query(
    `SELECT id FROM deletion_receipts WHERE record_kind = 'data_subject_request' AND record_id = $1`,
    [record.id],
  );
  return { organization_id: row.organization_id, status: row.status, folder_id: null, legal_hold_at: null, deletion_receipt_id: receipt?.id ?? null };
}

async function refuseIfNotShreddable(context: SigningContext, record: ShreddableRecord, row: RecordRow, options: ShredOptions): Promise<void> {
  await refuseHeld(context.dataSource.manager, record, row);
  const ended =
    record.kind === 'signing_request'
      ? row.status !== 'pending'
      : record.kind === 'kyc_case'
        ? kycEndStatuses.includes(row.status as never)
        : ['completed', 'rejected', 'withdrawn'].includes(row.status);
  if (!ended) throw inProgress(record);
  // A round goes on after its outcome is recorded (sealing, notices): its workflow must have closed too.
  if (options.temporal && (await workflowIsRunning(options.temporal, workflowIdOf(record)))) throw inProgress(record);
}

async function refuseHeld(db: EntityManager, record: ShreddableRecord, row: RecordRow): Promise<void> {
  if (row.legal_hold_at) throw new AppError('legal_hold', `A legal hold applies to this ${recordNoun(record)}: it cannot be deleted until the hold is lifted.`);
  if (!row.folder_id) return;
  // A hold on the record's folder or any folder above it applies.
  const [held]: Array<{ id: string }> = await db.query(
    `WITH RECURSIVE chain AS (
       SELECT id, parent_id, legal_hold_at FROM folders WHERE id = $1
       UNION ALL
       SELECT f.id, f.parent_id, f.legal_hold_at FROM folders f JOIN chain c ON f.id = c.parent_id
     )
     SELECT id FROM chain WHERE legal_hold_at IS NOT NULL LIMIT 1`,
    [row.folder_id],
  );
  if (held) throw new AppError('legal_hold', `A legal hold applies to the folder of this ${recordNoun(record)}: it cannot be deleted until the hold is lifted.`);
}

const recordNoun = (record: ShreddableRecord) =>
  record.kind === 'signing_request' ? 'signing request' : record.kind === 'kyc_case' ? 'KYC case' : 'data-subject request';

async function workflowIsRunning(temporal: TemporalTarget, workflowId: string): Promise<boolean> {
  try {
    const description = await temporal.client.workflow.getHandle(workflowId).describe();
    return description.status.name === 'RUNNING';
  } catch (error) {
    if (error instanceof WorkflowNotFoundError) return false;
    throw error;
  }
}

/** The decisive transaction's work: key, personal columns, tombstone, receipt, organisation audit entry. */
async function tombstone(context: SigningContext, tx: EntityManager, record: ShreddableRecord, row: RecordRow, grounds: ShredGrounds): Promise<DeletionReceipt> {
  const receiptId = randomUUID();
  const keyIds = await context.recordKeys.destroyRecordKey(tx, record);
  // A record from before record keys has none to destroy: a destroyed placeholder takes its place, so no
  // key is ever made for it afterwards (the move to record keys, a late write) and it reads as destroyed.
  await tx.query(
    `INSERT INTO record_keys (key_id, organization_id, record_kind, record_id, wrapped_key, destroyed_at)
     VALUES ($1, $2, $3, $4, NULL, now()) ON CONFLICT (record_kind, record_id) DO NOTHING`,
    [randomUUID(), row.organization_id, record.kind, record.id],
  );
  let sealed: { sealed_sha256: string | null; sealed_at: Date | null } = { sealed_sha256: null, sealed_at: null };
  if (record.kind === 'signing_request') {
    [sealed] = await tx.query(`SELECT sealed_sha256, sealed_at FROM signing_requests WHERE id = $1`, [record.id]);
  }
  const [stored]: ReceiptRow[] = await tx.query(
    `INSERT INTO deletion_receipts (id, organization_id, record_kind, record_id, rule, reason, actor, deleted_at, key_ids_destroyed, sealed_sha256, sealed_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, now(), $8, $9, $10) RETURNING *`,
    [receiptId, row.organization_id, record.kind, record.id, grounds.rule, grounds.reason, grounds.actor, keyIds, sealed.sealed_sha256, sealed.sealed_at],
  );
  const receipt = receiptOf(stored!);
  await tx.query(`SELECT set_config('sigill.allow_audit_erase', 'on', true)`);
  // Idempotency keys are chosen by the caller and may name someone; a deleted record is not created again by them.
  if (record.kind === 'signing_request') await tx.query(`DELETE FROM idempotency_keys WHERE signing_request_id = $1`, [record.id]);
  if (record.kind === 'kyc_case') await tx.query(`DELETE FROM kyc_idempotency_keys WHERE case_id = $1`, [record.id]);
  if (record.kind === 'signing_request') await eraseSigningRequest(tx, record.id, receipt);
  if (record.kind === 'kyc_case') await eraseKycCase(tx, record.id, receipt);
  // A requester's eID identification goes with the request, and its trail keeps only what names no one
  // (a row written in clear before record keys would otherwise keep the requester's IP and browser).
  if (record.kind === 'data_subject_request') {
    await tx.query(`DELETE FROM eid_identifications WHERE subject_kind = 'data_subject_request' AND subject_id = $1`, [record.id]);
    await tx.query(
      `UPDATE dsr_audit_events SET ip = NULL, user_agent = NULL, sealed = NULL, detail = ${reducedDetailSql}, erased_at = $2
        WHERE dsr_id = $1 AND erased_at IS NULL`,
      [record.id, receipt.deletedAt, nonPersonalDetailKeys],
    );
  }
  await recordOrganizationEvent(tx, {
    organizationId: row.organization_id,
    type: 'record_deleted',
    actor: grounds.actor,
    detail: { receiptId: receipt.id, recordKind: record.kind, recordId: record.id, rule: receipt.rule },
  });
  return receipt;
}

/** The audit detail reduced to its non-personal members (NULL when none is left). */
const reducedDetailSql = `(SELECT jsonb_object_agg(d.key, d.value) FROM jsonb_each(CASE WHEN jsonb_typeof(detail) = 'object' THEN detail ELSE '{}'::jsonb END) d
                           WHERE d.key = ANY($3::text[]))`;

async function eraseSigningRequest(tx: EntityManager, requestId: string, receipt: DeletionReceipt): Promise<void> {
  // Read first: TypeORM answers an UPDATE … RETURNING as [rows, count], not rows.
  const signers: Array<{ id: string; identification_id: string | null }> = await tx.query(
    `SELECT id, identification_id FROM signers WHERE request_id = $1`,
    [requestId],
  );
  await tx.query(
    `UPDATE signers SET name = NULL, email = NULL, phone = NULL, contact_sealed = NULL, email_index = NULL, phone_index = NULL,
            expected_national_id = NULL, identification_id = NULL WHERE request_id = $1`,
    [requestId],
  );
  // Every identification of these signers (also refused ones), not only the bound one.
  await tx.query(
    `DELETE FROM eid_identifications WHERE (subject_kind = 'signer' AND subject_id = ANY($1::uuid[])) OR id = ANY($2::uuid[])`,
    [signers.map((signer) => signer.id), signers.map((signer) => signer.identification_id).filter(Boolean)],
  );
  await tx.query(
    `UPDATE signing_requests SET title = NULL, message = NULL, document_filename = NULL, text_sealed = NULL, search_tokens = NULL,
            deleted_at = $2, deletion_receipt_id = $3 WHERE id = $1`,
    [requestId, receipt.deletedAt, receipt.id],
  );
  await tx.query(
    `UPDATE audit_events SET ip = NULL, user_agent = NULL, sealed = NULL, detail = ${reducedDetailSql}, erased_at = $2
      WHERE request_id = $1 AND erased_at IS NULL`,
    [requestId, receipt.deletedAt, nonPersonalDetailKeys],
  );
}

async function eraseKycCase(tx: EntityManager, caseId: string, receipt: DeletionReceipt): Promise<void> {
  const [before]: Array<{ identification_id: string | null }> = await tx.query(`SELECT identification_id FROM kyc_cases WHERE id = $1`, [caseId]);
  await tx.query(
    `UPDATE kyc_cases SET customer_name = NULL, customer_email = NULL, customer_phone = NULL, customer_business_id = NULL,
            customer_sealed = NULL, customer_email_index = NULL, customer_phone_index = NULL,
            customer_national_id = NULL, identification_id = NULL, draft = NULL, answers = NULL, changes_reason = NULL,
            second_review_reasons = '[]', deleted_at = $2, deletion_receipt_id = $3
      WHERE id = $1`,
    [caseId, receipt.deletedAt, receipt.id],
  );
  await tx.query(`DELETE FROM eid_identifications WHERE (subject_kind = 'kyc_case' AND subject_id = $1) OR id = $2`, [
    caseId,
    before?.identification_id ?? null,
  ]);
  await tx.query(`UPDATE kyc_reviews SET reviewer_name = NULL, reason = NULL WHERE case_id = $1`, [caseId]);
  await tx.query(`UPDATE kyc_uploads SET filename = NULL, filename_sealed = NULL, deleted_at = coalesce(deleted_at, $2) WHERE case_id = $1`, [caseId, receipt.deletedAt]);
  await tx.query(
    `UPDATE kyc_audit_events SET ip = NULL, user_agent = NULL, sealed = NULL, detail = ${reducedDetailSql}, erased_at = $2
      WHERE case_id = $1 AND erased_at IS NULL`,
    [caseId, receipt.deletedAt, nonPersonalDetailKeys],
  );
}

/** After the decision: the record's blobs and a history its key does not cover. Safe to run any number of times. */
async function cleanUp(context: SigningContext, record: ShreddableRecord, receipt: DeletionReceipt, options: ShredOptions): Promise<void> {
  for (const key of await blobKeysOf(context, record, receipt.organizationId)) await context.adapters.blobStore.delete(key);
  // The default outbox keeps a copy of every email and SMS (names, titles): those naming the record go too.
  const ids = await idsNamedInMessages(context, record);
  await context.adapters.mailer.forgetMessagesNaming?.(ids);
  await context.adapters.smsSender.forgetMessagesNaming?.(ids);
  if (options.temporal) await deleteHistoryNotUnderRecordKey(options.temporal, workflowIdOf(record));
}

async function blobKeysOf(context: SigningContext, record: ShreddableRecord, organizationId: string): Promise<string[]> {
  const db = context.dataSource;
  if (record.kind === 'signing_request') {
    const folder = `orgs/${organizationId}/requests/${record.id}`;
    const [request]: Array<{ original_blob_key: string; sealed_blob_key: string | null }> = await db.query(
      `SELECT original_blob_key, sealed_blob_key FROM signing_requests WHERE id = $1`,
      [record.id],
    );
    const versions: Array<{ sha256: string }> = await db.query(`SELECT sha256 FROM sealed_document_versions WHERE request_id = $1`, [record.id]);
    const sealedKeys = [`${folder}/sealed.pdf`, ...(request?.sealed_blob_key ? [request.sealed_blob_key] : []), ...versions.map((v) => `${folder}/renewals/${v.sha256}/sealed.pdf`)];
    return unique([...(request ? [request.original_blob_key] : []), ...sealedKeys.flatMap((key) => [key, evidenceBlobKeyFor(key)])]);
  }
  if (record.kind === 'kyc_case') {
    const uploads: Array<{ blob_key: string }> = await db.query(`SELECT blob_key FROM kyc_uploads WHERE case_id = $1`, [record.id]);
    const [kycCase]: Array<{ evidence_blob_key: string | null }> = await db.query(`SELECT evidence_blob_key FROM kyc_cases WHERE id = $1`, [record.id]);
    return unique([...uploads.map((upload) => upload.blob_key), `orgs/${organizationId}/kyc/${record.id}/evidence.zip`, ...(kycCase?.evidence_blob_key ? [kycCase.evidence_blob_key] : [])]);
  }
  return [`orgs/${organizationId}/dsr/${record.id}/access-package.zip`];
}

const unique = (keys: string[]) => [...new Set(keys)];

/** Message ids name the record or its signers (`invitation-<signer>`, `outcome-<request>-<sender>`, `kyc-invitation-<case>`). */
async function idsNamedInMessages(context: SigningContext, record: ShreddableRecord): Promise<string[]> {
  if (record.kind !== 'signing_request') return [record.id];
  const signers: Array<{ id: string }> = await context.dataSource.query(`SELECT id FROM signers WHERE request_id = $1`, [record.id]);
  return [record.id, ...signers.map((signer) => signer.id)];
}

/**
 * A history written before record keys holds its payloads under the deployment's rotating key, which is never
 * destroyed: the history itself must go. One under the record key stays, ciphertext whose key is gone.
 */
async function deleteHistoryNotUnderRecordKey(temporal: TemporalTarget, workflowId: string): Promise<void> {
  let underRecordKey: boolean;
  try {
    const history = await temporal.client.workflow.getHandle(workflowId).fetchHistory();
    const started = history.events?.[0]?.workflowExecutionStartedEventAttributes;
    const payloads = started?.input?.payloads ?? [];
    underRecordKey = payloads.length > 0 && payloads.every((payload) => isUnderRecordKey(payload.metadata ?? {}));
  } catch (error) {
    if (error instanceof WorkflowNotFoundError || isNotFound(error)) return;
    throw error;
  }
  if (underRecordKey) return;
  try {
    await temporal.client.workflowService.deleteWorkflowExecution({
      namespace: temporal.client.options.namespace,
      workflowExecution: { workflowId },
    });
  } catch (error) {
    if (!isNotFound(error)) throw error;
  }
}

/** The payload codec names the record key a payload is encrypted under in its metadata (src/adapters/payload-codec.ts). */
function isUnderRecordKey(metadata: Record<string, Uint8Array | null | undefined>): boolean {
  return Boolean(metadata[RECORD_KEY_METADATA]?.length);
}

function isNotFound(error: unknown): boolean {
  // gRPC NOT_FOUND (5), as the Temporal client reports a history or execution that is gone.
  return typeof error === 'object' && error !== null && ((error as { code?: unknown }).code === 5 || (error as { name?: unknown }).name === 'WorkflowNotFoundError');
}

interface ReceiptRow {
  id: string;
  organization_id: string;
  record_kind: ShreddableRecord['kind'] | 'organization';
  record_id: string | null;
  rule: string;
  reason: string;
  actor: string;
  deleted_at: Date;
  key_ids_destroyed: string[];
  sealed_sha256: string | null;
  sealed_at: Date | null;
}

async function receiptById(db: EntityManager, id: string): Promise<DeletionReceipt | undefined> {
  const [row]: ReceiptRow[] = await db.query(`SELECT * FROM deletion_receipts WHERE id = $1`, [id]);
  return row ? receiptOf(row) : undefined;
}

function receiptOf(row: ReceiptRow): DeletionReceipt {
  return {
    id: row.id,
    organizationId: row.organization_id,
    record:
      row.record_kind === 'organization'
        ? { kind: 'organization', id: row.organization_id }
        : { kind: row.record_kind, id: row.record_id! },
    rule: row.rule,
    reason: row.reason,
    actor: row.actor,
    deletedAt: row.deleted_at.toISOString(),
    keyIdsDestroyed: row.key_ids_destroyed,
    sealedSha256: row.sealed_sha256,
    sealedAt: row.sealed_at ? row.sealed_at.toISOString() : null,
  };
}
