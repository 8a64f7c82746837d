import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Seals that only append (issue 11): a request records its original's length (the sealed file begins
 * with exactly those bytes, which /v1/verify proves) and, for PAdES B-LTA archives, when the certificate
 * of its last document timestamp expires: the archive renewal schedule adds a new timestamp before then.
 * A renewed archive is a new file; the hashes of the files it replaced stay on record, so a copy handed
 * out earlier still verifies as authentic.
 */
export class ArchiveRenewal1763916000000 implements MigrationInterface {
  name = 'ArchiveRenewal1763916000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      ALTER TABLE signing_requests
        ADD COLUMN original_byte_length integer,
        ADD COLUMN sealed_by_appending boolean NOT NULL DEFAULT false,
        ADD COLUMN archive_timestamp_expires_at timestamptz`);
    await db.query(`CREATE INDEX signing_requests_archive_due ON signing_requests (archive_timestamp_expires_at) WHERE archive_timestamp_expires_at IS NOT NULL`);
    await db.query(`
      CREATE TABLE sealed_document_versions (
        sha256 text PRIMARY KEY,
        request_id uuid NOT NULL REFERENCES signing_requests (id),
        replaced_at timestamptz NOT NULL
      )`);
    await db.query(`CREATE INDEX sealed_document_versions_request ON sealed_document_versions (request_id)`);
  }

  async down(): Promise<void> {
    throw new Error('migrations are forward-only');
  }
}
