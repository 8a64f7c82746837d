/**
 * A KYC upload's file name under the case's record key (issue 14 part 1): a customer's file is often named
 * after them. `kyc_uploads.filename_sealed`, the clear column NULL; a case without a key yet keeps it in
 * clear until the move to record keys (src/privacy/move-to-record-keys.ts).
 */
import type { Queryable } from '../privacy/record-keys';
import { openColumns, sealColumns } from '../privacy/sealed-columns';

const recordOf = (caseId: string) => ({ kind: 'kyc_case', id: caseId }) as const;

/** What an upload row stores for its name. */
export async function storedUploadName(db: Queryable, caseId: string, filename: string): Promise<{ filename: string | null; filename_sealed: Buffer | null }> {
  const sealed = await sealColumns(db, recordOf(caseId), 'kyc_uploads', { filename });
  return sealed ? { filename: null, filename_sealed: sealed } : { filename, filename_sealed: null };
}

/** The rows with their names readable (a shredded case's uploads have none). */
export async function withUploadNames<T extends { filename: string | null; filename_sealed?: Buffer | null }>(db: Queryable, caseId: string, rows: T[]): Promise<T[]> {
  return Promise.all(
    rows.map(async (row) =>
      row.filename_sealed ? { ...row, filename: (await openColumns<{ filename: string | null }>(db, recordOf(caseId), 'kyc_uploads', row.filename_sealed)).filename } : row,
    ),
  );
}
