import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A signing request's personal columns under its record key (issue 14 part 1; src/signing/round-personal-data.ts):
 *
 * - `signers.contact_sealed` holds the signer's name, email and phone (the clear columns NULL), with blind
 *   indexes `email_index`, `phone_index` (src/privacy/sealed-columns.ts) to find a person's rounds.
 * - `signing_requests.text_sealed` holds the title, message and document file name (clear columns NULL);
 *   `search_tokens` are keyed hashes of the word prefixes of the title and the signers' names and addresses,
 *   so the list's search finds words by their beginning without any of them in clear.
 *
 * Rows written before are sealed by the move to record keys (src/privacy/move-to-record-keys.ts).
 */
export class SealedRoundPersonalData1763948000000 implements MigrationInterface {
  name = 'SealedRoundPersonalData1763948000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`ALTER TABLE signers ADD COLUMN contact_sealed bytea, ADD COLUMN email_index bytea, ADD COLUMN phone_index bytea`);
    await db.query(`CREATE INDEX signers_email_index_idx ON signers (email_index) WHERE email_index IS NOT NULL`);
    await db.query(`CREATE INDEX signers_phone_index_idx ON signers (phone_index) WHERE phone_index IS NOT NULL`);
    await db.query(`ALTER TABLE signing_requests ADD COLUMN text_sealed bytea, ADD COLUMN search_tokens bytea[]`);
    await db.query(`CREATE INDEX signing_requests_search_tokens_idx ON signing_requests USING gin (search_tokens)`);
  }

  async down(): Promise<void> {
    throw new Error('migrations are forward-only');
  }
}
