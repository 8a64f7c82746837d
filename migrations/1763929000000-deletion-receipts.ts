import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Provable deletion (issue 14, src/privacy/shred-record.ts).
 *
 * - `deletion_receipts`: what was deleted, when, under which rule, by whom, and the ids of the keys destroyed.
 *   One receipt per record (record_kind, record_id); an organisation's key destruction is a receipt with
 *   record_kind 'organization' and no record id (one per organisation). A sealed request's receipt keeps its
 *   sealed document's SHA-256 and seal time, so /v1/verify can still say the document existed.
 * - Tombstones: `deleted_at` and `deletion_receipt_id` on signing_requests and kyc_cases. A shredded row keeps
 *   ids, statuses, times and hashes; its personal columns are NULL, so those lose NOT NULL here.
 * - The audit trails (audit_events, kyc_audit_events) stay append-only, with one more narrow exception beside
 *   the re-chain of migration 1763910000000: a transaction that sets `sigill.allow_audit_erase` may erase a
 *   row's personal columns (actor, ip, user_agent; detail only reduced to a part of itself) once, marking it
 *   `erased_at`. Position, type, event key, time, prev_hash, hash and chain format cannot change, so the
 *   chain's linkage still verifies although its hashes can no longer be recomputed from the erased content.
 */
export class DeletionReceipts1763929000000 implements MigrationInterface {
  name = 'DeletionReceipts1763929000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      CREATE TABLE deletion_receipts (
        id uuid PRIMARY KEY,
        organization_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
        record_kind text NOT NULL CHECK (record_kind IN ('signing_request', 'kyc_case', 'data_subject_request', 'organization')),
        record_id uuid,
        rule text NOT NULL CHECK (length(rule) BETWEEN 1 AND 200),
        reason text NOT NULL CHECK (length(reason) BETWEEN 1 AND 2000),
        actor text NOT NULL CHECK (length(actor) BETWEEN 1 AND 200),
        deleted_at timestamptz NOT NULL,
        key_ids_destroyed text[] NOT NULL DEFAULT '{}',
        sealed_sha256 text CHECK (sealed_sha256 ~ '^[0-9a-f]{64}$'),
        sealed_at timestamptz,
        CHECK ((record_kind = 'organization') = (record_id IS NULL)),
        UNIQUE (record_kind, record_id)
      )`);
    await db.query(`CREATE UNIQUE INDEX deletion_receipts_organization_key ON deletion_receipts (organization_id) WHERE record_kind = 'organization'`);
    await db.query(`CREATE INDEX deletion_receipts_organization_idx ON deletion_receipts (organization_id, deleted_at DESC)`);
    await db.query(`CREATE INDEX deletion_receipts_sealed_sha256_idx ON deletion_receipts (sealed_sha256) WHERE sealed_sha256 IS NOT NULL`);

    for (const table of ['signing_requests', 'kyc_cases']) {
      await db.query(`
        ALTER TABLE ${table}
          ADD COLUMN deleted_at timestamptz,
          ADD COLUMN deletion_receipt_id uuid REFERENCES deletion_receipts (id)`);
    }
    await db.query(`ALTER TABLE signing_requests ALTER COLUMN title DROP NOT NULL, ALTER COLUMN document_filename DROP NOT NULL`);
    await db.query(`ALTER TABLE signers ALTER COLUMN name DROP NOT NULL, ALTER COLUMN email DROP NOT NULL`);
    await db.query(`ALTER TABLE kyc_cases ALTER COLUMN customer_name DROP NOT NULL, ALTER COLUMN customer_email DROP NOT NULL`);
    await db.query(`ALTER TABLE kyc_uploads ALTER COLUMN filename DROP NOT NULL`);

    for (const table of ['audit_events', 'kyc_audit_events']) {
      await db.query(`ALTER TABLE ${table} ADD COLUMN erased_at timestamptz, ALTER COLUMN actor DROP NOT NULL`);
      await db.query(`ALTER TABLE ${table} ADD CONSTRAINT ${table}_actor_erased_check CHECK (actor IS NOT NULL OR erased_at IS NOT NULL)`);
    }
    // The erase is the only other update let through: once per row, personal columns only, the chain untouched.
    await db.query(`
      CREATE FUNCTION sigill_audit_erase_allowed(old_row jsonb, new_row jsonb) RETURNS boolean LANGUAGE sql STABLE AS $$
        SELECT coalesce(current_setting('sigill.allow_audit_erase', true), '') = 'on'
           AND jsonb_typeof(old_row -> 'erased_at') = 'null'
           AND jsonb_typeof(new_row -> 'erased_at') = 'string'
           AND jsonb_typeof(new_row -> 'ip') = 'null'
           AND jsonb_typeof(new_row -> 'user_agent') = 'null'
           AND (jsonb_typeof(new_row -> 'actor') = 'null' OR (new_row -> 'actor') = (old_row -> 'actor'))
           AND (jsonb_typeof(new_row -> 'detail') = 'null' OR (old_row -> 'detail') @> (new_row -> 'detail'))
           AND (old_row - ARRAY['actor', 'ip', 'user_agent', 'detail', 'erased_at']) = (new_row - ARRAY['actor', 'ip', 'user_agent', 'detail', 'erased_at'])
      $$`);
    await db.query(`
      CREATE OR REPLACE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        -- The one way out: the whole request is being deleted (its row is already gone when the cascade
        -- reaches its events) by a transaction that said so explicitly.
        IF TG_OP = 'DELETE' THEN
          IF coalesce(current_setting('sigill.allow_audit_delete', true), '') = 'on'
             AND NOT EXISTS (SELECT 1 FROM signing_requests WHERE id = OLD.request_id) THEN
            RETURN OLD;
          END IF;
        END IF;
        IF TG_OP = 'UPDATE' AND sigill_audit_rechain_allowed(to_jsonb(OLD), to_jsonb(NEW)) THEN
          RETURN NEW;
        END IF;
        IF TG_OP = 'UPDATE' AND sigill_audit_erase_allowed(to_jsonb(OLD), to_jsonb(NEW)) THEN
          RETURN NEW;
        END IF;
        RAISE EXCEPTION 'audit events are append-only (% refused)', TG_OP
          USING ERRCODE = 'insufficient_privilege',
                HINT = 'A signing request is removed with its trail only by deleting the request with sigill.allow_audit_delete set locally.';
      END
      $$`);
    await db.query(`
      CREATE OR REPLACE FUNCTION kyc_audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        -- As for signing requests: only a case being deleted as a whole, by a transaction that says so.
        IF TG_OP = 'DELETE' THEN
          IF coalesce(current_setting('sigill.allow_audit_delete', true), '') = 'on'
             AND NOT EXISTS (SELECT 1 FROM kyc_cases WHERE id = OLD.case_id) THEN
            RETURN OLD;
          END IF;
        END IF;
        IF TG_OP = 'UPDATE' AND sigill_audit_erase_allowed(to_jsonb(OLD), to_jsonb(NEW)) THEN
          RETURN NEW;
        END IF;
        RAISE EXCEPTION 'audit events are append-only (% refused)', TG_OP
          USING ERRCODE = 'insufficient_privilege',
                HINT = 'A KYC case is removed with its trail only by deleting the case with sigill.allow_audit_delete set locally.';
      END
      $$`);
  }

  async down(): Promise<void> {
    throw new Error('migrations are forward-only');
  }
}
