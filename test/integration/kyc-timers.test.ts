/**
 * A KYC case's reminders and deadline are durable timers: on the time-skipping test server the customer who
 * never answers gets the reminders by email (real SMTP), and the case expires on its deadline, with the
 * outcome recorded in the database and told to the customer.
 */
import type { DataSource } from 'typeorm';
import { organizationScope } from '../../src/accounts/access';
import { createKycCase, createKycCaseInput, workflowIdForKycCase } from '../../src/kyc/create-kyc-case';
import type { SigningContext } from '../../src/signing/signing-context';
import { readKycCaseRow } from '../../src/kyc/get-kyc-case';
import { submitKycAnswers } from '../../src/kyc/submit-kyc-answers';
import { kycCaseStateQuery, requestChangesUpdate, type KycCaseState } from '../../src/workflows/kyc-case';
import { roundStateQuery, signUpdate, type RoundState } from '../../src/workflows/signing-round';
import { waitFor } from '../support/wait-for';
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

test('a case sent back after its deadline tells the customer why, gives them seven more days with reminders counted from the send-back, then expires', async () => {
  const { env } = timeSkipping;
  const org = await createTestOrganization(dataSource);
  const email = `late-${Date.now()}@example.test`;
  const result = await timeSkipping.withWorker(async (taskQueue) => {
    const temporal = { client: env.client, taskQueue };
    const created = await createKycCase(signing, temporal, {
      scope: organizationScope(org.orgId),
      actor: 'api-key:test',
      now: new Date(await env.currentTimeMs()),
      request: createKycCaseInput.parse({ customer: { type: 'person', name: 'Late Customer', email }, reminders: { firstAfter: 'P1D', every: 'P1D', max: 3 }, expiresIn: 'P3D' }),
    });
    const handle = env.client.workflow.getHandle(workflowIdForKycCase(created.id));
    const row = await waitFor('the case invited', async () => {
      const found = await readKycCaseRow(dataSource, created.id);
      return found && (await dataSource.query(`SELECT 1 FROM kyc_audit_events WHERE case_id = $1 AND type = 'invited'`, [created.id])).length > 0 ? found : undefined;
    });
    await submitKycAnswers(signing, temporal, row, { answers: { relationship_purpose: 'payments', source_of_funds: ['salary'], pep: false }, actor: {}, now: new Date(await env.currentTimeMs()) });
    // The customer signs the declaration in its child round (as the signer API would, by Update).
    const requestId = await waitFor('the declaration round', async () => ((await handle.query(kycCaseStateQuery)) as KycCaseState).declarationRequestId);
    const [signer] = await dataSource.query(`SELECT id FROM signers WHERE request_id = $1`, [requestId]);
    const round = env.client.workflow.getHandle(`signing-request-${requestId}`);
    await waitFor('the signer invited', async () => ((await round.query(roundStateQuery)) as RoundState).signers[0]!.status === 'invited');
    await round.executeUpdate(signUpdate, { args: [{ signerId: signer.id, typedName: 'Late Customer' }] });
    await waitFor('in review', async () => ((await handle.query(kycCaseStateQuery)) as KycCaseState).status === 'in_review');

    await env.sleep('5 days'); // the review takes past the case's deadline: nothing expires during review
    expect(((await handle.query(kycCaseStateQuery)) as KycCaseState).status).toBe('in_review');
    await handle.executeUpdate(requestChangesUpdate, { args: [{ reviewerId: 'user:reviewer', reviewerName: 'Reviewer', reason: 'Add a source of funds.' }] });
    const sentBackAt = await env.currentTimeMs();
    // The customer is told, with the reviewer's reason and their link.
    const [told] = await smtp.waitForMail(email, 'asks you to change your answers');
    expect(told!.text).toContain('Add a source of funds.');
    expect(told!.text).toMatch(/\/k\/[0-9a-f]{64}/);
    // Reminders that fell due during the review do not all fire on return: the first comes a day on.
    await env.sleep('12 hours');
    expect(((await handle.query(kycCaseStateQuery)) as KycCaseState).remindersSent).toBe(0);
    await env.sleep('132 hours');
    expect(((await handle.query(kycCaseStateQuery)) as KycCaseState)).toMatchObject({ status: 'changes_requested', remindersSent: 3 });
    return { created, sentBackAt, state: (await handle.result()) as KycCaseState };
  });
  expect(result.state.status).toBe('expired');
  const [row] = await dataSource.query(`SELECT status, expires_at FROM kyc_cases WHERE id = $1`, [result.created.id]);
  expect(row.status).toBe('expired');
  expect(row.expires_at.getTime() - result.sentBackAt).toBeGreaterThanOrEqual(7 * day - 60_000);
  expect(Date.parse(result.state.endedAt!) - result.sentBackAt).toBeGreaterThanOrEqual(7 * day - 60_000);
});
