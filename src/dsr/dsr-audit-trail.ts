/**
 * The audit trail of a data-subject request: every step (received, code sent, identity confirmed, assigned,
 * extended, reminders, overdue, fulfilment, the answer) as an append-only, hash-chained row of
 * `dsr_audit_events`, keyed with the audit chain key in the same format as the other trails
 * (src/signing/audit-chain.ts `keyedChainHash` over the previous hash and the canonical record: actor, detail,
 * dsr_id, event_key, ip, occurred_at, sequence, type, user_agent). Written like the KYC trail
 * (src/kyc/kyc-audit-trail.ts): optimistic append, one event per key, the webhook message in the same
 * statement. Details hold ids, counts and times, never the requester's data.
 *
 * Recording an event also keeps the request's read model (`data_subject_requests`) in step; an ended
 * request never moves back.
 */
import type { DataSource, EntityManager } from 'typeorm';
import { lostRace, tryChainAppend } from '../database/chain-append';
import { queryReturning } from '../database/data-source';
import { openAuditPersonalData, sealAuditPersonalData } from '../privacy/audit-personal-data';
import { canonicalJson, chainBreakAt, chainFormat, keyedChainHash, type ChainBreak } from '../signing/audit-chain';
import { auditChainKey } from '../signing/audit-chain-key';
import { truncateUserAgent, wellFormed } from '../signing/audit-trail';
import { enqueueForDsrSql, webhookMessagesForDsrEvent } from '../webhooks/events';

export type DsrEventType =
  | 'created'
  | 'code_sent'
  | 'code_failed'
  | 'locked'
  | 'identity_confirmed'
  | 'assigned'
  | 'extended'
  | 'extension_notified'
  | 'reminded'
  | 'overdue'
  | 'fulfilled'
  | 'fulfilment_failed'
  | 'fulfilment_refused'
  | 'completed'
  | 'rejected'
  | 'answered'
  | 'package_downloaded'
  | 'package_deleted';

export interface NewDsrEvent {
  dsrId: string;
  eventKey: string;
  type: DsrEventType;
  /** `requester`, `system`, `api-key:<id>` or `user:<id>`. */
  actor: string;
  ip?: string;
  userAgent?: string;
  detail?: Record<string, unknown>;
  occurredAt: string | Date;
}

export interface DsrAuditEvent {
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
}

const maxAppendAttempts = 100;
const ended = ['completed', 'rejected', 'withdrawn'];

function canonicalDsrRecord(fields: Omit<DsrAuditEvent, 'prevHash' | 'hash' | 'chainFormat' | 'legacyHash'> & { dsrId: string }): string {
  return canonicalJson({
    actor: fields.actor,
    detail: fields.detail ?? null,
    dsr_id: fields.dsrId,
    event_key: fields.eventKey,
    ip: fields.ip,
    occurred_at: fields.occurredAt.toISOString(),
    sequence: fields.sequence,
    type: fields.type,
    user_agent: fields.userAgent,
  });
}

/** Appends the event unless one with its key is on record, then brings the read model up to date. */
export async function recordDsrEvent(db: DataSource | EntityManager, event: NewDsrEvent): Promise<void> {
  const stored = {
    dsrId: event.dsrId.toLowerCase(),
    eventKey: wellFormed(event.eventKey),
    type: event.type,
    actor: wellFormed(event.actor),
    ip: event.ip === undefined ? null : wellFormed(event.ip),
    userAgent: event.userAgent === undefined ? null : wellFormed(truncateUserAgent(event.userAgent)),
    detail: event.detail ? (JSON.parse(canonicalJson(event.detail)) as Record<string, unknown>) : null,
    occurredAt: new Date(event.occurredAt),
  };
  const key = auditChainKey(db);
  // The IP, user agent and personal detail are stored under the request's key (the hash covers the plaintext).
  const personal = await sealAuditPersonalData(db, { kind: 'data_subject_request', id: stored.dsrId }, 'dsr_audit_events', stored.eventKey, stored);
  const drafts = webhookMessagesForDsrEvent(stored);
  const outbox = drafts.length === 0 ? '' : `, webhook_outbox AS (${enqueueForDsrSql('$13', '$1::uuid', 'EXISTS (SELECT 1 FROM appended)')})`;
  for (let attempt = 1; ; attempt++) {
    const [last]: Array<{ sequence: number; hash: string }> = await db.query(
      `SELECT sequence, hash FROM dsr_audit_events WHERE dsr_id = $1 ORDER BY sequence DESC LIMIT 1`,
      [stored.dsrId],
    );
    const sequence = (last?.sequence ?? 0) + 1;
    const prevHash = last?.hash ?? null;
    const hash = keyedChainHash(key, prevHash, canonicalDsrRecord({ ...stored, sequence }));
    const appended = await tryChainAppend(db, 'dsr_audit_events_chain_key', () =>
      queryReturning<{ sequence: number }>(
        db,
        `WITH last AS (
           SELECT e.sequence, e.hash FROM dsr_audit_events e WHERE e.dsr_id = $1::uuid ORDER BY e.sequence DESC LIMIT 1
         ), appended AS (
           INSERT INTO dsr_audit_events (dsr_id, event_key, type, actor, ip, user_agent, detail, occurred_at, sequence, prev_hash, hash, chain_format, sealed)
           SELECT $1::uuid, $2::text, $3::text, $4::text, $5::text, $6::text, $7::jsonb, $8::timestamptz, $9::integer, $10::text, $11::text, $12::smallint,
                  $${drafts.length === 0 ? 13 : 14}::bytea
            WHERE coalesce((SELECT sequence FROM last), 0) = $9::integer - 1
              AND (SELECT hash FROM last) IS NOT DISTINCT FROM $10::text
              AND NOT EXISTS (SELECT 1 FROM dsr_audit_events e WHERE e.dsr_id = $1::uuid AND e.event_key = $2::text)
           ON CONFLICT (dsr_id, event_key) DO NOTHING
           RETURNING sequence
         )${outbox}
         SELECT sequence FROM appended`,
        [
          stored.dsrId,
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
      if (attempt >= maxAppendAttempts) throw new Error(`data-subject request audit event ${stored.eventKey} lost the race for its position ${attempt} times`);
      continue;
    }
    const [recorded]: Array<{ sequence: number }> = await db.query(`SELECT sequence FROM dsr_audit_events WHERE dsr_id = $1 AND event_key = $2`, [
      stored.dsrId,
      stored.eventKey,
    ]);
    if (recorded) {
      await applyToReadModel(db, stored);
      return;
    }
    if (attempt >= maxAppendAttempts) throw new Error(`data-subject request audit event ${stored.eventKey} could not be recorded`);
  }
}

async function applyToReadModel(db: DataSource | EntityManager, event: { dsrId: string; type: string; detail: Record<string, unknown> | null; occurredAt: Date }) {
  const detail = event.detail ?? {};
  const id = event.dsrId;
  switch (event.type) {
    case 'identity_confirmed':
      await db.query(
        `UPDATE data_subject_requests SET identity_confirmed_at = coalesce(identity_confirmed_at, $2), identity_method = coalesce(identity_method, $3),
                status = CASE WHEN status = 'awaiting_identity' THEN 'in_progress' ELSE status END
          WHERE id = $1`,
        [id, event.occurredAt, detail.method ?? null],
      );
      return;
    case 'assigned':
      await db.query(`UPDATE data_subject_requests SET assignee_user_id = $2 WHERE id = $1`, [id, detail.memberId ?? null]);
      return;
    case 'extended':
      await db.query(`UPDATE data_subject_requests SET extended_until = coalesce(extended_until, $2::timestamptz) WHERE id = $1`, [id, detail.extendedUntil ?? null]);
      return;
    case 'extension_notified':
      await db.query(`UPDATE data_subject_requests SET extension_notified_at = coalesce(extension_notified_at, $2) WHERE id = $1`, [id, event.occurredAt]);
      return;
    case 'overdue':
      await db.query(`UPDATE data_subject_requests SET overdue_at = coalesce(overdue_at, $2) WHERE id = $1`, [id, event.occurredAt]);
      return;
    case 'completed':
    case 'rejected':
      await db.query(
        `UPDATE data_subject_requests SET status = $2, completed_at = coalesce(completed_at, $3) WHERE id = $1 AND status <> ALL($4::text[])`,
        [id, event.type, event.occurredAt, ended],
      );
      return;
    default:
      return;
  }
}

export async function readDsrAuditTrail(db: DataSource | EntityManager, dsrId: string): Promise<DsrAuditEvent[]> {
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
    sealed?: Buffer | null;
  }> = await db.query(`SELECT * FROM dsr_audit_events WHERE dsr_id = $1 ORDER BY sequence, id`, [dsrId]);
  const record = { kind: 'data_subject_request' as const, id: dsrId };
  const opened = await Promise.all(
    rows.map((row) => openAuditPersonalData(db, record, 'dsr_audit_events', row.event_key, { ip: row.ip, userAgent: row.user_agent, detail: row.detail, sealed: row.sealed ?? null })),
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
  }));
}

export interface DsrChainVerification {
  valid: boolean;
  head?: string;
  firstBrokenEvent?: { sequence: number; type: string; eventKey: string; reason: ChainBreak };
}

export async function verifyDsrAuditChain(db: DataSource | EntityManager, dsrId: string): Promise<{ events: DsrAuditEvent[]; verification: DsrChainVerification }> {
  const events = await readDsrAuditTrail(db, dsrId);
  const key = auditChainKey(db);
  let previous: DsrAuditEvent | undefined;
  for (const event of events) {
    const reason = chainBreakAt(key, previous, event, canonicalDsrRecord({ ...event, dsrId }));
    if (reason) return { events, verification: { valid: false, firstBrokenEvent: { sequence: event.sequence, type: event.type, eventKey: event.eventKey, reason } } };
    previous = event;
  }
  return { events, verification: previous ? { valid: true, head: previous.hash } : { valid: true } };
}
