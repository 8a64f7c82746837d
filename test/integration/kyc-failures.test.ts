/**
 * A KYC case whose step fails for good ends visibly: the customer's address refused by the mail server (550,
 * the SMTP catcher's `nobody-` mailboxes) ends the case `failed`, on record and in the read model, with
 * its workflow completed (not failed) and the organisation's staff told; the case's link says it has ended.
 */
import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { apiClient, type ApiCall, type Json } from '../support/api-client';
import { createTestOrganization } from '../support/factories';
import { openTestDataSource, startTestApi, type TestApi } from '../support/harness';
import { startSmtpCatcher } from '../support/smtp-catcher';
import { waitFor } from '../support/wait-for';

let dataSource: DataSource;
let api: TestApi;
let smtp: Awaited<ReturnType<typeof startSmtpCatcher>>;
let call: ApiCall;
const ownerEmail = `owner-${randomUUID()}@example.test`;

beforeAll(async () => {
  dataSource = await openTestDataSource();
  smtp = await startSmtpCatcher();
  api = await startTestApi(dataSource, { env: { SMTP_URL: smtp.url } });
  const org = await createTestOrganization(dataSource, { ownerEmail });
  call = apiClient(() => api.url, () => org.apiKey);
});

afterAll(async () => {
  await api?.close();
  await smtp?.close();
  await dataSource?.destroy();
});

test("a customer's address the mail server refuses for good ends the case failed, and the staff are told", async () => {
  const created = await call('/v1/kyc-cases', { body: { customer: { type: 'person', name: 'Nobody Here', email: `nobody-${randomUUID()}@example.test` } } });
  expect(created.status).toBe(201);
  const id = created.body.id as string;
  const view = await waitFor('the case failed', async () => {
    const body = (await call(`/v1/kyc-cases/${id}`)).body as Json;
    return body.status === 'failed' ? body : undefined;
  });
  expect(view.endedAt).toEqual(expect.any(String));
  const handle = api.client.workflow.getHandle(`kyc-case-${id}`);
  expect((await handle.result()).status).toBe('failed');
  expect((await handle.describe()).status.name).toBe('COMPLETED');
  const events = (await call(`/v1/kyc-cases/${id}/audit-trail`)).body.events as Json[];
  expect(events.find((event) => event.type === 'failed')).toMatchObject({ actor: 'system', detail: { reason: 'invitation_failed' } });
  expect(events.some((event) => event.type === 'invited')).toBe(false);
  const [told] = await smtp.waitForMail(ownerEmail, 'KYC case of Nobody Here');
  expect(told!.text).toContain('failed');
  // Nothing more can be done on an ended case.
  expect((await call(`/v1/kyc-cases/${id}/cancel`, { body: { reason: 'Too late.' } })).status).toBe(409);
});
