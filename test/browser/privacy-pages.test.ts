/**
 * Privacy (data-subject request) pages in real Chromium (issue 14 part 4), as one story with one service and
 * one browser. A requester on a 390×844 phone finds an unknown organisation's address answered "not found",
 * sends an access request on /privacy/<slug> (a missing choice and a refused phone number said next to their
 * fields first; a link that is not one says so), reads the code
 * and link from the email, confirms, and sees the status with the legal deadline; switching to Swedish turns
 * the page Swedish. In the console a member finds the request in the list, an overdue one (received six weeks
 * ago over the API) on the start page's "Needs attention", extends the access request by two months with a
 * reason and sees the new deadline, which the requester's page then shows with the reason. The member fulfils
 * and completes it; the requester downloads the package after confirming again with a fresh code. Every page
 * passes axe-core and nothing is wider than the phone; screenshots go to test-output/screenshots/privacy-pages/.
 */
import { randomUUID } from 'node:crypto';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import type { DataSource } from 'typeorm';
import { createOrganization } from '../../src/accounts/create-organization';
import { formatDate } from '../../src/i18n';
import { apiClient } from '../support/api-client';
import { openTestDataSource, startTestApi, type TestApi } from '../support/harness';
import { deviceCodeIn, goodPassword, tokenOf } from '../support/members';
import { desktopContext, expectNoSeriousAccessibilityViolations, expectPageStructure, launchChromium, openPage, phoneContext, screenshot } from '../support/real-browser';
import { startSmtpCatcher } from '../support/smtp-catcher';

let dataSource: DataSource;
let smtp: Awaited<ReturnType<typeof startSmtpCatcher>>;
let api: TestApi;
let browser: Browser;
const contexts: BrowserContext[] = [];

beforeAll(async () => {
  dataSource = await openTestDataSource();
  smtp = await startSmtpCatcher();
  api = await startTestApi(dataSource, { env: { SMTP_URL: smtp.url } });
  browser = await launchChromium();
});

afterAll(async () => {
  for (const context of contexts) await context.close().catch(() => undefined);
  await browser?.close();
  await api?.close();
  await smtp?.close();
  await dataSource?.destroy();
});

const unique = (label: string) => `${label}-${randomUUID().slice(0, 8)}@example.test`;
const anonymous = apiClient(() => api.url, () => null);
/** The pages show dates in the reader's time zone; the browser's is pinned so the test knows which day it is. */
const timezoneId = 'Europe/Helsinki';
/** A date as the requester's pages show it: in the reader's own zone (the browser's). */
const day = (iso: string, locale: 'en' | 'sv' = 'en') => formatDate(iso, locale, timezoneId);

declare const document: { documentElement: { scrollWidth: number } };

async function expectFitsPhone(page: Page, label: string, phoneWidth = 390): Promise<void> {
  const width = await page.evaluate(() => document.documentElement.scrollWidth);
  if (width > phoneWidth) throw new Error(`${label}: the page is ${width} px wide on a ${phoneWidth} px phone (it scrolls sideways)`);
}

async function checkPhonePage(page: Page, name: string, lang = 'en'): Promise<void> {
  await screenshot(page, name);
  await expectNoSeriousAccessibilityViolations(page, name);
  await expectPageStructure(page, name, { lang });
  await expectFitsPhone(page, name);
  // The narrowest phone the pages promise to work on, too.
  await page.setViewportSize({ width: 360, height: 740 });
  await expectFitsPhone(page, `${name} at 360 px`, 360);
  await page.setViewportSize({ width: 390, height: 844 });
}

/** The 8-digit code and the personal link in a confirmation email. */
function codeAndLink(text: string): { code: string; link: string } {
  const code = /\b(\d{8})\b/.exec(text)?.[1];
  const link = /https?:\/\/\S+\/privacy\/[a-z0-9-]+\/r\/[A-Za-z0-9_.~-]+/.exec(text)?.[0];
  if (!code || !link) throw new Error(`no code or no /privacy/…/r/ link in the mail:\n${text}`);
  return { code, link };
}

async function signIn(page: Page, email: string, pathname: string): Promise<void> {
  await page.goto(`${api.url}${pathname}`);
  await page.waitForURL('**/login?**');
  await page.getByLabel('Email', { exact: true }).fill(email);
  await page.getByLabel('Password', { exact: true }).fill(goodPassword);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByLabel('Code', { exact: true }).waitFor();
  const [codeMail] = await smtp.waitForMail(email, 'sign-in code');
  await page.getByLabel('Code', { exact: true }).fill(deviceCodeIn(codeMail!.text));
  await page.getByRole('button', { name: 'Continue' }).click();
  await page.waitForURL(`${api.url}${pathname}`);
}

/** Polls the API until `check` holds for the request (the workflow acts a moment after the call that asked it). */
async function waitForRequest(ask: ReturnType<typeof apiClient>, id: string, what: string, check: (body: Record<string, unknown>) => boolean): Promise<Record<string, unknown>> {
  const until = Date.now() + 20_000;
  for (;;) {
    const answer = await ask(`/v1/data-subject-requests/${id}`);
    if (answer.status === 200 && check(answer.body)) return answer.body;
    if (Date.now() > until) throw new Error(`data-subject request ${id}: ${what} did not happen (last answer ${answer.status}: ${JSON.stringify(answer.body)})`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('Privacy requests: a requester on a phone, a member in the console', () => {
  test('intake, code, status with deadline (and in Swedish); list, attention list, extension; access package after a fresh code', async () => {
    const ownerEmail = unique('owner');
    const organization = await createOrganization(dataSource, { name: `Kesko Privacy ${randomUUID().slice(0, 4)}`, ownerEmail }, { publicUrl: api.url });
    const set = await anonymous('/v1/auth/password', { body: { token: tokenOf(organization.ownerPasswordLink!), password: goodPassword } });
    expect(set.status).toBe(200);
    const asOrganization = apiClient(() => api.url, () => organization.apiKey);
    const slug = (await asOrganization('/v1/organization')).body.slug as string;
    expect(slug).toMatch(/^kesko-privacy/);

    // An overdue one: received six weeks ago by a back-office system.
    const receivedLongAgo = new Date(Date.now() - 42 * 24 * 3600_000).toISOString();
    const overdueCreated = await asOrganization('/v1/data-subject-requests', {
      body: { type: 'erasure', requester: { name: 'Olli Overdue', email: unique('olli') }, receivedAt: receivedLongAgo },
    });
    expect(overdueCreated.status).toBe(201);
    const overdueId = overdueCreated.body.id as string;

    // The requester, on a phone. An address no organisation has is a plain "not found".
    const phone = await phoneContext(browser, { timezoneId });
    contexts.push(phone);
    const { page, problems } = await openPage(phone);
    const missing = await page.goto(`${api.url}/privacy/no-such-organisation-${randomUUID().slice(0, 6)}`);
    expect(missing?.status()).toBe(404);
    await page.getByRole('heading', { level: 1, name: 'This page does not exist' }).waitFor();

    await page.goto(`${api.url}/privacy/${slug}`);
    await page.getByRole('heading', { level: 1, name: /Your personal data at Kesko Privacy/ }).waitFor();
    await page.getByText('Get a copy of the personal data we hold about you and the documents you signed.').waitFor();
    await checkPhonePage(page, 'intake');

    // Nothing chosen: said next to the choice, and the focus goes there.
    const requesterEmail = unique('aino');
    await page.getByLabel('Your full name').fill('Aino Virtanen');
    await page.getByLabel('Your email address').fill(requesterEmail);
    await page.getByRole('button', { name: 'Send request' }).click();
    await page.getByText('Choose what you want to do.').waitFor();
    expect(await page.evaluate(() => (globalThis as unknown as { document: { activeElement: { getAttribute(name: string): string | null } } }).document.activeElement.getAttribute('value'))).toBe('access');
    await checkPhonePage(page, 'intake-error');

    // A phone the API refuses: said next to the phone field, in the reader's words.
    await page.getByRole('radio', { name: /^Access/ }).check();
    await page.getByLabel('Mobile phone (optional)').fill('040 123');
    await page.getByRole('button', { name: 'Send request' }).click();
    await page.locator('#phone-error', { hasText: 'Enter the number in international form' }).waitFor();
    expect(await page.getByLabel('Mobile phone (optional)').getAttribute('aria-invalid')).toBe('true');
    await page.getByLabel('Mobile phone (optional)').fill('');
    await page.getByRole('button', { name: 'Send request' }).click();
    await page.getByRole('heading', { level: 1, name: 'Check your email for a code' }).waitFor();
    await page.getByText(requesterEmail).waitFor();
    await checkPhonePage(page, 'check-email');

    const listed = await asOrganization('/v1/data-subject-requests?limit=10');
    const access = (listed.body.items as Array<{ id: string; type: string; dueAt: string }>).find((item) => item.type === 'access')!;
    expect(access).toBeDefined();

    // The code and the link from the email; a wrong code says how many tries are left.
    const [codeMail] = await smtp.waitForMail(requesterEmail, '');
    const { code, link } = codeAndLink(codeMail!.text);
    // A link that is not one: the code page, and on a code, "this link does not work".
    await page.goto(`${api.url}/privacy/${slug}/r/not-a-link-of-ours`);
    await page.getByLabel('Code').fill('12345678');
    await page.getByRole('button', { name: 'Confirm', exact: true }).click();
    await page.getByRole('heading', { level: 1, name: 'This link does not work' }).waitFor();

    await page.goto(link);
    await page.getByRole('heading', { level: 1, name: 'Confirm it is you' }).waitFor();
    await checkPhonePage(page, 'code');
    await page.getByLabel('Code').fill(code === '00000000' ? '11111111' : '00000000');
    await page.getByRole('button', { name: 'Confirm', exact: true }).click();
    await page.getByText('That code is not correct. 4 attempts left.').waitFor();
    await page.getByLabel('Code').fill(code);
    await page.getByRole('button', { name: 'Confirm', exact: true }).click();
    await page.getByRole('heading', { level: 1, name: 'Your access request' }).waitFor();
    const deadlineFact = page.locator('.privacy-facts div', { hasText: 'Legal deadline' });
    await deadlineFact.getByText(day(access.dueAt)).waitFor();
    await page.locator('.privacy-facts dd', { hasText: 'Being handled' }).waitFor();
    await page.getByRole('heading', { name: 'What happens next' }).waitFor();
    await checkPhonePage(page, 'status');

    // The same page in Swedish.
    await page.getByRole('button', { name: 'Svenska' }).click();
    await page.getByRole('heading', { level: 1, name: 'Din begäran: tillgång' }).waitFor();
    await page.locator('.privacy-facts div', { hasText: 'Lagstadgad tidsfrist' }).getByText(day(access.dueAt, 'sv')).waitFor();
    await checkPhonePage(page, 'status-sv', 'sv');
    await page.getByRole('button', { name: 'English' }).click();

    // The member, at a desk: the list, then the start page's attention list with the overdue request.
    await waitForRequest(asOrganization, overdueId, 'marked overdue', (body) => body.overdue === true);
    const desk = await desktopContext(browser, { timezoneId });
    contexts.push(desk);
    const { page: console_, problems: consoleProblems } = await openPage(desk);
    await signIn(console_, ownerEmail, '/privacy-requests');
    const accessItem = console_.locator(`[data-dsr="${access.id}"]`);
    await accessItem.getByText('Access · Aino Virtanen').waitFor();
    await accessItem.locator('.badge', { hasText: 'Being handled' }).waitFor();
    await console_.locator(`[data-dsr="${overdueId}"]`).locator('.badge', { hasText: 'Overdue' }).waitFor();
    await console_.setViewportSize({ width: 390, height: 844 });
    await expectFitsPhone(console_, 'console privacy request list');
    await console_.setViewportSize({ width: 1280, height: 800 });
    await screenshot(console_, 'console-list');
    await expectNoSeriousAccessibilityViolations(console_, 'privacy request list');

    await console_.getByRole('link', { name: 'Requests', exact: true }).click();
    const attention = console_.locator('section.attention');
    await attention.getByRole('heading', { name: 'Needs attention' }).waitFor();
    await attention.getByRole('list', { name: 'Overdue privacy requests' }).getByRole('link', { name: /Erasure · due .* · Olli Overdue/ }).waitFor();
    await screenshot(console_, 'console-attention');
    await expectNoSeriousAccessibilityViolations(console_, 'start page with the attention list');

    // The access request: extended by two months with a reason.
    await console_.goto(`${api.url}/privacy-requests/${access.id}`);
    await console_.getByRole('heading', { level: 1, name: 'Access request' }).waitFor();
    await console_.getByText('aino', { exact: false }).first().waitFor();
    await console_.getByLabel('Extend by').selectOption('2');
    await console_.getByLabel('Reason', { exact: true }).fill('The records span several archived systems.');
    await console_.getByRole('button', { name: 'Extend', exact: true }).click();
    const extended = await waitForRequest(asOrganization, access.id, 'extended', (body) => typeof body.extendedUntil === 'string');
    // The console shows dates in the organisation's zone, not the browser's: the two differ by a day for part of
    // every day (here UTC against Helsinki from 22:00 UTC), so the expectation takes the organisation's.
    const organizationZone = ((await asOrganization('/v1/organization')).body.timeZone as string) || 'UTC';
    await console_.locator('[data-fact="extended-until"]').getByText(formatDate(extended.extendedUntil as string, 'en', organizationZone)).waitFor();
    expect(await console_.getByRole('button', { name: 'Extend', exact: true }).count()).toBe(0);
    await screenshot(console_, 'console-extended');
    await expectNoSeriousAccessibilityViolations(console_, 'privacy request extended');
    // The console's request page on a phone-sized window: nothing scrolls sideways.
    await console_.setViewportSize({ width: 390, height: 844 });
    await expectFitsPhone(console_, 'console request page');
    await console_.setViewportSize({ width: 1280, height: 800 });

    // The requester's page shows the new deadline and why.
    await page.reload();
    await page.locator('.privacy-facts div', { hasText: 'Extended until' }).getByText(day(extended.extendedUntil as string)).waitFor();
    await page.getByText('The records span several archived systems.').waitFor();

    // Fulfilled and completed; the requester downloads the package after confirming again.
    await console_.getByRole('button', { name: 'Fulfil', exact: true }).click();
    await waitForRequest(asOrganization, access.id, 'fulfilled', (body) => typeof body.fulfilledAt === 'string');
    await console_.getByLabel('Answer (optional)').fill('Your data is attached as a ZIP package.');
    await console_.getByRole('button', { name: 'Complete', exact: true }).click();
    await waitForRequest(asOrganization, access.id, 'completed', (body) => body.status === 'completed');
    await console_.locator('.badge', { hasText: 'Completed' }).waitFor();

    await page.reload();
    await page.getByRole('heading', { name: 'Your data' }).waitFor();
    await page.getByText('Your data is attached as a ZIP package.').waitFor();
    await page.getByRole('button', { name: 'Download your data' }).click();
    await page.getByRole('button', { name: 'Confirm and download' }).waitFor();
    const mails = await smtp.waitForMail(requesterEmail, codeMail!.subject, 2);
    const fresh = codeAndLink(mails[mails.length - 1]!.text).code;
    await page.getByLabel('Code').fill(fresh);
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Confirm and download' }).click()]);
    expect(download.suggestedFilename()).toMatch(/\.zip$/);
    await page.getByText('Your download has started.').waitFor();
    await checkPhonePage(page, 'downloaded');

    // A rectification that cannot be applied (nothing of the person is open): the console says why, not "failed".
    const rectifierEmail = unique('rectify');
    const rectification = await asOrganization('/v1/data-subject-requests', { body: { type: 'rectification', requester: { name: 'Rauno Rectify', email: rectifierEmail } } });
    const [rectifyMail] = await smtp.waitForMail(rectifierEmail, '');
    const rectifyCode = codeAndLink(rectifyMail!.text);
    const token = rectifyCode.link.split('/r/')[1]!;
    expect((await asOrganization('/v1/privacy/requests/confirm', { key: null, body: { token, code: rectifyCode.code } })).status).toBe(200);
    await console_.goto(`${api.url}/privacy-requests/${rectification.body.id}`);
    await console_.getByLabel('Corrected name').fill('Rauno Right');
    await console_.getByRole('button', { name: 'Fulfil', exact: true }).click();
    await console_.locator('[data-testid="dsr-fulfilment-refusal"]', { hasText: 'the person has no open signing request or KYC case to correct' }).waitFor();

    // The refused phone number (400), the link that is not one (404) and the wrong code (401) are the only refused calls.
    expect(problems.list.filter((line) => !/status of 400 .*\/requests\)$|status of 40[14] .*\/confirm\)$/.test(line))).toEqual([]);
    consoleProblems.expectNone('the console');
  }, 120_000);
});

test('an organisation whose work stopped (closing) has no privacy page: not found, no form whose every submission fails', async () => {
  const organization = await createOrganization(dataSource, { name: `Closing Privacy ${randomUUID().slice(0, 4)}`, ownerEmail: unique('owner') }, { publicUrl: api.url });
  const slug = (await apiClient(() => api.url, () => organization.apiKey)('/v1/organization')).body.slug as string;
  expect((await fetch(`${api.url}/privacy/${slug}`)).status).toBe(200);
  // What closing does after its grace period (src/organization-export/): the organisation's work stops.
  await dataSource.query(`UPDATE organizations SET work_stopped_at = now() WHERE slug = $1`, [slug]);
  for (const path of [`/privacy/${slug}`, `/privacy/${slug}/r/${'0'.repeat(64)}`]) {
    const answer = await fetch(`${api.url}${path}`);
    expect(answer.status).toBe(404);
    expect(await answer.text()).not.toContain('id="bootstrap"');
  }
  expect((await anonymous(`/v1/privacy/${slug}`)).status).toBe(404);
});
