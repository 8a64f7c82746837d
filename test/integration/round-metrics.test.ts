/**
 * Round metrics count each round once (R17): a create replayed with its Idempotency-Key starts nothing
 * new, a round ends once by its outcome even when the activity recording it runs again (as a retry
 * would), and only a completed round feeds the completion histograms. The API and worker run in this
 * process, so the registry read here is the one they record into.
 */
import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { signingActivities } from '../../src/activities/signing-activities';
import { metrics } from '../../src/observability/metrics';
import { workflowIdForRequest } from '../../src/signing/create-signing-request';
import { apiClient } from '../support/api-client';
import { createTestOrganization } from '../support/factories';
import { openTestDataSource, startTestApi, type TestApi } from '../support/harness';
import { createTestPdf } from '../support/pdf-factories';
import { signingTokenIn, startSmtpCatcher } from '../support/smtp-catcher';

let dataSource: DataSource;
let smtp: Awaited<ReturnType<typeof startSmtpCatcher>>;
let api: TestApi;

beforeAll(async () => {
  dataSource = await openTestDataSource();
  smtp = await startSmtpCatcher();
  api = await startTestApi(dataSource, { env: { SMTP_URL: smtp.url } });
});

afterAll(async () => {
  await api?.close();
  await smtp?.close();
  await dataSource?.destroy();
});

async function counterValue(counter: { get(): Promise<{ values: Array<{ value: number; labels: Record<string, unknown> }> }> }, labels = {}) {
  const { values } = await counter.get();
  return values
    .filter((value) => Object.entries(labels).every(([key, wanted]) => value.labels[key] === wanted))
    .reduce((sum, value) => sum + value.value, 0);
}

async function histogramCount(histogram: { get(): Promise<{ values: Array<{ value: number; metricName?: string }> }> }) {
  const { values } = await histogram.get();
  return values.filter((value) => value.metricName?.endsWith('_count')).reduce((sum, value) => sum + value.value, 0);
}

test('a replayed create starts nothing; a declined round ends once, even when its outcome is recorded again', async () => {
  const org = await createTestOrganization(dataSource);
  const call = apiClient(() => api.url, () => org.apiKey);
  const before = {
    started: await counterValue(metrics.roundsStarted),
    declined: await counterValue(metrics.roundsEnded, { outcome: 'declined' }),
    emails: await counterValue(metrics.messagesSent, { channel: 'email' }),
    completions: await histogramCount(metrics.roundCompletionSeconds),
  };

  const signerEmail = `signer-${randomUUID()}@example.test`;
  const body = {
    title: 'Counted once',
    document: { filename: 'agreement.pdf', contentBase64: Buffer.from(await createTestPdf()).toString('base64') },
    signers: [{ name: 'Aino Virtanen', email: signerEmail }],
  };
  const headers = { 'idempotency-key': `metrics-${randomUUID()}` };
  const created = await call('/v1/signing-requests', { body, headers });
  expect(created.status).toBe(201);
  const replayed = await call('/v1/signing-requests', { body, headers });
  expect(replayed.body.id).toBe(created.body.id);
  expect((await counterValue(metrics.roundsStarted)) - before.started).toBe(1);

  const [invitation] = await smtp.waitForMail(signerEmail, 'Please sign');
  const session = await call('/v1/signer/session', { key: null, body: { token: signingTokenIn(invitation!), pin: created.body.signers[0].pin } });
  expect(session.status).toBe(200);
  const declined = await call('/v1/signer/decline', { key: session.body.sessionToken, body: { reason: 'Wrong amount' } });
  expect(declined.status).toBe(200);
  const result = await api.client.workflow.getHandle(workflowIdForRequest(created.body.id)).result();
  expect(result.status).toBe('declined');
  expect((await counterValue(metrics.roundsEnded, { outcome: 'declined' })) - before.declined).toBe(1);

  // The activity that recorded the outcome, run again with the round's own input as a retry would.
  const activities = signingActivities(api.signing);
  await activities.recordOutcome({ requestId: created.body.id, status: 'declined', at: result.endedAt! });
  expect((await counterValue(metrics.roundsEnded, { outcome: 'declined' })) - before.declined).toBe(1);
  expect((await histogramCount(metrics.roundCompletionSeconds)) - before.completions).toBe(0);
  // The invitation and the outcome to the signer and to the owner: each email counted as it was sent.
  expect((await counterValue(metrics.messagesSent, { channel: 'email' })) - before.emails).toBe(3);
});
