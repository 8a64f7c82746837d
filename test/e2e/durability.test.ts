/**
 * Durability (a "must show"): the production worker (`src/worker.ts`) runs as a child process and is
 * SIGKILLed twice during one 3-signer round: once after the invitations went out, once while the document
 * is being sealed. Each time a new worker process takes over. The round still completes with exactly one
 * invitation per signer, one seal and one archive, and a sealed PDF that pdfsig accepts.
 *
 * The API runs in the test process (no worker of its own) on the same task queue; PostgreSQL and Temporal
 * are the ones the jest global setup started. The workers share the API's DATA_DIR, as the processes of a
 * single-machine deployment do: the filesystem blob store (the original the API stored, the sealed copy
 * the API serves), the master key, the SMS outbox and the seal key all live there.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { temporal } from '@temporalio/proto';
import type { DataSource } from 'typeorm';
import { workflowIdForRequest } from '../../src/signing/create-signing-request';
import { describeHistory } from '../../src/signing/workflow-history';
import { apiClient, type Json } from '../support/api-client';
import { createTestOrganization } from '../support/factories';
import { harness, openTestDataSource, startTestApi, type TestApi } from '../support/harness';
import { createTestPdf } from '../support/pdf-factories';
import { pdfsig } from '../support/pdf-validators';
import { inheritedEnvironment, killProcessGroup } from '../support/process-group';
import { signingTokenIn, startSmtpCatcher } from '../support/smtp-catcher';
import { smsPinFor as smsPinForIn } from '../support/sms-outbox';
import { waitFor } from '../support/wait-for';
import { reportDocumentDisplayed } from '../support/signer-reading';
import { workflowIdForDelivery } from '../../src/webhooks/dispatcher';
import { webhookTaskQueueOf } from '../../src/config';
import { startWebhookReceiver } from '../support/webhook-receiver';

const projectRoot = path.resolve(__dirname, '..', '..');
const tsx = path.join(projectRoot, 'node_modules', '.bin', 'tsx');
const { EventType, PendingActivityState, TaskQueueType, TimeoutType } = temporal.api.enums.v1;
type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

let dataSource: DataSource;
let smtp: Awaited<ReturnType<typeof startSmtpCatcher>>;
let api: TestApi;
let org: { orgId: string; apiKey: string };
const workers: WorkerProcess[] = [];
let requestIdForCleanup: string | undefined;
const webhookOrganizations: string[] = [];

beforeAll(async () => {
  dataSource = await openTestDataSource();
  smtp = await startSmtpCatcher();
  api = await startTestApi(dataSource, { withWorker: false, env: { SMTP_URL: smtp.url }, webhookOrganizations: () => webhookOrganizations });
  org = await createTestOrganization(dataSource);
});

afterAll(async () => {
  for (const worker of workers) await worker.kill().catch((error) => console.error(`could not stop ${worker.name}:`, error));
  if (api && requestIdForCleanup) {
    // A failed run leaves no round running on the shared Temporal server.
    await api.client.workflow
      .getHandle(workflowIdForRequest(requestIdForCleanup))
      .terminate('durability test cleanup')
      .catch(() => undefined);
  }
  await api?.close();
  await smtp?.close();
  await dataSource?.destroy();
});

// ---------------------------------------------------------------------------------------------------------
// The worker as a child process
// ---------------------------------------------------------------------------------------------------------

interface WorkerProcess {
  name: string;
  child: ChildProcess;
  output(): string;
  exited: Promise<void>;
  /** SIGKILL to the whole process group (tsx and the node process it starts); resolves once all are gone. */
  kill(): Promise<{ killed: number[] }>;
}

function startWorkerProcess(name: string): WorkerProcess {
  const child = spawn(tsx, ['src/worker.ts'], {
    cwd: projectRoot,
    // Its own process group, so a SIGKILL reaches tsx and the node process running the worker at once.
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...inheritedEnvironment(),
      TEMPORAL_ADDRESS: harness.temporalAddress(),
      TEMPORAL_TASK_QUEUE: api.taskQueue,
      DATABASE_URL: harness.databaseUrl(),
      DATA_DIR: api.config.dataDir,
      SMTP_URL: smtp.url,
      PUBLIC_URL: api.config.http.publicUrl,
      MIGRATE_ON_START: 'false', // the harness migrated the shared database
      LOG_LEVEL: 'warn',
    },
  });
  let output = '';
  child.stdout!.on('data', (chunk) => (output += chunk));
  child.stderr!.on('data', (chunk) => (output += chunk));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const worker: WorkerProcess = {
    name,
    child,
    output: () => output,
    exited,
    kill: () => killProcessGroup(child.pid!, { name, exited }),
  };
  workers.push(worker);
  return worker;
}

/** Fails at once, with the worker's output, if the worker process has died by itself. */
function assertAlive(worker: WorkerProcess): void {
  if (worker.child.exitCode !== null || worker.child.signalCode !== null) {
    throw new Error(`${worker.name} exited by itself (${worker.child.exitCode ?? worker.child.signalCode}):\n${worker.output()}`);
  }
}

async function pollerIdentities(taskQueue = api.taskQueue): Promise<Set<string>> {
  const identities = new Set<string>();
  for (const taskQueueType of [TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW, TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY]) {
    const response = await api.client.workflowService.describeTaskQueue({
      namespace: 'default',
      taskQueue: { name: taskQueue },
      taskQueueType,
    });
    for (const poller of response.pollers ?? []) if (poller.identity) identities.add(`${taskQueueType}:${poller.identity}`);
  }
  return identities;
}

/** Until a worker identity not seen before polls both the workflow and the activity task queue. */
async function waitUntilPolling(worker: WorkerProcess, known: Set<string>, taskQueue = api.taskQueue): Promise<void> {
  await waitFor(
    `${worker.name} polling ${taskQueue}`,
    async () => {
      assertAlive(worker);
      const fresh = [...(await pollerIdentities(taskQueue))].filter((identity) => !known.has(identity));
      const types = new Set(fresh.map((identity) => identity.split(':')[0]));
      return types.size === 2;
    },
    90_000,
  );
}

// ---------------------------------------------------------------------------------------------------------
// API calls, as in test/integration/signing-round.test.ts
// ---------------------------------------------------------------------------------------------------------

const call = apiClient(() => api.url, () => org.apiKey);

const signerAgent = (name: string) => `Mozilla/5.0 (durability signer ${name})`;

async function signAs(email: string, pin: string, name: string): Promise<void> {
  const [invitation] = await smtp.waitForMail(email, 'Please sign');
  const token = signingTokenIn(invitation!);
  const session = await call('/v1/signer/session', { key: null, body: { token, pin }, headers: { 'user-agent': signerAgent(name) } });
  expect(session.status).toBe(200);
  const auth = { authorization: `Bearer ${session.body.sessionToken}`, 'user-agent': signerAgent(name) };
  // What the signing page reports once the first page is on screen: a signature needs it.
  await reportDocumentDisplayed(call, session.body.sessionToken, { 'user-agent': signerAgent(name) });
  const signed = await call('/v1/signer/sign', { key: null, headers: auth, body: { typedName: name, consent: true } });
  expect(signed.status).toBe(200);
}

const smsPinFor = (phone: string) => smsPinForIn(api.config.dataDir, phone);

// ---------------------------------------------------------------------------------------------------------
// Reading the workflow's history
// ---------------------------------------------------------------------------------------------------------

interface ActivityRun {
  name: string;
  scheduledEventId: number;
  startedAttempts: number[];
  lastFailureOnStart: temporal.api.failure.v1.IFailure[];
  completed: number;
  timedOut: number;
  failed: number;
}

function activityRuns(events: HistoryEvent[]): ActivityRun[] {
  const runs = new Map<number, ActivityRun>();
  const run = (scheduledEventId: unknown) => runs.get(Number(scheduledEventId ?? 0))!;
  for (const event of events) {
    switch (event.eventType) {
      case EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
        runs.set(Number(event.eventId), {
          name: event.activityTaskScheduledEventAttributes?.activityType?.name ?? '?',
          scheduledEventId: Number(event.eventId),
          startedAttempts: [],
          lastFailureOnStart: [],
          completed: 0,
          timedOut: 0,
          failed: 0,
        });
        break;
      case EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED: {
        const attributes = event.activityTaskStartedEventAttributes!;
        run(attributes.scheduledEventId).startedAttempts.push(attributes.attempt ?? 0);
        if (attributes.lastFailure) run(attributes.scheduledEventId).lastFailureOnStart.push(attributes.lastFailure);
        break;
      }
      case EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED:
        run(event.activityTaskCompletedEventAttributes?.scheduledEventId).completed += 1;
        break;
      case EventType.EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT:
        run(event.activityTaskTimedOutEventAttributes?.scheduledEventId).timedOut += 1;
        break;
      case EventType.EVENT_TYPE_ACTIVITY_TASK_FAILED:
        run(event.activityTaskFailedEventAttributes?.scheduledEventId).failed += 1;
        break;
    }
  }
  return [...runs.values()];
}

const timeline = (events: HistoryEvent[]) =>
  describeHistory(events)
    .map((step) => `${step.eventId} ${step.at} ${step.summary}${step.attempt ? ` (attempt ${step.attempt})` : ''}${step.failure ? ` — ${step.failure}` : ''}`)
    .join('\n');

// ---------------------------------------------------------------------------------------------------------

test('SIGKILL the worker after the invitations and again while sealing: the round completes once, sealed once', async () => {
  const started = Date.now();
  const progress: string[] = [];
  const mark = (what: string) => progress.push(`${((Date.now() - started) / 1000).toFixed(1)} s  ${what}`);
  let handle: ReturnType<typeof api.client.workflow.getHandle> | undefined;
  try {
    await runScenario(mark, (created) => (handle = created));
  } catch (error) {
    // What a failure needs to be understood: how far the scenario got, what Temporal recorded, what the
    // workers logged (LOG_LEVEL=warn).
    const history = await handle?.fetchHistory().then((h) => timeline(h.events ?? []), (e: Error) => `unavailable: ${e.message}`);
    const outputs = workers.map((worker) => `--- ${worker.name}:\n${worker.output().trim() || '(no output)'}`).join('\n');
    if (error instanceof Error) {
      error.message += `\n\nProgress:\n${progress.join('\n')}\n\nWorkflow history:\n${history ?? '(no workflow)'}\n\nWorker output:\n${outputs}`;
    }
    throw error;
  }
}, 240_000);

async function runScenario(
  mark: (what: string) => void,
  onWorkflow: (handle: ReturnType<typeof api.client.workflow.getHandle>) => void,
): Promise<void> {
  // 300 pages: sealing stamps every page, which (with the seal key created on first use, below) keeps the
  // sealing activity running long enough to be seen and interrupted.
  const pdf = await createTestPdf(Array.from({ length: 300 }, (_, index) => ({ text: `Clause ${index + 1}` })));
  const unique = Date.now();
  const phone = '+358401234999';
  const signers = [
    { name: 'Aino Virtanen', email: `aino-${unique}@example.test`, pinDelivery: 'sender' },
    { name: 'Bertil Berg', email: `bertil-${unique}@example.test`, pinDelivery: 'sender' },
    { name: 'Chidi Okafor', email: `chidi-${unique}@example.test`, phone, pinDelivery: 'sms' },
  ];
  const created = await call('/v1/signing-requests', {
    body: {
      title: 'Durable agreement',
      document: { filename: 'durable.pdf', contentBase64: Buffer.from(pdf).toString('base64') },
      signers,
    },
  });
  expect(created.status).toBe(201);
  const requestId: string = created.body.id;
  requestIdForCleanup = requestId;
  const handle = api.client.workflow.getHandle(workflowIdForRequest(requestId));
  onWorkflow(handle);
  const pins: Array<string | undefined> = created.body.signers.map((signer: Json) => signer.pin);
  expect(pins.map(Boolean)).toEqual([true, true, false]);
  mark('request created; no worker yet');

  // Worker #1 sends the invitations. It is killed once all three emails have arrived AND Temporal has
  // recorded all three invitation activities as completed: "after the invitations". Killing between an
  // email's SMTP acceptance and its activity's completion makes Temporal retry that activity, which
  // sends the email again (at-least-once delivery: the retry carries the same Message-ID, but an SMTP
  // server delivers both), so that moment is deliberately not the one this test picks.
  const worker1 = startWorkerProcess('worker #1');
  for (const signer of signers) {
    await waitFor(`the invitation to ${signer.email}`, () => (assertAlive(worker1), smtp.to(signer.email, 'Please sign').length > 0), 90_000);
  }
  mark('all three invitation emails arrived');
  await waitFor('three completed sendInvitation activities in the history', async () => {
    const runs = activityRuns((await handle.fetchHistory()).events ?? []);
    return runs.filter((run) => run.name === 'sendInvitation' && run.completed === 1).length === 3;
  });
  const first = await worker1.kill();
  mark(`worker #1 SIGKILLed (processes ${first.killed.join(', ')})`);
  expect(first.killed.length).toBeGreaterThanOrEqual(2); // tsx and the node process running the worker

  // Worker #2 takes over; every signer opens their link with the PIN and signs.
  const known = await pollerIdentities();
  const worker2 = startWorkerProcess('worker #2');
  await waitUntilPolling(worker2, known);
  mark('worker #2 polling');
  const smsPin = await waitFor('the SMS PIN', () => smsPinFor(phone), 60_000);
  await signAs(signers[0]!.email, pins[0]!, signers[0]!.name);
  await signAs(signers[1]!.email, pins[1]!, signers[1]!.name);
  const sealKeyFile = path.join(api.config.dataDir, 'keys', 'seal', 'seal-key.pem');
  expect(fs.existsSync(sealKeyFile)).toBe(false); // so the first seal has to create it (the window below)
  await signAs(signers[2]!.email, smsPin, signers[2]!.name);
  mark('all three signed');

  // Worker #2 is killed the moment Temporal reports the sealing activity as started on it. The window
  // this relies on: the activity's first run in this DATA_DIR generates the RSA-3072 seal key (0.3-1.2 s
  // measured), then stamps 300 pages (~0.3-0.5 s), against one describe() every ~10 ms. If sealing ever
  // finishes unseen, the test fails saying so rather than passing without a kill during sealing.
  const sealedBlob = path.join(api.config.dataDir, 'blobs', 'orgs', org.orgId, 'requests', requestId, 'sealed.pdf');
  const sealDeadline = Date.now() + 60_000;
  let sealing: temporal.api.workflow.v1.IPendingActivityInfo | undefined;
  for (;;) {
    assertAlive(worker2);
    const description = await handle.describe();
    const pending = description.raw.pendingActivities ?? [];
    sealing = pending.find(
      (activity) =>
        activity.activityType?.name === 'sealSignedDocument' && activity.state === PendingActivityState.PENDING_ACTIVITY_STATE_STARTED,
    );
    if (sealing) break;
    if (pending.some((activity) => activity.activityType?.name === 'archiveSealedDocument') || description.status.name !== 'RUNNING' || fs.existsSync(sealedBlob)) {
      throw new Error('sealing finished before it was seen running on worker #2: the window this test relies on was too short');
    }
    if (Date.now() > sealDeadline) throw new Error('timed out waiting for sealSignedDocument to start on worker #2');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  const seenAfterMs = Date.now() - (Number(String(sealing.lastStartedTime?.seconds ?? 0)) * 1000 + Math.floor((sealing.lastStartedTime?.nanos ?? 0) / 1e6));
  const second = await worker2.kill();
  mark(
    `worker #2 SIGKILLed during sealSignedDocument attempt ${sealing.attempt} (seen ${seenAfterMs} ms after it started; ` +
      `seal key present: ${fs.existsSync(sealKeyFile)}, sealed blob present: ${fs.existsSync(sealedBlob)})`,
  );
  expect(sealing.attempt).toBe(1);
  expect(second.killed.length).toBeGreaterThanOrEqual(2);
  // Temporal has not noticed yet: the first attempt is still "running" on the dead worker.
  const afterKill = await handle.describe();
  expect(afterKill.raw.pendingActivities?.find((activity) => activity.activityType?.name === 'sealSignedDocument')).toMatchObject({
    attempt: 1,
    state: PendingActivityState.PENDING_ACTIVITY_STATE_STARTED,
  });

  // Worker #3, on the same DATA_DIR, finishes the round once Temporal notices the missed heartbeat (30 s).
  const worker3 = startWorkerProcess('worker #3');
  const final = await Promise.race([
    handle.result(),
    worker3.exited.then(() => {
      throw new Error(`worker #3 exited by itself`);
    }),
  ]);
  mark('round finished');
  expect(final.status).toBe('completed');
  for (const signer of signers) await smtp.waitForMail(signer.email, 'Signed:');

  // What the sender sees.
  const status = await call(`/v1/signing-requests/${requestId}`);
  expect(status.body).toMatchObject({ status: 'completed', sha256: expect.stringMatching(/^[0-9a-f]{64}$/), sealedAt: expect.any(String) });
  expect(status.body.signers.map((signer: Json) => signer.status)).toEqual(['signed', 'signed', 'signed']);

  // Exactly one invitation and one outcome email per signer, though two workers died along the way.
  for (const signer of signers) {
    expect(smtp.to(signer.email, 'Please sign')).toHaveLength(1);
    expect(smtp.to(signer.email, 'Signed:')).toHaveLength(1);
  }

  // One seal, one archive; every signer invited once and signed once.
  const trail = await call(`/v1/signing-requests/${requestId}/audit-trail`);
  const events: Json[] = trail.body.events;
  const ofType = (type: string) => events.filter((event) => event.type === type);
  expect(ofType('sealed')).toHaveLength(1);
  expect(ofType('archived')).toHaveLength(1);
  expect(ofType('pin_sent')).toHaveLength(1);
  expect(ofType('failed')).toHaveLength(0);
  const signerIds: string[] = status.body.signers.map((signer: Json) => signer.id);
  expect(ofType('invited').map((event) => event.signerId).sort()).toEqual([...signerIds].sort());
  expect(ofType('signed').map((event) => event.signerId).sort()).toEqual([...signerIds].sort());

  // The sealed PDF: its hash is the stored one, and an independent validator accepts the signature.
  const sealed = await call(`/v1/signing-requests/${requestId}/document`);
  expect(sealed.status).toBe(200);
  expect(sealed.headers.get('content-type')).toBe('application/pdf');
  expect(createHash('sha256').update(sealed.body).digest('hex')).toBe(status.body.sha256);
  // One sealed object in the blob store, and it is stored encrypted (R11), never as a readable PDF.
  expect(fs.readFileSync(sealedBlob).subarray(0, 5).toString()).not.toBe('%PDF-');
  const file = path.join(harness.tempDir('durability'), 'sealed.pdf');
  fs.writeFileSync(file, sealed.body);
  const validation = pdfsig(file);
  expect(validation.stdout).toContain('Signature is Valid');
  expect(validation.stdout).toContain('Total document signed');

  // Temporal's history shows what happened. Each invitation ran once: worker #2 replayed them from the
  // history instead of sending them again. The sealing activity was scheduled once; its first attempt
  // died with worker #2 and was never reported (a server-side retry leaves no ActivityTaskTimedOut
  // event: the heartbeat timeout appears as the lastFailure of the attempt that finally started), and the
  // retry on worker #3 completed it. Archiving ran once, after the seal.
  const history = (await handle.fetchHistory()).events ?? [];
  const runs = activityRuns(history);
  const invitations = runs.filter((run) => run.name === 'sendInvitation');
  expect(invitations).toHaveLength(3);
  for (const invitation of invitations) expect(invitation).toMatchObject({ startedAttempts: [1], completed: 1, timedOut: 0, failed: 0 });
  const seals = runs.filter((run) => run.name === 'sealSignedDocument');
  expect(seals).toHaveLength(1);
  expect(seals[0]).toMatchObject({ completed: 1, timedOut: 0, failed: 0 });
  expect(seals[0]!.startedAttempts).toHaveLength(1);
  expect(seals[0]!.startedAttempts[0]).toBeGreaterThanOrEqual(2);
  expect(seals[0]!.lastFailureOnStart[0]?.timeoutFailureInfo?.timeoutType).toBe(TimeoutType.TIMEOUT_TYPE_HEARTBEAT);
  expect(runs.filter((run) => run.name === 'archiveSealedDocument')).toMatchObject([{ startedAttempts: [1], completed: 1 }]);
  mark('all assertions passed');
}

// ---------------------------------------------------------------------------------------------------------
// Webhook delivery (issue 12): a worker SIGKILLed mid-delivery loses nothing
// ---------------------------------------------------------------------------------------------------------

test('SIGKILL the worker while a webhook is being delivered: the same message id is sent again and accepted once', async () => {
  // Workers left by the test above would take the attempt instead of the one killed here.
  for (const worker of workers) if (worker.child.exitCode === null && worker.child.signalCode === null) await worker.kill();
  const webhookOrg = await createTestOrganization(dataSource);
  webhookOrganizations.push(webhookOrg.orgId);
  const orgCall = apiClient(() => api.url, () => webhookOrg.apiKey);
  // The first attempt is held open, never answered: the worker making it is killed meanwhile.
  const receiver = await startWebhookReceiver({ respond: (delivery) => (delivery.seen === 1 ? { status: 200, hold: true } : 200) });
  let requestId: string | undefined;
  try {
    const endpoint = await orgCall('/v1/webhook-endpoints', { body: { url: receiver.url, events: ['signing_request.created'] } });
    expect(endpoint.status).toBe(201);
    receiver.trust(endpoint.body.secret);

    // Deliveries run on the webhook task queue, which the worker process polls with a second worker.
    const webhookQueue = webhookTaskQueueOf(api.taskQueue);
    const first = startWorkerProcess('webhook worker 1');
    await waitUntilPolling(first, await pollerIdentities(webhookQueue), webhookQueue);
    const pdf = await createTestPdf([{}]);
    const created = await orgCall('/v1/signing-requests', {
      body: {
        title: 'Webhook durability',
        document: { filename: 'hook.pdf', contentBase64: Buffer.from(pdf).toString('base64') },
        signers: [{ name: 'Aino Virtanen', email: `aino-hook-${Date.now()}@example.test`, pinDelivery: 'sender' }],
      },
    });
    expect(created.status).toBe(201);
    requestId = created.body.id;
    await waitFor('the first attempt at the receiver', () => receiver.deliveries.length === 1, 60_000);
    const messageId = receiver.deliveries[0]!.messageId;
    await first.kill();

    const second = startWorkerProcess('webhook worker 2');
    await waitUntilPolling(second, await pollerIdentities(webhookQueue), webhookQueue);
    // The attempt's heartbeat stops with the worker; Temporal gives the attempt to the new one.
    await waitFor('the message accepted after the worker died', () => receiver.acceptedCount(messageId) === 1, 90_000);
    expect(receiver.deliveries.map((delivery) => delivery.messageId)).toEqual([messageId, messageId]);
    expect(receiver.deliveries.every((delivery) => delivery.verifiedBy.length === 1)).toBe(true);

    const [delivery]: Array<{ id: string; run: number }> = await dataSource.query(`SELECT id, run FROM webhook_deliveries WHERE message_id = $1`, [messageId]);
    const deliveryHandle = api.client.workflow.getHandle(workflowIdForDelivery(delivery!.id, delivery!.run));
    expect(await deliveryHandle.result()).toBe('delivered');
    expect((await deliveryHandle.describe()).taskQueue).toBe(webhookQueue);
    const log = (await orgCall(`/v1/webhook-endpoints/${endpoint.body.id}/deliveries`)).body;
    // One attempt of the workflow (its activity ran twice, keyed to the same row), delivered.
    expect(log.items).toEqual([
      expect.objectContaining({ messageId, status: 'delivered', attempts: [expect.objectContaining({ attempt: 1, httpStatus: 200, error: null })] }),
    ]);
  } finally {
    await receiver.close();
    if (requestId) await api.client.workflow.getHandle(workflowIdForRequest(requestId)).terminate('webhook durability test cleanup').catch(() => undefined);
  }
}, 240_000);
