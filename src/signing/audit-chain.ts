/**
 * The hash chains of the audit records (R5): a request's audit trail and an organisation's audit log. Each
 * event's hash covers the previous event's hash and the event's recorded fields, so editing or removing a
 * row breaks every link after it. Two formats, told apart by each row's `chain_format`:
 *
 *   1 (plain, until migration 1763910000000):  hash = hex(SHA-256(UTF-8(prevHash + canonicalJson(record))))
 *   2 (keyed, from then on):                    hash = hex(HMAC-SHA-256(chainKey, UTF-8(prevHash + canonicalJson(record))))
 *
 * The chain key is a data key of the key service, stored only wrapped (src/signing/audit-chain-key.ts), so
 * someone who can write the database but cannot use the key service cannot compute a valid hash: editing
 * a row and recomputing plain SHA-256 hashes along the chain leaves every row after the edit broken.
 * Verification accepts only keyed rows. A row chained under format 1 before the change was re-anchored once
 * (audit-chain-key.ts): its fields and position unchanged, `hash` recomputed under the key along the chain,
 * and its plain hash kept in `legacy_hash`, which must still follow from its record and its predecessor's
 * legacy hash, because a seal made before the change printed one of those as the chain head.
 *
 * prevHash is the previous event's hex hash ('' for the first event, whose prev_hash is NULL) and the record
 * holds the fields as the database returns them: request_id, sequence, event_key, type, signer_id, actor,
 * channel, ip, user_agent, detail (jsonb, as parsed) and occurred_at (ISO 8601 in UTC, millisecond
 * precision). Absent values are null. canonicalJson is JSON with every object's keys sorted by UTF-16 code
 * units (jsonb reorders keys, so insertion order cannot be kept) and no whitespace.
 *
 * The record's keys sort as actor, channel, detail, event_key, ip, occurred_at, request_id, sequence,
 * signer_id, type, user_agent: the text is `prefix + sequence + suffix`.
 *
 * The migrations that chained and re-anchored existing rows, the appends and the verification all use this
 * module: a change to the format is a new format (and a new `chain_format` number), never an edit here.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

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

/** Format 1, plain SHA-256: kept to re-anchor and check the rows chained before the key. */
export function auditEventHash(prevHash: string | null, fields: ChainedAuditFields): string {
  return plainChainHash(prevHash, canonicalAuditRecord(fields));
}

/** Format 2, keyed: what every event appended since migration 1763910000000 carries. */
export function keyedAuditEventHash(chainKey: Buffer, prevHash: string | null, fields: ChainedAuditFields): string {
  return keyedChainHash(chainKey, prevHash, canonicalAuditRecord(fields));
}

/** The values of `chain_format`. */
export const chainFormat = { plainSha256: 1, keyed: 2 } as const;

export function plainChainHash(prevHash: string | null, record: string): string {
  return createHash('sha256').update(`${prevHash ?? ''}${record}`, 'utf8').digest('hex');
}

export function keyedChainHash(chainKey: Buffer, prevHash: string | null, record: string): string {
  if (chainKey.length < 32) throw new Error('the audit chain key is too short');
  return createHmac('sha256', chainKey).update(`${prevHash ?? ''}${record}`, 'utf8').digest('hex');
}

/** A chained row as stored, whichever chain it belongs to. */
export interface ChainLink {
  sequence: number;
  prevHash: string | null;
  hash: string;
  chainFormat: number;
  /** The plain (format 1) hash a re-anchored row had before; null on rows keyed when appended. */
  legacyHash: string | null;
}

/**
 * missing_event: positions jump here (an earlier event was removed); link_mismatch: its prev_hash is not
 * the previous event's hash; hash_mismatch: its fields no longer give its hash under the chain key (it was
 * edited, or its hash was recomputed without the key), or a re-anchored row's legacy hash does not follow.
 */
export type ChainBreak = 'hash_mismatch' | 'missing_event' | 'link_mismatch';

/**
 * Why `row` does not follow `previous` (undefined for the first row) in a keyed chain, if it does not.
 * `record` is the row's canonical record text.
 */
export function chainBreakAt(chainKey: Buffer, previous: ChainLink | undefined, row: ChainLink, record: string): ChainBreak | undefined {
  if (row.sequence !== (previous?.sequence ?? 0) + 1) return 'missing_event';
  // A row left on format 1 (its legacy chain was already broken when the key came) names its
  // predecessor's plain hash; so the break is reported where it is, not at the seam.
  const expectedPrev = row.chainFormat !== chainFormat.keyed && previous?.legacyHash ? previous.legacyHash : (previous?.hash ?? null);
  if (row.prevHash !== expectedPrev) return 'link_mismatch';
  // Plain hashes anyone can compute: never accepted, whatever the row claims.
  if (row.chainFormat !== chainFormat.keyed) return 'hash_mismatch';
  if (!sameHex(keyedChainHash(chainKey, row.prevHash, record), row.hash)) return 'hash_mismatch';
  if (row.legacyHash !== null) {
    // Re-anchored rows are a prefix of their chain, each legacy hash following from the one before.
    if (previous && previous.legacyHash === null) return 'hash_mismatch';
    if (plainChainHash(previous?.legacyHash ?? null, record) !== row.legacyHash) return 'hash_mismatch';
  }
  return undefined;
}

/**
 * An erased row (its personal columns removed when its record was shredded, src/privacy/shred-record.ts) can
 * no longer give its hash: only its place in the chain is checked — its position, and that it names its
 * predecessor's hash. The next row's link to it still covers its hash, so the linkage stays verifiable.
 */
export function erasedLinkBreakAt(previous: ChainLink | undefined, row: ChainLink): ChainBreak | undefined {
  if (row.sequence !== (previous?.sequence ?? 0) + 1) return 'missing_event';
  const expectedPrev = row.chainFormat !== chainFormat.keyed && previous?.legacyHash ? previous.legacyHash : (previous?.hash ?? null);
  return row.prevHash === expectedPrev ? undefined : 'link_mismatch';
}

function sameHex(a: string, b: string): boolean {
  const left = Buffer.from(a, 'utf8');
  const right = Buffer.from(b, 'utf8');
  return left.length === right.length && timingSafeEqual(left, right);
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
 * An organisation's audit log (admin actions, logins) is chained the same way, in the same two formats,
 * over its own record: actor, detail, ip, occurred_at, organization_id, sequence, type, user_agent (sorted
 * as written), with the sequence spliced in.
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

export function canonicalOrganizationAuditRecord(fields: ChainedOrganizationAuditFields): string {
  if (!Number.isSafeInteger(fields.sequence)) throw new Error(`invalid audit event sequence ${fields.sequence}`);
  const { prefix, suffix } = canonicalOrganizationAuditRecordParts(fields);
  return `${prefix}${fields.sequence}${suffix}`;
}

/** Format 1, plain SHA-256 (the rows chained before the key). */
export function organizationAuditEventHash(prevHash: string | null, fields: ChainedOrganizationAuditFields): string {
  return plainChainHash(prevHash, canonicalOrganizationAuditRecord(fields));
}

/** Format 2, keyed. */
export function keyedOrganizationAuditEventHash(chainKey: Buffer, prevHash: string | null, fields: ChainedOrganizationAuditFields): string {
  return keyedChainHash(chainKey, prevHash, canonicalOrganizationAuditRecord(fields));
}
