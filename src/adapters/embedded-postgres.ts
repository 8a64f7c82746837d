/**
 * Embedded PostgreSQL for running Sigill with no configuration: PGlite (real PostgreSQL compiled to WASM)
 * served over a local TCP port, so the service talks to it through the same `pg` driver and TypeORM code
 * path as to a production server.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Logger } from '../logger';
import { isProcessAlive, readProcessLock, removeProcessLock, writeProcessLock } from './process-lock';
import { isPortOpen } from './wait-for-port';

export interface RunningDatabase {
  url: string;
  /** True when this process started the database and must stop it. */
  owned: boolean;
  stop(): Promise<void>;
}

const maxConnections = 16;

export async function startOrJoinEmbeddedPostgres(
  options: { dataDir: string; port: number },
  log: Logger,
): Promise<RunningDatabase> {
  const lockFile = `${options.dataDir}.lock.json`;
  const lock = readProcessLock(lockFile);
  if (lock && lock.ownerPid !== process.pid && isProcessAlive(lock.ownerPid) && (await isPortOpen(lock.port))) {
    log.info({ port: lock.port, ownerPid: lock.ownerPid }, 'joining the embedded PostgreSQL of a running Sigill');
    return { url: urlFor(lock.port), owned: false, stop: async () => {} };
  }
  if (await isPortOpen(options.port)) {
    throw new Error(
      `EMBEDDED_POSTGRES_PORT ${options.port} is already in use by another program; ` +
        'choose a free port or set DATABASE_URL to use an existing PostgreSQL',
    );
  }

  // PGlite needs the parent of its data directory to exist; it creates the rest (3-8 s the first time).
  fs.mkdirSync(path.dirname(options.dataDir), { recursive: true });
  const firstStart = !fs.existsSync(options.dataDir);
  if (firstStart) log.info('creating the embedded PostgreSQL database (first start takes a few seconds)');

  // Both packages are ESM-first; loading them lazily keeps them out of production processes.
  const { PGlite } = await import('@electric-sql/pglite');
  const { PGLiteSocketServer } = await import('@electric-sql/pglite-socket');
  const db = await PGlite.create(options.dataDir);
  const server = new PGLiteSocketServer({ db, port: options.port, host: '127.0.0.1', maxConnections });
  await server.start();
  writeProcessLock(lockFile, { ownerPid: process.pid, port: options.port });
  log.info({ port: options.port, dataDir: options.dataDir }, 'embedded PostgreSQL is listening');

  return {
    url: urlFor(options.port),
    owned: true,
    async stop() {
      await server.stop();
      await db.close();
      removeProcessLock(lockFile);
    },
  };
}

function urlFor(port: number): string {
  return `postgres://postgres:postgres@127.0.0.1:${port}/postgres`;
}
