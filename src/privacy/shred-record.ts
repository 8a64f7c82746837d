/**
 * Provable deletion of one record (crypto-shredding + tombstone). See docs/ARCHITECTURE.md "Shredding and tombstones".
 */
import { AppError } from '../errors';
import type { SigningContext } from '../signing/signing-context';

export type ShreddableRecord = { kind: 'signing_request' | 'kyc_case' | 'data_subject_request'; id: string };

export interface ShredGrounds {
  /** Which rule: 'retention:<policy id or name>', 'data-subject-request:<dsr id>', 'organization-closed', 'manual'. */
  rule: string;
  /** Human-readable reason kept in the receipt, e.g. "Completed requests are kept 10 years (policy default)". */
  reason: string;
  /** Who: 'system:retention', 'user:<id>', 'api-key:<id>'. */
  actor: string;
}

export interface DeletionReceipt {
  id: string;
  organizationId: string;
  record: ShreddableRecord;
  rule: string;
  reason: string;
  actor: string;
  deletedAt: string;
  keyIdsDestroyed: string[];
  /** For a sealed request: its sealed document's SHA-256 and seal time, kept so /v1/verify can say it existed. */
  sealedSha256: string | null;
  sealedAt: string | null;
}

/**
 * Destroys the record's key, deletes its blobs, reduces its rows to a tombstone (ids, times, statuses, hashes),
 * records the receipt in the organisation's audit log. Idempotent: a second call returns the first receipt.
 * Refuses (409 'legal_hold') while a legal hold applies, and (409 'record_in_progress') a record still running.
 */
export async function shredRecord(context: SigningContext, record: ShreddableRecord, grounds: ShredGrounds): Promise<DeletionReceipt> {
  void context;
  void record;
  void grounds;
  throw new AppError('conflict', 'Shredding is not available yet.');
}

/** Destroys the organisation's key (every record key under it becomes unreadable) and issues the final receipt. */
export async function destroyOrganizationKey(context: SigningContext, organizationId: string, grounds: ShredGrounds): Promise<DeletionReceipt> {
  void context;
  void organizationId;
  void grounds;
  throw new AppError('conflict', 'Destroying an organisation key is not available yet.');
}

export async function findDeletionReceipt(context: SigningContext, record: ShreddableRecord): Promise<DeletionReceipt | undefined> {
  void context;
  void record;
  return undefined;
}
