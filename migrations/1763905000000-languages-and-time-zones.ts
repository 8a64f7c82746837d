import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Languages and time zones (issue 10): an organisation has a default language for its signers and
 * members and a time zone for the dates people read; each signer has the language of their emails, SMS
 * and signing page, existing signers taking their organisation's default. A request remembers the member
 * who created it (null for API keys), so its emails can name the sending person. A locked link reaches the
 * round through the same outbox as an opening.
 */
export class LanguagesAndTimeZones1763905000000 implements MigrationInterface {
  name = 'LanguagesAndTimeZones1763905000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      ALTER TABLE organizations
        ADD COLUMN default_locale text NOT NULL DEFAULT 'en' CHECK (default_locale IN ('en', 'sv', 'fi')),
        ADD COLUMN time_zone text NOT NULL DEFAULT 'UTC'`);
    await db.query(`ALTER TABLE signers ADD COLUMN locale text CHECK (locale IN ('en', 'sv', 'fi'))`);
    await db.query(`
      UPDATE signers s SET locale = o.default_locale
        FROM signing_requests r JOIN organizations o ON o.id = r.organization_id
       WHERE r.id = s.request_id`);
    await db.query(`ALTER TABLE signers ALTER COLUMN locale SET NOT NULL`);
    await db.query(`ALTER TABLE signing_requests ADD COLUMN created_by_user_id uuid REFERENCES users (id) ON DELETE SET NULL`);
    await db.query(`ALTER TABLE round_signal_outbox DROP CONSTRAINT round_signal_outbox_kind_check`);
    await db.query(`ALTER TABLE round_signal_outbox ADD CONSTRAINT round_signal_outbox_kind_check CHECK (kind IN ('opened', 'locked'))`);
  }

  async down(): Promise<void> {
    throw new Error('migrations are forward-only');
  }
}
