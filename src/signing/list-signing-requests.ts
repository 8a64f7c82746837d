/**
 * Listing the signing requests a scope may see (its organisation, its folders), newest first, with an opaque
 * cursor (keyset pagination), filtered by status, folder, creation time and a search over title, document code
 * and signers' names and addresses. Each item carries its signers' names and progress, so a list shows who has
 * signed at a glance. One SQL statement per page.
 */
import { openRequestText, openSignerContact, searchQueryTokens } from './round-personal-data';
import type { DataSource } from 'typeorm';
import { AppError } from '../errors';
import type { RequestStatus, SignerStatus } from '../database/entities';
import { reachableFolderIds, type AccessScope } from '../accounts/access';

import type { ListedRequest } from '../contract/signing-requests';

export type { ListedRequest };

export interface ListFilters {
  status?: RequestStatus;
  folderId?: string;
  /** Part of the document code, or word beginnings of the title or a signer's name or email (each word of it); case-insensitive. */
  q?: string;
  /** Created at or after this instant. */
  createdFrom?: string;
  /** Created before this instant. */
  createdTo?: string;
}

interface Cursor {
  createdAt: string;
  id: string;
}

const encodeCursor = (cursor: Cursor) => Buffer.from(JSON.stringify(cursor)).toString('base64url');

function decodeCursor(text: string): Cursor {
  try {
    const cursor = JSON.parse(Buffer.from(text, 'base64url').toString('utf8')) as Cursor;
    if (typeof cursor.id === 'string' && /^[0-9a-f-]{36}$/i.test(cursor.id) && !Number.isNaN(Date.parse(cursor.createdAt))) return cursor;
  } catch {
    // fall through
  }
  throw new AppError('invalid_request', 'query.cursor: is not a cursor this API returned.');
}

/** `%text%` for ILIKE with the text's own `%`, `_` and `\` taken literally. */
export const containsPattern = (text: string) => `%${text.replace(/[\\%_]/g, (char) => `\\${char}`)}%`;

/**
 * The walk is the listing index (organization_id, created_at DESC, id DESC) newest first, stopping after
 * `limit` matches; the signers of each row come by their (request_id, position) key. A search matches on the
 * rows walked: the document code by any part, titles, names and addresses by whole-word prefixes through the
 * request's search tokens (rows from before record keys, still in clear, by any part).
 */
export async function listSigningRequests(
  dataSource: DataSource,
  scope: AccessScope,
  options: ListFilters & { cursor?: string; limit: number },
): Promise<{ items: ListedRequest[]; nextCursor?: string }> {
  const after = options.cursor ? decodeCursor(options.cursor) : undefined;
  const search = options.q?.trim() ? containsPattern(options.q.trim()) : null;
  // Titles, names and addresses are under each request's key: a search finds them by the keyed hashes of their
  // word prefixes (src/signing/round-personal-data.ts); the document code (not personal) still by any part.
  const tokens = options.q?.trim() ? await searchQueryTokens(dataSource, scope.organizationId, options.q) : [];
  const rows: Array<{
    id: string;
    title: string;
    status: RequestStatus;
    document_code: string;
    folder_id: string;
    created_at: Date;
    expires_at: Date;
    deleted_at: Date | null;
    text_sealed: Buffer | null;
    signers: Array<{ name: string | null; email: string | null; sealed: string | null; status: SignerStatus; locked: boolean }> | string;
  }> = await dataSource.query(
    `SELECT r.id, r.title, r.text_sealed, r.status, r.document_code, r.folder_id, r.created_at, r.expires_at, r.deleted_at,
            (SELECT coalesce(json_agg(json_build_object('name', s.name, 'email', s.email, 'sealed', encode(s.contact_sealed, 'base64'),
                                                        'status', s.status, 'locked', s.locked_at IS NOT NULL)
                                      ORDER BY s.position), '[]'::json)
               FROM signers s WHERE s.request_id = r.id) AS signers
       FROM signing_requests r
      WHERE r.organization_id = $1
        AND ($6::uuid[] IS NULL OR r.folder_id = ANY($6::uuid[]))
        AND ($7::uuid IS NULL OR r.folder_id = $7)
        AND ($2::text IS NULL OR r.status = $2)
        AND ($3::timestamptz IS NULL OR (r.created_at, r.id) < ($3::timestamptz, $4::uuid))
        AND ($9::timestamptz IS NULL OR r.created_at >= $9)
        AND ($10::timestamptz IS NULL OR r.created_at < $10)
        AND ($8::text IS NULL
             OR r.document_code ILIKE $8 ESCAPE '\\'
             OR (cardinality($11::bytea[]) > 0 AND r.search_tokens @> $11::bytea[])
             OR r.title ILIKE $8 ESCAPE '\\'
             OR EXISTS (SELECT 1 FROM signers m
                         WHERE m.request_id = r.id AND (m.name ILIKE $8 ESCAPE '\\' OR m.email ILIKE $8 ESCAPE '\\')))
      ORDER BY r.created_at DESC, r.id DESC
      LIMIT $5`,
    [
      scope.organizationId,
      options.status ?? null,
      after?.createdAt ?? null,
      after?.id ?? null,
      options.limit + 1,
      reachableFolderIds(scope) ?? null,
      options.folderId ?? null,
      search,
      options.createdFrom ?? null,
      options.createdTo ?? null,
      tokens,
    ],
  );
  const page = await Promise.all(rows.slice(0, options.limit).map(async (row) => {
    const stored = typeof row.signers === 'string' ? (JSON.parse(row.signers) as Exclude<typeof row.signers, string>) : row.signers;
    const text = await openRequestText(dataSource, row.id, { title: row.title, message: null, document_filename: null, text_sealed: row.text_sealed });
    const signers = await Promise.all(
      stored.map(async (signer) => ({
        ...signer,
        ...(await openSignerContact(dataSource, row.id, { name: signer.name, email: signer.email, phone: null, contact_sealed: signer.sealed ? Buffer.from(signer.sealed, 'base64') : null })),
      })),
    );
    return {
      id: row.id,
      title: text.title ?? '',
      status: row.status,
      documentCode: row.document_code,
      folderId: row.folder_id,
      createdAt: new Date(row.created_at).toISOString(),
      expiresAt: new Date(row.expires_at).toISOString(),
      // A shredded request lists as its tombstone: empty title and names.
      ...(row.deleted_at ? { deletedAt: new Date(row.deleted_at).toISOString() } : {}),
      signers: signers.map((signer) => ({
        name: signer.name ?? '',
        email: signer.email ?? '',
        // As the request's own view says it: a locked link matters only while the signer still has to act.
        status: signer.locked && (signer.status === 'invited' || signer.status === 'opened') ? ('locked' as const) : signer.status,
      })),
    };
  }));
  const last = page[page.length - 1];
  return { items: page, nextCursor: rows.length > options.limit && last ? encodeCursor({ createdAt: last.createdAt, id: last.id }) : undefined };
}
