/**
 * Sigill's real entry points (`src/main.ts`, `src/worker.ts`) as child processes against the harness's
 * Temporal and PostgreSQL, each on a task queue of its own: for what only a process of its own shows (the
 * Temporal runtime, with its metrics, is installed once per process; jest's is installed already).
 */
import fs from 'node:fs';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { apiClient, type ApiCall } from './api-client';
import { startChildProcess, type ChildProcess } from './child-process';
import { freePort } from './free-port';
import { harness } from './harness';
import { inheritedEnvironment } from './process-group';
import { reportDocumentDisplayed } from './signer-reading';
import { signingTokenIn, type startSmtpCatcher } from './smtp-catcher';
import { waitFor } from './wait-for';

export interface SpawnedService {
  process: ChildProcess;
  /** Every JSON log line the process wrote to stdout so far, parsed. */
  logLines(): Array<Record<string, unknown>>;
  /** The public API (main.ts), e.g. http://127.0.0.1:1234. */
  url: string;
  taskQueue: string;
  dataDir: string;
}

export async function startSpawnedService(options: {
  entry: 'src/main.ts' | 'src/worker.ts';
  env?: Record<string, string>;
  smtpUrl?: string;
}): Promise<SpawnedService> {
  const port = await freePort();
  const dataDir = harness.tempDir('spawned');
  // One deployment's processes share the master key that wraps the shared database's secrets.
  fs.mkdirSync(path.join(dataDir, 'keys'), { recursive: true, mode: 0o700 });
  fs.copyFileSync(process.env.SIGILL_TEST_MASTER_KEY!, path.join(dataDir, 'keys', 'master.key'));
  const taskQueue = `spawned-${randomUUID()}`;
  const url = `http://127.0.0.1:${port}`;
  let stdout = '';
  const env = {
    ...inheritedEnvironment(),
    TEMPORAL_ADDRESS: harness.temporalAddress(),
    TEMPORAL_TASK_QUEUE: taskQueue,
    DATABASE_URL: harness.databaseUrl(),
    DATA_DIR: dataDir,
    PORT: String(port),
    PUBLIC_URL: url,
    MIGRATE_ON_START: 'false', // the harness migrated the shared database
    LOG_LEVEL: 'info',
    ...(options.smtpUrl ? { SMTP_URL: options.smtpUrl } : {}),
    ...options.env,
  };
  const child = startChildProcess(options.entry, process.execPath, ['--import', 'tsx', options.entry], {
    env,
    onStdout: (chunk) => (stdout += chunk.toString()),
  });
  const logLines = () =>
    stdout
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as Record<string, unknown>);
  return { process: child, url, taskQueue, dataDir, logLines };
}

/** Until the API answers ready (main.ts), or the worker says it polls (worker.ts). */
export async function waitUntilServing(service: SpawnedService, entry: 'src/main.ts' | 'src/worker.ts'): Promise<void> {
  if (entry === 'src/worker.ts') {
    await service.process.waitForOutput(/worker is polling/, 110_000);
    return;
  }
  await service.process.waitForOutput(/API is listening/, 110_000);
  await waitFor('the spawned API to be ready', async () => (await fetch(`${service.url}/readyz`).catch(() => undefined))?.status === 200, 30_000);
}

/**
 * One round the way its users drive it over HTTP: create, the invitation by SMTP, PIN, display, sign;
 * then until the request reads `completed` (sealed and archived).
 */
export async function signOneRoundOverHttp(
  service: SpawnedService,
  apiKey: string,
  smtp: Awaited<ReturnType<typeof startSmtpCatcher>>,
  pdf: Uint8Array,
): Promise<{ id: string; call: ApiCall }> {
  const call = apiClient(() => service.url, () => apiKey);
  const signerEmail = `signer-${randomUUID()}@example.test`;
  const created = await call('/v1/signing-requests', {
    body: {
      title: 'Observed round',
      document: { filename: 'agreement.pdf', contentBase64: Buffer.from(pdf).toString('base64') },
      signers: [{ name: 'Aino Virtanen', email: signerEmail }],
    },
  });
  if (created.status !== 201) throw new Error(`create answered ${created.status}: ${JSON.stringify(created.body)}`);
  const id: string = created.body.id;
  const [invitation] = await smtp.waitForMail(signerEmail, 'Please sign');
  const session = await call('/v1/signer/session', { key: null, body: { token: signingTokenIn(invitation!), pin: created.body.signers[0].pin } });
  if (session.status !== 200) throw new Error(`signer session answered ${session.status}`);
  await reportDocumentDisplayed(call, session.body.sessionToken);
  const signed = await call('/v1/signer/sign', { key: session.body.sessionToken, body: { typedName: 'Aino Virtanen', consent: true } });
  if (signed.status !== 200) throw new Error(`sign answered ${signed.status}: ${JSON.stringify(signed.body)}`);
  await waitFor('the round to be completed', async () => (await call(`/v1/signing-requests/${id}`)).body.status === 'completed', 60_000);
  return { id, call };
}
