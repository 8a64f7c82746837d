/**
 * A KYC declaration is a signing request like any other for sealing and reading, but the case acts on it:
 * a sender's action through the ordinary signing-request routes (remind, cancel, reset a PIN or an
 * identification) would change a declaration behind the case's back, so it is refused with the case named.
 */
import type { DataSource, EntityManager } from 'typeorm';
import { AppError } from '../errors';

export async function refuseIfKycDeclaration(db: DataSource | EntityManager, requestId: string): Promise<void> {
  const [declaration]: Array<{ case_id: string }> = await db.query(`SELECT case_id FROM kyc_declarations WHERE request_id = $1`, [requestId]);
  if (declaration) throw new AppError('conflict', `This signing request belongs to KYC case ${declaration.case_id}; act on the case.`);
}

/** Whether the request is a KYC case's declaration (its customer hears from the case, not from the round). */
export async function isKycDeclaration(db: DataSource | EntityManager, requestId: string): Promise<boolean> {
  const rows: unknown[] = await db.query(`SELECT 1 FROM kyc_declarations WHERE request_id = $1`, [requestId]);
  return rows.length > 0;
}
