/**
 * Export and leaving in the console, in real Chromium on a 390 px phone: an owner exports everything from the
 * settings page and sees it finish with a download link that serves the ZIP; asks to close the organisation
 * (the name typed, a grace period chosen, a confirmation step), sees when it closes, and cancels. Nothing
 * overflows the phone's width; the page passes axe-core; screenshots in test-output/screenshots/console-export/.
 */
import { createHash, randomUUID } from 'node:crypto';
import type { Browser, Page } from 'playwright-core';
import type { DataSource } from 'typeorm';
import { createOrganization } from '../../src/accounts/create-organization';
import { apiClient } from '../support/api-client';
import { openTestDataSource, startTestApi, type TestApi } from '../support/harness';
import { deviceCodeIn, goodPassword, outboxMessage, tokenOf } from '../support/members';
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
  // Nothing wider than the phone: no sideways scrolling.
  expect(await page.evaluate<number>('document.documentElement.scrollWidth')).toBeLessThanOrEqual(390);
  problems.expectNone(name);
}

test('an owner exports everything and downloads it, then asks to close the organisation and cancels', async () => {
  const ownerEmail = `owner-${randomUUID().slice(0, 8)}@example.test`;
  const name = `Nordic Leasing ${randomUUID().slice(0, 6)}`;
  const organization = await createOrganization(dataSource, { name, ownerEmail }, { publicUrl: api.url });
  const set = await apiClient(() => api.url, () => null)('/v1/auth/password', { body: { token: tokenOf(organization.ownerPasswordLink!), password: goodPassword } });
  expect(set.status).toBe(200);

  const context = await phoneContext(browser);
  try {
    const { page, problems } = await openPage(context);
    await page.goto(`${api.url}/admin/settings`);
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
    await page.waitForURL(`${api.url}/admin/settings`);
    await page.getByRole('heading', { name: 'Export everything' }).waitFor();
    await page.getByRole('heading', { name: 'Close organisation' }).waitFor();
    await checkPage(page, problems, 'phone-settings');

    // Export: progress while it runs, then the link, which serves the ZIP whose SHA-256 the page shows.
    await page.getByRole('button', { name: 'Export everything' }).click();
    const link = page.getByRole('link', { name: /Download the export/ });
    await link.waitFor({ timeout: 60_000 });
    await checkPage(page, problems, 'phone-export-ready');
    const shown = await page.locator('.checksum code').textContent();
    const download = await page.request.get(`${api.url}${await link.getAttribute('href')}`);
    expect(download.status()).toBe(200);
    expect(createHash('sha256').update(await download.body()).digest('hex')).toBe(shown);

    // Close: the button waits for the name; a confirmation step; then the date it closes, and a cancel.
    const close = page.getByRole('button', { name: 'Close organisation' });
    expect(await close.isDisabled()).toBe(true);
    await page.getByLabel(/Type the organisation's name to confirm/).fill(name);
    await page.getByLabel('Grace period').selectOption('14');
    await close.click();
    await page.getByRole('group', { name: `Close ${name}?` }).waitFor();
    await checkPage(page, problems, 'phone-close-confirm');
    await page.getByRole('group', { name: `Close ${name}?` }).getByRole('button', { name: 'Close organisation' }).click();
    await page.getByRole('status').filter({ hasText: 'This organisation closes on' }).waitFor();
    await checkPage(page, problems, 'phone-closing');
    const closing = await apiClient(() => api.url, () => organization.apiKey)('/v1/organization/closing');
    expect(closing.body.state).toBe('closing');
    expect(new Date(closing.body.closesAt).getTime() - new Date(closing.body.requestedAt).getTime()).toBe(14 * 24 * 3600_000);

    await page.getByRole('button', { name: 'Cancel closing' }).click();
    await page.getByRole('status').filter({ hasText: 'The closing was cancelled.' }).waitFor();
    expect((await apiClient(() => api.url, () => organization.apiKey)('/v1/organization/closing')).body.state).toBe('open');
  } finally {
    await context.close();
  }
});
