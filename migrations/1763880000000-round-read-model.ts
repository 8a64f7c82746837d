import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * PostgreSQL becomes the read model of signing rounds: each signer's progress and the request's reminder
 * count are columns, kept current by the activities that record each event (src/signing/round-read-model.ts),
 * so status reads never wake a worker and keep working while Temporal is down. Existing rows are filled in
 * from their audit trails. Openings of signer links that the workflow has not heard of yet wait in
 * `round_signal_outbox` until a relay delivers them.
 */
export class RoundReadModel1763880000000 implements MigrationInterface {
  name = 'RoundReadModel1763880000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      ALTER TABLE signers
        ADD COLUMN status text NOT NULL DEFAULT 'waiting' CHECK (status IN ('waiting', 'invited', 'opened', 'signed', 'declined')),
        ADD COLUMN invited_at timestamptz,
        ADD COLUMN opened_at timestamptz,
        ADD COLUMN signed_at timestamptz,
        ADD COLUMN declined_at timestamptz,
        ADD COLUMN reminders_sent integer NOT NULL DEFAULT 0`);
    await db.query(`ALTER TABLE signing_requests ADD COLUMN reminders_sent integer NOT NULL DEFAULT 0`);
    await db.query(`
      UPDATE signers s SET
        invited_at = (SELECT min(occurred_at) FROM audit_events e WHERE e.request_id = s.request_id AND e.signer_id = s.id AND e.type = 'invited'),
        opened_at = (SELECT min(occurred_at) FROM audit_events e WHERE e.request_id = s.request_id AND e.signer_id = s.id AND e.type = 'opened'),
        signed_at = (SELECT min(occurred_at) FROM audit_events e WHERE e.request_id = s.request_id AND e.signer_id = s.id AND e.type = 'signed'),
        declined_at = (SELECT min(occurred_at) FROM audit_events e WHERE e.request_id = s.request_id AND e.signer_id = s.id AND e.type = 'declined'),
        reminders_sent = (SELECT count(*) FROM audit_events e WHERE e.request_id = s.request_id AND e.signer_id = s.id AND e.type = 'reminded')`);
    await db.query(`
      UPDATE signers SET status = CASE
        WHEN signed_at IS NOT NULL THEN 'signed'
        WHEN declined_at IS NOT NULL THEN 'declined'
        WHEN opened_at IS NOT NULL THEN 'opened'
        WHEN invited_at IS NOT NULL THEN 'invited'
        ELSE 'waiting' END`);
    await db.query(`
      UPDATE signing_requests r SET reminders_sent = (
        SELECT count(DISTINCT split_part(e.event_key, ':', 2)) FROM audit_events e
         WHERE e.request_id = r.id AND e.type = 'reminded' AND e.event_key LIKE 'reminded:scheduled-%')`);
    // A decline, cancel or expiry is the request's status as soon as its event is recorded.
    await db.query(`
      UPDATE signing_requests r SET status = e.type
        FROM audit_events e
       WHERE e.request_id = r.id AND r.status = 'pending' AND e.type IN ('declined', 'cancelled', 'expired', 'failed')`);
    await db.query(`
      CREATE TABLE round_signal_outbox (
        id uuid PRIMARY KEY,
        request_id uuid NOT NULL REFERENCES signing_requests (id) ON DELETE CASCADE,
        signer_id uuid NOT NULL REFERENCES signers (id) ON DELETE CASCADE,
        kind text NOT NULL CHECK (kind IN ('opened')),
        created_at timestamptz NOT NULL DEFAULT now(),
        attempts integer NOT NULL DEFAULT 0,
        next_attempt_at timestamptz NOT NULL DEFAULT now()
      )`);
    await db.query(`CREATE INDEX round_signal_outbox_due_idx ON round_signal_outbox (next_attempt_at)`);
  }

  async down(): Promise<void> {
    throw new Error('migrations are forward-only');
  }
}
