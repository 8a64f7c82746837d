import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * People (R7, R8): users get a name, an optional phone (for new-device codes), and an optional password
 * (an argon2id PHC string; users who sign in only with Google or Microsoft have none). Folder grants give a
 * member `view`, `send` or `manage` on a folder and everything below it.
 *
 * Login state: sessions and password tokens (invitation and reset links) are stored as SHA-256 hashes of
 * their random secrets; new-device codes as HMACs under the deployment secret (a six-digit code's hash alone
 * could be reversed by trying all of them). Failed logins are counted per credential in `login_throttle`,
 * keyed by an HMAC of the email, so unknown addresses are throttled exactly like known ones and no address
 * is stored in the clear for it.
 *
 * The organisation audit log (admin actions, logins) is a hash chain like a request's trail, append-only.
 */
export class UsersAndSessions1763870000000 implements MigrationInterface {
  name = 'UsersAndSessions1763870000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      ALTER TABLE users
        ADD COLUMN name text CHECK (length(name) BETWEEN 1 AND 200),
        ADD COLUMN phone text CHECK (phone ~ '^\\+[1-9][0-9]{6,14}$'),
        ADD COLUMN password_hash text,
        ADD COLUMN password_changed_at timestamptz`);

    await db.query(`
      CREATE TABLE folder_grants (
        folder_id uuid NOT NULL REFERENCES folders (id) ON DELETE CASCADE,
        user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        organization_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
        permission text NOT NULL CHECK (permission IN ('view', 'send', 'manage')),
        created_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (folder_id, user_id)
      )`);
    await db.query(`CREATE INDEX folder_grants_member_idx ON folder_grants (organization_id, user_id)`);

    await db.query(`
      CREATE TABLE user_sessions (
        id uuid PRIMARY KEY,
        token_hash bytea NOT NULL UNIQUE,
        user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        organization_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
        csrf_token text NOT NULL,
        method text NOT NULL,
        created_at timestamptz NOT NULL,
        last_seen_at timestamptz NOT NULL,
        expires_at timestamptz NOT NULL,
        revoked_at timestamptz
      )`);
    await db.query(`CREATE INDEX user_sessions_user_idx ON user_sessions (user_id)`);

    await db.query(`
      CREATE TABLE login_challenges (
        id uuid PRIMARY KEY,
        user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        organization_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
        code_hash bytea NOT NULL,
        channel text NOT NULL CHECK (channel IN ('sms', 'email')),
        method text NOT NULL,
        created_at timestamptz NOT NULL,
        expires_at timestamptz NOT NULL,
        used_at timestamptz,
        failed_attempts integer NOT NULL DEFAULT 0
      )`);
    await db.query(`CREATE INDEX login_challenges_user_idx ON login_challenges (user_id)`);

    await db.query(`
      CREATE TABLE password_tokens (
        id uuid PRIMARY KEY,
        token_hash bytea NOT NULL UNIQUE,
        user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        organization_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
        purpose text NOT NULL CHECK (purpose IN ('invitation', 'reset')),
        created_at timestamptz NOT NULL,
        expires_at timestamptz NOT NULL,
        used_at timestamptz
      )`);
    await db.query(`CREATE INDEX password_tokens_user_idx ON password_tokens (user_id)`);

    await db.query(`
      CREATE TABLE login_throttle (
        credential_key bytea PRIMARY KEY,
        failures integer NOT NULL,
        window_started_at timestamptz NOT NULL,
        locked_until timestamptz
      )`);

    await db.query(`
      CREATE TABLE user_identities (
        provider text NOT NULL,
        subject text NOT NULL,
        user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        created_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (provider, subject)
      )`);
    await db.query(`CREATE UNIQUE INDEX user_identities_user_key ON user_identities (user_id, provider)`);

    await db.query(`
      CREATE TABLE organization_audit_events (
        organization_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
        sequence integer NOT NULL CHECK (sequence >= 1),
        type text NOT NULL,
        actor text NOT NULL,
        ip text,
        user_agent text,
        detail jsonb,
        occurred_at timestamptz NOT NULL,
        prev_hash text CHECK (prev_hash ~ '^[0-9a-f]{64}$'),
        hash text NOT NULL CHECK (hash ~ '^[0-9a-f]{64}$'),
        PRIMARY KEY (organization_id, sequence)
      )`);
    await db.query(`
      CREATE FUNCTION organization_audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF TG_OP = 'DELETE' THEN
          IF coalesce(current_setting('sigill.allow_audit_delete', true), '') = 'on'
             AND NOT EXISTS (SELECT 1 FROM organizations WHERE id = OLD.organization_id) THEN
            RETURN OLD;
          END IF;
        END IF;
        RAISE EXCEPTION 'organisation audit events are append-only (% refused)', TG_OP
          USING ERRCODE = 'insufficient_privilege';
      END
      $$`);
    await db.query(`
      CREATE TRIGGER organization_audit_events_append_only
        BEFORE UPDATE OR DELETE ON organization_audit_events
        FOR EACH ROW EXECUTE FUNCTION organization_audit_events_append_only()`);
    await db.query(`
      CREATE TRIGGER organization_audit_events_no_truncate
        BEFORE TRUNCATE ON organization_audit_events
        FOR EACH STATEMENT EXECUTE FUNCTION organization_audit_events_append_only()`);
  }

  async down(): Promise<void> {
    throw new Error('migrations are forward-only');
  }
}
