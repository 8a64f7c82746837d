/**
 * The chaos run (issue 9): Sigill's production topology on one machine, driven by real clients while its
 * parts are killed, and then checked for what users would see.
 *
 *   npm run chaos                      100 two-signer rounds (CI runs `npm run chaos -- --rounds 20`)
 *   npm run chaos -- --rounds 4 --keep a short run that keeps its work folder (process logs) for reading
 *
 * Topology: `temporal server start-dev` with its SQLite file, the machine's PostgreSQL (a fresh database
 * `sigill_chaos_<random>` on DATABASE_URL's server, dropped at the end), a real SMTP server catching every
 * email, one API (`tsx src/main.ts api`) and two workers (`tsx src/worker.ts`), each in a process group of its
 * own, sharing one DATA_DIR (filesystem blob store, master key, SMS outbox). A supervisor restarts a process
 * that exits by itself (and counts it), as systemd or Kubernetes would.
 *
 * Rounds are driven through the HTTP API the way people do: the sender creates the request (multipart PDF,
 * an Idempotency-Key), each signer finds the invitation in their mailbox, takes the PIN (the sender's copy
 * from the create response, or the SMS), opens the link and signs. Clients retry 5xx, 429 and connection
 * errors with a bounded backoff (honouring Retry-After) and count every 5xx they receive.
 *
 * Faults, in sequence and repeated while rounds are in flight: SIGKILL worker 1 and restart it, the same for
 * worker 2, stop Temporal (SIGKILL or SIGTERM to its group, alternating) for 15 s and restart it on the same
 * file and port, SIGKILL the API while a request is in flight and restart it, terminate every PostgreSQL
 * connection to the database.
 *
 * Exit status 0 only if every round sealed and there were no stuck rounds, duplicate invitations, duplicate
 * seals, invalid seals, broken audit chains or 5xx other than 503 (an outage may answer 503 with Retry-After).
 * An invitation delivered twice, the same message, with a worker killed in between is SMTP's at-least-once, not a
 * duplicate: it is reported apart (test/support/smtp-catcher.ts, repeatedDeliveries).
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs, promisify } from 'node:util';
import { Client as TemporalClient, Connection } from '@temporalio/client';
import type { Payload } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { Client as PgClient, Pool } from 'pg';
import { sigillDataConverter } from '../src/adapters/data-converter';
import { projectRoot } from '../src/adapters/find-executable';
import { LocalKeyService } from '../src/adapters/key-service';
import { EncryptionPayloadCodec } from '../src/adapters/payload-codec';
import { readProcessLock, removeProcessLock } from '../src/adapters/process-lock';
import { startOrJoinEmbeddedTemporal, type EmbeddedTemporalOptions } from '../src/adapters/temporal-dev-server';
import { isPortOpen, waitForPort } from '../src/adapters/wait-for-port';
import { createLogger } from '../src/logger';
import { workflowIdForRequest } from '../src/signing/create-signing-request';
import { freePort } from '../test/support/free-port';
import { createTestPdf } from '../test/support/pdf-factories';
import { pdfsig } from '../test/support/pdf-validators';
import { inheritedEnvironment, killProcessGroup, liveProcessesInGroup, signalProcessGroup } from '../test/support/process-group';
import { createServerDatabase } from '../test/support/server-database';
import { repeatedDeliveries, signingTokenIn, startSmtpCatcher } from '../test/support/smtp-catcher';
import { smsOutboxReader } from '../test/support/sms-outbox';
import { waitFor } from '../test/support/wait-for';

const { TaskQueueType, PendingActivityState } = temporal.api.enums.v1;
type Failure = temporal.api.failure.v1.IFailure;

// ---------------------------------------------------------------------------------------------------------
// Options and timing
// ---------------------------------------------------------------------------------------------------------

const usage = 'Usage: npm run chaos [-- --rounds N (default 100)] [--concurrency C (default 6)] [--keep]';

function readOptions() {
  const { values } = parseArgs({
    args: process.argv.slice(2),
    options: {
      rounds: { type: 'string', default: '100' },
      concurrency: { type: 'string', default: '6' },
      keep: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log(usage);
    process.exit(0);
  }
  const rounds = Number(values.rounds);
  const concurrency = Number(values.concurrency);
  if (!Number.isInteger(rounds) || rounds < 1 || rounds > 1000) throw new Error(`--rounds must be 1-1000. ${usage}`);
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 20) throw new Error(`--concurrency must be 1-20. ${usage}`);
  return { rounds, concurrency, keep: values.keep };
}

/** One pass of the fault sequence takes about this long; round starts are spread over at least one pass. */
const faultPassMs = 120_000;
/** Pause before each fault, so rounds move on between faults. */
const faultGapMs = 8_000;
/** How long Temporal stays down. */
const temporalDownMs = 15_000;
/** After the last round was driven and the faults stopped: how long rounds may take to finish. */
const settleMs = 180_000;
/** A client call (with its retries) gives up after this long. */
const callDeadlineMs = 180_000;
/** How long a signer waits for an email or SMS. */
const messageWaitMs = 240_000;
/** A signer reads the email for a while before opening the link: rounds stay open across faults. */
const thinkTimeMs = () => 1000 + Math.floor(Math.random() * 9000);

const startedAt = Date.now();
const clock = () => {
  const seconds = Math.floor((Date.now() - startedAt) / 1000);
  return `${String(Math.floor(seconds / 60)).padStart(2, '0')}:${String(seconds % 60).padStart(2, '0')}`;
};
const say = (message: string) => console.log(`[${clock()}] ${message}`);
const delay = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const errorText = (error: unknown) => (error instanceof Error ? error.message : String(error));

// ---------------------------------------------------------------------------------------------------------
// Child processes: each in its own process group, output to a log file, restarted if it dies by itself
// ---------------------------------------------------------------------------------------------------------

const tsx = path.join(projectRoot, 'node_modules', '.bin', 'tsx');
/** Every process group we started and have not seen gone: killed on any exit, also an unexpected one. */
const liveGroups = new Set<number>();
let shuttingDown = false;

interface UnexpectedExit {
  name: string;
  at: string;
  code: number | null;
  signal: NodeJS.Signals | null;
}
const unexpectedExits: UnexpectedExit[] = [];

class ServiceProcess {
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();
  private killing = false;
  private restarts = 0;
  starts = 0;

  constructor(
    readonly name: string,
    private readonly args: string[],
    private readonly env: NodeJS.ProcessEnv,
    readonly logFile: string,
  ) {}

  start(): void {
    this.starts += 1;
    fs.appendFileSync(this.logFile, `\n=== ${new Date().toISOString()} start #${this.starts}\n`);
    const out = fs.openSync(this.logFile, 'a');
    const child = spawn(tsx, this.args, { cwd: projectRoot, env: this.env, detached: true, stdio: ['ignore', out, out] });
    fs.closeSync(out);
    this.child = child;
    const pgid = child.pid!;
    liveGroups.add(pgid);
    child.once('error', (error) => fs.appendFileSync(this.logFile, `\n=== spawn error: ${error.message}\n`));
    this.exited = new Promise((resolve) =>
      child.once('exit', (code, signal) => {
        fs.appendFileSync(this.logFile, `\n=== ${new Date().toISOString()} exited (code ${code}, signal ${signal})\n`);
        resolve();
        if (this.killing || shuttingDown) return;
        // Died by itself: a finding, and (like a process supervisor) start it again after a moment.
        unexpectedExits.push({ name: this.name, at: clock(), code, signal });
        say(`!! ${this.name} exited by itself (code ${code}, signal ${signal}); restarting it. Last output:\n${this.tail(8)}`);
        signalProcessGroup(pgid, 'SIGKILL'); // tsx's node child, if tsx itself died
        if (this.restarts++ < 10) setTimeout(() => !shuttingDown && !this.killing && !this.running() && this.start(), 1000);
      }),
    );
  }

  get pgid(): number | undefined {
    return this.child?.pid;
  }

  running(): boolean {
    return !!this.child && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** SIGKILL to the whole group; resolves once every process of it is gone. */
  async kill(): Promise<number[]> {
    const pgid = this.pgid;
    if (pgid === undefined) return [];
    this.killing = true;
    try {
      const { killed } = await killProcessGroup(pgid, { name: this.name, exited: this.exited });
      liveGroups.delete(pgid);
      return killed;
    } finally {
      this.killing = false;
    }
  }

  /** The last lines of its log, without the Temporal core's connection retry warnings. */
  tail(lines = 20): string {
    try {
      const text = fs.readFileSync(this.logFile, 'utf8');
      return text
        .trimEnd()
        .split('\n')
        .filter((line) => !line.includes('temporalio_client::retry'))
        .slice(-lines).map((line) => `    ${line.slice(0, 400)}`).join('\n');
    } catch {
      return '    (no output)';
    }
  }
}

/** Last resort, synchronous: whatever happens, no child process outlives the run. */
process.on('exit', () => {
  for (const pgid of liveGroups) signalProcessGroup(pgid, 'SIGKILL');
});

// ---------------------------------------------------------------------------------------------------------
// The HTTP client: retries what a real client retries, counts every 5xx
// ---------------------------------------------------------------------------------------------------------

interface ServerError {
  status: number;
  route: string;
  code?: string;
  retryAfter?: string;
  context: string;
  at: string;
}

const http = {
  calls: 0,
  attempts: 0,
  inFlight: 0,
  serverErrors: [] as ServerError[],
  connectionErrors: 0,
  timeouts: 0,
  rateLimited: 0,
};

/** What was happening when something went wrong: the fault in progress, or the last one and how long ago. */
const faultState: { active?: string; last?: { name: string; endedAt: number } } = {};
function faultContext(): string {
  if (faultState.active) return `during ${faultState.active}`;
  if (faultState.last) return `${Math.round((Date.now() - faultState.last.endedAt) / 1000)} s after ${faultState.last.name}`;
  return 'before any fault';
}

interface Answer {
  status: number;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON of the API
  body: any;
  headers: Headers;
  attempts: number;
}

class GaveUp extends Error {}

let apiUrl = '';
/** When a signer's sign call last succeeded: the moment a round may start sealing. */
let lastSignatureAt = 0;
/** Signers who have their invitation and are about to open the link. */
let signersReading = 0;

async function call(
  route: string,
  pathname: string,
  init: { method?: string; headers?: Record<string, string>; json?: unknown; form?: FormData } = {},
): Promise<Answer> {
  http.calls += 1;
  const started = Date.now();
  const headers: Record<string, string> = { ...init.headers };
  if (init.json !== undefined) headers['content-type'] = 'application/json';
  const body = init.form ?? (init.json === undefined ? undefined : JSON.stringify(init.json));
  const method = init.method ?? (body === undefined ? 'GET' : 'POST');
  let last = '';
  for (let attempt = 1; attempt <= 20; attempt += 1) {
    http.attempts += 1;
    http.inFlight += 1;
    let waitMs = Math.min(8_000, 250 * 2 ** (attempt - 1)) * (0.5 + Math.random() / 2);
    try {
      const response = await fetch(`${apiUrl}${pathname}`, { method, headers, body, signal: AbortSignal.timeout(60_000) });
      const type = response.headers.get('content-type') ?? '';
      const answerBody: Answer['body'] = type.includes('json')
        ? await response.json().catch(() => undefined)
        : Buffer.from(await response.arrayBuffer());
      const retryAfter = response.headers.get('retry-after') ?? undefined;
      if (response.status >= 500) {
        http.serverErrors.push({ status: response.status, route, code: answerBody?.error?.code, retryAfter, context: faultContext(), at: clock() });
      } else if (response.status === 429) {
        http.rateLimited += 1;
      } else {
        return { status: response.status, body: answerBody, headers: response.headers, attempts: attempt };
      }
      last = `${response.status} ${answerBody?.error?.code ?? ''}`.trim();
      if (retryAfter && /^\d+$/.test(retryAfter)) waitMs = Math.min(10_000, Number(retryAfter) * 1000);
    } catch (error) {
      if ((error as Error).name === 'TimeoutError') http.timeouts += 1;
      else http.connectionErrors += 1;
      last = `${(error as Error).name}: ${errorText(error)}${(error as { cause?: Error }).cause ? ` (${(error as { cause: Error }).cause.message})` : ''}`;
    } finally {
      http.inFlight -= 1;
    }
    if (Date.now() + waitMs > started + callDeadlineMs) break;
    await delay(waitMs);
  }
  throw new GaveUp(`${route}: gave up after ${Math.round((Date.now() - started) / 1000)} s; last answer: ${last}`);
}

// ---------------------------------------------------------------------------------------------------------
// Rounds
// ---------------------------------------------------------------------------------------------------------

interface PlannedSigner {
  name: string;
  email: string;
  phone?: string;
  pinDelivery: 'sender' | 'sms';
  /** The address the signer connects from (X-Forwarded-For; the API trusts its proxy), one per signer. */
  ip: string;
}

interface Round {
  index: number;
  idempotencyKey: string;
  signers: PlannedSigner[];
  requestId?: string;
  started: boolean;
  finishedDriving: boolean;
  driven: boolean;
  /** Why the client could not finish its part. */
  error?: string;
  /** Answers a real user would find wrong, though the client carried on. */
  anomalies: string[];
  /** Per signer id: how many attempts the client needed to open the link (one opening, maybe retried). */
  sessionAttempts: Map<string, number>;
}

function planRounds(count: number): Round[] {
  const tag = randomBytes(3).toString('hex');
  const phoneTag = String(1000 + Math.floor(Math.random() * 9000));
  let ipCounter = 0;
  const nextIp = () => {
    ipCounter += 1;
    return `198.18.${Math.floor(ipCounter / 250)}.${(ipCounter % 250) + 1}`;
  };
  return Array.from({ length: count }, (_, index) => ({
    index,
    idempotencyKey: `chaos-${tag}-${index}-${randomUUID()}`,
    signers: [
      { name: `Aino Chaos ${index}`, email: `r${index}-a-${tag}@chaos.example.test`, pinDelivery: 'sender', ip: nextIp() },
      {
        name: `Bertil Chaos ${index}`,
        email: `r${index}-b-${tag}@chaos.example.test`,
        phone: `+3584${phoneTag}${String(index).padStart(4, '0')}`,
        pinDelivery: 'sms',
        ip: nextIp(),
      },
    ],
    started: false,
    finishedDriving: false,
    driven: false,
    anomalies: [],
    sessionAttempts: new Map(),
  }));
}

interface Harness {
  apiKey: string;
  smtp: Awaited<ReturnType<typeof startSmtpCatcher>>;
  sms: ReturnType<typeof smsOutboxReader>;
}

async function driveRound(round: Round, h: Harness): Promise<void> {
  const pdf = await createTestPdf([{ text: `Chaos round ${round.index}: the parties agree to survive.` }]);
  const form = new FormData();
  form.append(
    'request',
    JSON.stringify({
      title: `Chaos round ${round.index}`,
      document: { filename: `chaos-${round.index}.pdf` },
      signers: round.signers.map(({ name, email, phone, pinDelivery }) => ({ name, email, pinDelivery, ...(phone ? { phone } : {}) })),
    }),
  );
  form.append('document', new Blob([pdf], { type: 'application/pdf' }), `chaos-${round.index}.pdf`);
  const created = await call('POST /v1/signing-requests', '/v1/signing-requests', {
    headers: { authorization: `Bearer ${h.apiKey}`, 'idempotency-key': round.idempotencyKey },
    form,
  });
  if (created.status !== 201 && created.status !== 200) {
    throw new Error(`create answered ${created.status} ${JSON.stringify(created.body?.error ?? '')}`);
  }
  round.requestId = created.body.id;
  const createdSigners: Array<{ id: string; pin?: string }> = created.body.signers;
  await Promise.all(round.signers.map((signer, position) => signAs(round, signer, createdSigners[position]!, h)));
  round.driven = true;
}

async function signAs(round: Round, signer: PlannedSigner, created: { id: string; pin?: string }, h: Harness): Promise<void> {
  const invitation = await waitFor(`the invitation to ${signer.email}`, () => h.smtp.to(signer.email, 'Please sign')[0], messageWaitMs);
  const token = signingTokenIn(invitation);
  signersReading += 1;
  try {
    await delay(thinkTimeMs());
  } finally {
    signersReading -= 1;
  }
  const pin =
    signer.pinDelivery === 'sender'
      ? created.pin
      : await waitFor(`the PIN SMS to ${signer.phone}`, () => h.sms.pinFor(signer.phone!), messageWaitMs);
  if (!pin) throw new Error(`no PIN for ${signer.email} in the create response`);
  const client = { 'x-forwarded-for': signer.ip, 'user-agent': `Mozilla/5.0 (chaos signer ${signer.name})` };
  const session = await call('POST /v1/signer/session', '/v1/signer/session', { headers: client, json: { token, pin } });
  round.sessionAttempts.set(created.id, session.attempts);
  if (session.status !== 200) {
    throw new Error(`${signer.email}: opening the link answered ${session.status} ${JSON.stringify(session.body?.error ?? '')}`);
  }
  // What the signing page reports once the first page is on screen: a signature needs it (chaos PDFs have one page).
  const displayed = await call('POST /v1/signer/reading-events', '/v1/signer/reading-events', {
    headers: { ...client, authorization: `Bearer ${session.body.sessionToken}` },
    json: { event: 'document_displayed', page: 1, pageCount: 1 },
  });
  if (displayed.status !== 200) throw new Error(`${signer.email}: reporting the document displayed answered ${displayed.status}`);
  const signed = await call('POST /v1/signer/sign', '/v1/signer/sign', {
    headers: { ...client, authorization: `Bearer ${session.body.sessionToken}` },
    json: { typedName: signer.name, consent: true },
  });
  if (signed.status === 200) {
    lastSignatureAt = Date.now();
    return;
  }
  const what = `${signer.email}: sign answered ${signed.status} ${signed.body?.error?.code ?? ''} after ${signed.attempts} attempt(s)`;
  // A retried sign whose first attempt was recorded before the API died: the signature counts; the final
  // checks decide whether the round completed. Tell it apart from a sign that never went through.
  if (signed.status === 409 && signed.attempts > 1) {
    round.anomalies.push(`${what}: "${signed.body?.error?.message ?? ''}"`);
    return;
  }
  throw new Error(`${what}: ${JSON.stringify(signed.body?.error ?? '')}`);
}

/** Starts rounds spread over at least one fault pass, at most `concurrency` at a time. */
async function driveAll(rounds: Round[], concurrency: number, h: Harness): Promise<void> {
  const spacingMs = Math.min(15_000, Math.max(300, faultPassMs / rounds.length));
  const t0 = Date.now();
  let next = 0;
  const lane = async () => {
    for (;;) {
      const round = rounds[next];
      next += 1;
      if (!round) return;
      const notBefore = t0 + round.index * spacingMs;
      if (Date.now() < notBefore) await delay(notBefore - Date.now());
      round.started = true;
      try {
        await driveRound(round, h);
      } catch (error) {
        round.error = errorText(error);
        say(`round ${round.index}: the client could not finish: ${round.error}`);
      } finally {
        round.finishedDriving = true;
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, lane));
}

// ---------------------------------------------------------------------------------------------------------
// What the database says (polled during the run: status, and a fingerprint of each sealed blob)
// ---------------------------------------------------------------------------------------------------------

interface RequestRow {
  id: string;
  status: string;
  sealed_sha256: string | null;
  sealed_blob_key: string | null;
}

const terminalStatuses = new Set(['completed', 'declined', 'expired', 'cancelled', 'failed']);

class DatabaseWatch {
  readonly rows = new Map<string, RequestRow>();
  /** SHA-256 of each sealed blob file as first seen: a later difference means the seal was written again. */
  readonly firstSealedBlob = new Map<string, string>();
  lastError?: string;

  constructor(private readonly pool: Pool, private readonly organizationId: string, private readonly blobRoot: string) {}

  async refresh(): Promise<boolean> {
    try {
      const { rows } = await this.pool.query<RequestRow>(
        `SELECT id, status, sealed_sha256, sealed_blob_key FROM signing_requests WHERE organization_id = $1`,
        [this.organizationId],
      );
      for (const row of rows) {
        this.rows.set(row.id, row);
        if (row.status === 'completed' && row.sealed_blob_key && !this.firstSealedBlob.has(row.id)) {
          const fingerprint = this.blobFingerprint(row.sealed_blob_key);
          if (fingerprint) this.firstSealedBlob.set(row.id, fingerprint);
        }
      }
      this.lastError = undefined;
      return true;
    } catch (error) {
      this.lastError = errorText(error); // e.g. our own connection was just terminated: the next poll reconnects
      return false;
    }
  }

  blobFingerprint(key: string): string | undefined {
    try {
      return createHash('sha256').update(fs.readFileSync(path.join(this.blobRoot, key))).digest('hex');
    } catch {
      return undefined;
    }
  }

  isTerminal(id: string): boolean {
    return terminalStatuses.has(this.rows.get(id)?.status ?? 'pending');
  }
}

// ---------------------------------------------------------------------------------------------------------
// The run
// ---------------------------------------------------------------------------------------------------------

interface FaultRecord {
  name: string;
  at: string;
  seconds: number;
  roundsInFlight: number;
  detail: string;
}

async function main(): Promise<number> {
  const options = readOptions();
  const cleanups: Array<{ name: string; run: () => Promise<unknown> | unknown }> = [];
  const cleanUp = async () => {
    shuttingDown = true;
    for (const step of cleanups.reverse()) {
      try {
        await step.run();
      } catch (error) {
        console.error(`cleanup: ${step.name} failed: ${errorText(error)}`);
      }
    }
    cleanups.length = 0;
  };
  let interrupted = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (interrupted) return;
    interrupted = true;
    say(`${signal}: stopping every process and removing the run's database`);
    void cleanUp().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  // The whole run is bounded too: a hang anywhere ends it (as a failure), with everything cleaned up.
  const runLimitMs = 8 * 60_000 + options.rounds * 10_000;
  const watchdog = setTimeout(() => {
    say(`!! the run exceeded its limit of ${Math.round(runLimitMs / 60_000)} min: stopping`);
    void cleanUp().finally(() => process.exit(2));
  }, runLimitMs);

  try {
    return await run(options, cleanups);
  } finally {
    clearTimeout(watchdog);
    if (!interrupted) await cleanUp();
  }
}

async function run(
  options: ReturnType<typeof readOptions>,
  cleanups: Array<{ name: string; run: () => Promise<unknown> | unknown }>,
): Promise<number> {
  say(`chaos run: ${options.rounds} two-signer rounds, ${options.concurrency} clients at a time`);
  let failed = true;

  // --- Work folder, database, SMTP, Temporal -------------------------------------------------------------
  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sigill-chaos-'));
  cleanups.push({
    name: 'work folder',
    run: () => {
      if (options.keep || failed) say(`work folder kept: ${workDir} (process logs in logs/)`);
      if (!options.keep) fs.rmSync(workDir, { recursive: true, force: true });
    },
  });
  const dataDir = path.join(workDir, 'data');
  const logDir = path.join(workDir, 'logs');
  fs.mkdirSync(logDir, { recursive: true });

  const serverUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  const database = await createServerDatabase(serverUrl, 'sigill_chaos');
  cleanups.push({ name: `drop database ${database.name}`, run: () => database.drop() });
  say(`database ${database.name} created on ${new URL(serverUrl).host}`);

  const smtp = await startSmtpCatcher();
  cleanups.push({ name: 'SMTP catcher', run: () => smtp.close() });

  const temporalLog = createLogger('warn');
  const temporalOptions: EmbeddedTemporalOptions = {
    cliPath: process.env.TEMPORAL_CLI_PATH,
    port: await freePort(),
    uiPort: await freePort(),
    dbFile: path.join(workDir, 'temporal', 'temporal.db'),
    namespace: 'default',
  };
  const temporalLock = path.join(path.dirname(temporalOptions.dbFile), 'server.lock.json');
  const temporalAddress = `127.0.0.1:${temporalOptions.port}`;
  const stopTemporal = async (signal: NodeJS.Signals) => {
    const pid = readProcessLock(temporalLock)?.childPid;
    if (pid === undefined) return [];
    const killed = liveProcessesInGroup(pid);
    signalProcessGroup(pid, signal);
    try {
      await waitFor('the Temporal server to stop', () => liveProcessesInGroup(pid).length === 0, 20_000);
    } catch {
      signalProcessGroup(pid, 'SIGKILL');
      await waitFor('the Temporal server to die', () => liveProcessesInGroup(pid).length === 0, 10_000);
    }
    liveGroups.delete(pid);
    removeProcessLock(temporalLock);
    return killed;
  };
  const startTemporal = async () => {
    await startOrJoinEmbeddedTemporal(temporalOptions, temporalLog);
    const pid = readProcessLock(temporalLock)?.childPid;
    if (pid !== undefined) liveGroups.add(pid);
  };
  cleanups.push({ name: 'Temporal server', run: () => stopTemporal('SIGKILL') });
  await startTemporal();
  say(`Temporal dev server on ${temporalAddress} (file ${temporalOptions.dbFile})`);

  // --- Organisation (the operator's CLI; it also applies the migrations) ---------------------------------
  const apiPort = await freePort();
  apiUrl = `http://127.0.0.1:${apiPort}`;
  const baseEnv: NodeJS.ProcessEnv = {
    ...inheritedEnvironment(),
    DATABASE_URL: database.url,
    DATA_DIR: dataDir,
    TEMPORAL_ADDRESS: temporalAddress,
    TEMPORAL_NAMESPACE: 'default',
    TEMPORAL_TASK_QUEUE: 'sigill',
    SMTP_URL: smtp.url,
    HOST: '127.0.0.1',
    PORT: String(apiPort),
    PUBLIC_URL: apiUrl,
    TRUST_PROXY: 'true', // signers' addresses arrive in X-Forwarded-For, as behind the production proxy
    LOG_LEVEL: 'warn',
  };
  const { stdout } = await promisify(execFile)(
    tsx,
    ['src/cli.ts', 'org', 'create', '--name', 'Chaos Oy', '--owner-email', 'owner@chaos.example.test'],
    { cwd: projectRoot, env: baseEnv, timeout: 120_000 },
  );
  const org = JSON.parse(stdout.trim().split('\n').pop()!) as { orgId: string; apiKey: string };
  say(`organisation ${org.orgId} created with the CLI (migrations applied)`);

  // --- Temporal client for the checks (decrypts failure messages with the deployment's master key) -------
  const codec = new EncryptionPayloadCodec(new LocalKeyService(path.join(dataDir, 'keys', 'master.key')));
  const connection = await Connection.connect({ address: temporalAddress });
  cleanups.push({ name: 'Temporal connection', run: () => connection.close() });
  const temporalClient = new TemporalClient({ connection, namespace: 'default', dataConverter: sigillDataConverter(codec) });

  // --- API and two workers --------------------------------------------------------------------------------
  const processEnv = { ...baseEnv, MIGRATE_ON_START: 'false' };
  const api = new ServiceProcess('API', ['src/main.ts', 'api'], processEnv, path.join(logDir, 'api.log'));
  const workers = [1, 2].map(
    (n) => new ServiceProcess(`worker ${n}`, ['src/worker.ts'], processEnv, path.join(logDir, `worker-${n}.log`)),
  );
  const services = [api, ...workers];
  cleanups.push({ name: 'API and workers', run: () => Promise.all(services.map((service) => service.kill())) });
  for (const service of services) service.start();

  const apiAnswers = async () => {
    try {
      return (await fetch(`${apiUrl}/healthz`, { signal: AbortSignal.timeout(2000) })).status === 200;
    } catch {
      return false;
    }
  };
  const pollingPids = async (): Promise<Map<number, Set<number>>> => {
    const byPid = new Map<number, Set<number>>();
    for (const taskQueueType of [TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW, TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY]) {
      const response = await connection.workflowService
        .describeTaskQueue({ namespace: 'default', taskQueue: { name: 'sigill' }, taskQueueType })
        .catch(() => undefined);
      for (const poller of response?.pollers ?? []) {
        const pid = Number(poller.identity?.split('@')[0]);
        if (!byPid.has(pid)) byPid.set(pid, new Set());
        byPid.get(pid)!.add(taskQueueType);
      }
    }
    return byPid;
  };
  /** Until a process of the worker's group polls both the workflow and the activity task queue. */
  const waitUntilPolling = (worker: ServiceProcess) =>
    waitFor(
      `${worker.name} polling the task queue`,
      async () => {
        if (!worker.running()) return false;
        const polling = await pollingPids();
        return liveProcessesInGroup(worker.pgid!).some((pid) => polling.get(pid)?.size === 2);
      },
      120_000,
    );
  await waitFor('the API to answer /healthz', apiAnswers, 120_000);
  await Promise.all(workers.map(waitUntilPolling));
  say(`API on ${apiUrl} and two workers polling (pids ${services.map((service) => service.pgid).join(', ')}; logs in ${logDir})`);

  // --- Watching the database ---------------------------------------------------------------------------------
  const pool = new Pool({ connectionString: database.url, max: 2 });
  pool.on('error', () => undefined); // an idle connection terminated by the fault: the next query reconnects
  cleanups.push({ name: 'database pool', run: () => pool.end() });
  const watch = new DatabaseWatch(pool, org.orgId, path.join(dataDir, 'blobs'));

  const rounds = planRounds(options.rounds);
  const roundsInFlight = () =>
    rounds.filter((round) => round.started && (!round.finishedDriving || (round.requestId && !watch.isTerminal(round.requestId)))).length;
  let watching = true;
  const watcher = (async () => {
    while (watching) {
      await watch.refresh();
      await delay(2000);
    }
  })();

  // --- Faults ------------------------------------------------------------------------------------------------
  const faults: FaultRecord[] = [];
  /** True while clients are still driving rounds: faults then wait (bounded) for a moment that hurts. */
  let driving = true;
  const workerKilledAt: number[] = [];
  const invitationsCaught = () => smtp.messages.filter((mail) => mail.subject.startsWith('Please sign')).length;
  const killAndRestartWorker = async (worker: ServiceProcess, moment: 'signature' | 'invitation') => {
    // Worker 1 dies right after a signature (a round may be sealing), worker 2 right after an invitation
    // arrived (its sibling may be being sent). Bounded: otherwise whenever rounds are in flight.
    const since = Date.now();
    const invitationsBefore = invitationsCaught();
    const timed =
      driving &&
      (await waitFor(
        `a ${moment}`,
        () => (moment === 'signature' ? lastSignatureAt > since : invitationsCaught() > invitationsBefore),
        30_000,
      ).catch(() => false));
    workerKilledAt.push(Date.now());
    const killed = await worker.kill();
    worker.start();
    const restarted = Date.now();
    await waitUntilPolling(worker);
    return `SIGKILLed pids ${killed.join(', ')}${timed ? ` right after ${moment === 'signature' ? 'a signature' : 'an invitation arrived'}` : ''}; restarted, polling again after ${((Date.now() - restarted) / 1000).toFixed(1)} s`;
  };
  const restartTemporal = async (pass: number) => {
    const signal: NodeJS.Signals = pass % 2 === 0 ? 'SIGKILL' : 'SIGTERM';
    // While a signer is about to open their link (bounded).
    const reading = driving && (await waitFor('a signer about to open the link', () => signersReading > 0, 30_000).catch(() => false));
    const readers = signersReading;
    const killed = await stopTemporal(signal);
    await waitFor('the Temporal port to close', async () => !(await isPortOpen(temporalOptions.port)), 20_000);
    await delay(temporalDownMs);
    const restarting = Date.now();
    await startTemporal();
    return `${signal} to pids ${killed.join(', ')} with ${reading ? readers : 0} signer(s) about to open the link; down ${temporalDownMs / 1000} s; up again after ${((Date.now() - restarting) / 1000).toFixed(1)} s`;
  };
  const killAndRestartApi = async () => {
    // Mid-request: wait (bounded) until a client call is on the wire.
    const busy = driving && (await waitFor('a request in flight', () => http.inFlight > 0, 20_000).catch(() => false));
    const inFlight = http.inFlight;
    const killed = await api.kill();
    await waitFor('the API port to close', async () => !(await isPortOpen(apiPort)), 20_000);
    api.start();
    const restarted = Date.now();
    await waitForPort(apiPort, { timeoutMs: 120_000 });
    await waitFor('the API to answer /healthz', apiAnswers, 120_000);
    return `SIGKILLed pids ${killed.join(', ')} with ${busy ? inFlight : 0} request(s) in flight; answering again after ${((Date.now() - restarted) / 1000).toFixed(1)} s`;
  };
  const breakPostgres = async () => {
    const busy = driving && (await waitFor('a request in flight', () => http.inFlight > 0, 20_000).catch(() => false));
    let terminated = 0;
    for (let sweep = 0; sweep < 3; sweep += 1) {
      const admin = new PgClient({ connectionString: serverUrl });
      await admin.connect();
      try {
        const { rows } = await admin.query<{ n: string }>(
          `SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) AS n FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()`,
          [database.name],
        );
        terminated += Number(rows[0]?.n ?? 0);
      } finally {
        await admin.end();
      }
      if (sweep < 2) await delay(500);
    }
    return `pg_terminate_backend: ${terminated} connection(s) in 3 sweeps${busy ? ', the first with a request in flight' : ''}`;
  };
  const faultPlan: Array<{ name: string; run: (pass: number) => Promise<string> }> = [
    { name: 'worker 1 SIGKILL', run: () => killAndRestartWorker(workers[0]!, 'signature') },
    { name: 'worker 2 SIGKILL', run: () => killAndRestartWorker(workers[1]!, 'invitation') },
    { name: 'Temporal restart', run: restartTemporal },
    { name: 'API SIGKILL', run: killAndRestartApi },
    { name: 'PostgreSQL connections terminated', run: breakPostgres },
  ];

  const faultLoop = async () => {
    // At least one whole pass; then more passes while clients are still driving rounds (bounded).
    for (let pass = 0; pass < 20; pass += 1) {
      for (const fault of faultPlan) {
        if (pass > 0 && !driving) return;
        await delay(faultGapMs);
        // Faults hit rounds in flight: wait (bounded) for one while rounds remain to be driven.
        if (driving) await waitFor('a round in flight', () => roundsInFlight() > 0, 30_000).catch(() => undefined);
        const inFlight = roundsInFlight();
        const began = Date.now();
        faultState.active = fault.name;
        say(`fault: ${fault.name} (pass ${pass + 1}, ${inFlight} round(s) in flight)`);
        let detail: string;
        try {
          detail = await fault.run(pass);
        } finally {
          faultState.active = undefined;
          faultState.last = { name: fault.name, endedAt: Date.now() };
        }
        const seconds = (Date.now() - began) / 1000;
        faults.push({ name: fault.name, at: clock(), seconds, roundsInFlight: inFlight, detail });
        say(`       ${detail} [${seconds.toFixed(1)} s]`);
      }
    }
  };

  // --- Drive rounds while injecting faults ---------------------------------------------------------------------
  say(`phase: driving ${rounds.length} rounds while injecting faults`);
  const harness: Harness = { apiKey: org.apiKey, smtp, sms: smsOutboxReader(dataDir) };
  const drivingStarted = Date.now();
  const progress = setInterval(() => {
    const created = rounds.filter((round) => round.requestId).length;
    const driven = rounds.filter((round) => round.driven).length;
    const sealed = [...watch.rows.values()].filter((row) => row.status === 'completed' && row.sealed_sha256).length;
    const unavailable = http.serverErrors.filter((error) => error.status === 503).length;
    say(
      `progress: ${created} created, ${driven} signed by all, ${sealed} sealed of ${rounds.length}; ` +
        `5xx so far: ${http.serverErrors.length - unavailable} (+ ${unavailable} × 503)`,
    );
  }, 10_000);
  const faultsDone = faultLoop();
  faultsDone.catch(() => undefined); // awaited below; a failing fault ends the run
  try {
    await Promise.race([
      driveAll(rounds, options.concurrency, harness),
      faultsDone.then(() => new Promise<never>(() => undefined)), // faults ending early do not end the driving
    ]);
    driving = false;
    say(`all clients finished driving after ${Math.round((Date.now() - drivingStarted) / 1000)} s; letting the fault sequence finish`);
    await faultsDone;
  } finally {
    driving = false;
    clearInterval(progress);
  }

  // --- Settle: every round terminal, or a deadline ------------------------------------------------------------
  say(`phase: waiting (at most ${settleMs / 1000} s) until every round is terminal`);
  for (const service of services) {
    if (!service.running()) await waitFor(`${service.name} running again`, () => service.running(), 30_000);
  }
  const created = () => rounds.filter((round) => round.requestId).map((round) => round.requestId!);
  const settleDeadline = Date.now() + settleMs;
  let lastReport = 0;
  for (;;) {
    await watch.refresh();
    const open = created().filter((id) => !watch.isTerminal(id));
    if (open.length === 0) break;
    if (Date.now() > settleDeadline) break;
    if (Date.now() - lastReport >= 5000) {
      lastReport = Date.now();
      say(`waiting: ${created().length - open.length}/${created().length} created rounds terminal; ${open.length} pending`);
    }
    await delay(1000);
  }
  watching = false;
  await watcher;
  await watch.refresh();

  // --- Checks ----------------------------------------------------------------------------------------------------
  say('phase: checking seals, audit chains and mailboxes');
  const checkDir = path.join(workDir, 'sealed');
  fs.mkdirSync(checkDir, { recursive: true });
  const stuck: string[] = [];
  const duplicateSeals: string[] = [];
  const invalidSeals: string[] = [];
  const brokenChains: string[] = [];
  const otherStatus: string[] = [];
  const extraOpened: string[] = [];
  let sealed = 0;

  for (const round of rounds) {
    const id = round.requestId;
    if (!id) continue;
    const row = watch.rows.get(id);
    if (!row || !watch.isTerminal(id)) {
      stuck.push(`round ${round.index} (${id}): ${await describeStuck(temporalClient, codec, id, row?.status)}`);
    } else if (row.status === 'completed' && row.sealed_sha256) {
      sealed += 1;
    } else {
      otherStatus.push(`round ${round.index} (${id}): ${row.status}`);
    }
    const key = { authorization: `Bearer ${harness.apiKey}` };

    const trail = await call('GET /v1/signing-requests/:id/audit-trail', `/v1/signing-requests/${id}/audit-trail`, { headers: key }).catch(
      (error: Error) => ({ status: 0, body: { error: error.message } }) as Answer,
    );
    if (trail.status !== 200) {
      brokenChains.push(`round ${round.index}: the audit trail could not be read (${trail.status} ${JSON.stringify(trail.body?.error ?? '')})`);
    } else {
      const events: Array<{ type: string; signerId?: string }> = trail.body.events;
      if (!trail.body.chainValid) brokenChains.push(`round ${round.index}: ${JSON.stringify(trail.body.firstBrokenEvent)}`);
      const sealedEvents = events.filter((event) => event.type === 'sealed').length;
      const archivedEvents = events.filter((event) => event.type === 'archived').length;
      if (sealedEvents > 1 || archivedEvents > 1) {
        duplicateSeals.push(`round ${round.index}: ${sealedEvents} 'sealed' and ${archivedEvents} 'archived' audit events`);
      }
      const opened = new Map<string, number>();
      for (const event of events) if (event.type === 'opened' && event.signerId) opened.set(event.signerId, (opened.get(event.signerId) ?? 0) + 1);
      for (const [signerId, count] of opened) {
        const attempts = round.sessionAttempts.get(signerId) ?? 0;
        if (count > 1) {
          extraOpened.push(
            `round ${round.index}: signer ${signerId} opened the link once (${attempts} attempt(s), the failed ones answered 5xx or lost), ${count} 'opened' audit events`,
          );
        }
      }
    }

    if (row?.status === 'completed' && row.sealed_sha256 && row.sealed_blob_key) {
      const first = watch.firstSealedBlob.get(id);
      const now = watch.blobFingerprint(row.sealed_blob_key);
      if (first && now && first !== now) duplicateSeals.push(`round ${round.index}: the sealed blob was written again after the round completed`);
      const document = await call('GET /v1/signing-requests/:id/document', `/v1/signing-requests/${id}/document`, { headers: key }).catch(
        (error: Error) => ({ status: 0, body: Buffer.from(error.message) }) as Answer,
      );
      if (document.status !== 200 || !Buffer.isBuffer(document.body)) {
        invalidSeals.push(`round ${round.index}: the sealed document could not be downloaded (${document.status})`);
        continue;
      }
      const sha256 = createHash('sha256').update(document.body).digest('hex');
      if (sha256 !== row.sealed_sha256) {
        duplicateSeals.push(`round ${round.index}: the served PDF's SHA-256 differs from the archived one (sealed again after archiving?)`);
      }
      const file = path.join(checkDir, `${id}.pdf`);
      fs.writeFileSync(file, document.body);
      const verdict = pdfsig(file);
      if (!verdict.stdout.includes('Signature is Valid') || !verdict.stdout.includes('Total document signed')) {
        invalidSeals.push(`round ${round.index}: pdfsig: ${verdict.output.trim().split('\n').slice(-4).join(' | ')}`);
      }
    }
  }

  // Mailboxes: one invitation per signer (each signer's address belongs to one round). A repeat is a duplicate
  // unless it is SMTP's at-least-once after a worker kill (repeatedDeliveries says how it tells them apart).
  const planned = new Set(rounds.flatMap((round) => round.signers.map((signer) => signer.email)));
  const countBy = (subject: string) => {
    const counts = new Map<string, number>();
    for (const mail of smtp.messages) if (mail.subject.startsWith(subject)) counts.set(mail.to, (counts.get(mail.to) ?? 0) + 1);
    return counts;
  };
  const { duplicates: duplicateInvitations, redeliveredAfterKill: redeliveredInvitations } = repeatedDeliveries(
    smtp.messages.filter((mail) => mail.subject.startsWith('Please sign') && planned.has(mail.to)),
    workerKilledAt,
  );
  const outcomes = countBy('Signed:');
  const duplicateOutcomes = [...outcomes].filter(([to, count]) => planned.has(to) && count > 1);

  // --- Report --------------------------------------------------------------------------------------------------
  const expected = rounds.length;
  const notCreated = rounds.filter((round) => !round.requestId);
  const clientFailures = rounds.filter((round) => round.error);
  const anomalies = rounds.flatMap((round) => round.anomalies.map((text) => `round ${round.index}: ${text}`));
  const fatal5xx = http.serverErrors.filter((error) => error.status !== 503);
  const unavailable = http.serverErrors.filter((error) => error.status === 503);
  const unavailableWithoutRetryAfter = unavailable.filter((error) => !error.retryAfter);
  const duplicateInvitationCount = duplicateInvitations.reduce((sum, [, count]) => sum + count - 1, 0);

  const section = (title: string, lines: string[], limit = 15) => {
    if (lines.length === 0) return;
    console.log(`\n${title}:`);
    for (const line of lines.slice(0, limit)) console.log(`  ${line}`);
    if (lines.length > limit) console.log(`  … and ${lines.length - limit} more`);
  };
  const grouped = (errors: ServerError[]) => {
    const groups = new Map<string, number>();
    for (const error of errors) {
      const key = `${error.status} ${error.code ?? '-'} ${error.route} (${error.context.replace(/^\d+ s after/, 'after')})${error.retryAfter ? ` Retry-After ${error.retryAfter}` : ''}`;
      groups.set(key, (groups.get(key) ?? 0) + 1);
    }
    return [...groups].sort((a, b) => b[1] - a[1]).map(([key, count]) => `${count} × ${key}`);
  };

  section('Faults injected', faults.map((fault) => `${fault.at} ${fault.name}, ${fault.roundsInFlight} round(s) in flight: ${fault.detail}`), 100);
  section('Rounds not created', notCreated.map((round) => `round ${round.index}: ${round.error ?? 'not started'}`));
  section('Client could not finish (after bounded retries)', clientFailures.map((round) => `round ${round.index}: ${round.error}`));
  section('Wrong answers the clients worked around', anomalies);
  section('Stuck rounds (not terminal at the deadline)', stuck, 30);
  section('Rounds that ended otherwise', otherStatus);
  section('Duplicate invitations (deliveries per signer)', duplicateInvitations.map(([to, count]) => `${to}: ${count}`));
  section(
    'Invitations delivered again after a worker was killed between the send and its record (the same message and Message-ID; informational)',
    redeliveredInvitations.map(([to, count]) => `${to}: ${count}`),
  );
  section('Duplicate seals', duplicateSeals);
  section('Invalid seals', invalidSeals);
  section('Broken audit chains', brokenChains);
  section('5xx other than 503', grouped(fatal5xx), 30);
  section('503 answers (allowed during an outage with Retry-After)', grouped(unavailable), 30);
  section('Processes that exited by themselves (restarted)', unexpectedExits.map((exit) => `${exit.at} ${exit.name}: code ${exit.code}, signal ${exit.signal}`));
  section('Extra "opened" audit events (informational: each signer opened the link once)', extraOpened);
  section('Duplicate outcome emails (informational)', duplicateOutcomes.map(([to, count]) => `${to}: ${count}`));

  const rows: Array<[string, string, boolean]> = [
    ['sealed / expected', `${sealed} / ${expected}`, sealed === expected],
    ['stuck', String(stuck.length), stuck.length === 0],
    ['duplicate invitations', String(duplicateInvitationCount), duplicateInvitationCount === 0],
    ['duplicate seals', String(duplicateSeals.length), duplicateSeals.length === 0],
    ['invalid seals (pdfsig)', String(invalidSeals.length), invalidSeals.length === 0],
    ['broken chains', String(brokenChains.length), brokenChains.length === 0],
    ['5xx (500, 502, 504, …)', String(fatal5xx.length), fatal5xx.length === 0],
  ];
  const info: Array<[string, string]> = [
    ['503 (with Retry-After / without)', `${unavailable.length - unavailableWithoutRetryAfter.length} / ${unavailableWithoutRetryAfter.length}`],
    ['connection errors / timeouts', `${http.connectionErrors} / ${http.timeouts}`],
    ['SMTP connections dropped mid-session (killed senders)', String(smtp.connectionErrors.length)],
    ['429', String(http.rateLimited)],
    ['client calls / attempts', `${http.calls} / ${http.attempts}`],
    ['rounds the client could not finish', String(clientFailures.length)],
    ['wrong answers worked around', String(anomalies.length)],
    ['signers with extra "opened" events', String(extraOpened.length)],
    ['duplicate outcome emails', String(duplicateOutcomes.reduce((sum, [, count]) => sum + count - 1, 0))],
    ['invitations redelivered after a worker kill', String(redeliveredInvitations.reduce((sum, [, count]) => sum + count - 1, 0))],
    ['processes that exited by themselves', String(unexpectedExits.length)],
    ['faults injected', String(faults.length)],
    ['duration', `${Math.round((Date.now() - startedAt) / 1000)} s`],
  ];
  const width = Math.max(...[...rows, ...info].map(([label]) => label.length));
  console.log(`\nChaos run: ${expected} rounds, ${faults.length} faults\n`);
  for (const [label, value, ok] of rows) console.log(`  ${label.padEnd(width)}  ${value.padStart(9)}  ${ok ? 'ok' : 'FAIL'}`);
  console.log('');
  for (const [label, value] of info) console.log(`  ${label.padEnd(width)}  ${value.padStart(9)}`);
  const passed = rows.every(([, , ok]) => ok);
  console.log(`\n${passed ? 'PASSED' : 'FAILED'}: ${passed ? 'every round sealed once, nothing stuck, duplicated, invalid or broken, no 5xx' : 'see above'}\n`);

  if (!passed) {
    for (const service of services) console.log(`--- last lines of ${service.name}'s log (${service.logFile}):\n${service.tail(15)}`);
  }
  failed = !passed;
  return passed ? 0 : 1;
}

/** Why a round is not terminal: the workflow's state, its pending activities and their last failures. */
async function describeStuck(client: TemporalClient, codec: EncryptionPayloadCodec, requestId: string, dbStatus: string | undefined): Promise<string> {
  try {
    const description = await client.workflow.getHandle(workflowIdForRequest(requestId)).describe();
    const pending = await Promise.all(
      (description.raw.pendingActivities ?? []).map(async (activity) => {
        const state = PendingActivityState[activity.state ?? 0]?.replace('PENDING_ACTIVITY_STATE_', '').toLowerCase();
        const failure = await failureMessage(codec, activity.lastFailure ?? undefined);
        return `${activity.activityType?.name} attempt ${activity.attempt} ${state}${failure ? `, last failure: ${failure}` : ''}`;
      }),
    );
    return `database ${dbStatus ?? 'missing'}, workflow ${description.status.name}; pending activities: ${pending.length ? pending.join('; ') : 'none'}`;
  } catch (error) {
    return `database ${dbStatus ?? 'missing'}; describe() failed: ${errorText(error)}`;
  }
}

async function failureMessage(codec: EncryptionPayloadCodec, failure: Failure | undefined): Promise<string | undefined> {
  if (!failure) return undefined;
  let message = failure.message ?? '';
  if (failure.encodedAttributes) {
    try {
      const [decoded] = await codec.decode([failure.encodedAttributes as Payload]);
      message = (JSON.parse(Buffer.from(decoded?.data ?? []).toString('utf8')) as { message?: string }).message ?? message;
    } catch {
      // keep the plain message
    }
  }
  const cause = await failureMessage(codec, failure.cause ?? undefined);
  return cause ? `${message} <- ${cause}` : message;
}

main().then(
  (code) => process.exit(code),
  (error) => {
    console.error(`chaos run failed: ${error instanceof Error ? error.stack : String(error)}`);
    process.exit(1);
  },
);
