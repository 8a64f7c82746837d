import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * What public verification (R4) and KMS-held seal keys need.
 *
 * `seal_certificates`: self-signed certificates made for seal keys that live outside this process (AWS KMS). Made once by the
 * first worker that needs one and shared by all others, so every seal of a key carries the same certificate
 * and verifiers can pin it. `key_ref` names the key by its public key's SHA-256 (see kms-seal-key.ts).
 */
export class SealEvidence1763850000000 implements MigrationInterface {
  name = 'SealEvidence1763850000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      CREATE TABLE seal_certificates (
        key_ref text PRIMARY KEY,
        certificate_der bytea NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    // `POST /v1/verify` finds a sealed document by the SHA-256 of the uploaded file.
    await db.query(`CREATE INDEX signing_requests_sealed_sha256_idx ON signing_requests (sealed_sha256) WHERE sealed_sha256 IS NOT NULL`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP INDEX signing_requests_sealed_sha256_idx`);
    await db.query(`DROP TABLE seal_certificates`);
  }
}
