/**
 * Retention in the console, in real Chromium on a 390 px phone: an owner sets the organisation's retention
 * periods (empty fields keep the defaults the page shows), sees a record the sweep noticed for deletion with its
 * date and reason, and keeps it with a legal hold from its row. Nothing overflows the phone's width; the page
 * passes axe-core; the request's page shows the hold, lifts it and places it again; screenshots in test-output/screenshots/console-retention/.
 */
import { randomUUID } from 'node:crypto';
import type { Browser, Page } from 'playwright-core';
import type { DataSource } from 'typeorm';
import { createOrganization } from '../../src/accounts/create-organization';
import { giveNotices } from '../../src/retention/sweep';
import { workflowIdForRequest } from '../../src/signing/create-signing-request';
import { apiClient } from '../support/api-client';
import { signingRequestBody } from '../support/factories';
import { openTestDataSource, startTestApi, type TestApi } from '../support/harness';
import { deviceCodeIn, goodPassword, outboxMessage, tokenOf } from '../support/members';
import { createTestPdf } from '../support/pdf-factories';
import { expectNoSeriousAccessibilityViolations, launchChromium, openPage, phoneContext, screenshot, type PageProblems } from '../support/real-browser';
import { waitFor } from '../support/wait-for';

let dataSource: DataSource;
let api: TestApi;
let browser: Browser;

beforeAll(async () => {
  dataSource = await openTestDataSource();
  api = await startTestApi(dataSource);
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await api?.close();
  await dataSource?.destroy();
});

async function checkPage(page: Page, problems: PageProblems, name: string): Promise<void> {
  await screenshot(page, name);
  await expectNoSeriousAccessibilityViolations(page, name);
  expect(await page.evaluate<number>('document.documentElement.scrollWidth')).toBeLessThanOrEqual(390);
  problems.expectNone(name);
}

test('an owner sets retention periods, sees an upcoming deletion and keeps it with a legal hold', async () => {
  const ownerEmail = `owner-${randomUUID().slice(0, 8)}@example.test`;
  const organization = await createOrganization(dataSource, { name: `Retention Oy ${randomUUID().slice(0, 6)}`, ownerEmail }, { publicUrl: api.url });
  const anonymous = apiClient(() => api.url, () => null);
  expect((await anonymous('/v1/auth/password', { body: { token: tokenOf(organization.ownerPasswordLink!), password: goodPassword } })).status).toBe(200);
  const call = apiClient(() => api.url, () => organization.apiKey);

  const context = await phoneContext(browser);
  try {
    const { page, problems } = await openPage(context);
    await page.goto(`${api.url}/admin/retention`);
    await page.waitForURL('**/login?**');
    await page.getByLabel('Email', { exact: true }).fill(ownerEmail);
    await page.getByLabel('Password', { exact: true }).fill(goodPassword);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByLabel('Code', { exact: true }).waitFor();
    const challenge = await waitFor('the sign-in code', () => {
      try {
        return outboxMessage(api, 'mail', 'device-code-');
      } catch {
        return undefined;
      }
    });
    await page.getByLabel('Code', { exact: true }).fill(deviceCodeIn(challenge));
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.waitForURL(`${api.url}/admin/retention`);
    await page.getByRole('heading', { level: 1, name: 'Retention and deletion' }).waitFor();
    await page.getByText('Nothing is due for deletion.').waitFor();
    const unfinished = page.getByLabel('Declined, expired and cancelled requests');
    expect(await unfinished.getAttribute('placeholder')).toBe('90');
    await checkPage(page, problems, 'phone-defaults');

    // Data-subject requests have their own period (3 years by default).
    expect(await page.getByLabel('Data-subject requests, after they end').getAttribute('placeholder')).toBe('1096');

    await unfinished.fill('60');
    await page.getByLabel('Notice before deletion').fill('7');
    await page.getByLabel('Data-subject requests, after they end').fill('1461');
    await page.getByRole('button', { name: 'Save retention policy' }).click();
    await page.getByText('Retention policy saved.').waitFor();
    expect((await call('/v1/retention-policy')).body.settings).toEqual({ completedDays: null, unfinishedDays: 60, failedDays: null, kycDays: null, dsrDays: 1461, noticeDays: 7 });

    // A request cancelled 70 days ago, noticed by the sweep's first step.
    const pdf = Buffer.from(await createTestPdf()).toString('base64');
    const created = await call('/v1/signing-requests', { body: signingRequestBody(pdf, 'Old offer') });
    expect(created.status).toBe(201);
    expect((await call(`/v1/signing-requests/${created.body.id}/cancel`, { body: { reason: 'Withdrawn' } })).status).toBe(200);
    await api.client.workflow.getHandle(workflowIdForRequest(created.body.id)).result();
    await dataSource.query(`UPDATE signing_requests SET completed_at = now() - interval '70 days' WHERE id = $1`, [created.body.id]);
    expect(await giveNotices(dataSource, { batchId: `console-test-${randomUUID()}`, now: new Date(), limit: 10, organizationIds: [organization.orgId] })).toBe(1);

    await page.reload();
    const row = page.getByRole('row', { name: /Old offer/ });
    await row.waitFor();
    await expect(row.textContent()).resolves.toContain('Declined, expired and cancelled requests are kept 60 days (organisation policy)');
    await checkPage(page, problems, 'phone-upcoming');

    await row.getByRole('button', { name: 'Keep (legal hold)' }).click();
    await page.getByText('Nothing is due for deletion.').waitFor();
    expect((await call(`/v1/signing-requests/${created.body.id}/legal-hold`)).body.legalHold).toMatchObject({ placedBy: expect.stringMatching(/^user:/) });
    await checkPage(page, problems, 'phone-held');

    // The request's page says it is held and why; the hold is lifted there, and placed again.
    await page.goto(`${api.url}/requests/${created.body.id}`);
    await page.getByRole('heading', { level: 2, name: 'Legal hold' }).waitFor();
    await page.getByText(/Held since .*Kept from the console before a retention deletion/).waitFor();
    await checkPage(page, problems, 'phone-request-held');
    await page.getByRole('button', { name: 'Lift legal hold' }).click();
    await page.getByLabel('Reason for a legal hold').fill('Customer complaint 2026-4');
    expect((await call(`/v1/signing-requests/${created.body.id}/legal-hold`)).body.legalHold).toBeNull();
    await page.getByRole('button', { name: 'Place legal hold' }).click();
    await page.getByText(/Held since .*Customer complaint 2026-4/).waitFor();
    expect((await call(`/v1/signing-requests/${created.body.id}`)).body.legalHold).toMatchObject({ reason: 'Customer complaint 2026-4' });
  } finally {
    await context.close();
  }
});
