/**
 * A signing request's personal columns under its record key (issue 14 part 1): the signers' names, emails and
 * phones (`signers.contact_sealed`) and the request's title, message and document file name
 * (`signing_requests.text_sealed`), the clear columns NULL. A request without a key yet (from before record
 * keys) keeps them in clear until the move (src/privacy/move-to-record-keys.ts); readers accept both.
 *
 * Readers through TypeORM entities get them opened by `SealedRoundDataSubscriber` (afterLoad); raw SQL readers
 * call `openSignerContact` / `openRequestText`. Look-ups: blind indexes of email and phone
 * (src/privacy/sealed-columns.ts) and, for the list's search, `search_tokens`: keyed hashes (under the
 * organisation's blind-index key, truncated to 16 bytes) of every word prefix of 1 to 24 characters of the title,
 * the signers' names and their addresses, so a search finds words by their beginning, never by their middle.
 */
import { createHmac } from 'node:crypto';
import { EventSubscriber, type EntitySubscriberInterface, type LoadEvent } from 'typeorm';
import { Signer, SigningRequest } from '../database/entities';
import type { Queryable, RecordRef } from '../privacy/record-keys';
import { recordKeyringOfDatabase } from '../privacy/record-keys';
import { blindIndex, openColumns, sealColumns } from '../privacy/sealed-columns';

export interface SignerContact {
  name: string | null;
  email: string | null;
  phone: string | null;
}

export interface RequestText {
  title: string | null;
  message: string | null;
  document_filename: string | null;
}

const recordOf = (requestId: string): RecordRef => ({ kind: 'signing_request', id: requestId });

/** What a signer row stores: the contact sealed (clear columns NULL) or, with no key yet, in clear; indexes either way. */
export async function storedSignerContact(db: Queryable, organizationId: string, requestId: string, contact: SignerContact) {
  const indexes = {
    email_index: (await blindIndex(db, organizationId, 'email', contact.email)) ?? null,
    phone_index: (await blindIndex(db, organizationId, 'phone', contact.phone)) ?? null,
  };
  const sealed = await sealColumns(db, recordOf(requestId), 'signers', { ...contact });
  if (!sealed) return { ...contact, contact_sealed: null, ...indexes };
  return { name: null, email: null, phone: null, contact_sealed: sealed, ...indexes };
}

/** What a request row stores for its title, message and file name. */
export async function storedRequestText(db: Queryable, requestId: string, text: RequestText) {
  const sealed = await sealColumns(db, recordOf(requestId), 'signing_requests', { ...text });
  if (!sealed) return { ...text, text_sealed: null };
  return { title: null, message: null, document_filename: null, text_sealed: sealed };
}

/** A signer row's contact, readable (a tombstone's stays empty). */
export async function openSignerContact(db: Queryable, requestId: string, row: SignerContact & { contact_sealed?: Buffer | null }): Promise<SignerContact> {
  if (!row.contact_sealed) return { name: row.name, email: row.email, phone: row.phone };
  const opened = await openColumns<SignerContact & Record<string, string | null>>(db, recordOf(requestId), 'signers', row.contact_sealed);
  return { name: opened.name, email: opened.email, phone: opened.phone };
}

/** A request row's title, message and file name, readable. */
export async function openRequestText(db: Queryable, requestId: string, row: RequestText & { text_sealed?: Buffer | null }): Promise<RequestText> {
  if (!row.text_sealed) return { title: row.title, message: row.message, document_filename: row.document_filename };
  const opened = await openColumns<RequestText & Record<string, string | null>>(db, recordOf(requestId), 'signing_requests', row.text_sealed);
  return { title: opened.title, message: opened.message, document_filename: opened.document_filename };
}

/** Words as the search compares them: lower case, NFC, split on anything but letters, their marks and digits. */
export const searchWords = (text: string): string[] =>
  text
    .normalize('NFC')
    .toLowerCase()
    .split(/[^\p{L}\p{M}\p{N}]+/u)
    .filter((word) => word.length > 0);

/** From the first letter: a search typed a letter at a time finds as it goes. */
const minPrefix = 1;
const maxPrefix = 24;

function token(key: Buffer, prefix: string): Buffer {
  return createHmac('sha256', key).update(`search\u0000${prefix}`).digest().subarray(0, 16);
}

/** The request's search tokens: every word prefix of its title and its signers' names and addresses. */
export async function searchTokensOf(db: Queryable, organizationId: string, texts: Array<string | null | undefined>): Promise<Buffer[]> {
  const key = await recordKeyringOfDatabase(db).blindIndexKey(db, organizationId);
  const prefixes = new Set<string>();
  for (const text of texts) {
    for (const word of searchWords(text ?? '')) {
      const letters = [...word];
      for (let length = Math.min(minPrefix, letters.length); length <= Math.min(maxPrefix, letters.length); length++) prefixes.add(letters.slice(0, length).join(''));
    }
  }
  return [...prefixes].map((prefix) => token(key, prefix));
}

/** The tokens a search must all find (its words, as prefixes; a word longer than the longest prefix is cut). */
export async function searchQueryTokens(db: Queryable, organizationId: string, query: string): Promise<Buffer[]> {
  const key = await recordKeyringOfDatabase(db).blindIndexKey(db, organizationId);
  return searchWords(query).map((word) => token(key, [...word].slice(0, maxPrefix).join('')));
}

/** Recomputes a request's search tokens from what it holds now (after a signer's contact changed). */
export async function refreshSearchTokens(db: Queryable, organizationId: string, requestId: string): Promise<void> {
  const [request]: Array<RequestText & { text_sealed: Buffer | null }> = await db.query(
    `SELECT title, message, document_filename, text_sealed FROM signing_requests WHERE id = $1`,
    [requestId],
  );
  if (!request) return;
  const signers: Array<SignerContact & { contact_sealed: Buffer | null }> = await db.query(
    `SELECT name, email, phone, contact_sealed FROM signers WHERE request_id = $1`,
    [requestId],
  );
  const text = await openRequestText(db, requestId, request);
  const contacts = await Promise.all(signers.map((signer) => openSignerContact(db, requestId, signer)));
  const tokens = await searchTokensOf(db, organizationId, [text.title, ...contacts.flatMap((contact) => [contact.name, contact.email])]);
  await db.query(`UPDATE signing_requests SET search_tokens = $2 WHERE id = $1`, [requestId, tokens]);
}

/**
 * Seals what a request from before record keys holds in clear (its title, message, file name and its signers'
 * contacts) and computes its search tokens; used by the move to record keys, inside its transaction. Rows are
 * locked and values already sealed are left as they are.
 */
export async function sealRoundPersonalData(db: Queryable, organizationId: string, requestId: string): Promise<void> {
  const [request]: Array<RequestText & { text_sealed: Buffer | null }> = await db.query(
    `SELECT title, message, document_filename, text_sealed FROM signing_requests WHERE id = $1 FOR UPDATE`,
    [requestId],
  );
  if (!request) return;
  if (!request.text_sealed) {
    const stored = await storedRequestText(db, requestId, request);
    await db.query(`UPDATE signing_requests SET title = $2, message = $3, document_filename = $4, text_sealed = $5 WHERE id = $1`, [
      requestId,
      stored.title,
      stored.message,
      stored.document_filename,
      stored.text_sealed,
    ]);
  }
  const signers: Array<SignerContact & { id: string; contact_sealed: Buffer | null }> = await db.query(
    `SELECT id, name, email, phone, contact_sealed FROM signers WHERE request_id = $1 FOR UPDATE`,
    [requestId],
  );
  for (const signer of signers) {
    if (signer.contact_sealed || (signer.name === null && signer.email === null && signer.phone === null)) continue;
    const stored = await storedSignerContact(db, organizationId, requestId, signer);
    await db.query(`UPDATE signers SET name = $2, email = $3, phone = $4, contact_sealed = $5, email_index = $6, phone_index = $7 WHERE id = $1`, [
      signer.id,
      stored.name,
      stored.email,
      stored.phone,
      stored.contact_sealed,
      stored.email_index,
      stored.phone_index,
    ]);
  }
  await refreshSearchTokens(db, organizationId, requestId);
}

/**
 * Opens sealed columns of Signer and SigningRequest entities as TypeORM loads them, so every reader through
 * a repository sees the plaintext (the entity's sealed field is left as loaded).
 */
@EventSubscriber()
export class SealedRoundDataSubscriber implements EntitySubscriberInterface {
  async afterLoad(entity: unknown, event?: LoadEvent<unknown>): Promise<void> {
    const db = event?.dataSource ?? event?.manager;
    if (!db) return;
    if (entity instanceof Signer && entity.contactSealed && entity.requestId) {
      const contact = await openSignerContact(db, entity.requestId, { name: null, email: null, phone: null, contact_sealed: entity.contactSealed });
      entity.name = contact.name!;
      entity.email = contact.email!;
      entity.phone = contact.phone;
    } else if (entity instanceof SigningRequest && entity.textSealed && entity.id) {
      const text = await openRequestText(db, entity.id, { title: null, message: null, document_filename: null, text_sealed: entity.textSealed });
      entity.title = text.title!;
      entity.message = text.message;
      entity.documentFilename = text.document_filename!;
    }
  }
}
