import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The personal part of an audit event under its record's key (issue 14 part 1; src/privacy/audit-personal-data.ts).
 *
 * - `sealed` on audit_events, kyc_audit_events and dsr_audit_events: the event's IP address, user agent and
 *   detail, encrypted under the record key. Such a row keeps `ip` and `user_agent` NULL and, in `detail`, only
 *   the members that name no one (hashes, ids, counts), which queries and tombstones read.
 * - Rows written before this are sealed where they are (src/privacy/move-to-record-keys.ts): a transaction that
 *   sets `sigill.allow_audit_seal` may, once per row, move ip/user_agent/detail into `sealed`, keeping a part of
 *   the detail. Nothing else may change, so the chain (computed over the plaintext) is untouched.
 * - Erasing (migration 1763929000000) now also clears `sealed`, and reaches data-subject request trails too
 *   (`dsr_audit_events.erased_at`).
 */
/** src/privacy/audit-personal-data.ts nonPersonalDetailKeys as this migration was written (a migration never changes). */
const nonPersonalDetailKeysAtThisMigration = [
  'sha256', 'auditChainHead', 'evidenceSha256', 'previousSha256', 'previousEvidenceSha256', 'timestampAt', 'renewBefore', 'blobStore',
  'status', 'outcome', 'final', 'round', 'requestId', 'identificationId', 'uploadId', 'questionnaireId', 'questionnaireVersion',
  'identification', 'recipients', 'refused', 'channel', 'via',
];

export class SealedAuditPersonalData1763940000000 implements MigrationInterface {
  name = 'SealedAuditPersonalData1763940000000';

  async up(db: QueryRunner): Promise<void> {
    for (const table of ['audit_events', 'kyc_audit_events', 'dsr_audit_events']) {
      await db.query(`ALTER TABLE ${table} ADD COLUMN sealed bytea`);
    }
    // A shredded data-subject request's trail is erased like the others' (src/privacy/shred-record.ts).
    await db.query(`ALTER TABLE dsr_audit_events ADD COLUMN erased_at timestamptz`);
    const chainColumnsOtherThan = `ARRAY['actor', 'ip', 'user_agent', 'detail', 'erased_at', 'sealed']`;
    await db.query(`
      CREATE OR REPLACE FUNCTION sigill_audit_erase_allowed(old_row jsonb, new_row jsonb) RETURNS boolean LANGUAGE sql STABLE AS $$
        SELECT coalesce(current_setting('sigill.allow_audit_erase', true), '') = 'on'
           AND jsonb_typeof(old_row -> 'erased_at') = 'null'
           AND jsonb_typeof(new_row -> 'erased_at') = 'string'
           AND jsonb_typeof(new_row -> 'ip') = 'null'
           AND jsonb_typeof(new_row -> 'user_agent') = 'null'
           AND coalesce(jsonb_typeof(new_row -> 'sealed'), 'null') = 'null'
           AND (jsonb_typeof(new_row -> 'actor') = 'null' OR (new_row -> 'actor') = (old_row -> 'actor'))
           AND (jsonb_typeof(new_row -> 'detail') = 'null' OR (old_row -> 'detail') @> (new_row -> 'detail'))
           AND (old_row - ${chainColumnsOtherThan}) = (new_row - ${chainColumnsOtherThan})
      $$`);
    // The seal keeps exactly the detail's non-personal members (this list is nonPersonalDetailKeys of
    // src/privacy/audit-personal-data.ts when this migration was written), and only a row holding something
    // personal may be sealed: nothing else about a row can change, whoever sets the flag.
    const kept = `ARRAY[${nonPersonalDetailKeysAtThisMigration.map((key) => `'${key}'`).join(', ')}]::text[]`;
    const reduced = (row: string) =>
      `(SELECT jsonb_object_agg(d.key, d.value) FROM jsonb_each(CASE WHEN jsonb_typeof(${row} -> 'detail') = 'object' THEN ${row} -> 'detail' ELSE '{}'::jsonb END) d WHERE d.key = ANY(${kept}))`;
    await db.query(`
      CREATE FUNCTION sigill_audit_seal_allowed(old_row jsonb, new_row jsonb) RETURNS boolean LANGUAGE sql STABLE AS $$
        SELECT coalesce(current_setting('sigill.allow_audit_seal', true), '') = 'on'
           AND coalesce(jsonb_typeof(old_row -> 'erased_at'), 'null') = 'null'
           AND coalesce(jsonb_typeof(new_row -> 'erased_at'), 'null') = 'null'
           AND jsonb_typeof(old_row -> 'sealed') = 'null'
           AND jsonb_typeof(new_row -> 'sealed') = 'string'
           AND (jsonb_typeof(old_row -> 'ip') = 'string' OR jsonb_typeof(old_row -> 'user_agent') = 'string'
                OR ${reduced('old_row')} IS DISTINCT FROM (CASE WHEN jsonb_typeof(old_row -> 'detail') = 'object' THEN old_row -> 'detail' END))
           AND jsonb_typeof(new_row -> 'ip') = 'null'
           AND jsonb_typeof(new_row -> 'user_agent') = 'null'
           AND (new_row -> 'actor') = (old_row -> 'actor')
           AND coalesce(new_row -> 'detail', 'null'::jsonb) = coalesce(${reduced('old_row')}, 'null'::jsonb)
           AND (old_row - ${chainColumnsOtherThan}) = (new_row - ${chainColumnsOtherThan})
      $$`);
    const trails = [
      { table: 'audit_events', parent: 'signing_requests', parentColumn: 'request_id', what: 'A signing request', rechain: true },
      { table: 'kyc_audit_events', parent: 'kyc_cases', parentColumn: 'case_id', what: 'A KYC case', rechain: false },
      { table: 'dsr_audit_events', parent: 'data_subject_requests', parentColumn: 'dsr_id', what: 'A data-subject request', rechain: false },
    ];
    for (const trail of trails) {
      await db.query(`
        CREATE OR REPLACE FUNCTION ${trail.table}_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          -- Deleted only with the whole record, by a transaction that says so (migration 1763929000000).
          IF TG_OP = 'DELETE' THEN
            IF coalesce(current_setting('sigill.allow_audit_delete', true), '') = 'on'
               AND NOT EXISTS (SELECT 1 FROM ${trail.parent} WHERE id = OLD.${trail.parentColumn}) THEN
              RETURN OLD;
            END IF;
          END IF;
          ${trail.rechain ? `IF TG_OP = 'UPDATE' AND sigill_audit_rechain_allowed(to_jsonb(OLD), to_jsonb(NEW)) THEN RETURN NEW; END IF;` : ''}
          IF TG_OP = 'UPDATE' AND sigill_audit_erase_allowed(to_jsonb(OLD), to_jsonb(NEW)) THEN
            RETURN NEW;
          END IF;
          IF TG_OP = 'UPDATE' AND sigill_audit_seal_allowed(to_jsonb(OLD), to_jsonb(NEW)) THEN
            RETURN NEW;
          END IF;
          RAISE EXCEPTION 'audit events are append-only (% refused)', TG_OP
            USING ERRCODE = 'insufficient_privilege',
                  HINT = '${trail.what} is removed with its trail only by deleting it with sigill.allow_audit_delete set locally.';
        END
        $$`);
    }
  }

  async down(): Promise<void> {
    throw new Error('migrations are forward-only');
  }
}
