/**
 * What test files use to reach the real parts started by global-setup, and to assemble Sigill pieces
 * around them: a data source, a worker on a task queue of the test's own, the API on a free port.
 */
import { createAccountsContext } from '../../src/accounts/accounts-context';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import type { DataSource } from 'typeorm';
import { createActivities, createWebhookActivities } from '../../src/activities';
import { createAdapters } from '../../src/adapters';
import { blobBackupWaker } from '../../src/backup/schedule';
import { sigillDataConverter } from '../../src/adapters/data-converter';
import type { PayloadCodec } from '@temporalio/common';
import { createApp } from '../../src/api/app';
import { listen, type RunningServer } from '../../src/api/server';
import { parseConfig, webhookTaskQueueOf, type Config } from '../../src/config';
import { createDataSource } from '../../src/database/data-source';
import { RateLimitStore } from '../../src/database/rate-limit-store';
import { createLogger, type Logger } from '../../src/logger';
import { recordActivityFailures } from '../../src/operations/activity-failures';
import { readinessChecks, type ReadinessCheck } from '../../src/readiness';
import { startRoundSignalRelay } from '../../src/signing/round-signal-relay';
import { startWebhookDispatcher } from '../../src/webhooks/dispatcher';
import { createSigningContext, type SigningContext } from '../../src/signing/signing-context';
import { freePort } from './free-port';

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run the tests through jest (npm test), which starts the harness`);
  return value;
}

export const testLog = createLogger(process.env.TEST_LOG_LEVEL ?? 'silent');

export const harness = {
  temporalAddress: () => required('SIGILL_TEST_TEMPORAL_ADDRESS'),
  databaseUrl: () => required('SIGILL_TEST_DATABASE_URL'),
  workflowBundle: () => required('SIGILL_TEST_WORKFLOW_BUNDLE'),
  timeSkippingServer: () => required('SIGILL_TEST_TIME_SKIPPING_SERVER'),
  /** A fresh folder under the run's work dir, removed with it. */
  tempDir(prefix: string): string {
    const dir = path.join(required('SIGILL_TEST_WORK_DIR'), `${prefix}-${randomUUID()}`);
    fs.mkdirSync(dir, { recursive: true });
    return dir;
  },
};

/**
 * A config on embedded adapters in a fresh DATA_DIR. Every test process shares one master key, as the
 * processes of one deployment do: the deployment secret in the shared database is wrapped under it.
 */
export function testConfig(overrides: Record<string, string> = {}): Config {
  const dataDir = harness.tempDir('data');
  fs.mkdirSync(path.join(dataDir, 'keys'), { recursive: true, mode: 0o700 });
  fs.copyFileSync(required('SIGILL_TEST_MASTER_KEY'), path.join(dataDir, 'keys', 'master.key'));
  return parseConfig({ DATA_DIR: dataDir, LOG_LEVEL: 'silent', ...overrides });
}

export async function openTestDataSource(): Promise<DataSource> {
  return createDataSource(harness.databaseUrl(), { poolSize: 4 }).initialize();
}

/** A client as the API has one: with the encryption codec when given the key service to use. */
export async function connectTestClient(codec?: PayloadCodec, address = harness.temporalAddress()): Promise<Client> {
  const connection = await Connection.connect({ address });
  return new Client({ connection, dataConverter: codec ? sigillDataConverter(codec) : undefined });
}

/** The signing context the service builds at start, for a test's own config (adapters under its DATA_DIR). */
export async function testSigningContext(dataSource: DataSource, config: Config = testConfig()): Promise<SigningContext> {
  return createSigningContext(config, dataSource, createAdapters(config, { dataSource }));
}

/**
 * A worker on a task queue of its own, so test files running in parallel never take each other's tasks;
 * as in the service (src/worker-runtime.ts), a second one polls its webhook queue (`webhookTaskQueueOf`).
 */
export async function startTestWorker(deps: { signing: SigningContext; connection?: NativeConnection; taskQueue?: string }) {
  const taskQueue = deps.taskQueue ?? `test-${randomUUID()}`;
  const connection = deps.connection ?? (await NativeConnection.connect({ address: harness.temporalAddress() }));
  const common = {
    connection,
    workflowBundle: { codePath: harness.workflowBundle() },
    dataConverter: sigillDataConverter(deps.signing.payloadCodec),
    // As in the service: failing steps are recorded for the stuck-rounds view.
    interceptors: { activity: [recordActivityFailures(deps.signing.dataSource, testLog)] },
  };
  const workers = [
    await Worker.create({ ...common, taskQueue, activities: createActivities(deps.signing) }),
    await Worker.create({
      ...common,
      taskQueue: webhookTaskQueueOf(taskQueue),
      activities: createWebhookActivities(deps.signing),
      maxConcurrentActivityTaskExecutions: deps.signing.webhooks.concurrency,
    }),
  ];
  const running = Promise.all(workers.map((worker) => worker.run()));
  return {
    taskQueue,
    async stop() {
      for (const worker of workers) worker.shutdown();
      await running;
      if (!deps.connection) await connection.close();
    },
  };
}

export interface TestApi {
  url: string;
  client: Client;
  taskQueue: string;
  config: Config;
  signing: SigningContext;
  close(): Promise<void>;
}

/** The whole API against the real Temporal and PostgreSQL, with a worker of its own behind it. */
export async function startTestApi(
  dataSource: DataSource,
  options: {
    env?: Record<string, string>;
    readinessChecks?: ReadinessCheck[];
    /** false: no in-process worker (e.g. a test runs `src/worker.ts` as a separate process on `taskQueue`). */
    withWorker?: boolean;
    taskQueue?: string;
    /** Where the API logs go (default: silent); a test can capture them to check what they contain. */
    log?: Logger;
    /** A port chosen beforehand (e.g. registered as a redirect URI at an identity provider); default: any free one. */
    port?: number;
    /**
     * Where the API counts its rate limits. Default: this database under a namespace of this API's own,
     * so test files running at once (all from 127.0.0.1) do not spend each other's budgets; a test of
     * shared budgets gives several APIs stores of one namespace.
     */
    rateLimits?: RateLimitStore;
    /** Where the API reaches Temporal (e.g. through a relay a test can cut); its worker always connects directly. */
    temporalAddress?: string;
    /** The organisations whose webhook messages this API dispatches (src/webhooks/dispatcher.ts); default none. */
    webhookOrganizations?: () => string[];
  } = {},
): Promise<TestApi> {
  // The port is chosen first so that PUBLIC_URL, and with it every link in an email, points at this API.
  const port = options.port ?? (await freePort());
  const config = testConfig({ PORT: String(port), PUBLIC_URL: `http://127.0.0.1:${port}`, ...options.env });
  const adapters = createAdapters(config, { dataSource });
  const signing = await createSigningContext(config, dataSource, adapters);
  const taskQueue = options.taskQueue ?? `test-${randomUUID()}`;
  const worker = options.withWorker === false ? undefined : await startTestWorker({ signing, taskQueue });
  const client = await connectTestClient(signing.payloadCodec, options.temporalAddress);
  const log = options.log ?? testLog;
  // As in the service: with a backup provider (BACKUP_S3_*), blob writes wake the backup's drain on this task queue.
  adapters.blobBackup?.queue.onRecorded(blobBackupWaker(client, { taskQueue, log }));
  const rateLimits = options.rateLimits ?? RateLimitStore.onDataSource(dataSource, log, randomUUID());
  const app = createApp({
    log,
    dataSource,
    temporal: { client, taskQueue },
    readinessChecks:
      options.readinessChecks ?? readinessChecks({ temporal: client, dataSource, blobStore: adapters.blobStore, keyService: adapters.keyService }),
    publicUrl: config.http.publicUrl,
    trustProxy: config.http.trustProxy,
    signing,
    accounts: await createAccountsContext({ publicUrl: config.http.publicUrl, auth: config.auth }, dataSource, adapters, rateLimits),
    codec: config.codec,
    rateLimits,
    stuckRounds: config.stuckRounds,
  });
  const server: RunningServer = await listen(app, { host: '127.0.0.1', port });
  // As in the service: openings recorded while Temporal was out reach their rounds later.
  const relay = startRoundSignalRelay({ dataSource, temporal: { client, taskQueue }, log, everyMs: 500 });
  // As in the service, webhook messages reach their delivery workflows, but only the organisations' the
  // test names: test files share the database, and another API would start them on its own task queue.
  const webhookDispatcher = options.webhookOrganizations
    ? startWebhookDispatcher({
        dataSource,
        temporal: { client, taskQueue },
        log,
        retryScheduleMs: config.webhooks.retryScheduleMs,
        everyMs: 200,
        scope: options.webhookOrganizations,
      })
    : undefined;
  return {
    url: server.url,
    client,
    taskQueue,
    config,
    signing,
    async close() {
      await server.close();
      await relay.stop();
      await webhookDispatcher?.stop();
      await worker?.stop();
      await client.connection.close();
      adapters.close();
    },
  };
}
