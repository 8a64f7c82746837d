/**
 * The audit trail of a signing request (R5): who was invited on which channel, who opened, failed a PIN,
 * viewed, signed or declined, from which IP and user agent, and when. Each event has a key unique within
 * its request, so recording it again (an activity retry) keeps one row.
 *
 * Tamper-evident: the events of a request form a hash chain keyed with the audit chain key
 * (src/signing/audit-chain.ts, audit-chain-key.ts). Each takes the next position (a unique index makes
 * concurrent appends retry, so positions stay consecutive), and the database refuses to update or delete
 * audit rows (migration 1763840000000). `verifyAuditChain` names the first event where the chain breaks
 * after someone changed rows behind the database's back, also when they recomputed the hashes without the key.
 */
import type { DataSource, EntityManager } from 'typeorm';
import { lostRace, tryChainAppend } from '../database/chain-append';
import { queryReturning } from '../database/data-source';
import { AuditEvent, SigningRequest } from '../database/entities';
import { openAuditPersonalData, sealAuditPersonalData } from '../privacy/audit-personal-data';
import { canonicalAuditRecord, canonicalJson, chainBreakAt, chainFormat, erasedLinkBreakAt, keyedAuditEventHash, type ChainBreak } from './audit-chain';
import { auditChainKey } from './audit-chain-key';
import { applyEventToReadModel } from './round-read-model';
import { enqueueForRequestSql, webhookMessagesForRoundEvent } from '../webhooks/events';

export type AuditEventType =
  | 'created'
  | 'invited'
  | 'pin_sent'
  | 'link_opened'
  | 'opened'
  | 'pin_failed'
  | 'locked'
  | 'pin_reset'
  | 'viewed'
  | 'last_page_reached'
  | 'downloaded'
  | 'signed'
  | 'declined'
  | 'reminded'
  | 'expired'
  | 'cancelled'
  | 'sealed'
  | 'archived'
  | 'archive_renewed'
  | 'failed'
  | 'notified'
  | 'identified'
  | 'identification_mismatch'
  | 'identification_reset'
  // Data-subject requests (src/dsr/fulfilment/): contact data corrected, reminders stopped, a reminder not sent.
  | 'contact_rectified'
  | 'contact_restricted'
  | 'reminder_skipped';

export interface NewAuditEvent {
  requestId: string;
  eventKey: string;
  type: AuditEventType;
  signerId?: string;
  actor: string;
  channel?: string;
  ip?: string;
  userAgent?: string;
  detail?: Record<string, unknown>;
  occurredAt: string | Date;
}

/** Longest user agent kept (UTF-16 code units, never splitting a surrogate pair). */
const maxUserAgentLength = 512;

/** Attempts before giving up when other events of the same request keep taking the next position. */
const maxAppendAttempts = 100;

/**
 * Appends the event to its request's chain, unless an event with its key was recorded already, and brings
 * the request's read model up to date with it (src/signing/round-read-model.ts). Works on the data source
 * or on a transaction's EntityManager (archiveSealedDocument records inside its transaction).
 *
 * Two statements append: the first reads the chain's last position and hash, the second inserts the event
 * at the next position with its keyed hash (computed here: the chain key never leaves the process, see
 * audit-chain-key.ts) only if that is still the chain's last position and hash. If a concurrent append took
 * the position first, the insert adds nothing (or the unique index on (request_id, sequence) refuses it) and
 * it is tried again, so positions stay gap-free and each event links to its predecessor. No lock and no
 * transaction of its own: on the embedded PGlite, whose socket server interleaves the protocol messages of
 * concurrent connections (electric-sql/pglite#1046), every extra transaction made unrelated queries fail
 * more often; the insert's condition also keeps a read answered with another connection's rows from
 * linking the event wrongly. Inside a caller's transaction, a savepoint keeps a lost race from aborting it.
 */
export async function recordAuditEvent(db: DataSource | EntityManager, event: NewAuditEvent): Promise<void> {
  // Exactly what PostgreSQL will store and return: the hash covers what verification reads back.
  const stored = {
    requestId: canonicalUuid(event.requestId),
    eventKey: wellFormed(event.eventKey),
    type: wellFormed(event.type),
    signerId: event.signerId === undefined ? null : canonicalUuid(event.signerId),
    actor: wellFormed(event.actor),
    channel: event.channel === undefined ? null : wellFormed(event.channel),
    ip: event.ip === undefined ? null : wellFormed(event.ip),
    userAgent: event.userAgent === undefined ? null : wellFormed(truncateUserAgent(event.userAgent)),
    detail: event.detail ? (JSON.parse(canonicalJson(event.detail)) as unknown) : null,
    occurredAt: new Date(event.occurredAt),
  };
  const key = auditChainKey(db);
  // The IP, user agent and personal detail are stored under the request's key (the hash covers the plaintext).
  const personal = await sealAuditPersonalData(db, { kind: 'signing_request', id: stored.requestId }, 'audit_events', stored.eventKey, {
    ...stored,
    detail: stored.detail as Record<string, unknown> | null,
  });
  // Webhook messages the event raises are written by the same statement as the event (a data-modifying
  // CTE), only when the event row is: an event without its message, or a message without its event,
  // cannot be committed. Drafted once, so every attempt carries the same message ids.
  const drafts = webhookMessagesForRoundEvent(stored);
  const webhookOutbox =
    drafts.length === 0 ? '' : `, webhook_outbox AS (${enqueueForRequestSql('$15', '$1::uuid', 'EXISTS (SELECT 1 FROM appended)')})`;
  for (let attempt = 1; ; attempt++) {
    const [last]: Array<{ sequence: number; hash: string }> = await db.query(
      `SELECT sequence, hash FROM audit_events WHERE request_id = $1::uuid ORDER BY sequence DESC LIMIT 1`,
      [stored.requestId],
    );
    const sequence = (last?.sequence ?? 0) + 1;
    const prevHash = last?.hash ?? null;
    const hash = keyedAuditEventHash(key, prevHash, { ...stored, sequence });
    const appended = await tryChainAppend(db, 'audit_events_chain_key', () =>
      queryReturning<{ event_key: string }>(
        db,
        `WITH last AS (
           SELECT e.sequence, e.hash FROM audit_events e WHERE e.request_id = $1::uuid ORDER BY e.sequence DESC LIMIT 1
         ), appended AS (
         INSERT INTO audit_events (request_id, event_key, type, signer_id, actor, channel, ip, user_agent, detail, occurred_at,
                                   sequence, prev_hash, hash, chain_format, sealed)
         SELECT $1::uuid, $2::text, $3::text, $4::uuid, $5::text, $6::text, $7::text, $8::text, $9::jsonb, $10::timestamptz,
                $11::integer, $12::text, $13::text, $14::smallint, $${drafts.length === 0 ? 15 : 16}::bytea
          WHERE coalesce((SELECT sequence FROM last), 0) = $11::integer - 1
            AND (SELECT hash FROM last) IS NOT DISTINCT FROM $12::text
            AND NOT EXISTS (SELECT 1 FROM audit_events e WHERE e.request_id = $1::uuid AND e.event_key = $2::text)
         ON CONFLICT (request_id, event_key) DO NOTHING
         RETURNING event_key
         )${webhookOutbox}
         SELECT event_key FROM appended`,
        [
          stored.requestId,
          stored.eventKey,
          stored.type,
          stored.signerId,
          stored.actor,
          stored.channel,
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
      if (attempt >= maxAppendAttempts) throw new Error(`audit event ${event.eventKey} lost the race for its position ${attempt} times`);
      continue;
    }
    // Nothing appended means the event was recorded already, or another event took the position since it
    // was read (then this one is tried again). Make sure of which rather than assume it: the embedded
    // PGlite's socket server can run one connection's statement with another's parameters
    // (electric-sql/pglite#1046), and an audit event must not vanish silently.
    const recorded =
      appended.some((row) => row.event_key === stored.eventKey) ||
      (await db.query(`SELECT 1 FROM audit_events WHERE request_id = $1 AND event_key = $2`, [stored.requestId, stored.eventKey])).length > 0;
    if (recorded) {
      // Also when it was recorded before: an earlier attempt may have died before this step.
      await applyEventToReadModel(db, stored);
      return;
    }
    if (attempt >= maxAppendAttempts) throw new Error(`audit event ${event.eventKey} could not be recorded`);
  }
}

export function truncateUserAgent(userAgent: string): string {
  const cut = userAgent.slice(0, maxUserAgentLength);
  return /[\uD800-\uDBFF]$/.test(cut) ? cut.slice(0, -1) : cut;
}

/** Lone surrogates become U+FFFD, as they do on their way to PostgreSQL as UTF-8. */
export function wellFormed(text: string): string {
  return text.replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '\uFFFD');
}

/** A uuid as PostgreSQL prints it (lower case, hyphenated); anything else is left for PostgreSQL to refuse. */
function canonicalUuid(value: string): string {
  const hex = value.replace(/^\{(.*)\}$/, '$1').replace(/-/g, '').toLowerCase();
  if (!/^[0-9a-f]{32}$/.test(hex)) return value;
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** The request's events in chain order (which is the order they were recorded). */
export async function readAuditTrail(db: DataSource | EntityManager, requestId: string): Promise<AuditEvent[]> {
  const events = await db.getRepository(AuditEvent).find({ where: { requestId }, order: { sequence: 'ASC', id: 'ASC' } });
  // Erased rows (a shredded request) and sealed personal data, read through to_jsonb so a schema from before
  // migrations 1763929000000 / 1763940000000 reads too. Only a deleted request's rows count as erased: a row
  // marked erased in a live trail (inserted or edited by someone with database access) is verified by its hash
  // like any other, and so breaks the chain.
  const extras: Array<{ id: string; erased_at: string | null; sealed: string | null }> = await db.query(
    `SELECT e.id::text AS id, CASE WHEN to_jsonb(r) ->> 'deleted_at' IS NOT NULL THEN to_jsonb(e) ->> 'erased_at' END AS erased_at,
            to_jsonb(e) ->> 'sealed' AS sealed
       FROM audit_events e JOIN signing_requests r ON r.id = e.request_id
      WHERE e.request_id = $1 AND (to_jsonb(e) ->> 'erased_at' IS NOT NULL OR to_jsonb(e) ->> 'sealed' IS NOT NULL)`,
    [requestId],
  );
  const extraOf = new Map(extras.map((row) => [Number(row.id), row]));
  const record = { kind: 'signing_request' as const, id: requestId };
  for (const event of events) {
    const extra = extraOf.get(event.id);
    event.erasedAt = extra?.erased_at ? new Date(extra.erased_at) : null;
    const sealed = extra?.sealed ? Buffer.from(extra.sealed.replace(/^\\x/, ''), 'hex') : null;
    Object.assign(event, await openAuditPersonalData(db, record, 'audit_events', event.eventKey, { ...event, sealed }));
  }
  return events;
}

export interface AuditChainVerification {
  valid: boolean;
  /** The last event's hash, when the whole chain verifies. */
  head?: string;
  /** Where the chain breaks: the first event whose position, link or hash is wrong. */
  firstBrokenEvent?: {
    sequence: number;
    type: string;
    eventKey?: string;
    /**
     * missing_event: positions jump here (an earlier event was removed); link_mismatch: its prev_hash is
     * not the previous event's hash (or, for the 'sealed' event, the chain head it names is no earlier
     * event's hash); hash_mismatch: its fields no longer give its keyed hash (it was edited, or its hash
     * recomputed without the chain key; an edited or moved sealed personal part no longer opens, and the
     * event is read without it).
     */
    reason: ChainBreak;
  };
  /**
   * Set when the request was shredded: its events' personal columns were erased on this date, so their hashes
   * cannot be recomputed; `valid` then says the linkage (positions, each event naming its predecessor's hash)
   * is intact.
   */
  erased?: { at: string; linkageIntact: boolean };
}

/** Recomputes the request's chain from the database. */
export async function verifyAuditChain(db: DataSource | EntityManager, requestId: string): Promise<AuditChainVerification> {
  return verifyAuditEvents(await readAuditTrail(db, requestId), auditChainKey(db));
}

/** Verifies events as read by `readAuditTrail` (one request, chain order) under the chain key. */
export function verifyAuditEvents(events: AuditEvent[], chainKey: Buffer): AuditChainVerification {
  let previous: AuditEvent | undefined;
  const hashes = new Set<string>();
  const erasedAt = events.find((event) => event.erasedAt)?.erasedAt;
  const erased = (linkageIntact: boolean) => (erasedAt ? { erased: { at: erasedAt.toISOString(), linkageIntact } } : {});
  for (const event of events) {
    const broken = (reason: ChainBreak): AuditChainVerification => ({
      valid: false,
      firstBrokenEvent: { sequence: event.sequence, type: event.type, eventKey: event.eventKey, reason },
      ...erased(false),
    });
    const reason = event.erasedAt ? erasedLinkBreakAt(previous, event) : chainBreakAt(chainKey, previous, event, canonicalAuditRecord(event));
    if (reason) return broken(reason);
    // The seal names the head it printed: it must be an earlier event's hash (its plain hash, for a seal
    // made before the key), or the chain was rewritten.
    const sealedHead = event.type === 'sealed' ? event.detail?.auditChainHead : undefined;
    if (typeof sealedHead === 'string' && !hashes.has(sealedHead)) return broken('link_mismatch');
    hashes.add(event.hash);
    if (event.legacyHash) hashes.add(event.legacyHash);
    previous = event;
  }
  return previous ? { valid: true, head: previous.hash, ...erased(true) } : { valid: true };
}

/**
 * Deletes a signing request together with its audit trail: the one deletion of audit rows the database
 * allows, and only for a transaction that sets `sigill.allow_audit_delete` locally (the rows of a request
 * that still exists can never be deleted). Used when a request just created could not be started.
 */
export async function deleteSigningRequestWithAuditTrail(db: DataSource, requestId: string): Promise<void> {
  await db.transaction(async (tx) => {
    await tx.query(`SELECT set_config('sigill.allow_audit_delete', 'on', true)`);
    await tx.delete(SigningRequest, { id: requestId });
  });
}
