/**
 * What a shredded record still answers (src/privacy/shred-record.ts): its tombstone — ids, statuses, times,
 * hashes and the deletion's rule and reason — but never its documents, audit trail or history, which answer
 * 410 `record_deleted`.
 */
import { AppError } from '../errors';

/** The deletion a tombstone shows: enough to say when and why, without the receipt's key ids. */
export interface TombstoneDeletion {
  receiptId: string;
  rule: string;
  reason: string;
}

/** 410 for anything read from a shredded record's content. */
export function recordDeletedError(noun: 'signing request' | 'KYC case', deletedAt: Date): AppError {
  return new AppError(
    'record_deleted',
    `This ${noun} was deleted on ${deletedAt.toISOString()}: its documents, personal data, audit details and history are gone for good. ` +
      `Its status view still shows what remains (ids, statuses, times, hashes) and the deletion's receipt.`,
  );
}

/** SQL: the deletion of a tombstoned row `alias` (with deletion_receipt_id), as a JSON object or NULL. */
export const tombstoneDeletionSql = (alias: string) =>
  `(SELECT json_build_object('receiptId', d.id, 'rule', d.rule, 'reason', d.reason) FROM deletion_receipts d WHERE d.id = ${alias}.deletion_receipt_id)`;
