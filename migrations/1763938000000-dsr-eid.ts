import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Data-subject requesters may confirm their identity with eID (issue 14 part 4; src/dsr/requester-eid.ts).
 *
 * - `eid_identifications.subject_kind` may be `data_subject_request`: the identification is sealed under the
 *   request's record key like a signer's or a KYC customer's under theirs.
 * - `data_subject_requests.identification_id`: the identification that confirmed the requester (cleared when
 *   a shredded request's identification is deleted), and `requester_national_id`: the national id it proved,
 *   only encrypted under the request's record key, for discovery to match the person's records by. Discovery
 *   decrypts and compares (national ids are written in several forms), so no blind index is kept.
 */
export class DsrEid1763938000000 implements MigrationInterface {
  name = 'DsrEid1763938000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`ALTER TABLE eid_identifications DROP CONSTRAINT eid_identifications_subject_kind_check`);
    await db.query(
      `ALTER TABLE eid_identifications ADD CONSTRAINT eid_identifications_subject_kind_check CHECK (subject_kind IN ('signer', 'kyc_case', 'data_subject_request'))`,
    );
    await db.query(`
      ALTER TABLE data_subject_requests
        ADD COLUMN identification_id uuid REFERENCES eid_identifications (id) ON DELETE SET NULL,
        ADD COLUMN requester_national_id bytea`);
  }

  async down(): Promise<void> {
    throw new Error('migrations are forward-only');
  }
}
