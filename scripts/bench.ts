/**
 * `npm run bench`: the whole performance picture in one run and one table (issue 15, docs/PERFORMANCE.md).
 * Every figure is set against an anchor measured in the same run on the same machine, and printed as a
 * ratio beside its goal. Nothing here is asserted: it exits non-zero only when something fails (a round
 * that does not complete, a part that does not start, a non-2xx answer).
 *
 * Topology, production's on one machine: a Temporal dev server (SQLite file), a fresh database on
 * DATABASE_URL's PostgreSQL (default postgres://postgres@127.0.0.1:5432/postgres; dropped at the end), a real
 * SMTP server as the signers' mailboxes, and Sigill's API and worker in one child process: the production
 * build (`npm run build`, `node dist/src/main.js`, what `npm start` runs but compiled, and without the embedded
 * database so its memory is Sigill's own). Idle memory run from source (tsx, as `npm start`) is shown too.
 * The anchor is a bare workflow (scripts/bench/bare-round-workflow.ts) on its own worker process with no-op
 * activities: the same activity round trips and Updates as a measured signing round, read from that
 * round's history in this run, so it is Temporal's floor for the round's shape.
 *
 * Phases, in order:
 * 1. Idle memory: the Sigill process after start-up, after a forced GC (over the inspector).
 * 2. Round latency: `--rounds` two-signer rounds one at a time; the clock runs from the last signature's
 *    request until the round's workflow has closed (sealed, archived, outcome recorded and mailed), beside
 *    the bare workflow from its last Update until it closes. Both wait until the workflow is idle (no
 *    pending activity or workflow task) before the last signature, so the figure is that signature's path.
 * 3. Throughput: 10 and 50 rounds in flight, each driven the way people do (create, invitation by email,
 *    PIN, display, both signers sign at once); rounds completed per second in a measurement window after a
 *    warm-up, beside bare workflows per second at the same concurrency. Bare and Sigill alternate.
 * 4. Status reads: GET /v1/signing-requests/:id at an even 200 requests/s beside a bare Koa app returning
 *    the same bytes (as `npm run bench:api`, shorter).
 * 5. Open rounds: RSS of the Sigill process (after a forced GC) and of the Temporal server at 0, 1,000 and
 *    5,000 pending, unsigned rounds; MB per 1,000 open rounds, and 10,000 extrapolated from that slope.
 * 6. Seal: `npm run bench:seal` in a child process, folded in (seal ÷ pdf-lib load+save per file).
 *
 *   npm run bench [-- --quick] [-- --rounds N] [-- --window SECONDS] [-- --open 1000,5000] [-- --no-seal]
 *                 [-- --cpu-profile DIR]
 *
 * --quick is the CI smoke test: a few rounds, 2 and 4 in flight, 10 and 20 open rounds, the seal on its
 * 3-page file once. It checks that the suite runs; its figures mean little. Settings an operator tunes
 * (WORKER_* variables, see README; MALLOC_ARENA_MAX) are passed through to the Sigill process from this shell. --cpu-profile
 * DIR writes a CPU profile of the Sigill process during each throughput phase and the status reads (open it
 * in Chrome DevTools).
 */
import { randomUUID } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { temporal as proto } from '@temporalio/proto';
import { readProcessLock } from '../src/adapters/process-lock';
import { startOrJoinEmbeddedTemporal } from '../src/adapters/temporal-dev-server';
import { createDataSource, runMigrations } from '../src/database/data-source';
import { createLogger } from '../src/logger';
import { workflowIdForRequest } from '../src/signing/create-signing-request';
import { apiClient } from '../test/support/api-client';
import { startChildProcess, startTsxProcess, type ChildProcess } from '../test/support/child-process';
import { createTestOrganization } from '../test/support/factories';
import { freePort } from '../test/support/free-port';
import { createTestPdf } from '../test/support/pdf-factories';
import { createServerDatabase } from '../test/support/server-database';
import { reportDocumentDisplayed } from '../test/support/signer-reading';
import { waitFor } from '../test/support/wait-for';
import { bareRoundWorkflow, bareSignUpdate, type BareRoundShape } from './bench/bare-round-workflow';
import { emptySample, load, percentile, summarize, type LoadTarget } from './bench/http-load';
import { cpuSeconds, openInspector, pidsNamed, residentBytes, type InspectorSession } from './bench/inspector';
import { startMailbox, type Mailbox } from './bench/mailbox';
import { commitDescription, runBenchmark, type BenchRun } from './bench/run';

const { EventType, HistoryEventFilterType, PendingWorkflowTaskState } = proto.api.enums.v1;

const { values: flags } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    rounds: { type: 'string' },
    window: { type: 'string' },
    open: { type: 'string' },
    'no-seal': { type: 'boolean', default: false },
    'cpu-profile': { type: 'string' },
  },
});

function wholeNumber(name: string, value: string): number {
  const number = Number(value);
  if (!/^\d+$/.test(value) || number < 1) throw new Error(`--${name} takes a positive whole number, not ${value}`);
  return number;
}

/** Comma-separated, ascending: the open-round counts the memory is read at. */
function ascendingNumbers(name: string, value: string): number[] {
  const numbers = value.split(',').map((part) => wholeNumber(name, part));
  if (numbers.some((n, i) => i > 0 && n <= numbers[i - 1]!)) throw new Error(`--${name} takes ascending numbers, e.g. 1000,5000, not ${value}`);
  return numbers;
}

const quick = flags.quick;
const settings = {
  latencyRounds: flags.rounds ? wholeNumber('rounds', flags.rounds) : quick ? 3 : 50,
  inFlight: quick ? [2, 4] : [10, 50],
  warmupSeconds: quick ? 2 : 15,
  windowSeconds: flags.window ? wholeNumber('window', flags.window) : quick ? 5 : 45,
  openRounds: flags.open ? ascendingNumbers('open', flags.open) : quick ? [10, 20] : [1000, 5000],
  readSeconds: quick ? 2 : 10,
  readRate: 200,
  pollMs: 20,
};

const log = createLogger('warn');
const serverUrl = process.env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/postgres';
const bareTaskQueue = 'bench-bare';
const sigillTaskQueue = 'sigill';
const MB = 1024 * 1024;
const metricsToken = randomUUID() + randomUUID();

// ---------------------------------------------------------------------------------------------------------
// The stack
// ---------------------------------------------------------------------------------------------------------

interface Stack {
  /** Starts nothing: registers a child started later in the run for clean-up and failure logs. */
  track: BenchRun['track'];
  barePid: number;
  apiUrl: string;
  apiKey: string;
  sigill: ChildProcess;
  inspector: InspectorSession;
  temporalPid: number;
  /** What the Sigill process was started with, for a second one run from source. */
  env: Record<string, string | undefined>;
  client: Client;
  mailbox: Mailbox;
  pdfBase64: string;
  workDir: string;
}

/** Like Promise.all, but waits for every promise before throwing the first failure. */
async function allOrFirstFailure<T extends readonly unknown[]>(promises: { [K in keyof T]: Promise<T[K]> }): Promise<T> {
  const settled = await Promise.allSettled(promises);
  const failed = settled.find((result) => result.status === 'rejected');
  if (failed) throw (failed as PromiseRejectedResult).reason;
  return settled.map((result) => (result as PromiseFulfilledResult<unknown>).value) as unknown as T;
}

async function startStack({ shutdown, track }: BenchRun): Promise<Stack> {
  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sigill-bench-'));
  shutdown.add('temp dir', () => fs.rmSync(workDir, { recursive: true, force: true }));

  const dbFile = path.join(workDir, 'temporal', 'temporal.db');
  // Settled, not raced: a part that fails fast must not leave another half-started (its clean-up unregistered).
  const [temporal, database, mailbox] = await allOrFirstFailure([
    (async () => {
      const server = await startOrJoinEmbeddedTemporal(
        { cliPath: process.env.TEMPORAL_CLI_PATH, port: await freePort(), uiPort: await freePort(), dbFile, namespace: 'default' },
        log,
      );
      shutdown.add('temporal', () => server.stop());
      return server;
    })(),
    (async () => {
      const db = await createServerDatabase(serverUrl, 'sigill_bench');
      shutdown.add('database', () => db.drop());
      return db;
    })(),
    (async () => {
      const box = await startMailbox();
      shutdown.add('mailbox', () => box.close());
      return box;
    })(),
  ] as const);
  const temporalPid = readProcessLock(path.join(path.dirname(dbFile), 'server.lock.json'))?.childPid;
  if (!temporalPid) throw new Error('the Temporal server left no process lock to read its pid from');

  const dataSource = await createDataSource(database.url, { poolSize: 1 }).initialize();
  const organization = await (async () => {
    await runMigrations(dataSource, log);
    return createTestOrganization(dataSource);
  })().finally(() => dataSource.destroy());

  const apiPort = await freePort();
  const inspectPort = await freePort();
  const apiUrl = `http://127.0.0.1:${apiPort}`;
  // Exactly these settings and the operator's tuning (WORKER_*, MALLOC_ARENA_MAX), nothing else from the shell (an S3 bucket, a KMS key).
  const tuning = Object.fromEntries(Object.entries(process.env).filter(([name]) => name.startsWith('WORKER_') || name === 'MALLOC_ARENA_MAX'));
  const env = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    DATABASE_URL: database.url,
    TEMPORAL_ADDRESS: temporal.address,
    TEMPORAL_TASK_QUEUE: sigillTaskQueue,
    DATA_DIR: path.join(workDir, 'data'),
    PORT: String(apiPort),
    PUBLIC_URL: apiUrl,
    SMTP_URL: mailbox.url,
    TRUST_PROXY: 'true', // each signer's address arrives in X-Forwarded-For, as behind the production proxy
    METRICS_TOKEN: metricsToken, // behind a proxy, /metrics answers only its token
    LOG_LEVEL: 'warn',
    MIGRATE_ON_START: 'false',
    // As `npm run start:prod` and the Docker image run it (docs/PERFORMANCE.md); the shell's value wins.
    MALLOC_ARENA_MAX: '2',
    ...tuning,
  };
  // The production build, as deployments run it (README: `npm run build`, then `node dist/src/main.js`).
  progress('building (npm run build)…');
  // Replaces dist/ in this checkout. Its output goes to stderr, so a failing build shows why.
  execFileSync('npm', ['run', 'build', '--silent'], { stdio: ['ignore', process.stderr, process.stderr] });
  const sigill = track(
    'sigill',
    startChildProcess('Sigill (API and worker)', process.execPath, [`--inspect=127.0.0.1:${inspectPort}`, 'dist/src/main.js'], { env }),
  );
  const bare = track('bare worker', startTsxProcess('the bare worker', 'scripts/bench/bare-worker.ts', [temporal.address, bareTaskQueue], {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
  }));
  await Promise.all([sigill.waitForOutput(/Sigill is running/, 180_000), bare.waitForOutput(/bare worker polling/, 180_000)]);
  const inspector = await openInspector(inspectPort);
  shutdown.add('inspector', () => inspector.close());

  const connection = await Connection.connect({ address: temporal.address });
  shutdown.add('temporal client', () => connection.close());
  const pdfBase64 = Buffer.from(await createTestPdf()).toString('base64');
  return { track, env, barePid: bare.pid, apiUrl, apiKey: organization.apiKey, sigill, inspector, temporalPid, client: new Client({ connection }), mailbox, pdfBase64, workDir };
}

// ---------------------------------------------------------------------------------------------------------
// Driving rounds: Sigill's over HTTP as people do, the bare one through the Temporal client
// ---------------------------------------------------------------------------------------------------------

let signerCounter = 0;

interface PlannedSigner {
  name: string;
  email: string;
  ip: string;
  pin?: string;
}

interface SigillRound {
  id: string;
  workflowId: string;
  signers: PlannedSigner[];
}

function nextSigner(): PlannedSigner {
  signerCounter++;
  return {
    name: `Aino Bench ${signerCounter}`,
    email: `s${signerCounter}-${randomUUID().slice(0, 8)}@bench.example.test`,
    ip: `198.18.${Math.floor(signerCounter / 250) % 250}.${(signerCounter % 250) + 1}`,
  };
}

async function createSigillRound(stack: Stack): Promise<{ round: SigillRound; ms: number }> {
  const call = apiClient(() => stack.apiUrl, () => stack.apiKey);
  const signers = [nextSigner(), nextSigner()];
  const started = performance.now();
  const created = await call('/v1/signing-requests', {
    body: {
      title: `Bench round ${signerCounter}`,
      document: { filename: 'agreement.pdf', contentBase64: stack.pdfBase64 },
      signers: signers.map(({ name, email }) => ({ name, email, pinDelivery: 'sender' })),
    },
  });
  const ms = performance.now() - started;
  if (created.status !== 201) throw new Error(`creating a round answered ${created.status}: ${JSON.stringify(created.body)}`);
  created.body.signers.forEach((signer: { pin: string }, index: number) => (signers[index]!.pin = signer.pin));
  return { round: { id: created.body.id, workflowId: workflowIdForRequest(created.body.id), signers }, ms };
}

/** The signer's invitation, PIN and the document displayed: ready to sign. Returns the session's call. */
async function openAsSigner(stack: Stack, signer: PlannedSigner) {
  const headers = { 'x-forwarded-for': signer.ip, 'user-agent': 'Mozilla/5.0 (Sigill bench)' };
  const call = apiClient(() => stack.apiUrl, () => null);
  const token = await stack.mailbox.tokenFor(signer.email);
  const session = await call('/v1/signer/session', { headers, body: { token, pin: signer.pin } });
  if (session.status !== 200) throw new Error(`opening a session answered ${session.status}: ${JSON.stringify(session.body)}`);
  const key: string = session.body.sessionToken;
  await reportDocumentDisplayed(call, key, headers);
  return async () => {
    const signed = await call('/v1/signer/sign', { key, headers, body: { typedName: signer.name, consent: true } });
    if (signed.status !== 200) throw new Error(`signing answered ${signed.status}: ${JSON.stringify(signed.body)}`);
  };
}

/** A round that has not closed by then is reported as a failure, never waited for for ever. */
const roundDeadlineMs = 5 * 60_000;

/** Until the workflow has closed, by a long poll on its history's close event (what `result()` does). */
async function waitClosed(stack: Stack, workflowId: string): Promise<void> {
  const deadline = Date.now() + roundDeadlineMs;
  for (;;) {
    if (Date.now() > deadline) throw new Error(`${workflowId} did not close within ${roundDeadlineMs / 60_000} minutes`);
    const page = await stack.client.workflowService.getWorkflowExecutionHistory({
      namespace: 'default',
      execution: { workflowId },
      waitNewEvent: true,
      historyEventFilterType: HistoryEventFilterType.HISTORY_EVENT_FILTER_TYPE_CLOSE_EVENT,
      skipArchival: true,
    });
    const close = page.history?.events?.[0];
    if (close) {
      if (close.eventType !== EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED) throw new Error(`${workflowId} closed as ${EventType[close.eventType!]}`);
      return;
    }
  }
}

/** Until the workflow has no pending activity or workflow task: what it started has settled. */
async function waitIdle(stack: Stack, workflowId: string): Promise<void> {
  await waitFor(`${workflowId} to be idle`, async () => {
    const described = await stack.client.workflowService.describeWorkflowExecution({ namespace: 'default', execution: { workflowId } });
    const task = described.pendingWorkflowTask;
    const taskPending = task && task.state !== PendingWorkflowTaskState.PENDING_WORKFLOW_TASK_STATE_UNSPECIFIED;
    return (described.pendingActivities ?? []).length === 0 && !taskPending;
  }, 60_000, settings.pollMs);
}

/** Until GET /v1/signing-requests/:id answers `completed`, polled every `settings.pollMs`: what its sender sees. */
async function waitUntilReadsCompleted(stack: Stack, id: string): Promise<void> {
  const call = apiClient(() => stack.apiUrl, () => stack.apiKey);
  await waitFor(`${id} to read completed`, async () => (await call(`/v1/signing-requests/${id}`)).body.status === 'completed', 60_000, settings.pollMs);
}

async function completeSigillRound(stack: Stack): Promise<{ createMs: number }> {
  const { round, ms } = await createSigillRound(stack);
  const signs = await Promise.all(round.signers.map((signer) => openAsSigner(stack, signer)));
  await Promise.all(signs.map((sign) => sign()));
  await waitClosed(stack, round.workflowId);
  return { createMs: ms };
}

async function completeBareRound(stack: Stack, shape: BareRoundShape): Promise<void> {
  const handle = await stack.client.workflow.start(bareRoundWorkflow, { taskQueue: bareTaskQueue, workflowId: `bare-${randomUUID()}`, args: [shape] });
  await Promise.all(Array.from({ length: shape.segments.length - 1 }, (_, i) => handle.executeUpdate(bareSignUpdate, { args: [`signer-${i}`] })));
  await waitClosed(stack, handle.workflowId);
}

/** The round's activity batches around its Updates, from its history: the bare workflow's shape. */
async function shapeOf(stack: Stack, workflowId: string): Promise<BareRoundShape & { activities: number; workflowTasks: number; events: number; signals: number }> {
  const history = await stack.client.workflow.getHandle(workflowId).fetchHistory();
  const segments: number[][] = [[]];
  const batchOf = new Map<string, { segment: number; index: number }>();
  let activities = 0;
  let workflowTasks = 0;
  let signals = 0;
  for (const event of history.events ?? []) {
    if (event.eventType === EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED) signals++;
    if (event.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED) workflowTasks++;
    if (event.eventType === EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED) segments.push([]);
    if (event.eventType !== EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED) continue;
    activities++;
    // Activities scheduled by one workflow task run side by side: one batch.
    const task = String(event.activityTaskScheduledEventAttributes?.workflowTaskCompletedEventId);
    const segment = segments.length - 1;
    const known = batchOf.get(task);
    if (known) segments[known.segment]![known.index]! += 1;
    else {
      segments[segment]!.push(1);
      batchOf.set(task, { segment, index: segments[segment]!.length - 1 });
    }
  }
  return { segments, activities, workflowTasks, events: history.events?.length ?? 0, signals };
}

/** Each step after the last Update, in order: its wait (since the previous step ended) and its run, in ms. */
type StepTimes = Array<{ step: string; queuedMs: number; ranMs: number }>;

/** Where a round's time went after its last signature, from its history: each activity's wait and run. */
async function lastSignaturePath(stack: Stack, workflowId: string): Promise<StepTimes> {
  const history = await stack.client.workflow.getHandle(workflowId).fetchHistory();
  const events = history.events ?? [];
  const at = (event: proto.api.history.v1.IHistoryEvent) => Number(event.eventTime?.seconds ?? 0) * 1000 + (event.eventTime?.nanos ?? 0) / 1e6;
  const lastUpdate = events.map((event) => event.eventType).lastIndexOf(EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED);
  const byScheduledId = new Map<string, { step: string; scheduled: number; started?: number; completed?: number }>();
  const steps: StepTimes = [];
  let previousEnd = at(events[lastUpdate]!);
  for (const event of events.slice(lastUpdate + 1)) {
    const scheduled = event.activityTaskScheduledEventAttributes;
    if (scheduled) byScheduledId.set(String(event.eventId), { step: scheduled.activityType?.name ?? '?', scheduled: at(event) });
    const started = event.activityTaskStartedEventAttributes;
    if (started) byScheduledId.get(String(started.scheduledEventId))!.started = at(event);
    const completed = event.activityTaskCompletedEventAttributes;
    if (completed) {
      const step = byScheduledId.get(String(completed.scheduledEventId))!;
      // The workflow's own turn between two steps (a workflow task) counts as part of the next step's wait;
      // a step scheduled before the previous one ended (side by side) waited from its own scheduling.
      steps.push({ step: step.step, queuedMs: step.started! - Math.min(previousEnd, step.scheduled), ranMs: at(event) - step.started! });
      previousEnd = at(event);
    }
    if (event.eventType === EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED) steps.push({ step: '(workflow completes)', queuedMs: at(event) - previousEnd, ranMs: 0 });
  }
  return steps;
}

// ---------------------------------------------------------------------------------------------------------
// Phases
// ---------------------------------------------------------------------------------------------------------

const sorted = (values: number[]) => [...values].sort((a, b) => a - b);

async function measureLatency(stack: Stack) {
  const sigillMs: number[] = [];
  const createMs: number[] = [];
  const steps: StepTimes[] = [];
  const visibleMs: number[] = [];
  let shape: Awaited<ReturnType<typeof shapeOf>> | undefined;
  // One round first, unmeasured: it warms both up and gives the bare workflow its shape.
  for (let i = 0; i <= settings.latencyRounds; i++) {
    const { round, ms } = await createSigillRound(stack);
    const [first, last] = await Promise.all(round.signers.map((signer) => openAsSigner(stack, signer)));
    await first!();
    await waitIdle(stack, round.workflowId);
    const started = performance.now();
    await last!();
    const [closedAt, visibleAt] = await Promise.all([
      waitClosed(stack, round.workflowId).then(() => performance.now()),
      waitUntilReadsCompleted(stack, round.id).then(() => performance.now()),
    ]);
    if (i === 0) shape = await shapeOf(stack, round.workflowId);
    else {
      sigillMs.push(closedAt - started);
      visibleMs.push(visibleAt - started);
      createMs.push(ms);
      steps.push(await lastSignaturePath(stack, round.workflowId));
    }
    progress(`latency: Sigill round ${i}/${settings.latencyRounds}`);
  }
  const bareMs: number[] = [];
  const startMs: number[] = [];
  let bareShape: Awaited<ReturnType<typeof shapeOf>> | undefined;
  for (let i = 0; i <= settings.latencyRounds; i++) {
    const begun = performance.now();
    const handle = await stack.client.workflow.start(bareRoundWorkflow, { taskQueue: bareTaskQueue, workflowId: `bare-${randomUUID()}`, args: [shape!] });
    const startedIn = performance.now() - begun;
    const updates = shape!.segments.length - 1;
    for (let u = 0; u < updates - 1; u++) {
      await waitIdle(stack, handle.workflowId);
      await handle.executeUpdate(bareSignUpdate, { args: [`signer-${u}`] });
    }
    await waitIdle(stack, handle.workflowId);
    const started = performance.now();
    await handle.executeUpdate(bareSignUpdate, { args: ['last signer'] });
    await waitClosed(stack, handle.workflowId);
    if (i > 0) {
      bareMs.push(performance.now() - started);
      startMs.push(startedIn);
    } else bareShape = await shapeOf(stack, handle.workflowId);
    progress(`latency: bare round ${i}/${settings.latencyRounds}`);
  }
  return { sigill: sorted(sigillMs), bare: sorted(bareMs), create: sorted(createMs), start: sorted(startMs), shape: shape!, bareShape: bareShape!, steps, visible: sorted(visibleMs) };
}

/** CPU seconds used so far by each part: where a phase's work went. PostgreSQL: every backend on the machine. */
function cpuNow(stack: Stack) {
  return {
    sigill: cpuSeconds(stack.sigill.pid),
    bareWorker: cpuSeconds(stack.barePid),
    temporal: cpuSeconds(stack.temporalPid),
    postgres: pidsNamed('postgres').reduce((sum, pid) => sum + cpuSeconds(pid), 0),
    driver: process.cpuUsage().user / 1e6 + process.cpuUsage().system / 1e6,
  };
}
type CpuSplit = ReturnType<typeof cpuNow>;
const cpuBetween = (a: CpuSplit, b: CpuSplit, rounds: number) =>
  Object.fromEntries(Object.entries(b).map(([part, seconds]) => [part, ((seconds - a[part as keyof CpuSplit]) / rounds) * 1000])) as CpuSplit;

/** Completed rounds per second with `inFlight` drivers, counted in a window after the warm-up; and CPU ms per round in the window. */
async function measureThroughput(stack: Stack, inFlight: number, run: () => Promise<unknown>): Promise<{ perSecond: number; cpuMs: CpuSplit }> {
  const begin = performance.now();
  const windowStart = begin + settings.warmupSeconds * 1000;
  const windowEnd = windowStart + settings.windowSeconds * 1000;
  let inWindow = 0;
  let cpuAtStart: CpuSplit | undefined;
  let cpuAtEnd: CpuSplit | undefined;
  const cpuTimers = [
    setTimeout(() => (cpuAtStart = cpuNow(stack)), windowStart - performance.now()),
    setTimeout(() => (cpuAtEnd = cpuNow(stack)), windowEnd - performance.now()),
  ];
  const driver = async () => {
    while (performance.now() < windowEnd) {
      await run();
      const now = performance.now();
      if (now >= windowStart && now < windowEnd) inWindow++;
    }
  };
  try {
    // Drivers start spread over the first second, so rounds do not move in waves that the window cuts through.
  await Promise.all(
    Array.from({ length: inFlight }, async (_, index) => {
      await new Promise((resolve) => setTimeout(resolve, (index * 1000) / inFlight));
      await driver();
    }),
  );
  } finally {
    cpuTimers.forEach(clearTimeout);
  }
  return { perSecond: inWindow / settings.windowSeconds, cpuMs: cpuBetween(cpuAtStart!, cpuAtEnd!, Math.max(1, inWindow)) };
}

async function measureStatusReads(stack: Stack, roundIds: string[]) {
  const call = apiClient(() => stack.apiUrl, () => stack.apiKey);
  const paths = roundIds.slice(0, 20).map((id) => `/v1/signing-requests/${id}`);
  const bodies: Record<string, string> = {};
  for (const requestPath of paths) bodies[requestPath] = JSON.stringify((await call(requestPath)).body);
  const bodiesFile = path.join(stack.workDir, 'bare-bodies.json');
  fs.writeFileSync(bodiesFile, JSON.stringify(bodies));
  const port = await freePort();
  const bare = stack.track('bare koa', startTsxProcess('the bare Koa app', 'scripts/bench-bare-koa.ts', [String(port), bodiesFile]));
  try {
    await bare.waitForOutput(/listening/, 60_000);
    const headers = { authorization: `Bearer ${stack.apiKey}` };
    const targets: LoadTarget[] = [
      { name: 'sigill', url: stack.apiUrl, paths },
      { name: 'bare', url: `http://127.0.0.1:${port}`, paths },
    ];
    const samples = [emptySample(), emptySample()];
    for (const target of targets) await load(target, { seconds: 1, headers, connections: 1, rate: settings.readRate }, emptySample());
    const profiling = flags['cpu-profile'] ? await stack.inspector.startCpuProfile() : undefined;
    // Short alternating slices: a slow moment of the machine hits both alike.
    const slices = Math.max(1, Math.round(settings.readSeconds / 2));
    for (let slice = 0; slice < slices; slice++) {
      for (const i of slice % 2 === 0 ? [0, 1] : [1, 0]) {
        await load(targets[i]!, { seconds: settings.readSeconds / slices, headers, connections: 1, rate: settings.readRate }, samples[i]!);
      }
    }
    if (profiling) {
      const file = path.resolve(flags['cpu-profile']!, 'sigill-status-reads.cpuprofile');
      fs.writeFileSync(file, JSON.stringify(await profiling.stop()));
      progress(`CPU profile of Sigill during the status reads: ${file}`);
    }
    const [sigill, anchor] = samples.map(summarize);
    const failed = samples.reduce((sum, s) => sum + s.non2xx + s.errors, 0);
    if (failed) throw new Error(`${failed} status read(s) failed (non-2xx answers or connection errors)`);
    return { sigill: sigill!, bare: anchor! };
  } finally {
    await bare.stop();
  }
}

interface MemoryPoint {
  open: number;
  sigillRss: number;
  heapUsed: number;
  workerThreadsHeapUsed: number;
  temporalRss: number;
  stickyCache: number;
}

async function measureMemory(stack: Stack, open: number): Promise<MemoryPoint> {
  const figures = await stack.inspector.collectGarbageAndMeasure();
  const metrics = await scrapeMetrics(stack);
  return {
    open,
    sigillRss: figures.rss,
    heapUsed: figures.heapUsed,
    workerThreadsHeapUsed: figures.workerThreadsHeapUsed,
    temporalRss: residentBytes(stack.temporalPid) ?? NaN,
    stickyCache: metricSum(metrics, 'temporal_sticky_cache_size'),
  };
}

/**
 * Idle memory of Sigill run from source, the way `npm start` runs it (tsx transpiling at load), beside the
 * build's: a second process on its own port and task queue (so it takes no work from the first), measured
 * after start-up and a forced GC, then stopped.
 */
async function measureIdleFromSource(stack: Stack): Promise<MemoryPoint> {
  const port = await freePort();
  const inspectPort = await freePort();
  const env = { ...stack.env, PORT: String(port), PUBLIC_URL: `http://127.0.0.1:${port}`, TEMPORAL_TASK_QUEUE: `${sigillTaskQueue}-from-source` };
  const child = stack.track(
    'sigill from source',
    startChildProcess('Sigill from source', process.execPath, [`--inspect=127.0.0.1:${inspectPort}`, '--import', 'tsx', 'src/main.ts'], { env }),
  );
  try {
    await child.waitForOutput(/Sigill is running/, 180_000);
    const inspector = await openInspector(inspectPort);
    try {
      const figures = await inspector.collectGarbageAndMeasure();
      return { open: 0, sigillRss: figures.rss, heapUsed: figures.heapUsed, workerThreadsHeapUsed: figures.workerThreadsHeapUsed, temporalRss: NaN, stickyCache: 0 };
    } finally {
      inspector.close();
    }
  } finally {
    await child.stop();
  }
}

/** Creates pending rounds until `target` are open, and waits until every one has sent its invitations and sleeps. */
async function openRoundsUpTo(stack: Stack, target: number, opened: string[]): Promise<void> {
  const concurrency = 8;
  const invitationsBefore = stack.mailbox.received();
  const toCreate = target - opened.length;
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < toCreate) {
        next++;
        const { round } = await createSigillRound(stack);
        opened.push(round.id);
        if (opened.length % 100 === 0 || opened.length === target) progress(`open rounds: ${opened.length}/${target} created`);
      }
    }),
  );
  await waitFor(`${toCreate * 2} invitations`, () => stack.mailbox.received() - invitationsBefore >= toCreate * 2, 30 * 60_000, 200);
  // Every round has then recorded its invitations; wait for the worker to have no workflow task in hand either.
  await waitFor('the worker to be idle', async () => metricSum(await scrapeMetrics(stack), 'temporal_worker_task_slots_used', 'WorkflowWorker') === 0, 120_000, 200);
}

async function measureSeal(): Promise<Array<{ name: string; sealRatio: number; sealMs: number; anchorMs: number }> | undefined> {
  if (flags['no-seal']) return undefined;
  const file = path.join(os.tmpdir(), `sigill-bench-seal-${randomUUID()}.json`);
  try {
    execFileSync(process.execPath, ['--import', 'tsx', 'scripts/bench-seal.ts', '--json', file, ...(quick ? ['--quick'] : [])], {
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    return JSON.parse(fs.readFileSync(file, 'utf8'));
  } finally {
    fs.rmSync(file, { force: true });
  }
}

// ---------------------------------------------------------------------------------------------------------
// Metrics, load and output
// ---------------------------------------------------------------------------------------------------------

async function scrapeMetrics(stack: Stack): Promise<string> {
  const response = await fetch(`${stack.apiUrl}/metrics`, { headers: { authorization: `Bearer ${metricsToken}` } });
  if (response.status !== 200) throw new Error(`/metrics answered ${response.status}`);
  return response.text();
}

/** The sum of a metric over its series, optionally only series whose labels contain `labelValue`. */
function metricSum(text: string, name: string, labelValue?: string): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)/.exec(line);
    if (!match || match[1] !== name) continue;
    if (labelValue && !(match[2] ?? '').includes(`"${labelValue}"`)) continue;
    sum += Number(match[3]);
  }
  return sum;
}

/** Mean of a histogram (the Temporal SDK's are in seconds) over what was observed between two scrapes, in ms. */
function meanMsBetween(before: string, after: string, name: string): number {
  const count = metricSum(after, `${name}_count`) - metricSum(before, `${name}_count`);
  return count > 0 ? ((metricSum(after, `${name}_sum`) - metricSum(before, `${name}_sum`)) / count) * 1000 : NaN;
}

const loadSamples: number[] = [];
const loadTimer = setInterval(() => loadSamples.push(os.loadavg()[0]!), 5000);
loadTimer.unref();

const runStarted = performance.now();
function progress(message: string): void {
  process.stderr.write(`[${((performance.now() - runStarted) / 1000).toFixed(0).padStart(4)} s] ${message}\n`);
}

const ms = (value: number) => `${value < 10 ? value.toFixed(1) : value.toFixed(0)} ms`;
const mb = (bytes: number) => `${(bytes / MB).toFixed(0)} MB`;
const verdict = (met: boolean) => (met ? 'met' : 'MISSED');

function table(rows: string[][]): string[] {
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => (row[column] ?? '').length)));
  return rows.map((row) => row.map((cell, column) => (column === 0 ? cell.padEnd(widths[column]!) : cell.padStart(widths[column]!))).join('  ').trimEnd());
}

// ---------------------------------------------------------------------------------------------------------

async function bench(stack: Stack): Promise<void> {
  const loadBefore = os.loadavg().map((n) => n.toFixed(2)).join(' ');
  const idle = await measureMemory(stack, 0);
  progress(`idle: Sigill ${mb(idle.sigillRss)} RSS, heap ${mb(idle.heapUsed)} + workflow threads ${mb(idle.workerThreadsHeapUsed)}; Temporal server ${mb(idle.temporalRss)}`);

  const latency = await measureLatency(stack);
  const shape = latency.shape;
  progress(`round shape: ${shape.activities} activities in batches ${JSON.stringify(shape.segments)}, ${shape.workflowTasks} workflow tasks, ${shape.signals} signals, ${shape.events} history events`);

  const throughput: Array<{ inFlight: number; sigill: number; bare: number; wftToStartMs: number; activityToStartMs: number; sigillCpu: CpuSplit; bareCpu: CpuSplit }> = [];
  for (const inFlight of settings.inFlight) {
    const { perSecond: bare, cpuMs: bareCpu } = await measureThroughput(stack, inFlight, () => completeBareRound(stack, shape));
    progress(`throughput, ${inFlight} in flight: bare ${bare.toFixed(2)} workflows/s`);
    const before = await scrapeMetrics(stack);
    const profiling = flags['cpu-profile'] ? await stack.inspector.startCpuProfile() : undefined;
    const { perSecond: sigill, cpuMs: sigillCpu } = await measureThroughput(stack, inFlight, () => completeSigillRound(stack));
    if (profiling) {
      const file = path.resolve(flags['cpu-profile']!, `sigill-${inFlight}-in-flight.cpuprofile`);
      fs.mkdirSync(path.dirname(file), { recursive: true });
      fs.writeFileSync(file, JSON.stringify(await profiling.stop()));
      progress(`CPU profile of Sigill at ${inFlight} in flight: ${file}`);
    }
    const after = await scrapeMetrics(stack);
    const wftToStartMs = meanMsBetween(before, after, 'temporal_workflow_task_schedule_to_start_latency');
    const activityToStartMs = meanMsBetween(before, after, 'temporal_activity_schedule_to_start_latency');
    progress(`throughput, ${inFlight} in flight: Sigill ${sigill.toFixed(2)} rounds/s`);
    throughput.push({ inFlight, sigill, bare, wftToStartMs, activityToStartMs, sigillCpu, bareCpu });
  }

  const afterLoad = await measureMemory(stack, 0);
  const opened: string[] = [];
  const memory: MemoryPoint[] = [afterLoad];
  for (const target of settings.openRounds) {
    await openRoundsUpTo(stack, target, opened);
    memory.push(await measureMemory(stack, target));
    progress(`${target} open rounds: Sigill ${mb(memory.at(-1)!.sigillRss)} RSS, Temporal server ${mb(memory.at(-1)!.temporalRss)}`);
  }
  const reads = await measureStatusReads(stack, opened);
  progress(`status reads: p99 Sigill ${ms(reads.sigill.p99)}, bare Koa ${ms(reads.bare.p99)}`);
  const seal = await measureSeal();
  const fromSource = await measureIdleFromSource(stack);
  progress(`idle, from source: ${mb(fromSource.sigillRss)} RSS`);

  // ------------------------------------------------------------------ output
  const p = (values: number[], fraction: number) => percentile(values, fraction);
  const latencyP50 = p(latency.sigill, 0.5) / p(latency.bare, 0.5);
  const latencyP99 = p(latency.sigill, 0.99);
  const first = memory[0]!;
  const last = memory.at(-1)!;
  const perThousand = (key: 'sigillRss' | 'temporalRss') => ((last[key] - first[key]) / (last.open - first.open)) * 1000;
  const sigillPerThousand = perThousand('sigillRss');
  const cpus = os.cpus();
  const rows: string[][] = [
    ['figure', 'Sigill', 'anchor', 'ratio', 'goal', ''],
    [
      `round latency p50, last signature → workflow closed (${latency.sigill.length} rounds)`,
      ms(p(latency.sigill, 0.5)),
      ms(p(latency.bare, 0.5)),
      `${latencyP50.toFixed(2)}×`,
      '≤ 2×',
      verdict(latencyP50 <= 2),
    ],
    [
      'round latency p99',
      ms(latencyP99),
      ms(p(latency.bare, 0.99)),
      `${(latencyP99 / p(latency.bare, 0.99)).toFixed(2)}×`,
      '≤ 1 s',
      verdict(latencyP99 <= 1000),
    ],
    [
      `the same until GET /v1/signing-requests/:id reads completed (polled every ${settings.pollMs} ms), p50 / p99`,
      `${ms(p(latency.visible, 0.5))} / ${ms(p(latency.visible, 0.99))}`,
      `${ms(p(latency.bare, 0.5))} / ${ms(p(latency.bare, 0.99))}`,
      `${(p(latency.visible, 0.5) / p(latency.bare, 0.5)).toFixed(2)}×`,
      '',
      '',
    ],
    ['create p50 / p99 (anchor: starting the bare workflow)', `${ms(p(latency.create, 0.5))} / ${ms(p(latency.create, 0.99))}`, `${ms(p(latency.start, 0.5))} / ${ms(p(latency.start, 0.99))}`, `${(p(latency.create, 0.5) / p(latency.start, 0.5)).toFixed(2)}×`, '', ''],
    ...throughput.map((t) => [
      `throughput, ${t.inFlight} in flight (rounds/s; anchor: bare workflows/s)`,
      t.sigill.toFixed(2),
      t.bare.toFixed(2),
      (t.sigill / t.bare).toFixed(2),
      '≥ 0.8',
      verdict(t.sigill / t.bare >= 0.8),
    ]),
    [
      `status read p99 at ${settings.readRate} req/s (anchor: bare Koa, same bytes)`,
      ms(reads.sigill.p99),
      ms(reads.bare.p99),
      `${(reads.sigill.p99 / reads.bare.p99).toFixed(2)}×`,
      '≤ 3×',
      verdict(reads.sigill.p99 / reads.bare.p99 <= 3),
    ],
    ...(seal ?? []).map((s) => [
      `seal, ${s.name} (anchor: pdf-lib load + save)`,
      ms(s.sealMs),
      ms(s.anchorMs),
      `${s.sealRatio.toFixed(2)}×`,
      '≤ 1.5×',
      verdict(s.sealRatio <= 1.5),
    ]),
    [
      `open rounds: Sigill RSS per 1,000 (${first.open} → ${last.open} open)`,
      mb(sigillPerThousand),
      '',
      '',
      '≤ 100 MB',
      verdict(sigillPerThousand <= 100 * MB),
    ],
    ['idle: Sigill RSS (API + worker, production build, no database in it)', mb(idle.sigillRss), '', '', '≤ 200 MB', verdict(idle.sigillRss <= 200 * MB)],
    ['idle, run from source as `npm start` does (tsx), for comparison', mb(fromSource.sigillRss), '', '', '', ''],
  ];
  const memoryRows = [
    ['open rounds', 'Sigill RSS', 'main heap used', 'workflow threads heap used', 'Temporal server RSS', 'workflows in the sticky cache'],
    ['idle, after start-up', mb(idle.sigillRss), mb(idle.heapUsed), mb(idle.workerThreadsHeapUsed), mb(idle.temporalRss), String(idle.stickyCache)],
    ...memory.map((m, i) => [
      i === 0 ? '0, after the load phases' : String(m.open),
      mb(m.sigillRss),
      mb(m.heapUsed),
      mb(m.workerThreadsHeapUsed),
      mb(m.temporalRss),
      String(m.stickyCache),
    ]),
  ];
  // By step name (the first of that name in each round), so rounds whose side-by-side steps ended in another order still line up.
  const stepNames = latency.steps[0]?.map((step) => step.step) ?? [];
  const median = (values: number[]) => percentile(sorted(values), 0.5);
  const ofStep = (name: string, pick: (step: StepTimes[number]) => number) =>
    latency.steps.flatMap((steps) => steps.filter((step) => step.step === name).slice(0, 1).map(pick));
  const stepRows = [
    ['after the last signature (median of the rounds)', 'waiting ms', 'running ms'],
    ...[...new Set(stepNames)].map((name) => [name, median(ofStep(name, (step) => step.queuedMs)).toFixed(0), median(ofStep(name, (step) => step.ranMs)).toFixed(0)]),
  ];
  const extrapolated = last.sigillRss + (sigillPerThousand * (10_000 - last.open)) / 1000;
  const output = [
    '',
    `Sigill benchmark at ${commitDescription()}${quick ? ' — QUICK (a smoke test: the figures mean little)' : ''}`,
    `Machine: ${cpus.length} × ${cpus[0]?.model.trim() ?? 'unknown CPU'}, ${(os.totalmem() / 1024 ** 3).toFixed(1)} GiB; node ${process.version}`,
    `Load average (1 min) during the run: min ${Math.min(...loadSamples).toFixed(2)}, mean ${(loadSamples.reduce((a, b) => a + b, 0) / Math.max(1, loadSamples.length)).toFixed(2)}, max ${Math.max(...loadSamples).toFixed(2)} (before: ${loadBefore})`,
    'Topology: Temporal dev server (SQLite), PostgreSQL, real SMTP; Sigill API + worker in one process; the anchor workflow on a worker of its own.',
    `Anchor shape (from a measured round's history): ${shape.activities} no-op activities in batches ${JSON.stringify(shape.segments)} around ${shape.segments.length - 1} Updates.`,
    `History per round: Sigill ${shape.events} events (${shape.workflowTasks} workflow tasks, ${shape.signals} signals); anchor ${latency.bareShape.events} events (${latency.bareShape.workflowTasks} workflow tasks).`,
    `Throughput: ${settings.warmupSeconds} s warm-up, then completions counted over ${settings.windowSeconds} s.`,
    '',
    ...table(rows),
    '',
    ...table(memoryRows),
    '',
    ...table(stepRows),
    '',
    `Open rounds: Sigill holds ${mb(sigillPerThousand)} and the Temporal server ${mb(perThousand('temporalRss'))} more per 1,000 open rounds; ` +
      `10,000 open rounds EXTRAPOLATED from that slope: Sigill ~${mb(extrapolated)} RSS.`,
    ...throughput.map(
      (t) =>
        `Worker, ${t.inFlight} in flight: mean schedule-to-start ${ms(t.wftToStartMs)} for workflow tasks, ${ms(t.activityToStartMs)} for activities.`,
    ),
    '',
    ...table([
      ['CPU ms per completed round (throughput window)', 'Sigill process', 'Temporal server', 'PostgreSQL', 'bench driver', 'bare worker', 'total'],
      ...throughput.flatMap((t) =>
        ([['Sigill round', t.sigillCpu], ['bare workflow', t.bareCpu]] as const).map(([what, cpu]) => [
          `${what}, ${t.inFlight} in flight`,
          cpu.sigill.toFixed(0),
          cpu.temporal.toFixed(0),
          cpu.postgres.toFixed(0),
          cpu.driver.toFixed(0),
          cpu.bareWorker.toFixed(0),
          (cpu.sigill + cpu.temporal + cpu.postgres + cpu.driver + cpu.bareWorker).toFixed(0),
        ]),
      ),
    ]),
    '',
  ];
  process.stdout.write(output.join('\n'));
}

runBenchmark('bench', log, async (run) => {
  progress('starting Temporal, a PostgreSQL database, the mailbox, Sigill and the bare worker…');
  await bench(await startStack(run));
  return true;
});
