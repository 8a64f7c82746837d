/**
 * The organisation's audit log (R5, R8): role changes, invitations, grants, folders, API keys, logins and
 * failed logins. Append-only in the database (migration 1763870000000) and hash-chained under the chain
 * key like a request's trail (src/signing/audit-chain.ts), so an edited or removed row is found by
 * `verifyOrganizationAuditEvents`, also when its hashes were recomputed without the key.
 *
 * Entries name people and keys by id, never by email: the log outlives memberships, and ids are enough for
 * an administrator who can list members.
 */
import type { DataSource, EntityManager } from 'typeorm';
import { lostRace, tryChainAppend } from '../database/chain-append';
import { queryReturning } from '../database/data-source';
import { OrganizationAuditEvent } from '../database/entities';
import {
  canonicalJson,
  canonicalOrganizationAuditRecord,
  chainBreakAt,
  chainFormat,
  keyedOrganizationAuditEventHash,
  type ChainBreak,
} from '../signing/audit-chain';
import { auditChainKey } from '../signing/audit-chain-key';
import { truncateUserAgent, wellFormed } from '../signing/audit-trail';

export type OrganizationEventType =
  | 'member.invited'
  | 'member.role_changed'
  | 'member.removed'
  | 'grant.set'
  | 'grant.removed'
  | 'folder.created'
  | 'api_key.created'
  | 'api_key.revoked'
  | 'login.succeeded'
  | 'login.failed'
  | 'login.locked'
  | 'login.device_code_sent'
  | 'login.device_code_failed'
  | 'login.identity_linked'
  | 'logout'
  | 'password.reset_requested'
  | 'password.set'
  | 'organization.settings_changed'
  | 'organization.seal_set'
  | 'organization.seal_removed'
  | 'webhook_endpoint.created'
  | 'webhook_endpoint.updated'
  | 'webhook_endpoint.deleted'
  | 'webhook_endpoint.secret_rotated'
  | 'webhook_endpoint.redelivery_requested'
  | 'organization.export_requested'
  | 'organization.export_completed'
  | 'organization.export_copied'
  | 'organization.export_downloaded'
  | 'organization.closing_requested'
  | 'organization.closing_cancelled'
  | 'organization.closed'
  | 'retention_policy.changed'
  | 'legal_hold.placed'
  | 'legal_hold.released'
  /** A record was shredded (src/privacy/shred-record.ts); detail names the deletion receipt. */
  | 'record_deleted'
  /** The organisation's key was destroyed: all of its records are unreadable; detail names the final receipt. */
  | 'organization_key_destroyed';

/** Who did it and from where, as the API saw the request. */
export interface Actor {
  /** `user:<id>`, `api-key:<id>`, or `system`. */
  actor: string;
  ip?: string;
  userAgent?: string;
}

export interface NewOrganizationEvent extends Actor {
  organizationId: string;
  type: OrganizationEventType;
  detail?: Record<string, unknown>;
  occurredAt?: Date;
}

const maxAppendAttempts = 100;

/**
 * Appends one event at the organisation's next position with its keyed hash, as a request's trail does
 * (`recordAuditEvent`): the last position and hash are read, the hash computed here under the chain key,
 * and the insert adds the row only if that is still the last position; retried when a concurrent append
 * took it (src/database/chain-append.ts). Works inside a caller's transaction, so an admin change and its
 * audit entry commit together.
 */
export async function recordOrganizationEvent(db: DataSource | EntityManager, event: NewOrganizationEvent): Promise<void> {
  const stored = {
    organizationId: event.organizationId,
    type: event.type,
    actor: wellFormed(event.actor),
    ip: event.ip ? wellFormed(event.ip) : null,
    userAgent: event.userAgent ? wellFormed(truncateUserAgent(event.userAgent)) : null,
    detail: event.detail ? (JSON.parse(canonicalJson(event.detail)) as unknown) : null,
    occurredAt: new Date(event.occurredAt ?? Date.now()),
  };
  const key = auditChainKey(db);
  for (let attempt = 1; ; attempt++) {
    const [last]: Array<{ sequence: number; hash: string }> = await db.query(
      `SELECT sequence, hash FROM organization_audit_events WHERE organization_id = $1::uuid ORDER BY sequence DESC LIMIT 1`,
      [stored.organizationId],
    );
    const sequence = (last?.sequence ?? 0) + 1;
    const prevHash = last?.hash ?? null;
    const hash = keyedOrganizationAuditEventHash(key, prevHash, { ...stored, sequence });
    const appended = await tryChainAppend(db, 'organization_audit_events_pkey', () =>
      queryReturning(
        db,
        `WITH last AS (
           SELECT e.sequence, e.hash FROM organization_audit_events e WHERE e.organization_id = $1::uuid ORDER BY e.sequence DESC LIMIT 1
         )
         INSERT INTO organization_audit_events (organization_id, type, actor, ip, user_agent, detail, occurred_at, sequence, prev_hash, hash, chain_format)
         SELECT $1::uuid, $2::text, $3::text, $4::text, $5::text, $6::jsonb, $7::timestamptz, $8::integer, $9::text, $10::text, $11::smallint
          WHERE coalesce((SELECT sequence FROM last), 0) = $8::integer - 1
            AND (SELECT hash FROM last) IS NOT DISTINCT FROM $9::text
         RETURNING sequence`,
        [
          stored.organizationId,
          stored.type,
          stored.actor,
          stored.ip,
          stored.userAgent,
          stored.detail === null ? null : canonicalJson(stored.detail),
          stored.occurredAt,
          sequence,
          prevHash,
          hash,
          chainFormat.keyed,
        ],
      ),
    );
    // Nothing appended: another event took the position since it was read.
    if (appended !== lostRace && appended.length > 0) return;
    if (attempt >= maxAppendAttempts) throw new Error(`organisation audit event ${event.type} lost the race for its position ${attempt} times`);
  }
}

export interface OrganizationAuditVerification {
  valid: boolean;
  head?: string;
  firstBrokenEvent?: { sequence: number; type: string; reason: ChainBreak };
}

/** The whole log in chain order, and whether the chain holds. */
export async function readOrganizationAuditLog(
  db: DataSource | EntityManager,
  organizationId: string,
): Promise<{ events: OrganizationAuditEvent[]; verification: OrganizationAuditVerification }> {
  const events = await db.getRepository(OrganizationAuditEvent).find({ where: { organizationId }, order: { sequence: 'ASC' } });
  return { events, verification: verifyOrganizationAuditEvents(events, auditChainKey(db)) };
}

export function verifyOrganizationAuditEvents(events: OrganizationAuditEvent[], chainKey: Buffer): OrganizationAuditVerification {
  let previous: OrganizationAuditEvent | undefined;
  for (const event of events) {
    const reason = chainBreakAt(chainKey, previous, event, canonicalOrganizationAuditRecord(event));
    if (reason) return { valid: false, firstBrokenEvent: { sequence: event.sequence, type: event.type, reason } };
    previous = event;
  }
  return previous ? { valid: true, head: previous.hash } : { valid: true };
}
