/**
 * Deleting one ended record by hand (`DELETE /v1/signing-requests/:id`, `DELETE /v1/kyc-cases/:id`): the
 * organisation's owners and admins (or an API key with `admin` in the record's folder) shred it under the
 * rule 'manual' with their reason (src/privacy/shred-record.ts). A second call answers the first receipt.
 */
import { mayInFolder, requireInFolder, type AccessScope } from '../accounts/access';
import type { TemporalTarget } from '../adapters/temporal-connection';
import { AppError } from '../errors';
import type { SigningContext } from '../signing/signing-context';
import { findDeletionReceiptById, shredRecord, type DeletionReceipt } from './shred-record';

export interface ManualDeletion {
  scope: AccessScope;
  /** Members: only owners and admins delete. */
  role?: string;
  actor: string;
  reason: string;
}

export async function deleteRecordByHand(
  context: SigningContext,
  temporal: TemporalTarget,
  record: { kind: 'signing_request' | 'kyc_case'; id: string },
  deletion: ManualDeletion,
): Promise<DeletionReceipt> {
  const noun = record.kind === 'signing_request' ? 'signing request' : 'KYC case';
  const notFound = () => new AppError('not_found', `No such ${noun}.`);
  const table = record.kind === 'signing_request' ? 'signing_requests' : 'kyc_cases';
  const [row]: Array<{ folder_id: string }> = await context.dataSource.query(
    `SELECT folder_id FROM ${table} WHERE id = $1 AND organization_id = $2`,
    [record.id, deletion.scope.organizationId],
  );
  if (!row) throw notFound();
  requireInFolder(deletion.scope, 'admin', row.folder_id, notFound);
  if (deletion.role !== undefined && deletion.role !== 'owner' && deletion.role !== 'admin') {
    throw new AppError('forbidden', `Only the organisation's owners and admins delete a ${noun}.`);
  }
  if (record.kind === 'signing_request') {
    const [declaration]: Array<{ case_id: string }> = await context.dataSource.query(`SELECT case_id FROM kyc_declarations WHERE request_id = $1`, [
      record.id,
    ]);
    if (declaration) throw new AppError('conflict', `This signing request belongs to KYC case ${declaration.case_id}; delete the case.`);
  }
  return shredRecord(context, record, { rule: 'manual', reason: deletion.reason, actor: deletion.actor }, { temporal });
}

/**
 * A receipt the scope may read: of its organisation, and for a folder-scoped principal only a request's or
 * case's whose folder it may view (receipts of other records, and of the organisation, are organisation-wide).
 */
export async function readDeletionReceipt(context: SigningContext, scope: AccessScope, receiptId: string): Promise<DeletionReceipt> {
  const notFound = () => new AppError('not_found', 'No such deletion receipt.');
  const receipt = await findDeletionReceiptById(context, scope.organizationId, receiptId);
  if (!receipt) throw notFound();
  if (scope.folders === undefined) return receipt;
  const table = receipt.record.kind === 'signing_request' ? 'signing_requests' : receipt.record.kind === 'kyc_case' ? 'kyc_cases' : undefined;
  if (!table) throw notFound();
  const [row]: Array<{ folder_id: string }> = await context.dataSource.query(`SELECT folder_id FROM ${table} WHERE id = $1`, [receipt.record.id]);
  if (!row || !mayInFolder(scope, 'view', row.folder_id)) throw notFound();
  return receipt;
}
