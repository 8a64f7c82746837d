import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Signing requests, their signers, the audit trail, create idempotency, sent messages, and deployment secrets.
 * Link tokens and PINs are never stored, not even hashed: they are recomputed from a deployment secret
 * (see src/signing/signer-credentials.ts); only their version numbers live here.
 */
export class SigningRequests1763830000000 implements MigrationInterface {
  name = 'SigningRequests1763830000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      CREATE TABLE deployment_secrets (
        name text PRIMARY KEY,
        wrapped_key bytea NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await db.query(`
      CREATE TABLE signing_requests (
        id uuid PRIMARY KEY,
        organization_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
        title text NOT NULL,
        message text,
        document_filename text NOT NULL,
        document_code text NOT NULL UNIQUE,
        original_blob_key text NOT NULL,
        original_sha256 text NOT NULL,
        page_count integer NOT NULL,
        routing text NOT NULL CHECK (routing IN ('parallel', 'sequential')),
        reminder_first_after_ms bigint NOT NULL,
        reminder_every_ms bigint NOT NULL,
        reminder_max integer NOT NULL,
        status text NOT NULL CHECK (status IN ('pending', 'completed', 'declined', 'expired', 'cancelled', 'failed')),
        created_at timestamptz NOT NULL,
        expires_at timestamptz NOT NULL,
        completed_at timestamptz,
        sealed_at timestamptz,
        sealed_blob_key text,
        sealed_sha256 text
      )`);
    await db.query(`CREATE INDEX signing_requests_listing_idx ON signing_requests (organization_id, created_at DESC, id DESC)`);
    await db.query(`
      CREATE TABLE signers (
        id uuid PRIMARY KEY,
        request_id uuid NOT NULL REFERENCES signing_requests (id) ON DELETE CASCADE,
        position integer NOT NULL,
        name text NOT NULL,
        email text NOT NULL,
        phone text,
        pin_delivery text NOT NULL CHECK (pin_delivery IN ('sms', 'sender')),
        link_version integer NOT NULL DEFAULT 1,
        pin_version integer NOT NULL DEFAULT 1,
        failed_pin_attempts integer NOT NULL DEFAULT 0,
        locked_at timestamptz,
        UNIQUE (request_id, position),
        UNIQUE (request_id, email)
      )`);
    await db.query(`
      CREATE TABLE idempotency_keys (
        organization_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
        key text NOT NULL,
        request_fingerprint text NOT NULL,
        signing_request_id uuid NOT NULL REFERENCES signing_requests (id) ON DELETE CASCADE,
        created_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (organization_id, key)
      )`);
    // Every email and SMS Sigill sends, by its stable message id: an activity retried after a crash checks
    // here and does not send the same message twice (only a crash in the instant between sending and
    // recording can repeat one).
    await db.query(`
      CREATE TABLE sent_messages (
        message_id text PRIMARY KEY,
        channel text NOT NULL CHECK (channel IN ('email', 'sms')),
        sent_at timestamptz NOT NULL DEFAULT now()
      )`);
    await db.query(`
      CREATE TABLE audit_events (
        id bigserial PRIMARY KEY,
        request_id uuid NOT NULL REFERENCES signing_requests (id) ON DELETE CASCADE,
        event_key text NOT NULL,
        type text NOT NULL,
        signer_id uuid,
        actor text NOT NULL,
        channel text,
        ip text,
        user_agent text,
        detail jsonb,
        occurred_at timestamptz NOT NULL,
        UNIQUE (request_id, event_key)
      )`);
  }

  async down(): Promise<void> {
    throw new Error('migrations are forward-only');
  }
}
