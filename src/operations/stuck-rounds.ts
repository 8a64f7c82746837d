/**
 * Rounds that need a person (issue 12 §3, R17): open rounds whose process should have moved and has not.
 *
 * - `past_deadline`: still pending, with signatures missing, a grace period after its deadline: the expiry
 *   timer should have fired, so the round's workflow is not running (no worker, terminated outside Sigill)
 *   or cannot record the expiry. An attempt killed with its worker reports no failure; a seal that keeps
 *   killing its worker shows as `no_progress` below.
 * - `seal_retrying` / `activity_failing`: a step failed `activityAttempts` times in a row and is still being
 *   retried (`activity_failures`, written by the worker interceptor in ./activity-failures.ts).
 * - `no_progress`: a step the round takes by itself is overdue by more than `progressAfterMs`: the seal once
 *   every signer has signed; an invitation (every signer at once in parallel rounds, the next one after each
 *   signature in sequential ones); the next scheduled reminder before the deadline. `since` is when it fell due.
 *
 * Everything is read from PostgreSQL (the read model, never Temporal), with the database's clock, so the API,
 * the gauge and every replica agree. One statement answers both the scoped list and the deployment-wide
 * gauge; it starts from the open rounds (partial index `signing_requests_open_idx`).
 */
import { openRequestText } from '../signing/round-personal-data';
import type { DataSource } from 'typeorm';
import { reachableFolderIds, type AccessScope } from '../accounts/access';
import type { SigningActivities } from '../activities/signing-activities';
import type { StuckRoundsConfig } from '../config';
import type { StuckReasonCode, StuckRoundsPage, StuckRoundView } from '../contract/stuck-rounds';

export type { StuckRoundsPage };

/** The steps of "seal, hash, archive": a failure in either keeps the sealed document from its signers. */
const sealSteps: Array<keyof SigningActivities> = ['sealSignedDocument', 'archiveSealedDocument'];

export const stuckReasonCodes = ['past_deadline', 'seal_retrying', 'activity_failing', 'no_progress'] as const satisfies readonly StuckReasonCode[];

/**
 * One row per (round, reason): parameters $1 organisation (NULL: all), $2 reachable folders (NULL: all),
 * $3 deadline grace (ms), $4 attempts threshold, $5 progress allowance (ms), $6 the seal steps.
 */
const findingsSql = `
  WITH open_rounds AS (
    SELECT r.id, r.created_at, r.expires_at, r.routing, r.reminder_first_after_ms, r.reminder_every_ms, r.reminder_max, r.reminders_sent,
           p.unsigned, p.awaiting, p.waiting, p.last_signed_at
      FROM signing_requests r
      CROSS JOIN LATERAL (
        SELECT count(*) FILTER (WHERE s.status <> 'signed') AS unsigned,
               count(*) FILTER (WHERE s.status IN ('invited', 'opened')) AS awaiting,
               count(*) FILTER (WHERE s.status = 'waiting') AS waiting,
               max(s.signed_at) AS last_signed_at
          FROM signers s WHERE s.request_id = r.id
      ) p
     WHERE r.status = 'pending'
       AND ($1::uuid IS NULL OR r.organization_id = $1::uuid)
       AND ($2::uuid[] IS NULL OR r.folder_id = ANY($2::uuid[]))
  ),
  due_steps AS (
    -- The earliest step due: the seal, an invitation, the next scheduled reminder (skipped by the round
    -- when it would fall on or after the deadline).
    SELECT o.id,
           LEAST(
             CASE WHEN o.unsigned = 0 THEN coalesce(o.last_signed_at, o.created_at) END,
             CASE WHEN o.waiting > 0 AND (o.routing = 'parallel' OR o.awaiting = 0) THEN GREATEST(o.created_at, o.last_signed_at) END,
             CASE WHEN o.awaiting > 0 AND o.reminders_sent < o.reminder_max AND reminder.at < o.expires_at THEN reminder.at END
           ) AS due_at
      FROM open_rounds o
      CROSS JOIN LATERAL (
        SELECT o.created_at + (o.reminder_first_after_ms + o.reminders_sent * o.reminder_every_ms) * interval '1 millisecond' AS at
      ) reminder
  )
  SELECT id AS request_id, 'past_deadline' AS reason, expires_at AS since, NULL::text AS activity, NULL::integer AS attempts, NULL::text AS last_error
    FROM open_rounds
   -- Once everyone has signed the deadline no longer applies: the round goes on to seal.
   WHERE unsigned > 0 AND expires_at < now() - $3::bigint * interval '1 millisecond'
  UNION ALL
  SELECT f.request_id, CASE WHEN f.activity_type = ANY($6::text[]) THEN 'seal_retrying' ELSE 'activity_failing' END,
         f.first_failed_at, f.activity_type, f.attempts, f.error_kind
    FROM activity_failures f JOIN open_rounds o ON o.id = f.request_id
   WHERE f.attempts >= $4::integer
  UNION ALL
  SELECT id, 'no_progress', due_at, NULL, NULL, NULL
    FROM due_steps
   WHERE due_at < now() - $5::bigint * interval '1 millisecond'`;

const findingsParameters = (organizationId: string | null, folderIds: string[] | null, rules: StuckRoundsConfig) => [
  organizationId,
  folderIds,
  rules.deadlineGraceMs,
  rules.activityAttempts,
  rules.progressAfterMs,
  sealSteps,
];

interface RoundRow {
  id: string;
  title: string | null;
  text_sealed: Buffer | null;
  status: string;
  folder_id: string;
  created_at: Date;
  expires_at: Date;
  last_event_at: Date | null;
  reasons: Array<{ code: StuckReasonCode; since: string; activity: string | null; attempts: number | null; lastError: string | null }> | string;
}

const iso = (value: Date | string) => new Date(value).toISOString();

/**
 * The stuck rounds the scope may see (its organisation, its reachable folders, as the request list filters),
 * longest stuck first, at most `limit`. It shows what the request list and audit trail already show (title,
 * status, folder, times) plus which step fails and how (never a message, never a signer).
 */
export async function listStuckRounds(
  dataSource: DataSource,
  scope: AccessScope,
  rules: StuckRoundsConfig,
  options: { limit: number },
): Promise<StuckRoundsPage> {
  const rows: RoundRow[] = await dataSource.query(
    `WITH findings AS (${findingsSql}),
          stuck AS (
            SELECT request_id,
                   min(since) AS stuck_since,
                   json_agg(json_build_object('code', reason, 'since', since, 'activity', activity, 'attempts', attempts, 'lastError', last_error)
                            ORDER BY since, reason, activity) AS reasons
              FROM findings GROUP BY request_id
             ORDER BY stuck_since, request_id
             LIMIT $7
          )
     SELECT r.id, r.title, r.text_sealed, r.status, r.folder_id, r.created_at, r.expires_at, stuck.reasons,
            (SELECT e.occurred_at FROM audit_events e WHERE e.request_id = r.id ORDER BY e.sequence DESC LIMIT 1) AS last_event_at
       FROM stuck JOIN signing_requests r ON r.id = stuck.request_id
      ORDER BY stuck.stuck_since, r.id`,
    [...findingsParameters(scope.organizationId, reachableFolderIds(scope) ?? null, rules), options.limit],
  );
  // Titles are under each request's key (src/signing/round-personal-data.ts).
  const titles = await Promise.all(
    rows.map(async (row) => (await openRequestText(dataSource, row.id, { title: row.title, message: null, document_filename: null, text_sealed: row.text_sealed })).title ?? ''),
  );
  return {
    items: rows.map(
      (row, index): StuckRoundView => ({
        requestId: row.id,
        title: titles[index]!,
        status: row.status,
        folderId: row.folder_id,
        createdAt: iso(row.created_at),
        expiresAt: iso(row.expires_at),
        lastEventAt: row.last_event_at ? iso(row.last_event_at) : null,
        reasons: (typeof row.reasons === 'string' ? (JSON.parse(row.reasons) as Exclude<RoundRow['reasons'], string>) : row.reasons).map((reason) => ({
          code: reason.code,
          since: iso(reason.since),
          activity: reason.activity,
          attempts: reason.attempts,
          lastError: reason.lastError,
        })),
      }),
    ),
  };
}

/** How many rounds are stuck for each reason, across every organisation (the gauge: one statement, counts only). */
export async function countStuckRounds(dataSource: DataSource, rules: StuckRoundsConfig): Promise<Record<StuckReasonCode, number>> {
  const rows: Array<{ reason: StuckReasonCode; rounds: string }> = await dataSource.query(
    `SELECT reason, count(DISTINCT request_id) AS rounds FROM (${findingsSql}) findings GROUP BY reason`,
    findingsParameters(null, null, rules),
  );
  const counts = Object.fromEntries(stuckReasonCodes.map((code) => [code, 0])) as Record<StuckReasonCode, number>;
  for (const row of rows) counts[row.reason] = Number(row.rounds);
  return counts;
}
