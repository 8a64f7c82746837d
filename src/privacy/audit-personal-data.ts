/**
 * The personal part of an audit event — IP address, user agent and the detail members that can name someone
 * (typed names, eID evidence, contact changes, free text) — stored under its record's key (issue 14 part 1), so
 * destroying the key makes it unreadable in database backups too. One place for all three trails (signing
 * requests, KYC cases, data-subject requests).
 *
 * A row keeps in clear what names no one: actor (a role or a member's id), type, times, chain fields, and the
 * detail members listed in `nonPersonalDetailKeys` (hashes, ids, counts, statuses), which queries, the
 * tombstone and chain verification after a deletion read. `sealed` holds the complete ip/userAgent/detail;
 * reading prefers it. Hashes are computed over the plaintext, so chain verification is unchanged.
 *
 * An event of a record that has no key yet (from before record keys) is stored in clear; the move to record
 * keys seals it later (src/privacy/move-to-record-keys.ts).
 */
import { UnreadableCiphertextError } from './encrypted-field';
import type { Queryable, RecordRef } from './record-keys';
import { recordKeyringOfDatabase } from './record-keys';

export type AuditTrailTable = 'audit_events' | 'kyc_audit_events' | 'dsr_audit_events';

/**
 * Audit detail members that hold no personal data: kept in clear, also on an erased event. The append-only
 * triggers check a seal against this list as migration 1763940000000 wrote it: a change here needs a migration.
 */
export const nonPersonalDetailKeys = [
  'sha256',
  'auditChainHead',
  'evidenceSha256',
  'previousSha256',
  'previousEvidenceSha256',
  'timestampAt',
  'renewBefore',
  'blobStore',
  'status',
  'outcome',
  'final',
  'round',
  'requestId',
  'identificationId',
  'uploadId',
  'questionnaireId',
  'questionnaireVersion',
  'identification',
  'recipients',
  'refused',
  'channel',
  'via',
];
const nonPersonal = new Set(nonPersonalDetailKeys);

export interface AuditPersonalData {
  ip: string | null;
  userAgent: string | null;
  detail: Record<string, unknown> | null;
}

/** As a row stores it: `sealed` set means ip/userAgent are NULL and detail holds only non-personal members. */
export interface StoredAuditPersonalData extends AuditPersonalData {
  sealed: Buffer | null;
}

export const auditPersonalDataContext = (table: AuditTrailTable, eventKey: string) => ({ purpose: 'audit-personal-data', table, eventKey });

const hasPersonalMembers = (detail: Record<string, unknown> | null) => detail !== null && Object.keys(detail).some((key) => !nonPersonal.has(key));

/** The detail's non-personal members, or null when it has none. */
export function nonPersonalDetail(detail: Record<string, unknown> | null): Record<string, unknown> | null {
  if (!detail) return null;
  const kept = Object.entries(detail).filter(([key]) => nonPersonal.has(key));
  return kept.length === 0 ? null : Object.fromEntries(kept);
}

/** Whether an event carries anything personal (else it is stored as it is). */
export const isPersonal = (data: AuditPersonalData) => data.ip !== null || data.userAgent !== null || hasPersonalMembers(data.detail);

/**
 * What to store for an event's personal data. `db` is the caller's transaction when the record's key may have
 * been created in it.
 */
export async function sealAuditPersonalData(
  db: Queryable,
  record: RecordRef,
  table: AuditTrailTable,
  eventKey: string,
  data: AuditPersonalData,
): Promise<StoredAuditPersonalData> {
  if (!isPersonal(data)) return { ...data, sealed: null };
  // Sealed or not, an event holds only what PostgreSQL text can (no NUL): the same SQLSTATE the column would
  // raise, so the round ends visibly as before (src/activities/permanent-failures.ts) instead of keeping it.
  if (holdsNul(data)) throw Object.assign(new Error('an audit event holds a NUL character, which text columns cannot store'), { code: '22P05' });
  const keyring = recordKeyringOfDatabase(db);
  const sealed = await keyring.encryptFieldUnderRecordKey(record, auditPersonalDataContext(table, eventKey), JSON.stringify({ ip: data.ip, userAgent: data.userAgent, detail: data.detail }), db);
  if (!sealed) return { ...data, sealed: null };
  return { ip: null, userAgent: null, detail: nonPersonalDetail(data.detail), sealed };
}

const holdsNul = (value: unknown): boolean =>
  typeof value === 'string'
    ? value.includes('\u0000')
    : Array.isArray(value)
      ? value.some(holdsNul)
      : value !== null && typeof value === 'object' && Object.entries(value).some(([key, member]) => key.includes('\u0000') || holdsNul(member));

/** The event's personal data as it was recorded (an erased row has no `sealed` and keeps what was left). */
export async function openAuditPersonalData(
  db: Queryable,
  record: RecordRef,
  table: AuditTrailTable,
  eventKey: string,
  stored: StoredAuditPersonalData,
): Promise<AuditPersonalData> {
  const inClear = { ip: stored.ip, userAgent: stored.userAgent, detail: stored.detail };
  if (!stored.sealed) return inClear;
  let plaintext: string;
  try {
    plaintext = await recordKeyringOfDatabase(db).decryptField(record, auditPersonalDataContext(table, eventKey), stored.sealed);
  } catch (error) {
    // Edited in the database, or another event's value moved here: the event is read as the row holds it in clear,
    // and chain verification, whose hash covers the personal part, names it as broken. A whole trail that fails
    // to read would hide every other event and the place of the break.
    if (error instanceof UnreadableCiphertextError) return inClear;
    throw error;
  }
  const opened = JSON.parse(plaintext) as AuditPersonalData;
  return { ip: opened.ip, userAgent: opened.userAgent, detail: opened.detail };
}
