/**
 * A data-subject request's legal deadline runs on durable timers: on the time-skipping test server the
 * handler is reminded 7 days and 1 day before the deadline (real SMTP), and at the deadline the open request
 * is marked overdue — on the attention list (`overdue=true`) and in the metric (the webhook message is in
 * data-subject-requests.test.ts). One
 * extension within the first month moves the deadline and is told to the requester; after the first month
 * no extension is accepted.
 */
import { WorkflowUpdateFailedError } from '@temporalio/client';
import type { DataSource } from 'typeorm';
import { organizationScope } from '../../src/accounts/access';
import { createDataSubjectRequest, createDataSubjectRequestInput, workflowIdForDataSubjectRequest } from '../../src/dsr/create-data-subject-request';
import { listDataSubjectRequests } from '../../src/dsr/get-data-subject-request';
import { metricsRegistry } from '../../src/observability/metrics';
import { registerOperationalGauges } from '../../src/observability/operational-gauges';
import type { SigningContext } from '../../src/signing/signing-context';
import { dsrStateQuery, extendUpdate, type DataSubjectRequestState } from '../../src/workflows/data-subject-request';
import { createTestOrganization } from '../support/factories';
import { openTestDataSource, testConfig, testLog, testSigningContext } from '../support/harness';
import { startSmtpCatcher } from '../support/smtp-catcher';
import { startTimeSkipping } from '../support/time-skipping';
import { waitFor } from '../support/wait-for';

const day = 86_400_000;
let timeSkipping: Awaited<ReturnType<typeof startTimeSkipping>>;
let dataSource: DataSource;
let smtp: Awaited<ReturnType<typeof startSmtpCatcher>>;
let signing: SigningContext;

beforeAll(async () => {
  dataSource = await openTestDataSource();
  smtp = await startSmtpCatcher();
  signing = await testSigningContext(dataSource, testConfig({ SMTP_URL: smtp.url }));
  timeSkipping = await startTimeSkipping(signing);
});

afterAll(async () => {
  await timeSkipping?.teardown();
  signing?.adapters.close();
  await smtp?.close();
  await dataSource?.destroy();
});

async function overdueGauge(): Promise<number> {
  const text = await metricsRegistry.getSingleMetricAsString('sigill_data_subject_requests_overdue');
  return Number(/sigill_data_subject_requests_overdue\{reason="past_deadline"\} (\d+)/.exec(text)?.[1] ?? NaN);
}

test('the handler is reminded 7 days and 1 day before the deadline; at the deadline the request is overdue (list, metric)', async () => {
  const { env } = timeSkipping;
  const org = await createTestOrganization(dataSource);
  const [owner] = await dataSource.query(`SELECT u.email FROM memberships m JOIN users u ON u.id = m.user_id WHERE m.organization_id = $1`, [org.orgId]);
  const gauges = registerOperationalGauges({ dataSource, stuckRounds: testConfig().stuckRounds, log: testLog });
  try {
    const result = await timeSkipping.withWorker(async (taskQueue) => {
      const temporal = { client: env.client, taskQueue };
      const created = await createDataSubjectRequest(signing, temporal, {
        organizationId: org.orgId,
        channel: 'api',
        actor: 'api-key:test',
        now: new Date(await env.currentTimeMs()),
        request: createDataSubjectRequestInput.parse({ type: 'access', requester: { name: 'Late Answer', email: `late-${Date.now()}@example.test` } }),
      });
      const handle = env.client.workflow.getHandle(workflowIdForDataSubjectRequest(created.id));
      const dueAtMs = Date.parse(created.dueAt);
      const before = await overdueGauge();

      await env.sleep(dueAtMs - (await env.currentTimeMs()) - 7 * day + 60_000);
      await smtp.waitForMail(owner.email, 'Data-subject request due', 1);
      expect(((await handle.query(dsrStateQuery)) as DataSubjectRequestState).overdue).toBe(false);

      await env.sleep(dueAtMs - (await env.currentTimeMs()) - day + 60_000);
      await smtp.waitForMail(owner.email, 'Data-subject request due', 2);
      const scope = organizationScope(org.orgId);
      expect((await listDataSubjectRequests(signing, scope, { overdue: true, limit: 100 })).items).toEqual([]);

      // After the first month an extension is no longer possible.
      await env.sleep(dueAtMs - (await env.currentTimeMs()) + 60_000);
      const refused = await handle.executeUpdate(extendUpdate, { args: [{ actor: 'user:x', months: 1, reason: 'Too late.' }] }).catch((error: unknown) => error);
      expect(refused).toBeInstanceOf(WorkflowUpdateFailedError);
      expect((refused as WorkflowUpdateFailedError).cause?.message).toMatch(/original deadline has passed/);

      const listed = await waitFor('the request on the attention list', async () => {
        const page = await listDataSubjectRequests(signing, scope, { overdue: true, limit: 100 });
        return page.items.length > 0 ? page.items : undefined;
      });
      expect(listed.map((item) => ({ id: item.id, overdue: item.overdue }))).toEqual([{ id: created.id, overdue: true }]);
      expect(await overdueGauge()).toBe(before + 1);
      return { created, state: (await handle.query(dsrStateQuery)) as DataSubjectRequestState };
    });
    expect(result.state).toMatchObject({ overdue: true, remindersSent: 2, status: 'awaiting_identity' });
    expect(smtp.to(owner.email, 'Data-subject request due')).toHaveLength(2);
    const events: Array<{ type: string }> = await dataSource.query(`SELECT type FROM dsr_audit_events WHERE dsr_id = $1 ORDER BY sequence`, [result.created.id]);
    expect(events.map((event) => event.type)).toEqual(['created', 'code_sent', 'reminded', 'reminded', 'overdue']);
  } finally {
    gauges.unregister();
  }
});

test('an extension in the first month moves the deadline (no overdue at the original one) and the requester is told', async () => {
  const { env } = timeSkipping;
  const org = await createTestOrganization(dataSource);
  const email = `extended-${Date.now()}@example.test`;
  const result = await timeSkipping.withWorker(async (taskQueue) => {
    const created = await createDataSubjectRequest(signing, { client: env.client, taskQueue }, {
      organizationId: org.orgId,
      channel: 'api',
      actor: 'api-key:test',
      now: new Date(await env.currentTimeMs()),
      request: createDataSubjectRequestInput.parse({ type: 'erasure', requester: { name: 'Ext Ended', email } }),
    });
    const handle = env.client.workflow.getHandle(workflowIdForDataSubjectRequest(created.id));
    await env.sleep('10 days');
    const extended = (await handle.executeUpdate(extendUpdate, { args: [{ actor: 'user:handler', months: 1, reason: 'Records in several systems.' }] })) as DataSubjectRequestState;
    const due = new Date(created.dueAt);
    expect(Date.parse(extended.extendedUntil!)).toBeGreaterThanOrEqual(due.getTime() + 28 * day);
    const [told] = await smtp.waitForMail(email, 'needs more time');
    expect(told!.text).toContain('Records in several systems.');
    const second = await handle.executeUpdate(extendUpdate, { args: [{ actor: 'user:handler', months: 1, reason: 'Again.' }] }).catch((error: unknown) => error);
    expect((second as WorkflowUpdateFailedError).cause?.message).toMatch(/one extension/);
    // Past the original deadline, before the extended one: not overdue.
    await env.sleep(Date.parse(created.dueAt) - (await env.currentTimeMs()) + 2 * day);
    const state = (await handle.query(dsrStateQuery)) as DataSubjectRequestState;
    return { created, state };
  });
  expect(result.state.overdue).toBe(false);
  const [row] = await dataSource.query(`SELECT extended_until, extension_notified_at, overdue_at FROM data_subject_requests WHERE id = $1`, [result.created.id]);
  expect(row.extended_until.toISOString()).toBe(result.state.extendedUntil);
  expect(row.extension_notified_at).not.toBeNull();
  expect(row.overdue_at).toBeNull();
});
