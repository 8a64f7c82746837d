/**
 * Rate-limit budgets shared by every API process on one database: rate-limiter-flexible's PostgreSQL store
 * over the service's pool, in the `rate_limits` table made by the migrations. N replicas give one budget,
 * not N, and a restart forgets nothing.
 *
 * If PostgreSQL does not answer, a budget counts in this process's memory instead (each replica then holds
 * the limit on its own, as before budgets were shared) rather than failing the request: a route that needs
 * the database still reports the outage itself (503), and one that does not keeps working, still limited.
 * The switch is logged once each way.
 *
 * Expired rows are deleted from here, at most once per 5 minutes per process and only after a request (no
 * timer to stop), so the table holds about the last hour's keys whatever the traffic.
 */
import type { Pool } from 'pg';
import { RateLimiterMemory, RateLimiterPostgres, RateLimiterRes } from 'rate-limiter-flexible';
import type { DataSource } from 'typeorm';
import type { PostgresDriver } from 'typeorm/driver/postgres/PostgresDriver';
import type { Logger } from '../logger';

export interface RateLimitPolicy {
  /** Points (requests, failures) allowed per window, per key (a client IP). */
  points: number;
  windowSeconds: number;
}

/** A named budget. Rejects with `RateLimiterRes` (its `msBeforeNext` says when to retry) once it is spent. */
export interface RateLimitBudget {
  consume(key: string): Promise<RateLimiterRes>;
  /** Counts points without refusing (e.g. failures counted after the fact). */
  penalty(key: string): Promise<RateLimiterRes>;
  /** The key's current window, null when it has none. */
  get(key: string): Promise<RateLimiterRes | null>;
}

const tableName = 'rate_limits';
const cleanupIntervalMs = 5 * 60_000;
/** Like the library's own cleanup: rows outlive their window by an hour, slack for replicas whose clocks differ. */
const expiredRowGraceMs = 60 * 60_000;

/** The pg pool under a TypeORM data source (initialised), shared rather than opening connections of our own. */
export function postgresPoolOf(dataSource: DataSource): Pool {
  const pool = (dataSource.driver as PostgresDriver).master as Pool | undefined;
  if (!pool) throw new Error('the data source has no connection pool: initialise it first');
  return pool;
}

export class RateLimitStore {
  private readonly names = new Set<string>();
  private lastCleanupAt = 0;
  private unreachable = false;
  /**
   * The store names its prepared statements; named statements fail where connections share a session
   * (PgBouncer in transaction mode, the embedded PGlite): "prepared statement already exists". Sent unnamed,
   * its three short statements cost a parse each.
   */
  private readonly unnamedStatements = {
    query: (statement: { text: string; values?: unknown[] }) => this.pool.query(statement.text, statement.values),
  };

  constructor(
    private readonly pool: Pool,
    private readonly log: Logger,
    /**
     * Prefixed to every key, to keep apart budgets that share a database but must not share counts (the
     * test harness gives each test API its own). A deployment leaves it empty: its replicas must share.
     */
    private readonly namespace = '',
  ) {}

  static onDataSource(dataSource: DataSource, log: Logger, namespace?: string): RateLimitStore {
    return new RateLimitStore(postgresPoolOf(dataSource), log, namespace);
  }

  /** `name` keys the budget in the table: two budgets of one name would spend each other's points. */
  budget(name: string, policy: RateLimitPolicy): RateLimitBudget {
    if (this.names.has(name)) throw new Error(`two rate-limit budgets are named ${name}`);
    this.names.add(name);
    const options = {
      keyPrefix: this.namespace ? `${this.namespace}:${name}` : name,
      points: policy.points,
      duration: policy.windowSeconds,
    };
    const shared = new RateLimiterPostgres({
      ...options,
      storeClient: this.unnamedStatements,
      storeType: 'pool',
      tableName,
      // The migration made the table: no DDL at run time.
      tableCreated: true,
      // Its cleanup is a timer per budget that nothing stops; cleanUpExpired below does it once per process.
      clearExpiredByTimeout: false,
      // A key past its budget is refused from memory for the rest of its window: a flood costs no queries.
      inMemoryBlockOnConsumed: policy.points + 1,
    });
    const local = new RateLimiterMemory(options);
    return {
      consume: (key) => this.sharedOrLocal(() => shared.consume(key), () => local.consume(key)),
      penalty: (key) => this.sharedOrLocal(() => shared.penalty(key), () => local.penalty(key)),
      get: (key) => this.sharedOrLocal(() => shared.get(key), () => local.get(key)),
    };
  }

  private async sharedOrLocal<T>(shared: () => Promise<T>, local: () => Promise<T>): Promise<T> {
    let result: T;
    try {
      result = await shared();
    } catch (error) {
      if (error instanceof RateLimiterRes) {
        this.answered();
        throw error;
      }
      if (!this.unreachable) this.log.warn({ err: error }, 'rate limits: the PostgreSQL store failed; counting in this process until it answers');
      this.unreachable = true;
      return local();
    }
    this.answered();
    return result;
  }

  private answered(): void {
    if (this.unreachable) {
      this.unreachable = false;
      this.log.info('rate limits: PostgreSQL answers again; budgets are shared again');
    }
    if (Date.now() - this.lastCleanupAt >= cleanupIntervalMs) {
      this.lastCleanupAt = Date.now();
      void this.cleanUpExpired();
    }
  }

  private async cleanUpExpired(): Promise<void> {
    try {
      await this.pool.query(`DELETE FROM ${tableName} WHERE expire < $1`, [Date.now() - expiredRowGraceMs]);
    } catch (error) {
      // Not urgent: the next interval tries again.
      this.log.warn({ err: error }, 'rate limits: could not delete expired rows');
    }
  }
}
