import { DataSource, MigrationExecutor } from 'typeorm';
import { migrations } from '../../migrations';
import type { Logger } from '../logger';
import { SealedRoundDataSubscriber } from '../signing/round-personal-data';
import { entities } from './entities';

export function createDataSource(url: string, options: { poolSize?: number } = {}): DataSource {
  return new DataSource({
    type: 'postgres',
    url,
    entities,
    // Opens the signers' and requests' sealed personal columns as entities load (issue 14).
    subscribers: [SealedRoundDataSubscriber],
    migrations,
    migrationsTableName: 'schema_migrations',
    synchronize: false,
    logging: false,
    poolSize: options.poolSize ?? 10,
    extra: { connectionTimeoutMillis: 10_000 },
  });
}

/** Any fixed number, the same in every Sigill process: serialises migrations across processes. */
const migrationLockId = 0x5_1611;

/**
 * Runs pending migrations under a PostgreSQL advisory lock, so API replicas and workers starting together
 * neither race nor fail: the first one migrates, the others wait and then find nothing left to do.
 */
export async function runMigrations(dataSource: DataSource, log: Logger): Promise<string[]> {
  // The lock is per session: migrate on the very connection that holds it (this also needs one
  // connection only, whatever the pool size).
  const lockHolder = dataSource.createQueryRunner();
  await lockHolder.connect();
  try {
    await lockHolder.query('SELECT pg_advisory_lock($1)', [migrationLockId]);
    const executor = new MigrationExecutor(dataSource, lockHolder);
    executor.transaction = 'each';
    const applied = await executor.executePendingMigrations();
    for (const migration of applied) log.info({ migration: migration.name }, 'applied migration');
    return applied.map((migration) => migration.name);
  } finally {
    await lockHolder.query('SELECT pg_advisory_unlock($1)', [migrationLockId]).catch(() => undefined);
    await lockHolder.release();
  }
}

/**
 * Runs an UPDATE or DELETE ... RETURNING and gives its rows. TypeORM's raw `query` answers such
 * statements with `[rows, affectedCount]` rather than the rows themselves.
 */
export async function queryReturning<Row>(
  db: Pick<DataSource, 'query'>,
  sql: string,
  parameters: unknown[],
): Promise<Row[]> {
  const result = (await db.query(sql, parameters)) as [Row[], number] | Row[];
  return Array.isArray(result[0]) ? (result[0] as Row[]) : (result as Row[]);
}
