/**
 * The audit trail of a KYC case: every step (created, invited, opened, identified, submitted, the
 * declaration signed, each review, the end) as an append-only, hash-chained row of `kyc_audit_events`,
 * keyed with the audit chain key in the same format as a signing request's trail (src/signing/audit-chain.ts:
 * `keyedChainHash` over the previous hash and the canonical JSON of the record). The record hashed is
 * actor, case_id, detail, event_key, ip, occurred_at, sequence, type, user_agent.
 *
 * Recording an event also keeps the case's read model (`kyc_cases.status`) and its webhook outbox in step:
 * the status an event means is written only while no later status-bearing event is on record, so a retried
 * or late write never moves a case back; the webhook message is written by the same statement as the event.
 */
import type { DataSource, EntityManager } from 'typeorm';
import { kycEndStatuses, type KycCaseStatus } from '../contract/kyc-cases';
import { lostRace, tryChainAppend } from '../database/chain-append';
import { queryReturning } from '../database/data-source';
import { openAuditPersonalData, sealAuditPersonalData } from '../privacy/audit-personal-data';
import { canonicalJson, chainBreakAt, chainFormat, erasedLinkBreakAt, keyedChainHash, type ChainBreak } from '../signing/audit-chain';
import { auditChainKey } from '../signing/audit-chain-key';
import { truncateUserAgent, wellFormed } from '../signing/audit-trail';
import { enqueueForKycCaseSql, webhookMessagesForKycEvent } from '../webhooks/events';

export type KycEventType =
  | 'created'
  | 'invited'
  | 'reminded'
  | 'link_opened'
  | 'opened'
  | 'pin_failed'
  | 'locked'
  | 'pin_reset'
  | 'pin_sent'
  | 'identified'
  | 'identification_mismatch'
  | 'upload_added'
  | 'upload_removed'
  | 'submitted'
  | 'declaration_prepared'
  | 'declaration_signed'
  | 'declaration_ended'
  | 'approved'
  | 'rejected'
  | 'changes_requested'
  | 'expired'
  | 'cancelled'
  | 'failed'
  | 'evidence_archived'
  | 'notified'
  // Data-subject requests (src/dsr/fulfilment/): contact data corrected, reminders stopped, a reminder not sent.
  | 'contact_rectified'
  | 'contact_restricted'
  | 'reminder_skipped';

export interface NewKycEvent {
  caseId: string;
  eventKey: string;
  type: KycEventType;
  /** `customer`, `system`, `api-key:<id>` or `user:<id>`. */
  actor: string;
  ip?: string;
  userAgent?: string;
  detail?: Record<string, unknown>;
  occurredAt: string | Date;
}

export interface KycAuditEvent {
  sequence: number;
  eventKey: string;
  type: string;
  actor: string;
  ip: string | null;
  userAgent: string | null;
  detail: Record<string, unknown> | null;
  occurredAt: Date;
  prevHash: string | null;
  hash: string;
  chainFormat: number;
  legacyHash: null;
  /** When the case was shredded and this event's personal columns erased (its hash can no longer be recomputed). */
  erasedAt: Date | null;
}

const maxAppendAttempts = 100;

/** The status an event puts the case in; `opened`/`identified` only take an invited case in hand. */
function statusAfter(event: { type: string; detail: unknown }): KycCaseStatus | undefined {
  switch (event.type) {
    case 'submitted':
      return 'signing';
    case 'declaration_signed':
      return 'in_review';
    case 'declaration_ended':
      return 'in_progress';
    case 'approved':
      return (event.detail as { final?: unknown } | null)?.final === true ? 'approved' : undefined;
    case 'rejected':
    case 'changes_requested':
    case 'expired':
    case 'cancelled':
    case 'failed':
      return event.type;
    default:
      return undefined;
  }
}

const statusBearingTypes = ['submitted', 'declaration_signed', 'declaration_ended', 'rejected', 'changes_requested', 'expired', 'cancelled', 'approved', 'failed'];

function canonicalKycRecord(fields: Omit<KycAuditEvent, 'prevHash' | 'hash' | 'chainFormat' | 'legacyHash' | 'erasedAt'> & { caseId: string }): string {
  return canonicalJson({
    actor: fields.actor,
    case_id: fields.caseId,
    detail: fields.detail ?? null,
    event_key: fields.eventKey,
    ip: fields.ip,
    occurred_at: fields.occurredAt.toISOString(),
    sequence: fields.sequence,
    type: fields.type,
    user_agent: fields.userAgent,
  });
}

/**
 * Appends the event unless one with its key is on record, then brings the read model up to date. Optimistic
 * like the signing trail's append (src/signing/audit-trail.ts): read the head, insert at the next position
 * only if it is still the head, else try again.
 */
export async function recordKycEvent(db: DataSource | EntityManager, event: NewKycEvent): Promise<void> {
  const stored = {
    caseId: event.caseId.toLowerCase(),
    eventKey: wellFormed(event.eventKey),
    type: event.type,
    actor: wellFormed(event.actor),
    ip: event.ip === undefined ? null : wellFormed(event.ip),
    userAgent: event.userAgent === undefined ? null : wellFormed(truncateUserAgent(event.userAgent)),
    detail: event.detail ? (JSON.parse(canonicalJson(event.detail)) as Record<string, unknown>) : null,
    occurredAt: new Date(event.occurredAt),
  };
  const key = auditChainKey(db);
  // The IP, user agent and personal detail are stored under the case's key (the hash covers the plaintext).
  const personal = await sealAuditPersonalData(db, { kind: 'kyc_case', id: stored.caseId }, 'kyc_audit_events', stored.eventKey, stored);
  const drafts = webhookMessagesForKycEvent(stored);
  const outbox = drafts.length === 0 ? '' : `, webhook_outbox AS (${enqueueForKycCaseSql('$13', '$1::uuid', 'EXISTS (SELECT 1 FROM appended)')})`;
  for (let attempt = 1; ; attempt++) {
    const [last]: Array<{ sequence: number; hash: string }> = await db.query(
      `SELECT sequence, hash FROM kyc_audit_events WHERE case_id = $1 ORDER BY sequence DESC LIMIT 1`,
      [stored.caseId],
    );
    const sequence = (last?.sequence ?? 0) + 1;
    const prevHash = last?.hash ?? null;
    const hash = keyedChainHash(key, prevHash, canonicalKycRecord({ ...stored, sequence }));
    const appended = await tryChainAppend(db, 'kyc_audit_events_chain_key', () =>
      queryReturning<{ sequence: number }>(
        db,
        `WITH last AS (
           SELECT e.sequence, e.hash FROM kyc_audit_events e WHERE e.case_id = $1::uuid ORDER BY e.sequence DESC LIMIT 1
         ), appended AS (
           INSERT INTO kyc_audit_events (case_id, event_key, type, actor, ip, user_agent, detail, occurred_at, sequence, prev_hash, hash, chain_format, sealed)
           SELECT $1::uuid, $2::text, $3::text, $4::text, $5::text, $6::text, $7::jsonb, $8::timestamptz, $9::integer, $10::text, $11::text, $12::smallint,
                  $${drafts.length === 0 ? 13 : 14}::bytea
            WHERE coalesce((SELECT sequence FROM last), 0) = $9::integer - 1
              AND (SELECT hash FROM last) IS NOT DISTINCT FROM $10::text
              AND NOT EXISTS (SELECT 1 FROM kyc_audit_events e WHERE e.case_id = $1::uuid AND e.event_key = $2::text)
           ON CONFLICT (case_id, event_key) DO NOTHING
           RETURNING sequence
         )${outbox}
         SELECT sequence FROM appended`,
        [
          stored.caseId,
          stored.eventKey,
          stored.type,
          stored.actor,
          personal.ip,
          personal.userAgent,
          personal.detail === null ? null : canonicalJson(personal.detail),
          stored.occurredAt,
          sequence,
          prevHash,
          hash,
          chainFormat.keyed,
          ...(drafts.length === 0 ? [] : [JSON.stringify(drafts)]),
          personal.sealed,
        ],
      ),
    );
    if (appended === lostRace) {
      if (attempt >= maxAppendAttempts) throw new Error(`KYC audit event ${stored.eventKey} lost the race for its position ${attempt} times`);
      continue;
    }
    const [recorded]: Array<{ sequence: number }> = await db.query(`SELECT sequence FROM kyc_audit_events WHERE case_id = $1 AND event_key = $2`, [
      stored.caseId,
      stored.eventKey,
    ]);
    if (recorded) {
      await applyToReadModel(db, stored.caseId, { ...stored, sequence: recorded.sequence });
      return;
    }
    if (attempt >= maxAppendAttempts) throw new Error(`KYC audit event ${stored.eventKey} could not be recorded`);
  }
}

async function applyToReadModel(
  db: DataSource | EntityManager,
  caseId: string,
  event: { type: string; eventKey: string; actor: string; detail: Record<string, unknown> | null; sequence: number; occurredAt: Date },
) {
  const detail = event.detail ?? {};
  const review = /^review:(\d+)$/.exec(event.eventKey);
  if (review) {
    await db.query(
      `INSERT INTO kyc_reviews (case_id, position, decision, reviewer_id, reviewer_name, reason, round, at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING`,
      [caseId, Number(review[1]), event.type, event.actor, detail.reviewerName ?? null, detail.reason ?? null, detail.round ?? null, event.occurredAt],
    );
  }
  if (event.type === 'submitted') {
    await db.query(`UPDATE kyc_cases SET second_review_reasons = $2 WHERE id = $1`, [caseId, JSON.stringify(detail.secondReviewReasons ?? [])]);
  }
  if (event.type === 'changes_requested') {
    // A send-back near the deadline moves it (src/workflows/kyc-case.ts): the new one is in the event.
    await db.query(`UPDATE kyc_cases SET changes_reason = $2, changes_requested_at = $3, expires_at = coalesce($4::timestamptz, expires_at) WHERE id = $1`, [
      caseId,
      detail.reason ?? null,
      event.occurredAt,
      typeof detail.expiresAt === 'string' ? detail.expiresAt : null,
    ]);
  }
  if (event.type === 'reminded') {
    await db.query(`UPDATE kyc_cases SET reminders_sent = (SELECT count(*) FROM kyc_audit_events WHERE case_id = $1 AND type = 'reminded') WHERE id = $1`, [caseId]);
  }
  if (event.type === 'opened' || event.type === 'identified') {
    await db.query(`UPDATE kyc_cases SET status = 'in_progress' WHERE id = $1 AND status = 'invited'`, [caseId]);
    return;
  }
  const status = statusAfter(event);
  if (!status) return;
  const ends = kycEndStatuses.includes(status);
  await db.query(
    `UPDATE kyc_cases SET status = $2, ended_at = CASE WHEN $3 THEN coalesce(ended_at, $4) ELSE ended_at END
      WHERE id = $1
        AND status <> ALL($7::text[])
        AND NOT EXISTS (SELECT 1 FROM kyc_audit_events e WHERE e.case_id = $1 AND e.sequence > $5 AND e.type = ANY($6::text[])
                         AND (e.type <> 'approved' OR (e.detail->>'final')::boolean IS TRUE))`,
    // An ended case stays ended: nothing recorded after its end (e.g. by a run that should never have started) moves it.
    [caseId, status, ends, event.occurredAt, event.sequence, statusBearingTypes, kycEndStatuses],
  );
}

export async function readKycAuditTrail(db: DataSource | EntityManager, caseId: string): Promise<KycAuditEvent[]> {
  const rows: Array<{
    sequence: number;
    event_key: string;
    type: string;
    actor: string;
    ip: string | null;
    user_agent: string | null;
    detail: Record<string, unknown> | null;
    occurred_at: Date;
    prev_hash: string | null;
    hash: string;
    chain_format: number;
    erased_at: Date | null;
    sealed: Buffer | null;
  }> = await db.query(
    // Only a deleted case's rows count as erased (see readAuditTrail): a live trail's row marked erased is hashed.
    `SELECT e.*, CASE WHEN c.deleted_at IS NOT NULL THEN e.erased_at END AS erased_at
       FROM kyc_audit_events e JOIN kyc_cases c ON c.id = e.case_id
      WHERE e.case_id = $1 ORDER BY e.sequence, e.id`,
    [caseId],
  );
  const record = { kind: 'kyc_case' as const, id: caseId };
  const opened = await Promise.all(
    rows.map((row) => openAuditPersonalData(db, record, 'kyc_audit_events', row.event_key, { ip: row.ip, userAgent: row.user_agent, detail: row.detail, sealed: row.sealed ?? null })),
  );
  return rows.map((row, index) => ({
    sequence: row.sequence,
    eventKey: row.event_key,
    type: row.type,
    actor: row.actor,
    ...opened[index]!,
    occurredAt: row.occurred_at,
    prevHash: row.prev_hash,
    hash: row.hash,
    chainFormat: row.chain_format,
    legacyHash: null,
    erasedAt: row.erased_at ?? null,
  }));
}

export interface KycChainVerification {
  valid: boolean;
  head?: string;
  firstBrokenEvent?: { sequence: number; type: string; eventKey: string; reason: ChainBreak };
  /** Set when the case was shredded: erased events are checked for linkage only (src/signing/audit-chain.ts erasedLinkBreakAt). */
  erased?: { at: string; linkageIntact: boolean };
}

export function verifyKycAuditEvents(caseId: string, events: KycAuditEvent[], chainKey: Buffer): KycChainVerification {
  let previous: KycAuditEvent | undefined;
  const erasedAt = events.find((event) => event.erasedAt)?.erasedAt;
  const erased = (linkageIntact: boolean) => (erasedAt ? { erased: { at: erasedAt.toISOString(), linkageIntact } } : {});
  for (const event of events) {
    const reason = event.erasedAt ? erasedLinkBreakAt(previous, event) : chainBreakAt(chainKey, previous, event, canonicalKycRecord({ ...event, caseId }));
    if (reason) return { valid: false, firstBrokenEvent: { sequence: event.sequence, type: event.type, eventKey: event.eventKey, reason }, ...erased(false) };
    previous = event;
  }
  return previous ? { valid: true, head: previous.hash, ...erased(true) } : { valid: true };
}

export async function verifyKycAuditChain(db: DataSource | EntityManager, caseId: string): Promise<KycChainVerification> {
  return verifyKycAuditEvents(caseId, await readKycAuditTrail(db, caseId), auditChainKey(db));
}
