import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Data-subject requests' own leftovers (issue 14 part 4; src/dsr/, src/retention/).
 *
 * - `data_subject_requests.fulfilment_refusal`: why the last fulfilment could not be applied (a stable code and
 *   words without personal data, e.g. a rectification with nothing open to correct), cleared when one succeeds.
 * - `retention_policies.dsr_days`: how long an ended data-subject request is kept (NULL: the next scope's value,
 *   finally the default in code); `retention_notices` may name a data-subject request.
 * - Indexes for the sweep: ended requests by their end, access packages by their expiry.
 */
export class DsrRetention1763942000000 implements MigrationInterface {
  name = 'DsrRetention1763942000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`ALTER TABLE data_subject_requests ADD COLUMN fulfilment_refusal jsonb`);
    await db.query(`ALTER TABLE retention_policies ADD COLUMN dsr_days integer CHECK (dsr_days BETWEEN 1 AND 36500)`);
    await db.query(`ALTER TABLE retention_notices DROP CONSTRAINT retention_notices_record_kind_check`);
    await db.query(
      `ALTER TABLE retention_notices ADD CONSTRAINT retention_notices_record_kind_check CHECK (record_kind IN ('signing_request', 'kyc_case', 'data_subject_request'))`,
    );
    await db.query(`CREATE INDEX data_subject_requests_retention_idx ON data_subject_requests (completed_at) WHERE completed_at IS NOT NULL`);
    await db.query(
      `CREATE INDEX data_subject_requests_package_expiry_idx ON data_subject_requests (access_package_expires_at) WHERE access_package_blob_key IS NOT NULL`,
    );
  }

  async down(): Promise<void> {
    throw new Error('migrations are forward-only');
  }
}
