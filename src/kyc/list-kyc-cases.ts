/**
 * The KYC cases a scope may see, newest first, a page at a time: the cursor names the last case of the
 * page (its creation time and id), so a case created meanwhile never shifts the next page.
 */
import { withKycCustomerContact } from './kyc-customer-contact';
import type { DataSource } from 'typeorm';
import { reachableFolderIds, type AccessScope } from '../accounts/access';
import type { KycCaseStatus, ListedKycCase } from '../contract/kyc-cases';
import { AppError } from '../errors';

const encodeCursor = (createdAt: Date, id: string) => Buffer.from(`${createdAt.toISOString()}|${id}`).toString('base64url');

function decodeCursor(cursor: string): { createdAt: Date; id: string } {
  const [at, id] = Buffer.from(cursor, 'base64url').toString('utf8').split('|');
  const createdAt = new Date(at ?? '');
  if (!id || !/^[0-9a-f-]{36}$/.test(id) || Number.isNaN(createdAt.getTime())) throw new AppError('invalid_request', 'query.cursor: not a cursor this list gave.');
  return { createdAt, id };
}

export async function listKycCases(
  db: DataSource,
  scope: AccessScope,
  query: { status?: KycCaseStatus; cursor?: string; limit: number },
): Promise<{ items: ListedKycCase[]; nextCursor: string | null }> {
  const after = query.cursor ? decodeCursor(query.cursor) : undefined;
  const rows: Array<{
    id: string;
    status: KycCaseStatus;
    customer_type: ListedKycCase['customer']['type'];
    customer_name: string;
    customer_email: string;
    folder_id: string;
    created_at: Date;
    expires_at: Date;
    second_review_reasons: string[];
    deleted_at: Date | null;
    customer_sealed: Buffer | null;
  }> = await db.query(
    `SELECT id, status, customer_type, customer_name, customer_email, customer_sealed,
            folder_id, created_at, expires_at, second_review_reasons, deleted_at
       FROM kyc_cases
      WHERE organization_id = $1
        AND ($2::uuid[] IS NULL OR folder_id = ANY($2::uuid[]))
        AND ($3::text IS NULL OR status = $3)
        AND ($4::timestamptz IS NULL OR (created_at, id) < ($4::timestamptz, $5::uuid))
      ORDER BY created_at DESC, id DESC
      LIMIT $6`,
    [scope.organizationId, reachableFolderIds(scope) ?? null, query.status ?? null, after?.createdAt ?? null, after?.id ?? null, query.limit + 1],
  );
  // The customer's name and email are under each case's key (src/kyc/kyc-customer-contact.ts).
  const page = await Promise.all(
    rows.slice(0, query.limit).map((row) => withKycCustomerContact(db, { ...row, customer_phone: null, customer_business_id: null })),
  );
  const last = page[page.length - 1];
  return {
    items: page.map((row) => ({
      id: row.id,
      status: row.status,
      customer: { type: row.customer_type, name: row.customer_name ?? '', email: row.customer_email ?? '' },
      folderId: row.folder_id,
      createdAt: row.created_at.toISOString(),
      expiresAt: row.expires_at.toISOString(),
      // Only while a decision is pending: an ended case needs nobody.
      needsSecondReview: row.status === 'in_review' && row.second_review_reasons.length > 0,
      // A shredded case lists as its tombstone: the customer's name and email empty.
      ...(row.deleted_at ? { deletedAt: row.deleted_at.toISOString() } : {}),
    })),
    nextCursor: rows.length > query.limit && last ? encodeCursor(last.created_at, last.id) : null,
  };
}
