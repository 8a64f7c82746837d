import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The person's name, birth date and masked national id from an eID identification under the record key
 * (issue 14 part 1; src/identity/identification-evidence.ts): `evidence_sealed`, with the clear columns NULL.
 * Scheme, country, acr, the broker's transaction id and the time stay in clear (they name no one). Rows
 * written before are sealed by the move to record keys (src/privacy/move-to-record-keys.ts).
 */
export class SealedEidEvidence1763944000000 implements MigrationInterface {
  name = 'SealedEidEvidence1763944000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`ALTER TABLE eid_identifications ADD COLUMN evidence_sealed bytea`);
  }

  async down(): Promise<void> {
    throw new Error('migrations are forward-only');
  }
}
