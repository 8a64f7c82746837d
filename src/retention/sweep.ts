/**
 * The daily retention sweep's steps (run by src/workflows/retention-sweep.ts through
 * src/activities/retention-activities.ts). Each is idempotent and keyed by what it is given:
 *
 * 1. `giveNotices`: every ended record past its retention period, not deleted and not held (by itself, its
 *    folder or a folder above it), that has no pending notice gets one: deletable from now + notice period.
 * 2. `emailNotices` (src/retention/notice-email.ts): one summary per organisation per batch to its owners
 *    and administrators.
 * 3. `deleteNoticed`: a notice whose time has come is checked again: still due and not held, the record is
 *    shredded (src/privacy/shred-record.ts) with the policy as grounds; otherwise the notice is cleared and
 *    the record is left alone (a later sweep notices it again if it becomes due again).
 *
 * Ended data-subject requests are records like the others here (period `dsrDays`, no folder, no legal hold:
 * the policy model has none for them). Besides, `deleteExpiredAccessPackages` deletes access packages whose
 * download window has passed (no notice: the requester was told the date when it was made).
 */
import { openRequestText } from '../signing/round-personal-data';
import type { DataSource, EntityManager } from 'typeorm';
import { queryReturning } from '../database/data-source';
import { AppError } from '../errors';
import { recordDsrEvent } from '../dsr/dsr-audit-trail';
import { findDeletionReceipt, shredRecord } from '../privacy/shred-record';
import type { SigningContext } from '../signing/signing-context';
import { defaultRetention, periodFor, retentionColumn, retentionGrounds, type PolicySource, type RetentionSetting } from './policy';

export type RetainedKind = 'signing_request' | 'kyc_case' | 'data_subject_request';

interface Candidate {
  kind: RetainedKind;
  id: string;
  organization_id: string;
  folder_id: string | null;
  status: string;
  ended_at: Date;
  keep_days: number;
  keep_source: PolicySource;
  notice_days: number;
  held: boolean;
}

type Db = Pick<DataSource | EntityManager, 'query'>;

/** `COALESCE(folder, organisation, default)` of one setting, and which of the three it was. */
const value = (setting: RetentionSetting) => `COALESCE(fp.${retentionColumn[setting]}, op.${retentionColumn[setting]}, ${Number(defaultRetention[setting])})`;
const source = (setting: RetentionSetting) =>
  `CASE WHEN fp.${retentionColumn[setting]} IS NOT NULL THEN 'folder' WHEN op.${retentionColumn[setting]} IS NOT NULL THEN 'organization' ELSE 'default' END`;
const byRequestStatus = (pick: (setting: RetentionSetting) => string) =>
  `CASE r.status WHEN 'completed' THEN ${pick('completedDays')} WHEN 'failed' THEN ${pick('failedDays')} ELSE ${pick('unfinishedDays')} END`;

const policyJoins = (alias: string) => `
  LEFT JOIN retention_policies op ON op.organization_id = ${alias}.organization_id AND op.folder_id IS NULL
  LEFT JOIN retention_policies fp ON fp.organization_id = ${alias}.organization_id AND fp.folder_id = ${alias}.folder_id`;

/**
 * Ended records with their period and whether a hold applies. A folder's hold covers the folders below it.
 * `$1`: only this record id (or NULL for all).
 */
const candidatesSql = `
  WITH RECURSIVE held_folders AS (
    SELECT id FROM folders WHERE legal_hold_at IS NOT NULL
    UNION SELECT f.id FROM folders f JOIN held_folders h ON f.parent_id = h.id
  ),
  candidates AS (
    SELECT 'signing_request'::text AS kind, r.id, r.organization_id, r.folder_id, r.status, r.completed_at AS ended_at,
           ${byRequestStatus(value)} AS keep_days, ${byRequestStatus(source)} AS keep_source, ${value('noticeDays')} AS notice_days,
           (r.legal_hold_at IS NOT NULL OR r.folder_id IN (SELECT id FROM held_folders)) AS held
      FROM signing_requests r ${policyJoins('r')}
     WHERE r.completed_at IS NOT NULL AND r.status IN ('completed', 'declined', 'expired', 'cancelled', 'failed')
       AND ($1::uuid IS NULL OR r.id = $1)
       -- A KYC declaration's request is kept and deleted with its case (shredRecord refuses it alone).
       AND NOT EXISTS (SELECT 1 FROM kyc_declarations d WHERE d.request_id = r.id)
    UNION ALL
    SELECT 'kyc_case', c.id, c.organization_id, c.folder_id, c.status, c.ended_at,
           ${value('kycDays')}, ${source('kycDays')}, ${value('noticeDays')},
           (c.legal_hold_at IS NOT NULL OR c.folder_id IN (SELECT id FROM held_folders))
      FROM kyc_cases c ${policyJoins('c')}
     WHERE c.ended_at IS NOT NULL AND c.status IN ('approved', 'rejected', 'expired', 'cancelled', 'failed')
       AND ($1::uuid IS NULL OR c.id = $1)
    UNION ALL
    -- Organisation-wide: no folder (so no folder policy) and no legal hold of their own.
    SELECT 'data_subject_request', d.id, d.organization_id, NULL::uuid, d.status, d.completed_at,
           ${value('dsrDays')}, ${source('dsrDays')}, ${value('noticeDays')}, false
      FROM data_subject_requests d
      LEFT JOIN retention_policies op ON op.organization_id = d.organization_id AND op.folder_id IS NULL
      LEFT JOIN retention_policies fp ON false
     WHERE d.completed_at IS NOT NULL AND d.status IN ('completed', 'rejected', 'withdrawn')
       AND ($1::uuid IS NULL OR d.id = $1)
  )`;

/** Not shredded already (by retention, a data-subject erasure or the organisation's closing): it needs no notice. */
const notDeleted = `
  NOT EXISTS (SELECT 1 FROM deletion_receipts d
               WHERE (d.record_kind = c.kind AND d.record_id = c.id) OR (d.record_kind = 'organization' AND d.organization_id = c.organization_id))`;

function groundsOf(candidate: Candidate): { rule: string; reason: string } {
  const period = periodFor(candidate.kind, candidate.status)!;
  return retentionGrounds(period, Number(candidate.keep_days), candidate.keep_source, { organizationId: candidate.organization_id, folderId: candidate.folder_id });
}

/** Gives notices to up to `limit` newly due records; answers how many got one. */
/**
 * `organizationIds` narrows a sweep to some organisations (tests sharing one database); production sweeps
 * every organisation.
 */
export interface SweepScope {
  organizationIds?: string[];
}

export async function giveNotices(db: Db, input: { batchId: string; now: Date; limit: number } & SweepScope): Promise<number> {
  const due: Candidate[] = await db.query(
    `${candidatesSql}
     SELECT * FROM candidates c
      WHERE NOT c.held AND c.ended_at + make_interval(days => c.keep_days) <= $2
        AND NOT EXISTS (SELECT 1 FROM retention_notices n WHERE n.record_kind = c.kind AND n.record_id = c.id AND n.state = 'pending')
        AND ${notDeleted}
        AND ($4::uuid[] IS NULL OR c.organization_id = ANY($4))
      ORDER BY c.ended_at, c.id
      LIMIT $3`,
    [null, input.now, input.limit, input.organizationIds ?? null],
  );
  let noticed = 0;
  for (const candidate of due) {
    const { rule, reason } = groundsOf(candidate);
    const inserted = await queryReturning(
      db,
      `INSERT INTO retention_notices (organization_id, record_kind, record_id, rule, reason, noticed_at, delete_not_before, batch_id)
       VALUES ($1, $2, $3, $4, $5, $6, $6::timestamptz + make_interval(days => $7), $8)
       ON CONFLICT (record_kind, record_id) WHERE state = 'pending' DO NOTHING
       RETURNING id`,
      [candidate.organization_id, candidate.kind, candidate.id, rule, reason, input.now, Number(candidate.notice_days), input.batchId],
    );
    noticed += inserted.length;
  }
  return noticed;
}

/** The organisations that got notices in this batch (ids only: they go into workflow history). */
export async function organizationsNoticed(db: Db, batchId: string): Promise<string[]> {
  const rows: Array<{ organization_id: string }> = await db.query(
    `SELECT DISTINCT organization_id FROM retention_notices WHERE batch_id = $1 ORDER BY organization_id`,
    [batchId],
  );
  return rows.map((row) => row.organization_id);
}

/** Takes back a batch's notices to an organisation whose notice email could not be sent (they are given again later). */
export async function withdrawNotices(db: Db, input: { batchId: string; organizationId: string }): Promise<number> {
  const rows = await queryReturning(
    db,
    `DELETE FROM retention_notices WHERE batch_id = $1 AND organization_id = $2 AND state = 'pending' RETURNING id`,
    [input.batchId, input.organizationId],
  );
  return rows.length;
}

/** Pending notices whose time has come (ids only). */
export async function noticesDue(db: Db, input: { now: Date; limit: number } & SweepScope): Promise<string[]> {
  const rows: Array<{ id: string }> = await db.query(
    `SELECT id FROM retention_notices
      WHERE state = 'pending' AND delete_not_before <= $1 AND ($3::uuid[] IS NULL OR organization_id = ANY($3))
      ORDER BY delete_not_before, id LIMIT $2`,
    [input.now, input.limit, input.organizationIds ?? null],
  );
  return rows.map((row) => row.id);
}

export type DeletionOutcome =
  | { outcome: 'deleted'; receiptId: string }
  | { outcome: 'skipped'; why: 'held' | 'not_due' | 'gone' | 'in_progress' | 'not_noticed' };

/**
 * Whether the summary naming this notice reached at least one owner or admin (`sendOnce` records each sent
 * message; the notice email's ids are `retention-notice-<batch>-<organisation>-<member>`). A batch whose run
 * died before emailing, or whose every address was refused, has notices nobody was told of.
 */
async function noticeWasSent(db: Db, notice: { batch_id: string; organization_id: string }): Promise<boolean> {
  const prefix = `retention-notice-${notice.batch_id.replace(/[^A-Za-z0-9_-]/g, '_')}-${notice.organization_id}-`;
  const [row]: Array<{ sent: boolean }> = await db.query(
    `SELECT EXISTS (SELECT 1 FROM sent_messages WHERE channel = 'email' AND starts_with(message_id, $1)) AS sent`,
    [prefix],
  );
  return row?.sent === true;
}

async function endNotice(db: Db, noticeId: string, state: 'deleted' | 'cleared'): Promise<void> {
  await db.query(`UPDATE retention_notices SET state = $2, ended_at = now() WHERE id = $1 AND state = 'pending'`, [noticeId, state]);
}

/** Shreds a noticed record if it is still due and not held; idempotent (a deleted record's receipt is returned again). */
export async function deleteNoticed(context: SigningContext, input: { noticeId: string; now: Date }): Promise<DeletionOutcome> {
  const db = context.dataSource;
  const [notice]: Array<{ record_kind: RetainedKind; record_id: string; state: string; batch_id: string; organization_id: string }> = await db.query(
    `SELECT record_kind, record_id, state, batch_id, organization_id FROM retention_notices WHERE id = $1`,
    [input.noticeId],
  );
  if (!notice) return { outcome: 'skipped', why: 'gone' };
  const record = { kind: notice.record_kind, id: notice.record_id };
  // Shredded already (a retry after the shred, or a data-subject erasure): the notice ends with it.
  const receipt = await findDeletionReceipt(context, record);
  if (receipt) {
    await endNotice(db, input.noticeId, 'deleted');
    return { outcome: 'deleted', receiptId: receipt.id };
  }
  if (notice.state !== 'pending') return { outcome: 'skipped', why: notice.state === 'deleted' ? 'gone' : 'not_due' };
  const [candidate]: Candidate[] = await db.query(`${candidatesSql} SELECT * FROM candidates c WHERE c.kind = $2`, [record.id, record.kind]);
  if (!candidate || candidate.held || new Date(candidate.ended_at).getTime() + Number(candidate.keep_days) * 86_400_000 > input.now.getTime()) {
    await endNotice(db, input.noticeId, 'cleared');
    return { outcome: 'skipped', why: !candidate ? 'gone' : candidate.held ? 'held' : 'not_due' };
  }
  // Nothing is deleted without notice: a notice never emailed is withdrawn, and the next run gives it again.
  if (!(await noticeWasSent(db, notice))) {
    await endNotice(db, input.noticeId, 'cleared');
    return { outcome: 'skipped', why: 'not_noticed' };
  }
  try {
    const done = await shredRecord(context, record, { ...groundsOf(candidate), actor: 'system:retention' });
    await endNotice(db, input.noticeId, 'deleted');
    return { outcome: 'deleted', receiptId: done.id };
  } catch (error) {
    // A hold placed between the check and the shred; or a record someone reopened: not ours to delete now.
    const code = error instanceof AppError ? (error.code as string) : undefined;
    if (code === 'legal_hold') {
      await endNotice(db, input.noticeId, 'cleared');
      return { outcome: 'skipped', why: 'held' };
    }
    if (code === 'record_in_progress') {
      await endNotice(db, input.noticeId, 'cleared');
      return { outcome: 'skipped', why: 'in_progress' };
    }
    throw error;
  }
}

/** Clears the pending notices a new hold covers (the record, or every record in the folder and below it). */
export async function clearNoticesUnderHold(db: Db, target: { kind: RetainedKind | 'folder'; id: string }): Promise<void> {
  if (target.kind !== 'folder') {
    await db.query(`UPDATE retention_notices SET state = 'cleared', ended_at = now() WHERE record_kind = $1 AND record_id = $2 AND state = 'pending'`, [
      target.kind,
      target.id,
    ]);
    return;
  }
  await db.query(
    `WITH RECURSIVE tree AS (SELECT id FROM folders WHERE id = $1 UNION SELECT f.id FROM folders f JOIN tree t ON f.parent_id = t.id)
     UPDATE retention_notices n SET state = 'cleared', ended_at = now()
      WHERE n.state = 'pending' AND (
        (n.record_kind = 'signing_request' AND n.record_id IN (SELECT id FROM signing_requests WHERE folder_id IN (SELECT id FROM tree))) OR
        (n.record_kind = 'kyc_case' AND n.record_id IN (SELECT id FROM kyc_cases WHERE folder_id IN (SELECT id FROM tree))))`,
    [target.id],
  );
}

export interface UpcomingDeletion {
  kind: RetainedKind;
  id: string;
  title: string | null;
  status: string;
  noticedAt: string;
  deleteNotBefore: string;
  rule: string;
  reason: string;
}

/** The organisation's pending notices, soonest first. */
export async function upcomingDeletions(db: Db, organizationId: string, limit: number): Promise<UpcomingDeletion[]> {
  const rows: Array<{
    record_kind: RetainedKind;
    record_id: string;
    title: string | null;
    text_sealed: Buffer | null;
    status: string | null;
    noticed_at: Date;
    delete_not_before: Date;
    rule: string;
    reason: string;
  }> = await db.query(
    `SELECT n.record_kind, n.record_id, r.title, r.text_sealed, COALESCE(r.status, c.status, d.status) AS status, n.noticed_at, n.delete_not_before, n.rule, n.reason
       FROM retention_notices n
       LEFT JOIN signing_requests r ON n.record_kind = 'signing_request' AND r.id = n.record_id
       LEFT JOIN kyc_cases c ON n.record_kind = 'kyc_case' AND c.id = n.record_id
       LEFT JOIN data_subject_requests d ON n.record_kind = 'data_subject_request' AND d.id = n.record_id
      WHERE n.organization_id = $1 AND n.state = 'pending'
      ORDER BY n.delete_not_before, n.id
      LIMIT $2`,
    [organizationId, limit],
  );
  // A request's title is under its key (src/signing/round-personal-data.ts).
  const titles = await Promise.all(
    rows.map(async (row) =>
      row.record_kind === 'signing_request'
        ? (await openRequestText(db, row.record_id, { title: row.title, message: null, document_filename: null, text_sealed: row.text_sealed })).title
        : row.title,
    ),
  );
  return rows.map((row, index) => ({
    kind: row.record_kind,
    id: row.record_id,
    title: titles[index] ?? null,
    status: row.status ?? 'unknown',
    noticedAt: row.noticed_at.toISOString(),
    deleteNotBefore: row.delete_not_before.toISOString(),
    rule: row.rule,
    reason: row.reason,
  }));
}

/**
 * Access packages whose download window has passed: the blob is deleted, its key cleared (the request keeps the
 * package's hash, size and expiry, so the handler and the requester still see what was sent and until when; a
 * download answers 410) and `package_deleted` is in the request's trail. Idempotent: each step may run again.
 */
export async function deleteExpiredAccessPackages(context: SigningContext, input: { now: Date; limit: number } & SweepScope): Promise<number> {
  const db = context.dataSource;
  const expired: Array<{ id: string; access_package_blob_key: string; access_package_sha256: string | null }> = await db.query(
    `SELECT id, access_package_blob_key, access_package_sha256 FROM data_subject_requests
      WHERE access_package_blob_key IS NOT NULL AND access_package_expires_at <= $1 AND ($3::uuid[] IS NULL OR organization_id = ANY($3))
      ORDER BY access_package_expires_at, id LIMIT $2`,
    [input.now, input.limit, input.organizationIds ?? null],
  );
  for (const found of expired) {
    await context.adapters.blobStore.delete(found.access_package_blob_key);
    await recordDsrEvent(db, {
      dsrId: found.id,
      eventKey: 'package_deleted',
      type: 'package_deleted',
      actor: 'system',
      detail: { sha256: found.access_package_sha256 },
      occurredAt: input.now,
    });
    // Last: until the key is cleared, a crash above is repeated by the next run.
    await db.query(`UPDATE data_subject_requests SET access_package_blob_key = NULL WHERE id = $1 AND access_package_blob_key = $2`, [
      found.id,
      found.access_package_blob_key,
    ]);
  }
  return expired.length;
}
