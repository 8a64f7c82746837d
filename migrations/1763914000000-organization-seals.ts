import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Per-organisation seals (issue 11, part 3): an organisation may seal with a key of its own instead of the
 * deployment's. One row per organisation that has one; no row means the deployment seal.
 *
 * A PKCS#12 seal is stored as uploaded, together with its password, encrypted (AES-256-GCM) under a data
 * key of the key service; `wrapped_key` is that data key wrapped, bound to the organisation and to the
 * row's `id`. A KMS seal stores only the key id: its private key never leaves KMS. Either way the
 * certificate chain is public and kept in the clear, so the seal can be described without unwrapping.
 *
 * `id` is new with every change: a worker that cached an organisation's key compares it before each seal,
 * so the next seal after a change uses the new key in every process.
 */
export class OrganizationSeals1763914000000 implements MigrationInterface {
  name = 'OrganizationSeals1763914000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      CREATE TABLE organization_seals (
        organization_id uuid PRIMARY KEY REFERENCES organizations (id) ON DELETE CASCADE,
        id uuid NOT NULL UNIQUE,
        kind text NOT NULL CHECK (kind IN ('pkcs12', 'kms')),
        wrapped_key bytea,
        encrypted_pkcs12 bytea,
        kms_key_id text CHECK (length(kms_key_id) BETWEEN 1 AND 2048),
        certificate_chain_pem text NOT NULL,
        certificate_sha256 text NOT NULL CHECK (certificate_sha256 ~ '^[0-9a-f]{64}$'),
        set_by text NOT NULL,
        set_at timestamptz NOT NULL DEFAULT now(),
        CHECK (
          (kind = 'pkcs12' AND wrapped_key IS NOT NULL AND encrypted_pkcs12 IS NOT NULL AND kms_key_id IS NULL)
          OR (kind = 'kms' AND kms_key_id IS NOT NULL AND wrapped_key IS NULL AND encrypted_pkcs12 IS NULL)
        )
      )`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP TABLE organization_seals`);
  }
}
