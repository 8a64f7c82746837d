/**
 * A database of a test file's own, migrated, beside the run's shared one. For tests that configure a
 * different key service (KMS): the deployment secret in the shared database is wrapped by the run's local
 * master key, which a KMS-configured process cannot unwrap — as two deployments could not share one.
 *
 * Same kind of server as the run's: a fresh `sigill_test_<suffix>_<random>` database on DATABASE_URL's
 * server when it is set (dropped by `stop`), else a second embedded PGlite on a free port, run as a child
 * process (embedded-postgres-process.ts: PGlite cannot load inside jest's VM).
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import type { DataSource } from 'typeorm';
import { projectRoot } from '../../src/adapters/find-executable';
import { createDataSource, runMigrations } from '../../src/database/data-source';
import { freePort } from './free-port';
import { createServerDatabase } from './server-database';
import { harness, testLog } from './harness';
import { waitFor } from './wait-for';

export interface IsolatedDatabase {
  dataSource: DataSource;
  stop(): Promise<void>;
}

export async function startIsolatedDatabase(suffix: string): Promise<IsolatedDatabase> {
  if (!/^[a-z0-9_]{1,20}$/.test(suffix)) throw new Error(`database suffix must be lower-case letters, digits or _: ${suffix}`);
  const { url, drop } = process.env.DATABASE_URL
    ? await createServerDatabase(process.env.DATABASE_URL, `sigill_test_${suffix}`)
    : await startEmbedded(suffix);
  try {
    // Migrations on a pool of one, as the service does: they hold an advisory lock on their own connection.
    const migrator = await createDataSource(url, { poolSize: 1 }).initialize();
    await runMigrations(migrator, testLog).finally(() => migrator.destroy());
    const dataSource = await createDataSource(url, { poolSize: 4 }).initialize();
    return {
      dataSource,
      async stop() {
        await dataSource.destroy();
        await drop();
      },
    };
  } catch (error) {
    await drop();
    throw error;
  }
}

async function startEmbedded(suffix: string) {
  // PGlite has one database per instance: a second instance, in a folder removed with the run's work dir.
  const dataDir = path.join(harness.tempDir(`postgres-${suffix}`), 'postgres');
  const port = await freePort();
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/support/embedded-postgres-process.ts', dataDir, String(port)], {
    cwd: projectRoot, // tsx reads tsconfig.json from the current directory
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4000)));
  let stdout = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  let exitError: Error | undefined;
  child.once('error', (error) => (exitError = error));
  child.once('exit', (code, signal) => {
    exitError ??= new Error(`the embedded PostgreSQL process exited (code ${code}, signal ${signal}): ${stderr.trim()}`);
  });
  const drop = async () => {
    if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  };
  try {
    // It prints its URL once it listens. The first start creates the cluster: seconds, more on a busy machine.
    const url = await waitFor('the embedded PostgreSQL to listen', () => exitError ?? /^(postgres:\/\/\S+)$/m.exec(stdout)?.[1], 60_000);
    if (url instanceof Error) throw url;
    return { url, drop };
  } catch (error) {
    await drop();
    throw error;
  }
}
