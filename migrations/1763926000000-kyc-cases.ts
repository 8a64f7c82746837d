import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Know-your-customer cases (issue 13 part 2, src/kyc/).
 *
 * - `questionnaires`: versioned definitions per organisation; a new version is a new row with the same id.
 *   The built-in AML questionnaire lives in code (src/kyc/questionnaires.ts), not here.
 * - `kyc_cases`: the read model of each case (its workflow `kyc-case-<id>` drives it). The customer's
 *   national id, the draft and the submitted answers are stored only encrypted (src/privacy/encrypted-field.ts).
 *   Link and PIN are HMACs of the case id and a version, as for signers: never stored.
 * - `kyc_reviews`: each review decision, in order. `kyc_uploads`: the customer's files (blobs encrypted by
 *   the blob store), ids and names only here. `kyc_declarations`: the signing requests that carried the
 *   declaration (one per submission that reached signing).
 * - `kyc_audit_events`: the case's hash-chained audit trail, append-only like `audit_events` (a trigger
 *   refuses UPDATE, DELETE and TRUNCATE), chained with the same keyed format (src/kyc/kyc-audit-trail.ts).
 */
export class KycCases1763926000000 implements MigrationInterface {
  name = 'KycCases1763926000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      CREATE TABLE questionnaires (
        id uuid NOT NULL,
        version integer NOT NULL CHECK (version >= 1),
        organization_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
        definition jsonb NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        created_by_user_id uuid,
        PRIMARY KEY (id, version)
      )`);
    await db.query(`CREATE INDEX questionnaires_organization_idx ON questionnaires (organization_id, id, version DESC)`);
    await db.query(`
      CREATE TABLE kyc_cases (
        id uuid PRIMARY KEY,
        organization_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
        folder_id uuid NOT NULL REFERENCES folders (id),
        status text NOT NULL CHECK (status IN ('invited', 'in_progress', 'signing', 'in_review', 'changes_requested',
                                               'approved', 'rejected', 'expired', 'cancelled', 'failed')),
        customer_type text NOT NULL CHECK (customer_type IN ('person', 'company')),
        customer_name text NOT NULL,
        customer_email text NOT NULL,
        customer_phone text,
        customer_business_id text,
        customer_locale text NOT NULL,
        customer_national_id bytea,
        identification text NOT NULL CHECK (identification IN ('pin', 'eid')),
        identification_id uuid REFERENCES eid_identifications (id),
        questionnaire_id uuid NOT NULL,
        questionnaire_version integer NOT NULL,
        reminder_first_after_ms bigint NOT NULL,
        reminder_every_ms bigint NOT NULL,
        reminder_max integer NOT NULL,
        reminders_sent integer NOT NULL DEFAULT 0,
        link_version integer NOT NULL DEFAULT 1,
        pin_version integer NOT NULL DEFAULT 1,
        failed_pin_attempts integer NOT NULL DEFAULT 0,
        locked_at timestamptz,
        draft bytea,
        draft_saved_at timestamptz,
        answers bytea,
        submitted_at timestamptz,
        second_review_reasons jsonb NOT NULL DEFAULT '[]',
        changes_reason text,
        changes_requested_at timestamptz,
        evidence_blob_key text,
        evidence_sha256 text,
        evidence_created_at timestamptz,
        created_by_user_id uuid,
        created_at timestamptz NOT NULL,
        expires_at timestamptz NOT NULL,
        ended_at timestamptz
      )`);
    await db.query(`CREATE INDEX kyc_cases_list_idx ON kyc_cases (organization_id, created_at DESC, id DESC)`);
    await db.query(`
      CREATE TABLE kyc_idempotency_keys (
        organization_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
        key text NOT NULL,
        request_fingerprint text NOT NULL,
        case_id uuid NOT NULL REFERENCES kyc_cases (id) ON DELETE CASCADE,
        created_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (organization_id, key)
      )`);
    await db.query(`
      CREATE TABLE kyc_reviews (
        case_id uuid NOT NULL REFERENCES kyc_cases (id) ON DELETE CASCADE,
        position integer NOT NULL,
        decision text NOT NULL CHECK (decision IN ('approved', 'rejected', 'changes_requested')),
        reviewer_id text NOT NULL,
        reviewer_name text,
        reason text,
        round smallint,
        at timestamptz NOT NULL,
        PRIMARY KEY (case_id, position)
      )`);
    await db.query(`
      CREATE TABLE kyc_uploads (
        id uuid PRIMARY KEY,
        case_id uuid NOT NULL REFERENCES kyc_cases (id) ON DELETE CASCADE,
        question_key text NOT NULL,
        filename text NOT NULL,
        media_type text NOT NULL,
        bytes integer NOT NULL,
        sha256 text NOT NULL,
        blob_key text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        deleted_at timestamptz
      )`);
    await db.query(`CREATE INDEX kyc_uploads_case_idx ON kyc_uploads (case_id)`);
    await db.query(`
      CREATE TABLE kyc_declarations (
        case_id uuid NOT NULL REFERENCES kyc_cases (id) ON DELETE CASCADE,
        attempt integer NOT NULL,
        request_id uuid NOT NULL UNIQUE REFERENCES signing_requests (id),
        created_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (case_id, attempt)
      )`);
    await db.query(`
      CREATE TABLE kyc_audit_events (
        id bigserial PRIMARY KEY,
        case_id uuid NOT NULL REFERENCES kyc_cases (id) ON DELETE CASCADE,
        sequence integer NOT NULL CHECK (sequence >= 1),
        event_key text NOT NULL,
        type text NOT NULL,
        actor text NOT NULL,
        ip text,
        user_agent text,
        detail jsonb,
        occurred_at timestamptz NOT NULL,
        prev_hash text CHECK (CASE WHEN sequence = 1 THEN prev_hash IS NULL ELSE prev_hash ~ '^[0-9a-f]{64}$' END),
        hash text NOT NULL CHECK (hash ~ '^[0-9a-f]{64}$'),
        chain_format smallint NOT NULL,
        UNIQUE (case_id, event_key)
      )`);
    await db.query(`CREATE UNIQUE INDEX kyc_audit_events_chain_key ON kyc_audit_events (case_id, sequence)`);
    await db.query(`
      CREATE FUNCTION kyc_audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        -- As for signing requests: only a case being deleted as a whole, by a transaction that says so.
        IF TG_OP = 'DELETE' THEN
          IF coalesce(current_setting('sigill.allow_audit_delete', true), '') = 'on'
             AND NOT EXISTS (SELECT 1 FROM kyc_cases WHERE id = OLD.case_id) THEN
            RETURN OLD;
          END IF;
        END IF;
        RAISE EXCEPTION 'audit events are append-only (% refused)', TG_OP
          USING ERRCODE = 'insufficient_privilege',
                HINT = 'A KYC case is removed with its trail only by deleting the case with sigill.allow_audit_delete set locally.';
      END
      $$`);
    await db.query(`
      CREATE TRIGGER kyc_audit_events_append_only
        BEFORE UPDATE OR DELETE ON kyc_audit_events
        FOR EACH ROW EXECUTE FUNCTION kyc_audit_events_append_only()`);
    await db.query(`
      CREATE TRIGGER kyc_audit_events_no_truncate
        BEFORE TRUNCATE ON kyc_audit_events
        FOR EACH STATEMENT EXECUTE FUNCTION kyc_audit_events_append_only()`);
  }

  async down(): Promise<void> {
    throw new Error('migrations are forward-only');
  }
}
