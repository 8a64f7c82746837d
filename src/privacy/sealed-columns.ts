/**
 * A record's personal columns under its key (issue 14 part 1), with blind indexes to look records up by.
 *
 * A table keeps one `*_sealed` bytea holding the personal values as JSON, encrypted under the record key (a field
 * of src/privacy/record-keys.ts, context `sealed-columns` + table + record); the clear columns are NULL. Look-ups
 * by email or phone (a data subject's records, a rectification) compare blind indexes: HMAC-SHA-256 of the
 * normalised value under the organisation's blind-index key (derived from its key-encryption key, so closing the
 * organisation destroys it too). An index names no one by itself; with the organisation's key it only confirms
 * a guessed address — the trade every searchable encryption makes, and why only emails and phones get one.
 *
 * A record without a key yet (from before record keys) keeps its clear columns until the move to record keys
 * (src/privacy/move-to-record-keys.ts); readers accept both.
 */
import { createHmac } from 'node:crypto';
import { normalizedEmail, normalizedPhone } from '../dsr/fulfilment/subject-identifiers';
import { recordKeyringOfDatabase, type Queryable, type RecordRef } from './record-keys';

const columnsContext = (table: string) => ({ purpose: 'sealed-columns', table });

/** The values sealed under the record's key, or undefined when the record has no key yet (keep them in clear). */
export async function sealColumns(db: Queryable, record: RecordRef, table: string, values: Record<string, string | null>): Promise<Buffer | undefined> {
  return recordKeyringOfDatabase(db).encryptFieldUnderRecordKey(record, columnsContext(table), JSON.stringify(values), db);
}

/** The values as sealed (throws RecordKeyDestroyedError, HTTP 410, for a shredded record). */
export async function openColumns<T extends Record<string, string | null>>(db: Queryable, record: RecordRef, table: string, sealed: Buffer): Promise<T> {
  return JSON.parse(await recordKeyringOfDatabase(db).decryptField(record, columnsContext(table), sealed)) as T;
}

export type BlindIndexKind = 'email' | 'phone';

const normalized = (kind: BlindIndexKind, value: string): string | undefined => (kind === 'email' ? normalizedEmail(value) || undefined : normalizedPhone(value));

/** The blind index of a value (undefined for a value with no normal form, e.g. a phone without country code). */
export async function blindIndex(db: Queryable, organizationId: string, kind: BlindIndexKind, value: string | null | undefined): Promise<Buffer | undefined> {
  if (!value) return undefined;
  const normal = normalized(kind, value);
  if (normal === undefined) return undefined;
  const key = await recordKeyringOfDatabase(db).blindIndexKey(db, organizationId);
  return createHmac('sha256', key).update(`${kind}\u0000${normal}`).digest();
}

/** Blind indexes of several values (the ones with a normal form), for `column = ANY($n::bytea[])`. */
export async function blindIndexes(db: Queryable, organizationId: string, kind: BlindIndexKind, values: string[]): Promise<Buffer[]> {
  const indexes = await Promise.all(values.map((value) => blindIndex(db, organizationId, kind, value)));
  return indexes.filter((index): index is Buffer => index !== undefined);
}
