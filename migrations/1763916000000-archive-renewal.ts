import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Seals that only append (issue 11): a request records its original's length (the sealed file begins
 * with exactly those bytes, which /v1/verify proves) and, for PAdES B-LTA archives, when the certificate
 * of its last document timestamp expires: the archive renewal schedule adds a new timestamp before then.
 * A document that could take only a signature has its audit trail sealed beside it (its hash is kept, so
 * /v1/verify recognises it). A renewed archive is a new file; the hashes of the files it replaced stay on
 * record, so a copy handed out earlier still verifies as authentic. A renewal attempt is dated, so an
 * archive that cannot be renewed today does not hold up the ones behind it.
 */
export class ArchiveRenewal1763916000000 implements MigrationInterface {
  name = 'ArchiveRenewal1763916000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      ALTER TABLE signing_requests
        ADD COLUMN original_byte_length integer,
        ADD COLUMN sealed_by_appending boolean NOT NULL DEFAULT false,
        ADD COLUMN evidence_sha256 text,
        ADD COLUMN archive_timestamp_expires_at timestamptz,
        ADD COLUMN archive_renewal_attempted_at timestamptz`);
    await db.query(`CREATE INDEX signing_requests_archive_due ON signing_requests (archive_timestamp_expires_at) WHERE archive_timestamp_expires_at IS NOT NULL`);
    await db.query(`
      CREATE TABLE sealed_document_versions (
        sha256 text PRIMARY KEY,
        request_id uuid NOT NULL REFERENCES signing_requests (id) ON DELETE CASCADE,
        kind text NOT NULL CHECK (kind IN ('sealed', 'evidence')),
        replaced_at timestamptz NOT NULL
      )`);
    await db.query(`CREATE INDEX signing_requests_evidence_sha256 ON signing_requests (evidence_sha256) WHERE evidence_sha256 IS NOT NULL`);
    await db.query(`CREATE INDEX sealed_document_versions_request ON sealed_document_versions (request_id)`);
  }

  async down(): Promise<void> {
    throw new Error('migrations are forward-only');
  }
}
