/**
 * The server-rendered pages a person meets without the console — sign-in, forgotten password, choosing a
 * password from an emailed link, the new-device code, the account page and /verify — in real Chromium, on a
 * phone and on a desktop: each is screenshotted, has no serious or critical axe-core violation, logs no console
 * error or CSP refusal, and its main control is the first Tab stop, reached through its label with a visible
 * focus. Then a member chooses a password and signs in by typing, as a person does.
 */
import { randomUUID } from 'node:crypto';
import type { Browser, BrowserContext, Locator, Page } from 'playwright-core';
import type { DataSource } from 'typeorm';
import { createTestOrganization } from '../support/factories';
import { openTestDataSource, startTestApi, type TestApi } from '../support/harness';
import { deviceCodeIn, goodPassword, inviteMember, outboxMessage, passwordLinkIn } from '../support/members';
import { createTestPdf } from '../support/pdf-factories';
import {
  desktopContext,
  expectFirstTabStop,
  expectNoSeriousAccessibilityViolations,
  expectPageStructure,
  launchChromium,
  openPage,
  phoneContext,
  screenshot,
  type PageProblems,
} from '../support/real-browser';

let dataSource: DataSource;
let api: TestApi;
let orgKey: string;
let browser: Browser;

beforeAll(async () => {
  browser = await launchChromium();
  dataSource = await openTestDataSource();
  // No page here starts a round: the API runs without a worker.
  api = await startTestApi(dataSource, { withWorker: false });
  orgKey = (await createTestOrganization(dataSource)).apiKey;
});
afterAll(async () => {
  await browser?.close();
  await api?.close();
  await dataSource?.destroy();
});

const viewports = [
  ['phone', phoneContext],
  ['desktop', desktopContext],
] as const;

const uniqueEmail = (label: string) => `${label}-${randomUUID().slice(0, 8)}@example.test`;

/** Everything every page must pass; `firstControl` is where the first Tab must land. */
async function checkPage(page: Page, problems: PageProblems, name: string, firstControl: Locator, lang = 'en'): Promise<void> {
  await expectFirstTabStop(page, firstControl, name);
  await screenshot(page, name);
  await expectNoSeriousAccessibilityViolations(page, name);
  await expectPageStructure(page, name, { lang });
  problems.expectNone(name);
}

describe.each(viewports)('on a %s', (viewport, newContext) => {
  let context: BrowserContext;
  beforeEach(async () => {
    context = await newContext(browser);
  });
  afterEach(async () => {
    await context?.close();
  });

  test('the sign-in and forgotten-password pages', async () => {
    const { page, problems } = await openPage(context);
    await page.goto(`${api.url}/login`);
    await checkPage(page, problems, `${viewport}-login`, page.getByLabel('Email', { exact: true }));
    await page.getByLabel('Password', { exact: true }).waitFor();

    await page.getByRole('link', { name: 'Forgot your password?' }).click();
    await page.waitForURL('**/login/forgot');
    await checkPage(page, problems, `${viewport}-forgot-password`, page.getByLabel('Your email'));
    await page.getByLabel('Your email').fill(uniqueEmail('nobody'));
    await page.getByRole('button', { name: 'Email me a link' }).click();
    await page.getByRole('status').filter({ hasText: 'a link to choose a new password is on its way' }).waitFor();
    await checkPage(page, problems, `${viewport}-forgot-password-sent`, page.getByRole('link', { name: 'Back to sign in' }));
  });

  test('an invited member chooses a password from the emailed link, then signs in by typing, new-device code included', async () => {
    const email = uniqueEmail(`browser-${viewport}`);
    await inviteMember(api, orgKey, { email, role: 'member' });
    const link = passwordLinkIn(outboxMessage(api, 'mail', 'member-invitation-'));

    const { page, problems } = await openPage(context);
    await page.goto(link);
    await page.getByText(`Choose a password for ${email}`).waitFor();
    await checkPage(page, problems, `${viewport}-choose-password`, page.getByLabel('New password'));
    await page.getByLabel('New password').fill(goodPassword);
    await page.getByRole('button', { name: 'Save password' }).click();
    await page.getByRole('status').filter({ hasText: 'Your password is saved.' }).waitFor();
    await checkPage(page, problems, `${viewport}-password-saved`, page.getByRole('link', { name: 'Sign in' }));

    await page.getByRole('link', { name: 'Sign in' }).click();
    await page.waitForURL('**/login');
    await page.getByLabel('Email', { exact: true }).fill(email);
    await page.getByLabel('Password', { exact: true }).fill('not my password at all');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('alert').filter({ hasText: 'Wrong email or password' }).waitFor();
    await checkPage(page, problems, `${viewport}-login-refused`, page.getByLabel('Email', { exact: true }));

    await page.getByLabel('Email', { exact: true }).fill(email);
    await page.getByLabel('Password', { exact: true }).fill(goodPassword);
    await page.getByLabel('Password', { exact: true }).press('Enter');

    // A new browser is a new device: the code page, with the code from the email (which it says).
    await page.getByLabel('Code', { exact: true }).waitFor();
    await page.getByRole('heading', { level: 1, name: 'Check your email' }).waitFor();
    await checkPage(page, problems, `${viewport}-device-code`, page.getByLabel('Code', { exact: true }));
    const challengeId = await page.locator('input[name="challengeId"]').inputValue();
    await page.getByLabel('Code', { exact: true }).fill(deviceCodeIn(outboxMessage(api, 'mail', `device-code-${challengeId}`)));
    await page.getByRole('button', { name: 'Continue' }).click();

    // Signed in, the browser lands on the console; the account page is one address away.
    await page.waitForURL(`${api.url}/`);
    await page.goto(`${api.url}/account`);
    await page.getByText(`Signed in as ${email}`).waitFor();
    await checkPage(page, problems, `${viewport}-account`, page.getByRole('button', { name: 'Sign out' }));

    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL('**/login');
    await page.goto(`${api.url}/account`);
    await page.waitForURL('**/login');
    problems.expectNone(`${viewport}: after signing out`);
  });

  test('the verification page, before and after an upload', async () => {
    const { page, problems } = await openPage(context);
    await page.goto(`${api.url}/verify`);
    await checkPage(page, problems, `${viewport}-verify`, page.getByLabel('A sealed PDF'));

    // A PDF this service never sealed: the page answers with a verdict and the file's fingerprint.
    await page.getByLabel('A sealed PDF').setInputFiles({ name: 'contract.pdf', mimeType: 'application/pdf', buffer: Buffer.from(await createTestPdf()) });
    await page.getByRole('button', { name: 'Verify' }).click();
    await page.getByRole('status').filter({ hasText: 'Unknown: this file is not a document sealed by this service.' }).waitFor();
    await checkPage(page, problems, `${viewport}-verify-result`, page.getByLabel('A sealed PDF'));
  });

  test('what a person sees when something is wrong: a dead password link, a malformed document code', async () => {
    const { page, problems } = await openPage(context);
    const deadLink = await page.goto(`${api.url}/login/password?token=${'x'.repeat(43)}`);
    expect(deadLink?.status()).toBe(400);
    await page.getByRole('alert').waitFor();
    await checkPage(page, problems, `${viewport}-password-link-dead`, page.getByRole('link', { name: 'Ask for a new link' }));

    await page.goto(`${api.url}/verify`);
    await page.getByLabel('or the document code printed on its pages').fill('not-a-code');
    await page.getByRole('button', { name: 'Verify' }).click();
    await page.getByRole('alert').filter({ hasText: 'A document code looks like SGL-XXXX-XXXX-XXXX.' }).waitFor();
    await checkPage(page, problems, `${viewport}-verify-malformed-code`, page.getByLabel('A sealed PDF'));
  });

  test('the sign-in page in Finnish, chosen with the language switch at its foot, refusal included', async () => {
    const { page, problems } = await openPage(context);
    await page.goto(`${api.url}/login`);
    await page.getByRole('navigation', { name: 'Language' }).getByRole('link', { name: 'Suomi' }).click();
    await page.waitForURL('**/login');
    await page.getByRole('heading', { level: 1, name: 'Kirjaudu sisään' }).waitFor();
    await checkPage(page, problems, `${viewport}-login-fi`, page.getByLabel('Sähköpostiosoite', { exact: true }), 'fi');
    await page.getByRole('navigation', { name: 'Kieli' }).getByText('Suomi').waitFor();

    await page.getByLabel('Sähköpostiosoite', { exact: true }).fill(uniqueEmail('suomi'));
    await page.getByLabel('Salasana', { exact: true }).fill('not my password at all');
    await page.getByRole('button', { name: 'Kirjaudu sisään' }).click();
    await page.getByRole('alert').filter({ hasText: 'Sähköpostiosoite tai salasana on väärin.' }).waitFor();
    await checkPage(page, problems, `${viewport}-login-fi-refused`, page.getByLabel('Sähköpostiosoite', { exact: true }), 'fi');
  });
});
