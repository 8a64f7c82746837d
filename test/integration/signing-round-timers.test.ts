/**
 * Reminders and expiry are durable timers. On the time-skipping test server ten days pass in moments,
 * with the real activities sending real mail (SMTP) and writing the real database.
 */
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { DataSource } from 'typeorm';
import { organizationScope } from '../../src/accounts/access';
import { createSigningRequest, createSigningRequestInput, workflowIdForRequest } from '../../src/signing/create-signing-request';
import type { SigningContext } from '../../src/signing/signing-context';
import { roundStateQuery, signUpdate, type RoundState } from '../../src/workflows/signing-round';
import { createTestOrganization } from '../support/factories';
import { openTestDataSource, testConfig, testSigningContext } from '../support/harness';
import { startTimeSkipping } from '../support/time-skipping';
import { startSmtpCatcher } from '../support/smtp-catcher';
import { createTestPdf } from '../support/pdf-factories';

const day = 86_400_000;
let timeSkipping: Awaited<ReturnType<typeof startTimeSkipping>>;
let env: TestWorkflowEnvironment;
let dataSource: DataSource;
let smtp: Awaited<ReturnType<typeof startSmtpCatcher>>;
let signing: SigningContext;

beforeAll(async () => {
  dataSource = await openTestDataSource();
  smtp = await startSmtpCatcher();
  signing = await testSigningContext(dataSource, testConfig({ SMTP_URL: smtp.url }));
  timeSkipping = await startTimeSkipping(signing);
  env = timeSkipping.env;
});

afterAll(async () => {
  await timeSkipping?.teardown();
  signing?.adapters.close();
  await smtp?.close();
  await dataSource?.destroy();
});

test('reminders every 2 days (at most 3) go to the pending signer only, and the round expires on day 10', async () => {
  const org = await createTestOrganization(dataSource);
  const signed = `signed-${Date.now()}@example.test`;
  const pending = `pending-${Date.now()}@example.test`;
  const final = await timeSkipping.withWorker(async (taskQueue) => {
    const created = await createSigningRequest(signing, { client: env.client, taskQueue }, {
      scope: organizationScope(org.orgId),
      now: new Date(await env.currentTimeMs()),
      request: createSigningRequestInput.parse({
        title: 'Lease',
        document: { filename: 'lease.pdf', contentBase64: Buffer.from(await createTestPdf()).toString('base64') },
        signers: [
          { name: 'Signs Early', email: signed },
          { name: 'Never Signs', email: pending },
        ],
        reminders: { firstAfter: 'P2D', every: 'P2D', max: 3 },
        expiresIn: 'P10D',
      }),
    });
    const handle = env.client.workflow.getHandle<() => Promise<RoundState>>(workflowIdForRequest(created.id));
    await env.sleep('1 day');
    await handle.executeUpdate(signUpdate, { args: [{ signerId: created.signers[0]!.id, typedName: 'Signs Early' }] });
    expect((await handle.query(roundStateQuery)).nextReminderAt).toBeDefined();
    return { created, state: await handle.result() };
  });

  expect(final.state.status).toBe('expired');
  const startedAt = Date.parse(final.created.createdAt);
  expect(Date.parse(final.state.endedAt!) - startedAt).toBeGreaterThanOrEqual(10 * day);
  expect(Date.parse(final.state.endedAt!) - startedAt).toBeLessThan(11 * day);
  expect(final.state.remindersSent).toBe(3);
  expect(final.state.signers.map((s) => [s.status, s.remindersSent])).toEqual([
    ['signed', 0],
    ['invited', 3],
  ]);

  // What the people received: three reminders to the pending signer, none to the one who signed.
  expect(smtp.to(pending, 'Reminder')).toHaveLength(3);
  expect(smtp.to(signed, 'Reminder')).toHaveLength(0);
  await smtp.waitForMail(pending, 'Not signed:');
  await smtp.waitForMail(signed, 'Not signed:');

  const rows = await dataSource.query(`SELECT status FROM signing_requests WHERE id = $1`, [final.created.id]);
  expect(rows[0].status).toBe('expired');
  const events = await dataSource.query(`SELECT type, occurred_at FROM audit_events WHERE request_id = $1 AND type IN ('reminded', 'expired')`, [final.created.id]);
  expect(events.filter((e: { type: string }) => e.type === 'reminded')).toHaveLength(3);
  expect(events.filter((e: { type: string }) => e.type === 'expired')).toHaveLength(1);
});
