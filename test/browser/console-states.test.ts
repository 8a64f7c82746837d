/**
 * Console states that are easy to get wrong, in real Chromium at a desk, one organisation and one signed-in
 * owner for the file: a deleted (shredded) request's page and list entry (its trail and history answer 410,
 * which must not become "Something went wrong"); a cancelled request's page, which has no sealed PDF to talk
 * about; an overdue privacy request on the Needs-attention page, and its page worded for the handler with no
 * "Complete" before the requester's identity; messages said again in the new language after a switch (the
 * retention page's "saved", the public privacy form's field errors); the export's expiry written like every
 * other console date. Each page passes axe-core and logs no error; screenshots in test-output/screenshots/console-states/.
 */
import { randomUUID } from 'node:crypto';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import type { DataSource } from 'typeorm';
import { createOrganization, type CreatedOrganization } from '../../src/accounts/create-organization';
import { formatDateTime, translator } from '../../src/i18n';
import { workflowIdForRequest } from '../../src/signing/create-signing-request';
import { apiClient, type ApiCall } from '../support/api-client';
import { signingRequestBody } from '../support/factories';
import { openTestDataSource, startTestApi, type TestApi } from '../support/harness';
import { deviceCodeIn, goodPassword, outboxMessage, tokenOf } from '../support/members';
import { createTestPdf } from '../support/pdf-factories';
import { desktopContext, expectNoSeriousAccessibilityViolations, launchChromium, openPage, screenshot, type PageProblems } from '../support/real-browser';
import { waitFor } from '../support/wait-for';

let dataSource: DataSource;
let api: TestApi;
let browser: Browser;
let context: BrowserContext;
let page: Page;
let problems: PageProblems;
let organization: CreatedOrganization;
let call: ApiCall;

beforeAll(async () => {
  dataSource = await openTestDataSource();
  api = await startTestApi(dataSource);
  browser = await launchChromium();
  const ownerEmail = `owner-${randomUUID().slice(0, 8)}@example.test`;
  organization = await createOrganization(dataSource, { name: `States Ab ${randomUUID().slice(0, 6)}`, ownerEmail }, { publicUrl: api.url });
  expect((await apiClient(() => api.url, () => null)('/v1/auth/password', { body: { token: tokenOf(organization.ownerPasswordLink!), password: goodPassword } })).status).toBe(200);
  call = apiClient(() => api.url, () => organization.apiKey);

  context = await desktopContext(browser);
  ({ page, problems } = await openPage(context));
  await page.goto(`${api.url}/stuck`);
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
  await page.waitForURL(`${api.url}/stuck`);
});

afterEach(async () => {
  // The next test starts in English whatever this one switched to.
  await context?.addCookies([{ name: 'sigill_locale', value: 'en', url: api.url }]);
});

afterAll(async () => {
  await context?.close();
  await browser?.close();
  await api?.close();
  await dataSource?.destroy();
});

async function checkPage(name: string): Promise<void> {
  await screenshot(page, name);
  await expectNoSeriousAccessibilityViolations(page, name);
  problems.expectNone(name);
}

const organizationZone = async () => ((await call('/v1/organization')).body.timeZone as string) || 'UTC';

test('a cancelled request says nothing of a sealed PDF; once deleted, its page shows the deletion and its list entry says Deleted', async () => {
  const pdf = Buffer.from(await createTestPdf()).toString('base64');
  const created = await call('/v1/signing-requests', { body: signingRequestBody(pdf, 'Withdrawn offer') });
  expect(created.status).toBe(201);
  const id = created.body.id as string;
  expect((await call(`/v1/signing-requests/${id}/cancel`, { body: { reason: 'Withdrawn' } })).status).toBe(200);
  await api.client.workflow.getHandle(workflowIdForRequest(id)).result();

  await page.goto(`${api.url}/requests/${id}`);
  await page.getByRole('heading', { level: 1, name: 'Withdrawn offer' }).waitFor();
  await page.getByRole('link', { name: 'Download original PDF' }).waitFor();
  await page.locator('.badge', { hasText: 'Cancelled' }).waitFor();
  expect(await page.locator('article.request').textContent()).not.toMatch(/sealed PDF/i);
  await checkPage('cancelled-request');

  const deleted = await call(`/v1/signing-requests/${id}`, { method: 'DELETE', body: { reason: 'Asked by the customer' } });
  expect(deleted.status).toBe(200);
  const receiptId = deleted.body.id as string;
  const zone = await organizationZone();

  await page.reload();
  await page.getByRole('heading', { level: 1, name: 'Deleted request' }).waitFor();
  await page.locator('.page-title .badge', { hasText: 'Deleted' }).waitFor();
  await page.getByText(`This request was deleted on ${formatDateTime(deleted.body.deletedAt as string, 'en', zone)}.`).waitFor();
  await page.locator('.facts div', { hasText: 'Deleted under' }).getByText('Deleted by hand').waitFor();
  await page.locator('.facts div', { hasText: 'Reason' }).getByText('Asked by the customer').waitFor();
  const receiptLink = page.getByRole('link', { name: 'Open the deletion receipt' });
  expect(await receiptLink.getAttribute('href')).toBe(`/v1/deletion-receipts/${receiptId}`);
  const receipt = await page.request.get(`${api.url}/v1/deletion-receipts/${receiptId}`);
  expect(receipt.status()).toBe(200);
  expect(await receipt.json()).toMatchObject({ id: receiptId, record: { kind: 'signing_request', id }, rule: 'manual' });
  // Nothing of what is gone is offered: no documents, no trail, no history, no actions.
  expect(await page.getByText('Something went wrong').count()).toBe(0);
  expect(await page.getByRole('link', { name: /Download/ }).count()).toBe(0);
  expect(await page.getByRole('heading', { name: 'Audit trail' }).count()).toBe(0);
  expect(await page.getByRole('button').filter({ hasText: /Remind|Cancel|hold/ }).count()).toBe(0);
  await checkPage('deleted-request');

  await page.goto(`${api.url}/requests`);
  const item = page.locator('.request-item', { has: page.locator(`a[href="/requests/${id}"]`) });
  await item.getByRole('link', { name: 'Deleted request' }).waitFor();
  await item.locator('.badge', { hasText: 'Deleted' }).waitFor();
  expect(await item.locator('.badge').textContent()).not.toContain('Signed');
  await checkPage('deleted-in-list');
});

test('an overdue privacy request is on the Needs-attention page; its page speaks to the handler and offers no Complete before identity', async () => {
  const receivedLongAgo = new Date(Date.now() - 42 * 24 * 3600_000).toISOString();
  const created = await call('/v1/data-subject-requests', {
    body: { type: 'erasure', requester: { name: 'Olli Overdue', email: `olli-${randomUUID().slice(0, 8)}@example.test` }, receivedAt: receivedLongAgo },
  });
  expect(created.status).toBe(201);
  const id = created.body.id as string;
  await waitFor('the request marked overdue by its workflow', async () => {
    const read = await call(`/v1/data-subject-requests/${id}`);
    return read.body.overdueAt ? read.body : undefined;
  });

  await page.goto(`${api.url}/stuck`);
  await page.getByRole('heading', { level: 1, name: 'Needs attention' }).waitFor();
  await page.getByRole('heading', { name: 'Overdue privacy requests' }).waitFor();
  const link = page.locator(`a[href="/privacy-requests/${id}"]`);
  await link.getByText(/Erasure · due/).waitFor();
  // Both lists answered: the page does not also say that nothing needs attention.
  await page.waitForLoadState('networkidle');
  expect(await page.getByText(/^Nothing needs attention/).count()).toBe(0);
  await checkPage('needs-attention-overdue-privacy');

  await link.click();
  await page.waitForURL(`${api.url}/privacy-requests/${id}`);
  await page.locator('.page-title .badge', { hasText: 'Waiting for the requester to confirm their identity' }).waitFor();
  expect(await page.getByText('Waiting for your code').count()).toBe(0);
  await page.getByRole('button', { name: 'Reject' }).waitFor();
  expect(await page.getByRole('button', { name: 'Complete' }).count()).toBe(0);
  await checkPage('privacy-request-awaiting-identity');
});

test('after a language switch the retention page says "saved" in the new language', async () => {
  await page.goto(`${api.url}/admin/retention`);
  await page.getByRole('heading', { level: 1, name: 'Retention and deletion' }).waitFor();
  await page.getByLabel('Notice before deletion').fill('10');
  await page.getByRole('button', { name: 'Save retention policy' }).click();
  await page.getByText('Retention policy saved.').waitFor();
  await page.getByLabel('Language').selectOption('sv');
  await page.getByText('Gallringsregeln har sparats.').waitFor();
  expect(await page.getByText('Retention policy saved.').count()).toBe(0);
  await page.getByLabel('Språk').selectOption('en');
});

test("the export's expiry is written like the console's other dates", async () => {
  await page.goto(`${api.url}/admin/settings`);
  await page.getByRole('button', { name: 'Export everything' }).click();
  await page.getByRole('link', { name: /Download the export/ }).waitFor({ timeout: 60_000 });
  const exports = (await call('/v1/organization/exports')).body.exports as Array<{ status: string; expiresAt?: string }>;
  const ready = exports.find((item) => item.status === 'completed' && item.expiresAt)!;
  await page.getByText(`Available until ${formatDateTime(ready.expiresAt!, 'en', await organizationZone())}.`).waitFor();
  await checkPage('export-expiry');
});

test("the public privacy form's field errors follow a language switch", async () => {
  const slug = (await call('/v1/organization')).body.slug as string;
  const { page: form, problems: formProblems } = await openPage(context);
  try {
    await form.goto(`${api.url}/privacy/${slug}`);
    await form.getByLabel('Your full name').fill('Aino Virtanen');
    await form.getByLabel('Your email address').fill(`aino-${randomUUID().slice(0, 8)}@example.test`);
    await form.getByRole('button', { name: 'Send request' }).click();
    await form.getByText('Choose what you want to do.').waitFor();
    await form.getByRole('button', { name: 'Svenska' }).click();
    await form.getByText('Välj vad du vill göra.').waitFor();
    expect(await form.getByText('Choose what you want to do.').count()).toBe(0);

    // A phone number the API refuses: the field's error and the banner above the form, then in Finnish.
    await form.getByRole('radio', { name: /^Tillgång/ }).check();
    await form.locator('#field-phone').fill('040 123');
    await form.getByRole('button', { name: 'Skicka begäran' }).click();
    await form.locator('#phone-error', { hasText: 'Ange numret i internationell form' }).waitFor();
    await form.getByRole('alert').filter({ hasText: 'Rätta fälten som är markerade nedan.' }).waitFor();
    await form.getByRole('button', { name: 'Suomi' }).click();
    await form.locator('#phone-error', { hasText: translator('fi')('privacy:intake.phoneInvalid') }).waitFor();
    await form.getByRole('alert').filter({ hasText: translator('fi')('privacy:intake.fixErrors') }).waitFor();
    // The refused number's 400 is the one resource failure the browser logs; nothing else went wrong.
    expect(formProblems.list.filter((problem) => !/status of 400 .*\/v1\/privacy\/[^/]+\/requests\)$/.test(problem))).toEqual([]);
  } finally {
    await form.close();
  }
});
