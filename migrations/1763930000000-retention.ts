import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Retention (issue 14 part 2, src/retention/).
 *
 * - `retention_policies`: one row per organisation (folder_id NULL) and optional rows per folder. Each period
 *   is in whole days; NULL means "not set here": a folder row falls back to its organisation's row, which falls
 *   back to the defaults in code (src/retention/policy.ts). The bounds are checked here as well as in the API.
 * - Legal holds: `legal_hold_at/_reason/_by` on signing_requests, kyc_cases and folders. A held record, or a
 *   record in a held folder, is never shredded (shredRecord refuses it too).
 * - `retention_notices`: the notice given before a record is deleted. A record is deleted by the daily sweep
 *   only after its notice's `delete_not_before`; one pending notice per record at a time. A notice ends
 *   'deleted' (shredded), or 'cleared' (held or no longer due when its time came).
 */
export class Retention1763930000000 implements MigrationInterface {
  name = 'Retention1763930000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      CREATE TABLE retention_policies (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        organization_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
        folder_id uuid REFERENCES folders (id) ON DELETE CASCADE,
        completed_days integer CHECK (completed_days BETWEEN 1 AND 36500),
        unfinished_days integer CHECK (unfinished_days BETWEEN 1 AND 36500),
        failed_days integer CHECK (failed_days BETWEEN 1 AND 36500),
        kyc_days integer CHECK (kyc_days BETWEEN 1 AND 36500),
        notice_days integer CHECK (notice_days BETWEEN 1 AND 365),
        updated_at timestamptz NOT NULL DEFAULT now(),
        updated_by text
      )`);
    await db.query(`CREATE UNIQUE INDEX retention_policies_scope_key ON retention_policies (organization_id, folder_id) NULLS NOT DISTINCT`);

    for (const table of ['signing_requests', 'kyc_cases', 'folders']) {
      await db.query(`
        ALTER TABLE ${table}
          ADD COLUMN legal_hold_at timestamptz,
          ADD COLUMN legal_hold_reason text,
          ADD COLUMN legal_hold_by text`);
    }

    await db.query(`
      CREATE TABLE retention_notices (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        organization_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
        record_kind text NOT NULL CHECK (record_kind IN ('signing_request', 'kyc_case')),
        record_id uuid NOT NULL,
        rule text NOT NULL,
        reason text NOT NULL,
        noticed_at timestamptz NOT NULL,
        delete_not_before timestamptz NOT NULL,
        batch_id text NOT NULL,
        state text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'deleted', 'cleared')),
        ended_at timestamptz
      )`);
    await db.query(`CREATE UNIQUE INDEX retention_notices_pending_key ON retention_notices (record_kind, record_id) WHERE state = 'pending'`);
    await db.query(`CREATE INDEX retention_notices_due_idx ON retention_notices (delete_not_before) WHERE state = 'pending'`);
    await db.query(`CREATE INDEX retention_notices_organization_idx ON retention_notices (organization_id, delete_not_before) WHERE state = 'pending'`);
    await db.query(`CREATE INDEX signing_requests_retention_idx ON signing_requests (completed_at) WHERE completed_at IS NOT NULL`);
    await db.query(`CREATE INDEX kyc_cases_retention_idx ON kyc_cases (ended_at) WHERE ended_at IS NOT NULL`);
  }

  async down(): Promise<void> {
    throw new Error('migrations are forward-only');
  }
}
