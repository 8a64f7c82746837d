/**
 * The probe's deadline is a durable Temporal timer. On the time-skipping test server a day passes in
 * moments: the probe times out, and its outcome is stored in the real database by the real activity.
 */
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { DataSource } from 'typeorm';
import { ProbeResult } from '../../src/database/entities';
import { acknowledgeProbeUpdate, probeStateQuery } from '../../src/workflows/probe';
import { createTestOrganization } from '../support/factories';
import type { SigningContext } from '../../src/signing/signing-context';
import { openTestDataSource, testSigningContext } from '../support/harness';
import { startTimeSkipping } from '../support/time-skipping';

let timeSkipping: Awaited<ReturnType<typeof startTimeSkipping>>;
let env: TestWorkflowEnvironment;
let dataSource: DataSource;
let signing: SigningContext;

beforeAll(async () => {
  dataSource = await openTestDataSource();
  signing = await testSigningContext(dataSource);
  timeSkipping = await startTimeSkipping(signing);
  env = timeSkipping.env;
});

afterAll(async () => {
  await timeSkipping?.teardown();
  signing?.adapters.close();
  await dataSource?.destroy();
});

const withWorker = <T>(run: (taskQueue: string) => Promise<T>) => timeSkipping.withWorker(run);

test('a probe nobody acknowledges times out after one (skipped) day and records that', async () => {
  const org = await createTestOrganization(dataSource);
  const probeId = crypto.randomUUID();
  const startedAtMs = await env.currentTimeMs();

  const result = await withWorker((taskQueue) =>
    env.client.workflow.execute('probeWorkflow', {
      taskQueue,
      workflowId: `probe-${probeId}`,
      args: [{ probeId, organizationId: org.orgId, timeoutMs: 24 * 3600_000 }],
    }),
  );

  expect(result.status).toBe('timed_out');
  expect(Date.parse(result.expiresAt) - Date.parse(result.startedAt)).toBe(24 * 3600_000);
  expect((await env.currentTimeMs()) - startedAtMs).toBeGreaterThanOrEqual(24 * 3600_000);
  const stored = await dataSource.getRepository(ProbeResult).findOneByOrFail({ probeId });
  expect(stored.outcome).toBe('timed_out');
});

test('a probe acknowledged before its deadline does not wait for the timer', async () => {
  const org = await createTestOrganization(dataSource);
  const probeId = crypto.randomUUID();

  const result = await withWorker(async (taskQueue) => {
    const handle = await env.client.workflow.start('probeWorkflow', {
      taskQueue,
      workflowId: `probe-${probeId}`,
      args: [{ probeId, organizationId: org.orgId, timeoutMs: 7 * 24 * 3600_000 }],
    });
    await env.sleep('1 hour');
    expect((await handle.query(probeStateQuery)).status).toBe('waiting');
    await handle.executeUpdate(acknowledgeProbeUpdate);
    return handle.result();
  });

  expect(result.status).toBe('acknowledged');
  expect(Date.parse(result.acknowledgedAt!) - Date.parse(result.startedAt)).toBeGreaterThanOrEqual(3600_000);
  expect(Date.parse(result.acknowledgedAt!)).toBeLessThan(Date.parse(result.expiresAt));
});
