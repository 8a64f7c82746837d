import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Outbound webhooks (issue 12 §1, src/webhooks/).
 *
 * `webhook_endpoints`: an organisation's receivers. Deleting one marks it (`deleted_at`) rather than
 * removing the row, so its delivery log stays readable for support and a delivery in flight finds out why
 * it must stop.
 *
 * `webhook_endpoint_secrets`: the signing secrets, encrypted (AES-256-GCM) under a data key of the key
 * service bound to the organisation, endpoint and secret id; never in the clear. After a rotation the
 * previous secret keeps signing until `expires_at`.
 *
 * `webhook_messages`: the outbox. A row is written by the same statement or transaction as the change it
 * reports (src/signing/audit-trail.ts), and only for organisations with an enabled endpoint. `source_key`
 * names that change, so recording it twice makes one message; `id` (`msg_…`) is the Standard Webhooks
 * message id, the same on every retry and redelivery. `dispatched_at` is set once the message has been
 * fanned out to the endpoints subscribed at that moment.
 *
 * `webhook_deliveries`: one message to one endpoint. `run` counts redeliveries (each run is a workflow of
 * its own); `started_run` is the last run whose workflow was started, so a relay starts the ones an outage
 * left behind.
 *
 * `webhook_delivery_attempts`: one row per attempt, keyed by (delivery, run, attempt) so a retried
 * activity updates its row instead of adding one. `disabled_endpoint` marks the one attempt that disabled
 * its endpoint for failing: only it asks for the admins' email, so no two deliveries send it at once.
 */
export class Webhooks1763920000000 implements MigrationInterface {
  name = 'Webhooks1763920000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      CREATE TABLE webhook_endpoints (
        id uuid PRIMARY KEY,
        organization_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
        url text NOT NULL CHECK (length(url) BETWEEN 1 AND 2048),
        description text CHECK (length(description) <= 500),
        events text[] NOT NULL,
        enabled boolean NOT NULL DEFAULT true,
        disabled_reason text CHECK (disabled_reason IN ('manual', 'gone', 'failing')),
        disabled_at timestamptz,
        failing_since timestamptz,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        deleted_at timestamptz
      )`);
    // What every recorded event asks: does this organisation have an enabled endpoint at all?
    await db.query(
      `CREATE INDEX webhook_endpoints_enabled_idx ON webhook_endpoints (organization_id) WHERE enabled AND deleted_at IS NULL`,
    );
    // Listing and counting an organisation's endpoints (disabled ones too), and deleting an organisation.
    await db.query(`CREATE INDEX webhook_endpoints_organization_idx ON webhook_endpoints (organization_id)`);
    // The disabled-endpoints gauge, deployment-wide at every scrape (src/observability/operational-gauges.ts).
    await db.query(`CREATE INDEX webhook_endpoints_disabled_idx ON webhook_endpoints (disabled_reason) WHERE NOT enabled AND deleted_at IS NULL`);
    await db.query(`
      CREATE TABLE webhook_endpoint_secrets (
        id uuid PRIMARY KEY,
        endpoint_id uuid NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
        wrapped_key bytea NOT NULL,
        encrypted_secret bytea NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        expires_at timestamptz
      )`);
    await db.query(`CREATE INDEX webhook_endpoint_secrets_endpoint_idx ON webhook_endpoint_secrets (endpoint_id)`);
    await db.query(`
      CREATE TABLE webhook_messages (
        id text PRIMARY KEY CHECK (id ~ '^msg_[A-Za-z0-9]{8,64}$'),
        organization_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
        type text NOT NULL,
        payload jsonb NOT NULL,
        source_key text NOT NULL UNIQUE,
        created_at timestamptz NOT NULL DEFAULT now(),
        dispatched_at timestamptz,
        dispatch_attempts integer NOT NULL DEFAULT 0,
        next_dispatch_at timestamptz NOT NULL DEFAULT now()
      )`);
    await db.query(`CREATE INDEX webhook_messages_undispatched_idx ON webhook_messages (next_dispatch_at) WHERE dispatched_at IS NULL`);
    // An organisation's messages: deleting an organisation (the cascade), and scoped dispatch.
    await db.query(`CREATE INDEX webhook_messages_organization_idx ON webhook_messages (organization_id)`);
    await db.query(`
      CREATE TABLE webhook_deliveries (
        id uuid PRIMARY KEY,
        message_id text NOT NULL REFERENCES webhook_messages (id) ON DELETE CASCADE,
        endpoint_id uuid NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
        status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'failed', 'cancelled')),
        run integer NOT NULL DEFAULT 1,
        started_run integer NOT NULL DEFAULT 0,
        start_attempts integer NOT NULL DEFAULT 0,
        next_start_at timestamptz NOT NULL DEFAULT now(),
        created_at timestamptz NOT NULL DEFAULT now(),
        last_attempt_at timestamptz,
        next_attempt_at timestamptz,
        UNIQUE (message_id, endpoint_id)
      )`);
    await db.query(`CREATE INDEX webhook_deliveries_endpoint_idx ON webhook_deliveries (endpoint_id, created_at DESC, id DESC)`);
    await db.query(`CREATE INDEX webhook_deliveries_unstarted_idx ON webhook_deliveries (next_start_at) WHERE started_run < run`);
    await db.query(`
      CREATE TABLE webhook_delivery_attempts (
        delivery_id uuid NOT NULL REFERENCES webhook_deliveries (id) ON DELETE CASCADE,
        run integer NOT NULL,
        attempt integer NOT NULL,
        attempted_at timestamptz NOT NULL,
        http_status integer,
        latency_ms integer,
        error text,
        -- This attempt disabled its endpoint for failing too long: its retry, too, asks for the admins' notice.
        disabled_endpoint boolean NOT NULL DEFAULT false,
        PRIMARY KEY (delivery_id, run, attempt)
      )`);
  }

  async down(): Promise<void> {
    throw new Error('migrations are forward-only');
  }
}
