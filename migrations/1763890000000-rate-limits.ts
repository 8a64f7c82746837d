import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Rate-limit budgets shared by every API process (src/database/rate-limit-store.ts). The table is
 * rate-limiter-flexible's PostgreSQL store's, column for column as the store would create it (it is told
 * the table exists and issues no DDL): `key` is `<budget name>:<client address>`, `points` those spent in
 * the current window, `expire` the window's end in Unix milliseconds by the API process's clock.
 *
 * The index serves the periodic deletion of expired rows, which stays cheap even after a flood of addresses.
 */
export class RateLimits1763890000000 implements MigrationInterface {
  name = 'RateLimits1763890000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      CREATE TABLE rate_limits (
        key varchar(255) PRIMARY KEY,
        points integer NOT NULL DEFAULT 0,
        expire bigint
      )`);
    await db.query(`CREATE INDEX rate_limits_expire_idx ON rate_limits (expire)`);
  }

  async down(): Promise<void> {
    throw new Error('migrations are forward-only');
  }
}
