import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A KYC upload's file name (it may name the person: "passport-anna-virtanen.pdf") under the case's record key
 * (issue 14 part 1; src/kyc/kyc-upload-names.ts): `filename_sealed`, the clear column NULL. Rows written before
 * are sealed by the move to record keys.
 */
export class SealedKycUploadNames1763950000000 implements MigrationInterface {
  name = 'SealedKycUploadNames1763950000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`ALTER TABLE kyc_uploads ADD COLUMN filename_sealed bytea`);
  }

  async down(): Promise<void> {
    throw new Error('migrations are forward-only');
  }
}
