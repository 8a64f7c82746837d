import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Keyed audit chains (issue 11, part 4): both audit chains (a request's trail, an organisation's log) move
 * from plain SHA-256 (format 1) to HMAC-SHA-256 under a key of the key service (format 2), so someone who
 * can write the database cannot rebuild a consistent chain (src/signing/audit-chain.ts).
 *
 * A migration has no key service, so this one only prepares: every existing row is marked format 1 (the
 * column's default, which fills the rows without an UPDATE the append-only triggers would refuse), then the
 * default is dropped, so a process of the previous version, which does not name the format, can append no
 * more plain rows: the set of format-1 rows is fixed here. The first process to start afterwards creates
 * the chain key and, in the same transaction, re-anchors them (src/signing/audit-chain-key.ts): the
 * verified legacy prefix of each chain is recomputed under the key, and each row's plain hash is kept in
 * `legacy_hash` because a seal made before then printed one of them. That happens once, with the key's
 * creation, never at a later start, so plain rows written afterwards are never keyed. The triggers allow
 * exactly that one UPDATE: from format 1 to 2, the old hash moved to `legacy_hash`, nothing but the chain
 * columns changed, and only in a transaction that says so with `sigill.allow_audit_rechain`.
 */
export class KeyedAuditChains1763910000000 implements MigrationInterface {
  name = 'KeyedAuditChains1763910000000';

  async up(db: QueryRunner): Promise<void> {
    for (const table of ['audit_events', 'organization_audit_events']) {
      await db.query(`
        ALTER TABLE ${table}
          ADD COLUMN chain_format smallint NOT NULL DEFAULT 1,
          ADD COLUMN legacy_hash text`);
      await db.query(`
        ALTER TABLE ${table}
          ALTER COLUMN chain_format DROP DEFAULT,
          ADD CONSTRAINT ${table}_chain_format_check CHECK (chain_format IN (1, 2)),
          ADD CONSTRAINT ${table}_legacy_hash_check CHECK (legacy_hash IS NULL OR (chain_format = 2 AND legacy_hash ~ '^[0-9a-f]{64}$'))`);
    }
    // Re-anchoring a plain row is the only update the triggers let through: it cannot touch what was
    // recorded, and a hash written without the key does not verify.
    await db.query(`
      CREATE FUNCTION sigill_audit_rechain_allowed(old_row jsonb, new_row jsonb) RETURNS boolean LANGUAGE sql STABLE AS $$
        SELECT coalesce(current_setting('sigill.allow_audit_rechain', true), '') = 'on'
           AND (old_row ->> 'chain_format') = '1'
           AND (new_row ->> 'chain_format') = '2'
           AND (new_row ->> 'legacy_hash') = (old_row ->> 'hash')
           AND (old_row - ARRAY['prev_hash', 'hash', 'chain_format', 'legacy_hash']) = (new_row - ARRAY['prev_hash', 'hash', 'chain_format', 'legacy_hash'])
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
        RAISE EXCEPTION 'audit events are append-only (% refused)', TG_OP
          USING ERRCODE = 'insufficient_privilege',
                HINT = 'A signing request is removed with its trail only by deleting the request with sigill.allow_audit_delete set locally.';
      END
      $$`);
    await db.query(`
      CREATE OR REPLACE FUNCTION organization_audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF TG_OP = 'DELETE' THEN
          IF coalesce(current_setting('sigill.allow_audit_delete', true), '') = 'on'
             AND NOT EXISTS (SELECT 1 FROM organizations WHERE id = OLD.organization_id) THEN
            RETURN OLD;
          END IF;
        END IF;
        IF TG_OP = 'UPDATE' AND sigill_audit_rechain_allowed(to_jsonb(OLD), to_jsonb(NEW)) THEN
          RETURN NEW;
        END IF;
        RAISE EXCEPTION 'organisation audit events are append-only (% refused)', TG_OP
          USING ERRCODE = 'insufficient_privilege';
      END
      $$`);
  }

  async down(): Promise<void> {
    throw new Error('migrations are forward-only');
  }
}
