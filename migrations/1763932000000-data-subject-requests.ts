import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Data-subject requests (issue 14 part 4, R14; src/dsr/).
 *
 * - `organizations.slug`: the name of the organisation's public privacy page (`/privacy/<slug>`), unique,
 *   made from the name when the organisation is created (a trigger, so every way of creating one gets it)
 *   and backfilled here for existing rows.
 * - `data_subject_requests`: the read model of each request (its workflow `data-subject-request-<id>` drives
 *   it). The requester's name, email, phone and the details are stored only encrypted under the request's
 *   record key (src/privacy/record-keys.ts), so shredding the request makes them unreadable; `email_index` /
 *   `phone_index` are keyed HMACs of the normalised address (src/dsr/requester-index.ts) for finding a
 *   person's requests without the address in clear. Ids, type, status and times stay in clear.
 * - `dsr_idempotency_keys`: as for signing requests and KYC cases.
 * - `dsr_audit_events`: the request's hash-chained trail, append-only like `kyc_audit_events` (same keyed
 *   format, same narrow exceptions: a request deleted whole, or the audit erase of migration 1763929000000).
 */
export class DataSubjectRequests1763932000000 implements MigrationInterface {
  name = 'DataSubjectRequests1763932000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      CREATE FUNCTION sigill_organization_slug(name text, own_id uuid) RETURNS text LANGUAGE plpgsql AS $$
      DECLARE
        base text := trim(both '-' from regexp_replace(
          translate(lower(coalesce(name, '')), 'åäöæøéèêëáàâüúùûíìîóòôõñçšžß', 'aaoaoeeeeaaauuuuiiioooonczzs'),
          '[^a-z0-9]+', '-', 'g'));
        candidate text;
        n integer := 1;
      BEGIN
        base := left(trim(both '-' from base), 48);
        base := trim(both '-' from base);
        IF base = '' THEN base := 'organization'; END IF;
        candidate := base;
        WHILE EXISTS (SELECT 1 FROM organizations o WHERE o.slug = candidate AND o.id IS DISTINCT FROM own_id) LOOP
          n := n + 1;
          candidate := base || '-' || n;
        END LOOP;
        RETURN candidate;
      END
      $$`);
    await db.query(`ALTER TABLE organizations ADD COLUMN slug text`);
    // Oldest first, so the first organisation of a name keeps the plain slug.
    await db.query(`
      DO $$
      DECLARE r record;
      BEGIN
        FOR r IN SELECT id, name FROM organizations ORDER BY created_at, id LOOP
          UPDATE organizations SET slug = sigill_organization_slug(r.name, r.id) WHERE id = r.id;
        END LOOP;
      END
      $$`);
    await db.query(`ALTER TABLE organizations ALTER COLUMN slug SET NOT NULL`);
    await db.query(`ALTER TABLE organizations ADD CONSTRAINT organizations_slug_format CHECK (slug ~ '^[a-z0-9]+(-[a-z0-9]+)*$')`);
    await db.query(`CREATE UNIQUE INDEX organizations_slug_key ON organizations (slug)`);
    await db.query(`
      CREATE FUNCTION organizations_default_slug() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF NEW.slug IS NULL THEN NEW.slug := sigill_organization_slug(NEW.name, NEW.id); END IF;
        RETURN NEW;
      END
      $$`);
    await db.query(`
      CREATE TRIGGER organizations_default_slug BEFORE INSERT ON organizations
        FOR EACH ROW EXECUTE FUNCTION organizations_default_slug()`);

    await db.query(`
      CREATE TABLE data_subject_requests (
        id uuid PRIMARY KEY,
        organization_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
        type text NOT NULL CHECK (type IN ('access', 'erasure', 'rectification', 'restriction', 'objection')),
        status text NOT NULL DEFAULT 'awaiting_identity'
          CHECK (status IN ('awaiting_identity', 'in_progress', 'completed', 'rejected', 'withdrawn')),
        channel text NOT NULL CHECK (channel IN ('api', 'public')),
        requester_name bytea,
        requester_email bytea,
        requester_phone bytea,
        requester_locale text NOT NULL DEFAULT 'en',
        email_index text,
        phone_index text,
        details bytea,
        received_at timestamptz NOT NULL,
        due_at timestamptz NOT NULL,
        extended_until timestamptz,
        extension_reason bytea,
        extension_notified_at timestamptz,
        identity_confirmed_at timestamptz,
        identity_method text CHECK (identity_method IN ('email_code', 'sms_code', 'eid')),
        code_version integer NOT NULL DEFAULT 1,
        code_issued_at timestamptz,
        confirmed_code_version integer,
        failed_code_attempts integer NOT NULL DEFAULT 0,
        locked_at timestamptz,
        link_version integer NOT NULL DEFAULT 1,
        assignee_user_id uuid REFERENCES users (id) ON DELETE SET NULL,
        overdue_at timestamptz,
        completed_at timestamptz,
        answer bytea,
        rejection_reason bytea,
        fulfilled_at timestamptz,
        legal_bases jsonb NOT NULL DEFAULT '[]'::jsonb,
        handled_records jsonb NOT NULL DEFAULT '[]'::jsonb,
        access_package_blob_key text,
        access_package_sha256 text,
        access_package_size bigint,
        access_package_record_count integer,
        access_package_expires_at timestamptz,
        created_by text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await db.query(`CREATE INDEX data_subject_requests_list_idx ON data_subject_requests (organization_id, received_at DESC, id DESC)`);
    await db.query(`CREATE INDEX data_subject_requests_open_idx ON data_subject_requests (organization_id) WHERE status IN ('awaiting_identity', 'in_progress')`);
    await db.query(`CREATE INDEX data_subject_requests_email_idx ON data_subject_requests (organization_id, email_index)`);
    await db.query(`
      CREATE TABLE dsr_idempotency_keys (
        organization_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
        key text NOT NULL,
        request_fingerprint text NOT NULL,
        dsr_id uuid NOT NULL REFERENCES data_subject_requests (id) ON DELETE CASCADE,
        created_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (organization_id, key)
      )`);
    await db.query(`
      CREATE TABLE dsr_audit_events (
        id bigserial PRIMARY KEY,
        dsr_id uuid NOT NULL REFERENCES data_subject_requests (id) ON DELETE CASCADE,
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
        UNIQUE (dsr_id, event_key)
      )`);
    await db.query(`CREATE UNIQUE INDEX dsr_audit_events_chain_key ON dsr_audit_events (dsr_id, sequence)`);
    await db.query(`
      CREATE FUNCTION dsr_audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF TG_OP = 'DELETE' THEN
          IF coalesce(current_setting('sigill.allow_audit_delete', true), '') = 'on'
             AND NOT EXISTS (SELECT 1 FROM data_subject_requests WHERE id = OLD.dsr_id) THEN
            RETURN OLD;
          END IF;
        END IF;
        IF TG_OP = 'UPDATE' AND sigill_audit_erase_allowed(to_jsonb(OLD), to_jsonb(NEW)) THEN
          RETURN NEW;
        END IF;
        RAISE EXCEPTION 'audit events are append-only (% refused)', TG_OP
          USING ERRCODE = 'insufficient_privilege',
                HINT = 'A data-subject request is removed with its trail only by deleting the request with sigill.allow_audit_delete set locally.';
      END
      $$`);
    await db.query(`
      CREATE TRIGGER dsr_audit_events_append_only
        BEFORE UPDATE OR DELETE ON dsr_audit_events
        FOR EACH ROW EXECUTE FUNCTION dsr_audit_events_append_only()`);
    await db.query(`
      CREATE TRIGGER dsr_audit_events_no_truncate
        BEFORE TRUNCATE ON dsr_audit_events
        FOR EACH STATEMENT EXECUTE FUNCTION dsr_audit_events_append_only()`);
  }

  async down(): Promise<void> {
    throw new Error('migrations are forward-only');
  }
}
