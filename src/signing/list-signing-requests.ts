/** Listing the signing requests a scope may see (its organisation, its folders), newest first, with an opaque cursor (keyset pagination). */
import type { DataSource } from 'typeorm';
import { AppError } from '../errors';
import type { RequestStatus } from '../database/entities';
import { reachableFolderIds, type AccessScope } from '../accounts/access';

export interface ListedRequest {
  id: string;
  title: string;
  status: RequestStatus;
  documentCode: string;
  createdAt: string;
  expiresAt: string;
}

interface Cursor {
  createdAt: string;
  id: string;
}

const encodeCursor = (cursor: Cursor) => Buffer.from(JSON.stringify(cursor)).toString('base64url');

function decodeCursor(text: string): Cursor {
  try {
    const cursor = JSON.parse(Buffer.from(text, 'base64url').toString('utf8')) as Cursor;
    if (typeof cursor.id === 'string' && !Number.isNaN(Date.parse(cursor.createdAt))) return cursor;
  } catch {
    // fall through
  }
  throw new AppError('invalid_request', 'query.cursor: is not a cursor this API returned.');
}

export async function listSigningRequests(
  dataSource: DataSource,
  scope: AccessScope,
  options: { status?: RequestStatus; folderId?: string; cursor?: string; limit: number },
): Promise<{ items: ListedRequest[]; nextCursor?: string }> {
  const after = options.cursor ? decodeCursor(options.cursor) : undefined;
  const rows: Array<{ id: string; title: string; status: RequestStatus; document_code: string; created_at: Date; expires_at: Date }> =
    await dataSource.query(
      `SELECT id, title, status, document_code, created_at, expires_at
         FROM signing_requests
        WHERE organization_id = $1
          AND ($6::uuid[] IS NULL OR folder_id = ANY($6::uuid[]))
          AND ($7::uuid IS NULL OR folder_id = $7)
          AND ($2::text IS NULL OR status = $2)
          AND ($3::timestamptz IS NULL OR (created_at, id) < ($3::timestamptz, $4::uuid))
        ORDER BY created_at DESC, id DESC
        LIMIT $5`,
      [
        scope.organizationId,
        options.status ?? null,
        after?.createdAt ?? null,
        after?.id ?? null,
        options.limit + 1,
        reachableFolderIds(scope) ?? null,
        options.folderId ?? null,
      ],
    );
  const page = rows.slice(0, options.limit).map((row) => ({
    id: row.id,
    title: row.title,
    status: row.status,
    documentCode: row.document_code,
    createdAt: new Date(row.created_at).toISOString(),
    expiresAt: new Date(row.expires_at).toISOString(),
  }));
  const last = page[page.length - 1];
  return { items: page, nextCursor: rows.length > options.limit && last ? encodeCursor({ createdAt: last.createdAt, id: last.id }) : undefined };
}
