import type { MigrationInterface, QueryRunner } from 'typeorm';
import { auditEventHash } from '../src/signing/audit-chain';

/**
 * A tamper-evident audit trail (R5): every event gets its position in its request's chain (`sequence`, from
 * 1), the previous event's hash and its own (see src/signing/audit-chain.ts for what is hashed), and the
 * database refuses to change or remove audit rows. The chain head printed on a sealed document's audit page
 * is kept with the seal in `signing_requests.audit_chain_head`.
 *
 * Existing rows are chained here, per request in the order they were recorded (occurred_at, id), so the
 * columns can be NOT NULL and every row is verified the same way.
 *
 * Deleting a signing request still removes its trail (ON DELETE CASCADE), but only when the transaction
 * opts in with `SET LOCAL sigill.allow_audit_delete = 'on'` (see `deleteSigningRequestWithAuditTrail`) and
 * only for rows whose request is gone: a single audit row can never be removed. (Erasure of personal data
 * will rely on crypto-shredding, not on deleting audit rows.)
 */
export class AuditChain1763840000000 implements MigrationInterface {
  name = 'AuditChain1763840000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`ALTER TABLE audit_events ADD COLUMN sequence integer, ADD COLUMN prev_hash text, ADD COLUMN hash text`);
    await chainExistingEvents(db);
    await db.query(`
      ALTER TABLE audit_events
        ALTER COLUMN sequence SET NOT NULL,
        ALTER COLUMN hash SET NOT NULL,
        ADD CONSTRAINT audit_events_sequence_check CHECK (sequence >= 1),
        ADD CONSTRAINT audit_events_hash_check CHECK (hash ~ '^[0-9a-f]{64}$'),
        ADD CONSTRAINT audit_events_prev_hash_check
          CHECK (CASE WHEN sequence = 1 THEN prev_hash IS NULL ELSE prev_hash ~ '^[0-9a-f]{64}$' END)`);
    await db.query(`CREATE UNIQUE INDEX audit_events_chain_key ON audit_events (request_id, sequence)`);
    await db.query(`ALTER TABLE signing_requests ADD COLUMN audit_chain_head text`);

    await db.query(`
      CREATE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        -- The one way out: the whole request is being deleted (its row is already gone when the cascade
        -- reaches its events) by a transaction that said so explicitly.
        IF TG_OP = 'DELETE' THEN
          IF coalesce(current_setting('sigill.allow_audit_delete', true), '') = 'on'
             AND NOT EXISTS (SELECT 1 FROM signing_requests WHERE id = OLD.request_id) THEN
            RETURN OLD;
          END IF;
        END IF;
        RAISE EXCEPTION 'audit events are append-only (% refused)', TG_OP
          USING ERRCODE = 'insufficient_privilege',
                HINT = 'A signing request is removed with its trail only by deleting the request with sigill.allow_audit_delete set locally.';
      END
      $$`);
    await db.query(`
      CREATE TRIGGER audit_events_append_only
        BEFORE UPDATE OR DELETE ON audit_events
        FOR EACH ROW EXECUTE FUNCTION audit_events_append_only()`);
    await db.query(`
      CREATE TRIGGER audit_events_no_truncate
        BEFORE TRUNCATE ON audit_events
        FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only()`);
  }

  async down(): Promise<void> {
    throw new Error('migrations are forward-only');
  }
}

interface LegacyRow {
  id: string;
  request_id: string;
  event_key: string;
  type: string;
  signer_id: string | null;
  actor: string;
  channel: string | null;
  ip: string | null;
  user_agent: string | null;
  detail: unknown;
  occurred_at: Date;
}

/** Chains the rows recorded before this migration, a request at a time. */
async function chainExistingEvents(db: QueryRunner): Promise<void> {
  const rows: LegacyRow[] = await db.query(
    `SELECT id, request_id, event_key, type, signer_id, actor, channel, ip, user_agent, detail, occurred_at
       FROM audit_events ORDER BY request_id, occurred_at, id`,
  );
  let requestId: string | undefined;
  let sequence = 0;
  let prevHash: string | null = null;
  for (const row of rows) {
    if (row.request_id !== requestId) {
      requestId = row.request_id;
      sequence = 0;
      prevHash = null;
    }
    sequence += 1;
    const hash = auditEventHash(prevHash, {
      requestId: row.request_id,
      sequence,
      eventKey: row.event_key,
      type: row.type,
      signerId: row.signer_id,
      actor: row.actor,
      channel: row.channel,
      ip: row.ip,
      userAgent: row.user_agent,
      detail: row.detail,
      occurredAt: row.occurred_at,
    });
    await db.query(`UPDATE audit_events SET sequence = $2, prev_hash = $3, hash = $4 WHERE id = $1`, [row.id, sequence, prevHash, hash]);
    prevHash = hash;
  }
}
