/**
 * Brute-force limits on password login (R7, R18), two of them:
 *
 * - per credential: 5 failures within 15 minutes lock the email for 15 minutes, whatever the password or
 *   address used. Kept in PostgreSQL (so every API replica and a restart see it), keyed by an HMAC of the
 *   email: unknown addresses lock exactly like known ones, so the lock tells nobody an account exists.
 * - per client IP: 10 failures within 15 minutes block the address from trying any account (spraying
 *   one password over many emails). A rate-limit budget in PostgreSQL like the other per-IP budgets, so
 *   replicas and restarts share it too (src/database/rate-limit-store.ts).
 *
 * While locked or blocked, even the right password is refused: the attacker cannot learn they found it.
 */
import { createHmac } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { queryReturning } from '../database/data-source';
import type { RateLimitBudget, RateLimitStore } from '../database/rate-limit-store';
import { rateLimitedError } from '../errors';

export const maxFailuresPerCredential = 5;
export const maxFailuresPerIp = 10;
const windowSeconds = 15 * 60;
const lockSeconds = 15 * 60;

export class LoginThrottle {
  private readonly failuresByIp: RateLimitBudget;

  constructor(
    private readonly dataSource: DataSource,
    private readonly key: Buffer,
    rateLimits: RateLimitStore,
  ) {
    this.failuresByIp = rateLimits.budget('login failures', { points: maxFailuresPerIp, windowSeconds });
  }

  private credentialKey(email: string): Buffer {
    return createHmac('sha256', this.key).update(email.trim().toLowerCase()).digest();
  }

  /** Throws 429 (with Retry-After) while the address or the email may not try. */
  async assertMayTry(email: string, ip: string): Promise<void> {
    const byIp = await this.failuresByIp.get(ip);
    if (byIp && byIp.consumedPoints >= maxFailuresPerIp) {
      throw rateLimitedError('Too many failed sign-ins from this address; try again later.', byIp.msBeforeNext / 1000);
    }
    const rows: Array<{ seconds: number }> = await this.dataSource.query(
      `SELECT extract(epoch FROM locked_until - now())::float8 AS seconds FROM login_throttle
        WHERE credential_key = $1 AND locked_until > now()`,
      [this.credentialKey(email)],
    );
    if (rows[0]) throw rateLimitedError('Too many failed sign-ins for this account; try again later.', rows[0].seconds);
  }

  /** Counts a failure; true when it locked the credential just now. */
  async recordFailure(email: string, ip: string): Promise<{ lockedNow: boolean }> {
    await this.failuresByIp.penalty(ip);
    const rows = await queryReturning<{ failures: number; locked: boolean }>(
      this.dataSource,
      `INSERT INTO login_throttle AS t (credential_key, failures, window_started_at)
       VALUES ($1, 1, now())
       ON CONFLICT (credential_key) DO UPDATE SET
         failures = CASE WHEN t.window_started_at < now() - make_interval(secs => $2) THEN 1 ELSE t.failures + 1 END,
         window_started_at = CASE WHEN t.window_started_at < now() - make_interval(secs => $2) THEN now() ELSE t.window_started_at END
       RETURNING failures, (locked_until IS NOT NULL AND locked_until > now()) AS locked`,
      [this.credentialKey(email), windowSeconds],
    );
    const row = rows[0]!;
    if (row.failures >= maxFailuresPerCredential && !row.locked) {
      await this.dataSource.query(
        `UPDATE login_throttle SET locked_until = now() + make_interval(secs => $2), failures = 0, window_started_at = now()
          WHERE credential_key = $1`,
        [this.credentialKey(email), lockSeconds],
      );
      return { lockedNow: true };
    }
    return { lockedNow: false };
  }

  /** A successful sign-in forgives the credential's earlier failures (not the address's). */
  async recordSuccess(email: string): Promise<void> {
    await this.dataSource.query(`DELETE FROM login_throttle WHERE credential_key = $1`, [this.credentialKey(email)]);
  }
}
