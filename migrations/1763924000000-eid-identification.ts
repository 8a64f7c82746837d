import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * National eID identification (issue 13 §1, src/identity/).
 *
 * - `signers` gain how they identify (`pin`, `eid`, `pin+eid`), the eID asked for (`acr_values`), the
 *   national id the identity must match (encrypted, src/privacy/encrypted-field.ts: never in clear) and the
 *   identification that opened their link.
 * - `eid_identifications` keeps each identification a broker answered, for signers and KYC customers:
 *   what evidence shows in clear (scheme, name, birth date, country, the masked national id, the broker's
 *   transaction id, acr, time) and, encrypted, the national id and the whole ID token. A `mismatch` row is
 *   an identity that was refused because it was not the expected person.
 * - `round_signal_outbox` carries `identification_mismatch` to the round, which emails the senders.
 */
export class EidIdentification1763924000000 implements MigrationInterface {
  name = 'EidIdentification1763924000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      CREATE TABLE eid_identifications (
        id uuid PRIMARY KEY,
        organization_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
        subject_kind text NOT NULL CHECK (subject_kind IN ('signer', 'kyc_case')),
        subject_id uuid NOT NULL,
        outcome text NOT NULL CHECK (outcome IN ('identified', 'mismatch')),
        issuer text NOT NULL,
        -- SHA-256 of issuer and subject: tells one broker account from another without keeping its id.
        subject_sha256 text NOT NULL,
        scheme text,
        name text,
        birthdate text,
        country text,
        national_id_masked text,
        national_id_encrypted bytea,
        transaction_id text,
        acr text,
        id_token_encrypted bytea NOT NULL,
        identified_at timestamptz NOT NULL
      )`);
    await db.query(`CREATE INDEX eid_identifications_subject_idx ON eid_identifications (subject_kind, subject_id)`);
    await db.query(`
      ALTER TABLE signers
        ADD COLUMN identification_method text NOT NULL DEFAULT 'pin' CHECK (identification_method IN ('pin', 'eid', 'pin+eid')),
        ADD COLUMN eid_acr text,
        ADD COLUMN expected_national_id bytea,
        ADD COLUMN identification_id uuid REFERENCES eid_identifications (id)`);
    await db.query(`ALTER TABLE round_signal_outbox DROP CONSTRAINT round_signal_outbox_kind_check`);
    await db.query(
      `ALTER TABLE round_signal_outbox ADD CONSTRAINT round_signal_outbox_kind_check CHECK (kind IN ('opened', 'locked', 'identification_mismatch'))`,
    );
  }

  async down(): Promise<void> {
    throw new Error('migrations are forward-only');
  }
}
