/**
 * A KYC case's reminders and deadline are durable timers: on the time-skipping test server the customer who
 * never answers gets the reminders by email (real SMTP), and the case expires on its deadline, with the
 * outcome recorded in the database and told to the customer.
 */
import type { DataSource } from 'typeorm';
import { organizationScope } from '../../src/accounts/access';
import { createKycCase, createKycCaseInput, workflowIdForKycCase } from '../../src/kyc/create-kyc-case';
import type { SigningContext } from '../../src/signing/signing-context';
import { kycCaseStateQuery, type KycCaseState } from '../../src/workflows/kyc-case';
import { createTestOrganization } from '../support/factories';
import { openTestDataSource, testConfig, testSigningContext } from '../support/harness';
import { startSmtpCatcher } from '../support/smtp-catcher';
import { startTimeSkipping } from '../support/time-skipping';

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

test('an unanswered case reminds the customer every 3 days (at most 2) and expires on day 10', async () => {
  const { env } = timeSkipping;
  const org = await createTestOrganization(dataSource);
  const email = `silent-${Date.now()}@example.test`;
  const { created, state } = await timeSkipping.withWorker(async (taskQueue) => {
    const created = await createKycCase(signing, { client: env.client, taskQueue }, {
      scope: organizationScope(org.orgId),
      actor: 'api-key:test',
      now: new Date(await env.currentTimeMs()),
      request: createKycCaseInput.parse({
        customer: { type: 'person', name: 'Silent Customer', email, locale: 'sv' },
        reminders: { firstAfter: 'P3D', every: 'P3D', max: 2 },
        expiresIn: 'P10D',
      }),
    });
    const handle = env.client.workflow.getHandle(workflowIdForKycCase(created.id));
    await env.sleep('4 days');
    expect(((await handle.query(kycCaseStateQuery)) as KycCaseState).remindersSent).toBe(1);
    return { created, state: (await handle.result()) as KycCaseState };
  });

  expect(state.status).toBe('expired');
  const lasted = Date.parse(state.endedAt!) - Date.parse(created.createdAt);
  expect(lasted).toBeGreaterThanOrEqual(10 * day);
  expect(lasted).toBeLessThan(11 * day);
  expect(state.remindersSent).toBe(2);

  // What the customer received, in their language: the invitation, two reminders, and the end.
  expect(smtp.to(email, 'ber dig svara')).toHaveLength(1);
  expect(smtp.to(email, 'Påminnelse')).toHaveLength(2);
  await smtp.waitForMail(email, 'utgången');
  const [row] = await dataSource.query(`SELECT status, ended_at, reminders_sent FROM kyc_cases WHERE id = $1`, [created.id]);
  expect(row).toMatchObject({ status: 'expired', reminders_sent: 2 });
  const events: Array<{ type: string }> = await dataSource.query(`SELECT type FROM kyc_audit_events WHERE case_id = $1 ORDER BY sequence`, [created.id]);
  expect(events.map((event) => event.type)).toEqual(['created', 'invited', 'reminded', 'reminded', 'expired', 'notified']);
});
