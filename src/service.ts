/**
 * Assembles a running Sigill process from its roles: the API, the worker, or both (`npm start`).
 * Every part started is registered for shutdown at once, so a failure half-way through start-up, or
 * Ctrl-C at any moment, stops what was started and leaves no process behind.
 */
import fs from 'node:fs';
import path from 'node:path';
import { createAccountsContext } from './accounts/accounts-context';
import { Client, Connection } from '@temporalio/client';
import { ensureDevOrganization } from './accounts/ensure-dev-organization';
import { createAdapters } from './adapters';
import { sigillDataConverter } from './adapters/data-converter';
import { createApp } from './api/app';
import { listen } from './api/server';
import { loadConfigOrExit, type Config } from './config';
import { createDataSource, runMigrations } from './database/data-source';
import { RateLimitStore } from './database/rate-limit-store';
import { ensureArchiveRenewalSchedule, removeArchiveRenewalSchedule } from './archive/schedule';
import { ensureRetentionSweepSchedule } from './retention/schedule';
import { startBlobBackupReplication } from './backup/schedule';
import { registerBlobBackupGauge } from './backup/backup-metrics';
import { startInfrastructure } from './infrastructure';
import { exitOnSignals, exitOnStartupFailure, ShutdownSequence } from './lifecycle';
import { createLogger, type Logger } from './logger';
import { readinessChecks } from './readiness';
import { startRoundSignalRelay } from './signing/round-signal-relay';
import { startWebhookDispatcher } from './webhooks/dispatcher';
import { createSigningContext } from './signing/signing-context';
import { moveToRecordKeys } from './privacy/move-to-record-keys';
import { ensureSearchAttributes, startWorker } from './worker-runtime';
import { registerOperationalGauges } from './observability/operational-gauges';
import { startMetricsListener as listenForMetrics, type MetricsEndpoint } from './api/routes/metrics';
import { temporalMetricsUrl } from './adapters/temporal-runtime';
import { clientTracingInterceptors, startTracing } from './observability/tracing';

export interface ServiceRoles {
  api: boolean;
  worker: boolean;
}

export interface RunningService {
  apiUrl?: string;
  temporalUiUrl?: string;
  /** Set only on the very first start with embedded defaults. */
  newDevOrganization?: { apiKey: string; ownerEmail: string; ownerPasswordLink?: string };
  /** Settles if the worker stops by itself (a fatal error); the process should then exit. */
  workerFinished?: Promise<void>;
}

export async function startService(
  config: Config,
  log: Logger,
  roles: ServiceRoles,
  shutdown: ShutdownSequence,
): Promise<RunningService> {
  // Before the worker and the client exist (both take their interceptors from it); flushed last on shutdown.
  if (config.tracing) {
    const tracing = startTracing(config.tracing, log);
    shutdown.add('tracing', () => tracing.shutdown());
  }
  const infrastructure = await startInfrastructure(config, log, shutdown, { temporal: true });
  const temporalSettings = infrastructure.temporal!;

  // pglite-socket interleaves the protocol messages of concurrent connections (electric-sql/pglite#1046):
  // against the embedded database, one connection per process keeps every query whole.
  const dataSource = await createDataSource(infrastructure.databaseUrl, {
    poolSize: config.database.mode === 'embedded' ? 1 : 10,
  }).initialize();
  shutdown.add('database pool', () => dataSource.destroy());
  if (config.migrateOnStart) await runMigrations(dataSource, log);
  const newDevOrganization =
    config.database.mode === 'embedded' ? await ensureDevOrganization(dataSource, config.dataDir, config.http.publicUrl) : undefined;

  const adapters = createAdapters(config, { dataSource });
  shutdown.add('adapters', () => adapters.close());
  const signing = await createSigningContext(config, dataSource, adapters);

  let workerFinished: Promise<void> | undefined;
  if (roles.worker) {
    // A configured P12 or KMS key is opened now, so a wrong path, password or key stops the start, not the first seal.
    if (config.seal.key.kind !== 'self-signed') await signing.sealKey();
    if (config.temporal.mode === 'external') {
      await ensureSearchAttributes(temporalSettings, config.temporal.namespace, log);
    }
    if (adapters.blobBackup && !roles.api) {
      // The seals this worker writes wake the backup's drain (the API's client does it in a full process).
      const connection = await Connection.connect(temporalSettings);
      shutdown.add('temporal client (backup wake-ups)', () => connection.close());
      const client = new Client({ connection, namespace: config.temporal.namespace, dataConverter: sigillDataConverter(signing.payloadCodec) });
      await startBlobBackupReplication({ queue: adapters.blobBackup.queue, client, taskQueue: config.temporal.taskQueue, log });
    }
    const worker = await startWorker({ config, temporal: temporalSettings, signing, log });
    shutdown.add('worker', () => worker.shutdown());
    workerFinished = worker.finished;
    // Requests and cases from before record keys onto their keys (R13), in the background: resumable, so a
    // stop half-way is fine and the next start continues (src/privacy/move-to-record-keys.ts).
    const stopMoving = new AbortController();
    const moving = moveToRecordKeys(signing, log, stopMoving.signal).then(
      (progress) => log.info({ ...progress }, 'record keys: existing data checked'),
      (error: unknown) => log.error({ err: error }, 'record keys: moving existing data stopped; the next start continues'),
    );
    shutdown.add('record key move', async () => {
      stopMoving.abort();
      await moving;
    });
  }

  const metricsEndpoint: MetricsEndpoint = { token: config.metrics.token, loopbackWithoutToken: !config.production, temporalMetricsUrl };
  if (config.metrics.port !== undefined) {
    const metricsServer = await listenForMetrics(metricsEndpoint, { host: config.http.host, port: config.metrics.port, log });
    shutdown.add('metrics listener', () => metricsServer.close());
    log.info({ url: `${metricsServer.url}/metrics` }, 'metrics are served');
  }

  let apiUrl: string | undefined;
  if (roles.api) {
    const connection = await Connection.connect(temporalSettings);
    shutdown.add('temporal client', () => connection.close());
    const client = new Client({
      connection,
      namespace: config.temporal.namespace,
      dataConverter: sigillDataConverter(signing.payloadCodec),
      interceptors: { workflow: clientTracingInterceptors() },
    });
    const rateLimits = RateLimitStore.onDataSource(dataSource, log);
    // Deployment-wide, computed at each scrape: stuck rounds, disabled webhook endpoints (alert rules' input).
    registerOperationalGauges({ dataSource, stuckRounds: config.stuckRounds, log });
    if (adapters.blobBackup) registerBlobBackupGauge(adapters.blobBackup.queue, log);
    const app = createApp({
      log,
      dataSource,
      temporal: { client, taskQueue: config.temporal.taskQueue },
      readinessChecks: readinessChecks({ temporal: client, dataSource, blobStore: adapters.blobStore, keyService: adapters.keyService }),
      publicUrl: config.http.publicUrl,
      trustProxy: config.http.trustProxy,
      signing,
      accounts: await createAccountsContext({ publicUrl: config.http.publicUrl, auth: config.auth }, dataSource, adapters, rateLimits),
      codec: config.codec,
      rateLimits,
      // On the public port only when it has no listener of its own (METRICS_PORT).
      metrics: config.metrics.port === undefined ? metricsEndpoint : undefined,
      stuckRounds: config.stuckRounds,
    });
    // Renewing B-LTA archives needs a timestamp authority; without one a daily run could only fail.
    if (config.seal.timestampAuthorityUrl) {
      await ensureArchiveRenewalSchedule(client, { taskQueue: config.temporal.taskQueue, horizonMs: config.seal.retimestampHorizonMs, log });
    } else {
      await removeArchiveRenewalSchedule(client, log);
    }
    await ensureRetentionSweepSchedule(client, { taskQueue: config.temporal.taskQueue, log });
    await startBlobBackupReplication({ queue: adapters.blobBackup?.queue, client, taskQueue: config.temporal.taskQueue, log });
    const relay = startRoundSignalRelay({ dataSource, temporal: { client, taskQueue: config.temporal.taskQueue }, log });
    shutdown.add('round signal relay', () => relay.stop());
    const webhookDispatcher = startWebhookDispatcher({
      dataSource,
      temporal: { client, taskQueue: config.temporal.taskQueue },
      log,
      retryScheduleMs: config.webhooks.retryScheduleMs,
    });
    shutdown.add('webhook dispatcher', () => webhookDispatcher.stop());
    const server = await listen(app, config.http);
    // Registered last so it stops first: no new requests while the worker drains.
    shutdown.add('http server', () => server.close());
    apiUrl = config.http.publicUrl;
    log.info({ url: server.url, publicUrl: config.http.publicUrl }, 'API is listening');
  }

  return { apiUrl, temporalUiUrl: temporalSettings.uiUrl, newDevOrganization, workerFinished };
}

function printBanner(config: Config, service: RunningService): void {
  const lines = ['', 'Sigill is running.'];
  if (service.apiUrl) {
    lines.push(`  Console:      ${config.http.publicUrl}/   (operations teams sign in here)`);
    lines.push(`  API:          ${service.apiUrl}   (OpenAPI: ${service.apiUrl}/openapi.json, readiness: ${service.apiUrl}/readyz)`);
  }
  if (service.temporalUiUrl) lines.push(`  Temporal UI:  ${service.temporalUiUrl}`);
  lines.push(`  Data:         ${config.dataDir}`);
  const dev = service.newDevOrganization;
  // On later starts the key is not shown again, but where it is kept still helps (the banner is where people look).
  const devKeyFile = path.join(config.dataDir, 'dev-api-key');
  if (!dev && fs.existsSync(devKeyFile)) lines.push(`  Dev API key:  ${devKeyFile}   (the development organisation's)`);
  if (dev) {
    lines.push(
      '',
      'A development organisation was created. Its API key is shown this once and saved to',
      `${config.dataDir}/dev-api-key (readable by you only):`,
      '',
      `  ${dev.apiKey}`,
      '',
      `Try: curl -H "Authorization: Bearer $(cat ${config.dataDir}/dev-api-key)" -X POST ${service.apiUrl ?? config.http.publicUrl}/v1/diagnostics/probes`,
    );
    if (dev.ownerPasswordLink) {
      lines.push(
        '',
        `To sign in as its owner (${dev.ownerEmail}), choose a password here (valid 7 days):`,
        `  ${dev.ownerPasswordLink}`,
        `then open the console at ${config.http.publicUrl}/ and sign in; new-browser codes arrive in ${config.dataDir}/outbox/mail.`,
      );
    }
  }
  lines.push('', 'Press Ctrl-C to stop.', '');
  process.stdout.write(lines.join('\n') + '\n');
}

/** For entry points: read the environment, start the roles, stop cleanly on a signal. */
export async function runServiceFromEnvironment(roles: ServiceRoles): Promise<void> {
  const config = loadConfigOrExit();
  const log = createLogger(config.logLevel);
  const shutdown = new ShutdownSequence(log);
  exitOnSignals(log, shutdown);
  let service: RunningService;
  try {
    service = await startService(config, log, roles, shutdown);
  } catch (error) {
    return exitOnStartupFailure(log, shutdown, error);
  }
  printBanner(config, service);
  service.workerFinished?.catch(async (error) => {
    log.fatal({ err: error }, 'the worker stopped unexpectedly');
    await shutdown.run();
    process.exit(1);
  });
}
