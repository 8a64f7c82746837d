/**
 * The hash chain of a request's audit trail (R5). Each event's hash covers the previous event's hash and
 * the event's recorded fields, so editing or removing a row breaks every link after it:
 *
 *   hash = hex(SHA-256(UTF-8(prevHash + canonicalJson(record))))
 *
 * where prevHash is the previous event's hex hash ('' for the first event, whose prev_hash is NULL) and
 * the record holds the fields as the database returns them: request_id, sequence, event_key, type,
 * signer_id, actor, channel, ip, user_agent, detail (jsonb, as parsed) and occurred_at (ISO 8601 in UTC,
 * millisecond precision). Absent values are null. canonicalJson is JSON with every object's keys sorted
 * by UTF-16 code units (jsonb reorders keys, so insertion order cannot be kept) and no whitespace.
 *
 * The record's keys sort as actor, channel, detail, event_key, ip, occurred_at, request_id, sequence,
 * signer_id, type, user_agent: the text is `prefix + sequence + suffix`, which lets the database compute
 * the hash while it appends (it alone knows the sequence and previous hash at that moment).
 *
 * Both the migration that chained existing rows and `recordAuditEvent` / `verifyAuditChain` use this
 * module: a change to the format is a new format (and a way to tell them apart), never an edit here.
 */
import { createHash } from 'node:crypto';

export interface ChainedAuditFields {
  requestId: string;
  sequence: number;
  eventKey: string;
  type: string;
  signerId: string | null;
  actor: string;
  channel: string | null;
  ip: string | null;
  userAgent: string | null;
  detail: unknown;
  occurredAt: Date;
}

/** The canonical record around its sequence number: `${prefix}${sequence}${suffix}`. */
export function canonicalAuditRecordParts(fields: Omit<ChainedAuditFields, 'sequence'>): { prefix: string; suffix: string } {
  return partsAroundSequence({
    actor: fields.actor,
    channel: fields.channel,
    detail: fields.detail ?? null,
    event_key: fields.eventKey,
    ip: fields.ip,
    occurred_at: fields.occurredAt.toISOString(),
    request_id: fields.requestId,
    signer_id: fields.signerId,
    type: fields.type,
    user_agent: fields.userAgent,
  });
}

/**
 * canonicalJson of `record` plus a `sequence` member, split where the sequence number goes: the database,
 * which alone knows the number when it appends, puts it between the two halves.
 */
function partsAroundSequence(record: Record<string, unknown>): { prefix: string; suffix: string } {
  const keys = [...Object.keys(record), 'sequence'].sort();
  const member = (key: string) => `${JSON.stringify(key)}:${canonicalJson(record[key])}`;
  const at = keys.indexOf('sequence');
  const before = keys.slice(0, at).map(member);
  const after = keys.slice(at + 1).map(member);
  return {
    prefix: `{${[...before, '"sequence":'].join(',')}`,
    suffix: `${after.length ? ',' : ''}${after.join(',')}}`,
  };
}

/** The exact text that is hashed after the previous hash. */
export function canonicalAuditRecord(fields: ChainedAuditFields): string {
  if (!Number.isSafeInteger(fields.sequence)) throw new Error(`invalid audit event sequence ${fields.sequence}`);
  const { prefix, suffix } = canonicalAuditRecordParts(fields);
  return `${prefix}${fields.sequence}${suffix}`;
}

export function auditEventHash(prevHash: string | null, fields: ChainedAuditFields): string {
  return createHash('sha256')
    .update(`${prevHash ?? ''}${canonicalAuditRecord(fields)}`, 'utf8')
    .digest('hex');
}

/**
 * JSON with every object's keys in ascending order of their UTF-16 code units (plain byte order for ASCII
 * keys, numeric-looking keys included) and no whitespace. The value is first normalised as JSON.stringify
 * does (undefined members dropped, dates as strings), so what can be hashed is what jsonb can store.
 */
export function canonicalJson(value: unknown): string {
  const json = JSON.stringify(value);
  return json === undefined ? 'null' : serialise(JSON.parse(json));
}

function serialise(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(serialise).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const members = Object.keys(value)
      .sort()
      .map((key) => `${JSON.stringify(key)}:${serialise((value as Record<string, unknown>)[key])}`);
    return `{${members.join(',')}}`;
  }
  return JSON.stringify(value);
}

/**
 * An organisation's audit log (admin actions, logins) is chained the same way, over its own record:
 * actor, detail, ip, occurred_at, organization_id, sequence, type, user_agent (sorted as written), so
 * `hash = hex(SHA-256(UTF-8(prevHash + canonicalJson(record))))` again, with the sequence spliced in.
 */
export interface ChainedOrganizationAuditFields {
  organizationId: string;
  sequence: number;
  type: string;
  actor: string;
  ip: string | null;
  userAgent: string | null;
  detail: unknown;
  occurredAt: Date;
}

export function canonicalOrganizationAuditRecordParts(fields: Omit<ChainedOrganizationAuditFields, 'sequence'>): { prefix: string; suffix: string } {
  return partsAroundSequence({
    actor: fields.actor,
    detail: fields.detail ?? null,
    ip: fields.ip,
    occurred_at: fields.occurredAt.toISOString(),
    organization_id: fields.organizationId,
    type: fields.type,
    user_agent: fields.userAgent,
  });
}

export function organizationAuditEventHash(prevHash: string | null, fields: ChainedOrganizationAuditFields): string {
  if (!Number.isSafeInteger(fields.sequence)) throw new Error(`invalid audit event sequence ${fields.sequence}`);
  const { prefix, suffix } = canonicalOrganizationAuditRecordParts(fields);
  return createHash('sha256')
    .update(`${prevHash ?? ''}${prefix}${fields.sequence}${suffix}`, 'utf8')
    .digest('hex');
}
