/**
 * Durability of a KYC case (a "must show"): the production worker (`src/worker.ts`) runs as a child process
 * and is SIGKILLed twice during one case: once while the customer has the declaration open (the case
 * waiting on its child signing round), once while the case waits for review. Each time a new worker process
 * takes over. The case still ends approved with one invitation, one declaration sealed once, the answers
 * intact, an unbroken audit trail and its evidence package.
 *
 * The API runs in the test process (no worker of its own) on the same task queue and DATA_DIR.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import type { DataSource } from 'typeorm';
import { workflowIdForKycCase } from '../../src/kyc/create-kyc-case';
import { apiClient, type Json } from '../support/api-client';
import { createTestOrganization } from '../support/factories';
import { harness, openTestDataSource, startTestApi, type TestApi } from '../support/harness';
import { inheritedEnvironment, killProcessGroup } from '../support/process-group';
import { reportDocumentDisplayed } from '../support/signer-reading';
import { startSmtpCatcher } from '../support/smtp-catcher';
import { waitFor } from '../support/wait-for';

const projectRoot = path.resolve(__dirname, '..', '..');
const tsx = path.join(projectRoot, 'node_modules', '.bin', 'tsx');

let dataSource: DataSource;
let smtp: Awaited<ReturnType<typeof startSmtpCatcher>>;
let api: TestApi;
let org: { orgId: string; apiKey: string };
const workers: Array<{ name: string; child: ChildProcess; output(): string; kill(): Promise<{ killed: number[] }> }> = [];
let caseIdForCleanup: string | undefined;

beforeAll(async () => {
  dataSource = await openTestDataSource();
  smtp = await startSmtpCatcher();
  api = await startTestApi(dataSource, { withWorker: false, env: { SMTP_URL: smtp.url } });
  org = await createTestOrganization(dataSource);
});

afterAll(async () => {
  for (const worker of workers) await worker.kill().catch(() => undefined);
  if (api && caseIdForCleanup) await api.client.workflow.getHandle(workflowIdForKycCase(caseIdForCleanup)).terminate('test cleanup').catch(() => undefined);
  await api?.close();
  await smtp?.close();
  await dataSource?.destroy();
});

function startWorkerProcess(name: string) {
  const child = spawn(tsx, ['src/worker.ts'], {
    cwd: projectRoot,
    detached: true, // its own process group: a SIGKILL reaches tsx and the node process at once
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...inheritedEnvironment(),
      TEMPORAL_ADDRESS: harness.temporalAddress(),
      TEMPORAL_TASK_QUEUE: api.taskQueue,
      DATABASE_URL: harness.databaseUrl(),
      DATA_DIR: api.config.dataDir,
      SMTP_URL: smtp.url,
      PUBLIC_URL: api.config.http.publicUrl,
      MIGRATE_ON_START: 'false',
      LOG_LEVEL: 'warn',
    },
  });
  let output = '';
  child.stdout!.on('data', (chunk) => (output += chunk));
  child.stderr!.on('data', (chunk) => (output += chunk));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const worker = { name, child, output: () => output, kill: () => killProcessGroup(child.pid!, { name, exited }) };
  workers.push(worker);
  return worker;
}

const call = apiClient(() => api.url, () => org.apiKey);

test('SIGKILL the worker while the declaration is open and again while in review: the case ends approved, nothing lost or doubled', async () => {
  const email = `durable-${randomUUID()}@example.test`;
  const created = await call('/v1/kyc-cases', { body: { customer: { type: 'person', name: 'Dora Durable', email } } });
  expect(created.status).toBe(201);
  const caseId: string = created.body.id;
  caseIdForCleanup = caseId;

  const worker1 = startWorkerProcess('worker #1');
  const [invitation] = await smtp.waitForMail(email, 'asks you to answer', 1);
  const token = /\/k\/([0-9a-f]{64})/.exec(invitation!.text)![1]!;
  const session = await call('/v1/kyc/customer/session', { key: null, body: { token, pin: created.body.customer.pin } });
  const auth = { authorization: `Bearer ${session.body.sessionToken}` };
  const answers = { relationship_purpose: 'business', source_of_funds: ['business_income'], pep: false };
  expect((await call('/v1/kyc/customer/submit', { key: null, headers: auth, body: { answers } })).body).toEqual({ status: 'signing' });
  const handed = await waitFor(
    'the declaration handed over',
    async () => {
      const response = await call('/v1/kyc/customer/declaration-session', { key: null, headers: auth, body: {} });
      return response.status === 200 ? response.body : undefined;
    },
    60_000,
  );
  expect((await worker1.kill()).killed.length).toBeGreaterThanOrEqual(2);

  // Worker #2 takes over while the customer reads and signs.
  startWorkerProcess('worker #2');
  await reportDocumentDisplayed(call, handed.sessionToken);
  expect((await call('/v1/signer/sign', { key: null, headers: { authorization: `Bearer ${handed.sessionToken}` }, body: { typedName: 'Dora Durable', consent: true } })).status).toBe(200);
  await waitFor('the case in review', async () => (await call(`/v1/kyc-cases/${caseId}`)).body.status === 'in_review', 90_000);
  await workers[1]!.kill();

  // Worker #3 carries the review to the end.
  startWorkerProcess('worker #3');
  const approved = await call(`/v1/kyc-cases/${caseId}/approve`, { body: { note: 'All in order.' } });
  expect(approved).toMatchObject({ status: 200, body: { status: 'approved' } });
  const final = (await api.client.workflow.getHandle(workflowIdForKycCase(caseId)).result()) as Json;
  expect(final).toMatchObject({ status: 'approved', submissions: 1 });

  const view = (await call(`/v1/kyc-cases/${caseId}`)).body;
  expect(view).toMatchObject({ status: 'approved', answers, declaration: { status: 'completed' }, evidencePackage: { sha256: expect.any(String) } });
  expect(smtp.to(email, 'asks you to answer')).toHaveLength(1);
  await smtp.waitForMail(email, 'approved');
  expect(smtp.to(email, 'approved')).toHaveLength(1);
  const declarations = await dataSource.query(`SELECT request_id FROM kyc_declarations WHERE case_id = $1`, [caseId]);
  expect(declarations).toHaveLength(1);
  const trail = (await call(`/v1/kyc-cases/${caseId}/audit-trail`)).body;
  expect(trail.chainValid).toBe(true);
  const count = (type: string) => trail.events.filter((event: Json) => event.type === type).length;
  for (const type of ['created', 'invited', 'submitted', 'declaration_prepared', 'declaration_signed', 'approved', 'evidence_archived', 'notified']) expect([type, count(type)]).toEqual([type, 1]);
  const requestTrail = (await call(`/v1/signing-requests/${declarations[0].request_id}/audit-trail`)).body.events;
  expect(requestTrail.filter((event: Json) => event.type === 'sealed')).toHaveLength(1);
}, 240_000);
