/**
 * What members read about data-subject requests: one request (its deadline, identity, assignee, what the
 * fulfilment did), the list (cursor-paged, `overdue=true` for the attention list) and the audit trail.
 *
 * Requests belong to the whole organisation (no folder): folder-scoped API keys and members see none. Support
 * staff (no `documents` permission) follow a request's status, deadline and trail without the requester's
 * name, contact or words.
 */
import type { DataSource } from 'typeorm';
import type { AccessScope } from '../accounts/access';
import type { DataSubjectRequestStatus, DataSubjectRequestView, ListedDataSubjectRequest } from '../contract/data-subject-requests';
import { AppError } from '../errors';
import { RecordKeyDestroyedError } from '../privacy/record-keys';
import type { SigningContext } from '../signing/signing-context';
import { verifyDsrAuditChain } from './dsr-audit-trail';
import { effectiveDeadline } from './legal-deadline';
import { decryptDsrField, readDataSubjectRequestRow, readRequester, type DataSubjectRequestRow } from './read-data-subject-request';

export const dsrNotFound = () => new AppError('not_found', 'No such data-subject request.');

/** Organisation-wide only: a data-subject request concerns the whole organisation's records. */
export function requireOrganizationWide(scope: AccessScope): void {
  if (scope.folders !== undefined) {
    throw new AppError('forbidden', 'Data-subject requests concern the whole organisation: a folder-scoped key or member cannot see or handle them.');
  }
}

export const mayReadRequester = (scope: AccessScope) => scope.permissions.has('documents');

const openStatuses: DataSubjectRequestStatus[] = ['awaiting_identity', 'in_progress'];
/**
 * Open past its deadline. The workflow marks it (event, webhook) when its timer fires; the deadline itself is
 * also read, so a request whose workflow is late (worker down, created with an old `receivedAt`) is not shown
 * on time.
 */
const isOverdue = (row: Pick<DataSubjectRequestRow, 'status' | 'overdue_at' | 'due_at' | 'extended_until'>, now = new Date()) =>
  openStatuses.includes(row.status) &&
  (row.overdue_at !== null || effectiveDeadline({ dueAt: row.due_at, extendedUntil: row.extended_until }).getTime() <= now.getTime());

export async function loadDataSubjectRequest(context: SigningContext, scope: AccessScope, dsrId: string): Promise<DataSubjectRequestRow> {
  requireOrganizationWide(scope);
  const row = await readDataSubjectRequestRow(context.dataSource, dsrId, scope.organizationId);
  if (!row) throw dsrNotFound();
  return row;
}

export async function getDataSubjectRequest(context: SigningContext, scope: AccessScope, dsrId: string): Promise<DataSubjectRequestView> {
  const row = await loadDataSubjectRequest(context, scope, dsrId);
  return viewOf(context, row, { withRequester: mayReadRequester(scope) });
}

async function assigneeOf(db: DataSource, userId: string | null): Promise<DataSubjectRequestView['assignee']> {
  if (!userId) return null;
  const [user]: Array<{ id: string; name: string | null; email: string }> = await db.query(`SELECT id, name, email FROM users WHERE id = $1`, [userId]);
  return user ? { id: user.id, name: user.name, email: user.email } : null;
}

const isoOf = (value: Date | null) => (value ? value.toISOString() : undefined);

export async function viewOf(context: SigningContext, row: DataSubjectRequestRow, options: { withRequester: boolean }): Promise<DataSubjectRequestView> {
  const deadline = effectiveDeadline({ dueAt: row.due_at, extendedUntil: row.extended_until });
  const view: DataSubjectRequestView = {
    id: row.id,
    type: row.type,
    status: row.status,
    receivedAt: row.received_at.toISOString(),
    dueAt: row.due_at.toISOString(),
    identityConfirmedAt: isoOf(row.identity_confirmed_at),
    identityMethod: row.identity_method ?? undefined,
    extendedUntil: isoOf(row.extended_until),
    extensionReason: (await decryptDsrField(context, row, 'extension_reason', row.extension_reason)) ?? undefined,
    extensionNotifiedAt: isoOf(row.extension_notified_at),
    deadline: deadline.toISOString(),
    overdue: isOverdue(row),
    overdueAt: isoOf(row.overdue_at),
    channel: row.channel,
    assignee: await assigneeOf(context.dataSource, row.assignee_user_id),
    fulfilledAt: isoOf(row.fulfilled_at),
    ...(row.fulfilment_refusal && !row.fulfilled_at ? { fulfilmentRefusal: row.fulfilment_refusal as DataSubjectRequestView['fulfilmentRefusal'] } : {}),
    handledRecords: row.handled_records,
    legalBases: row.legal_bases,
    accessPackage:
      row.access_package_sha256 && row.access_package_expires_at
        ? {
            sha256: row.access_package_sha256,
            size: Number(row.access_package_size ?? 0),
            recordCount: row.access_package_record_count ?? 0,
            expiresAt: row.access_package_expires_at.toISOString(),
          }
        : undefined,
    completedAt: isoOf(row.completed_at),
    answer: await decryptDsrField(context, row, 'answer', row.answer),
    rejectionReason: await decryptDsrField(context, row, 'rejection_reason', row.rejection_reason),
    createdAt: row.created_at.toISOString(),
  };
  if (options.withRequester) {
    view.requester = await readRequester(context, row);
    view.details = await decryptDsrField(context, row, 'details', row.details);
  }
  return view;
}

const encodeCursor = (receivedAt: Date, id: string) => Buffer.from(`${receivedAt.toISOString()}|${id}`).toString('base64url');

function decodeCursor(cursor: string): { receivedAt: Date; id: string } {
  const [at, id] = Buffer.from(cursor, 'base64url').toString('utf8').split('|');
  const receivedAt = new Date(at ?? '');
  if (!id || !/^[0-9a-f-]{36}$/.test(id) || Number.isNaN(receivedAt.getTime())) throw new AppError('invalid_request', 'query.cursor: not a cursor this list gave.');
  return { receivedAt, id };
}

/** A request shredded since (its key destroyed) stays listed, without a name: one deleted row must not take the list down. */
async function requesterNameOf(context: SigningContext, row: DataSubjectRequestRow): Promise<{ requesterName?: string }> {
  try {
    return { requesterName: (await decryptDsrField(context, row, 'name', row.requester_name)) ?? '' };
  } catch (error) {
    if (error instanceof RecordKeyDestroyedError) return {};
    throw error;
  }
}

/** Newest receipt first; `overdue` keeps the open requests past their deadline (the attention list). */
export async function listDataSubjectRequests(
  context: SigningContext,
  scope: AccessScope,
  query: { status?: DataSubjectRequestStatus; overdue?: boolean; cursor?: string; limit: number },
): Promise<{ items: ListedDataSubjectRequest[]; nextCursor: string | null }> {
  requireOrganizationWide(scope);
  const after = query.cursor ? decodeCursor(query.cursor) : undefined;
  const rows: Array<DataSubjectRequestRow & { assignee_name: string | null }> = await context.dataSource.query(
    `SELECT d.*, u.name AS assignee_name
       FROM data_subject_requests d LEFT JOIN users u ON u.id = d.assignee_user_id
      WHERE d.organization_id = $1
        AND ($2::text IS NULL OR d.status = $2)
        AND ($3::boolean IS NULL OR (((d.overdue_at IS NOT NULL OR coalesce(d.extended_until, d.due_at) <= now()) AND d.status IN ('awaiting_identity', 'in_progress')) = $3))
        AND ($4::timestamptz IS NULL OR (d.received_at, d.id) < ($4::timestamptz, $5::uuid))
      ORDER BY d.received_at DESC, d.id DESC
      LIMIT $6`,
    [scope.organizationId, query.status ?? null, query.overdue ?? null, after?.receivedAt ?? null, after?.id ?? null, query.limit + 1],
  );
  const page = rows.slice(0, query.limit);
  const last = page[page.length - 1];
  const withRequester = mayReadRequester(scope);
  const items: ListedDataSubjectRequest[] = [];
  for (const row of page) {
    items.push({
      id: row.id,
      type: row.type,
      status: row.status,
      receivedAt: row.received_at.toISOString(),
      dueAt: row.due_at.toISOString(),
      extendedUntil: isoOf(row.extended_until),
      deadline: effectiveDeadline({ dueAt: row.due_at, extendedUntil: row.extended_until }).toISOString(),
      overdue: isOverdue(row),
      identityConfirmedAt: isoOf(row.identity_confirmed_at),
      assignee: row.assignee_user_id ? { id: row.assignee_user_id, name: row.assignee_name } : null,
      ...(withRequester ? await requesterNameOf(context, row) : {}),
    });
  }
  return { items, nextCursor: rows.length > query.limit && last ? encodeCursor(last.received_at, last.id) : null };
}

export async function readDataSubjectRequestAuditTrail(context: SigningContext, scope: AccessScope, dsrId: string) {
  const row = await loadDataSubjectRequest(context, scope, dsrId);
  const { events, verification } = await verifyDsrAuditChain(context.dataSource, row.id);
  // Where the requester acted from is theirs: support staff see what happened and when, not from where.
  const withOrigin = mayReadRequester(scope);
  return {
    events: events.map((event) => ({
      sequence: event.sequence,
      eventKey: event.eventKey,
      type: event.type,
      at: event.occurredAt.toISOString(),
      actor: event.actor,
      ...(event.ip && withOrigin ? { ip: event.ip } : {}),
      ...(event.userAgent && withOrigin ? { userAgent: event.userAgent } : {}),
      ...(event.detail ? { detail: event.detail } : {}),
      ...(event.prevHash ? { prevHash: event.prevHash } : {}),
      hash: event.hash,
    })),
    chainValid: verification.valid,
    ...(verification.head ? { chainHead: verification.head } : {}),
    ...(verification.firstBrokenEvent ? { firstBrokenEvent: verification.firstBrokenEvent } : {}),
  };
}
