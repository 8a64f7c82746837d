import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Export and leaving (issue 14 part 3, src/organization-export/).
 *
 * - `organization_exports`: one row per export of everything an organisation holds (its workflow
 *   `organization-export-<id>` writes it). The ZIP is stored in the blob store in parts
 *   (`orgs/<org>/exports/<id>/export.zip.part-00000`, ...: `part_count` of them, concatenated in order), so
 *   neither writing nor downloading holds the whole archive in memory; `sha256` and `size_bytes` are those
 *   of the whole ZIP. `items_total`/`items_done` are the progress the API shows.
 * - Closing columns on `organizations`: a requested closing (`closing_requested_at`, `closes_at` after the
 *   grace period, by `closing_requested_by`), cancelled by clearing them while `work_stopped_at` is empty;
 *   `work_stopped_at` when the grace ended (from then on its API keys and sessions are refused); `closed_at`
 *   once the organisation key is destroyed, `closing_receipt` the final receipt shown to owners afterwards.
 */
export class OrganizationExport1763936000000 implements MigrationInterface {
  name = 'OrganizationExport1763936000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      CREATE TABLE organization_exports (
        id uuid PRIMARY KEY,
        organization_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
        requested_by text NOT NULL,
        requested_by_user_id uuid,
        status text NOT NULL CHECK (status IN ('queued', 'running', 'completed', 'failed', 'expired')),
        items_total integer NOT NULL DEFAULT 0 CHECK (items_total >= 0),
        items_done integer NOT NULL DEFAULT 0 CHECK (items_done >= 0),
        blob_key text,
        part_count integer,
        sha256 text,
        size_bytes bigint,
        failure text,
        created_at timestamptz NOT NULL DEFAULT now(),
        completed_at timestamptz,
        expires_at timestamptz
      )`);
    await db.query(`CREATE INDEX organization_exports_organization_idx ON organization_exports (organization_id, created_at DESC, id DESC)`);
    await db.query(`
      ALTER TABLE organizations
        ADD COLUMN closing_requested_at timestamptz,
        ADD COLUMN closing_requested_by text,
        ADD COLUMN closes_at timestamptz,
        ADD COLUMN work_stopped_at timestamptz,
        ADD COLUMN closed_at timestamptz,
        ADD COLUMN closing_receipt jsonb`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`
      ALTER TABLE organizations
        DROP COLUMN closing_receipt, DROP COLUMN closed_at, DROP COLUMN work_stopped_at, DROP COLUMN closes_at,
        DROP COLUMN closing_requested_by, DROP COLUMN closing_requested_at`);
    await db.query(`DROP TABLE organization_exports`);
  }
}
