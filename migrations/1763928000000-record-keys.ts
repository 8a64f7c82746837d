import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Keys that can be destroyed (issue 14 part 1, src/privacy/record-keys.ts).
 *
 * - `organization_keys`: one key-encryption key per organisation, wrapped by the key service (KMS or the
 *   local master key). `wrapped_key` NULL means destroyed: every record key under it is unreadable.
 * - `record_keys`: one data key per record (signing request, KYC case, data-subject request, organisation
 *   export), wrapped under its organisation's key. No foreign key to the records: tombstoning or deleting a
 *   record must not take its key row with it. Destroying a key sets `wrapped_key` to NULL and keeps the row
 *   (with `destroyed_at`) as proof of what was destroyed and when. `legacy_data_pending`: the record existed
 *   before record keys and its data is still to be moved under this key (src/privacy/move-to-record-keys.ts).
 */
export class RecordKeys1763928000000 implements MigrationInterface {
  name = 'RecordKeys1763928000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      CREATE TABLE organization_keys (
        organization_id uuid PRIMARY KEY REFERENCES organizations (id) ON DELETE CASCADE,
        key_id uuid NOT NULL UNIQUE,
        wrapped_key bytea,
        created_at timestamptz NOT NULL DEFAULT now(),
        destroyed_at timestamptz,
        CHECK ((wrapped_key IS NULL) = (destroyed_at IS NOT NULL))
      )`);
    await db.query(`
      CREATE TABLE record_keys (
        key_id uuid PRIMARY KEY,
        organization_id uuid NOT NULL,
        record_kind text NOT NULL CHECK (record_kind IN ('signing_request', 'kyc_case', 'data_subject_request', 'organization_export')),
        record_id uuid NOT NULL,
        wrapped_key bytea,
        created_at timestamptz NOT NULL DEFAULT now(),
        destroyed_at timestamptz,
        legacy_data_pending boolean NOT NULL DEFAULT false,
        UNIQUE (record_kind, record_id),
        CHECK ((wrapped_key IS NULL) = (destroyed_at IS NOT NULL))
      )`);
    await db.query(`CREATE INDEX record_keys_organization_idx ON record_keys (organization_id)`);
    await db.query(`CREATE INDEX record_keys_legacy_data_pending_idx ON record_keys (key_id) WHERE legacy_data_pending`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP TABLE record_keys`);
    await db.query(`DROP TABLE organization_keys`);
  }
}
