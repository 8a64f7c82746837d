/**
 * The console's administration in real Chromium, on a phone and on a desktop (issue 10 §2): an owner signs in
 * through /login and lands on /admin/members; invites a `support` member (the invitation reaches the SMTP
 * server), changes a role, removes someone after a confirmation step; creates folders and a grant, withdraws
 * it; creates an API key whose secret is shown once (it works against /v1/signing-requests, and answers 401
 * once revoked); changes the organisation's language and time zone; and reads all of it, in words, in the
 * audit log. A viewer who opens /admin/members is told politely that administration is not for them.
 * Every page passes axe-core (no serious or critical violation) and is screenshotted to
 * test-output/screenshots/console-admin/.
 */
import { randomUUID } from 'node:crypto';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import type { DataSource } from 'typeorm';
import { createOrganization } from '../../src/accounts/create-organization';
import { apiClient } from '../support/api-client';
import { openTestDataSource, startTestApi, type TestApi } from '../support/harness';
import { deviceCodeIn, goodPassword, passwordLinkIn, tokenOf } from '../support/members';
import {
  desktopContext,
  expectNoSeriousAccessibilityViolations,
  expectPageStructure,
  launchChromium,
  openPage,
  phoneContext,
  screenshot,
  type PageProblems,
} from '../support/real-browser';
import { startSmtpCatcher } from '../support/smtp-catcher';
import { waitFor } from '../support/wait-for';

let dataSource: DataSource;
let smtp: Awaited<ReturnType<typeof startSmtpCatcher>>;
let api: TestApi;
let browser: Browser;

beforeAll(async () => {
  dataSource = await openTestDataSource();
  smtp = await startSmtpCatcher();
  // Nothing here starts a round: the API runs without a worker.
  api = await startTestApi(dataSource, { withWorker: false, env: { SMTP_URL: smtp.url } });
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await api?.close();
  await smtp?.close();
  await dataSource?.destroy();
});

const unique = (label: string) => `${label}-${randomUUID().slice(0, 8)}@example.test`;
const anonymous = () => apiClient(() => api.url, () => null);

/** Chooses the password from the link an invitation (or the organisation's creation) carried. */
async function choosePassword(link: string): Promise<void> {
  const set = await anonymous()('/v1/auth/password', { body: { token: tokenOf(link), password: goodPassword } });
  if (set.status !== 200) throw new Error(`setting the password answered ${set.status}: ${JSON.stringify(set.body)}`);
}

/** Opens `path`, is sent to /login, signs in by typing (new-device code from the mail) and lands back on `path`. */
async function signInThroughLogin(page: Page, email: string, path: string): Promise<void> {
  await page.goto(`${api.url}${path}`);
  await page.waitForURL('**/login?**');
  await page.getByLabel('Email', { exact: true }).fill(email);
  await page.getByLabel('Password', { exact: true }).fill(goodPassword);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByLabel('Code', { exact: true }).waitFor();
  // The code mail is in the organisation's language, which this test changes to Finnish along the way.
  const codeMail = await waitFor(`the sign-in code mail to ${email}`, () =>
    smtp.to(email).find((mail) => /sign-in code|inloggningskod|kirjautumiskoodi/i.test(mail.subject)),
  );
  await page.getByLabel('Code', { exact: true }).fill(deviceCodeIn(codeMail!.text));
  await page.getByRole('button', { name: 'Continue' }).click();
  await page.waitForURL(`${api.url}${path}`);
}

/**
 * Refusals the test provokes on purpose (inviting a member twice answers 409): Chromium logs every 4xx answer
 * to a fetch as a console error. Only these exact ones are let through; any other console error still fails.
 */
const provokedRefusals = [/^console error: Failed to load resource: the server responded with a status of 409 \(Conflict\) \(http:\/\/[^/]+\/v1\/members\)$/];

/** What every administration page must pass, in the state it is in now. */
async function checkPage(page: Page, problems: PageProblems, name: string, lang = 'en'): Promise<void> {
  await screenshot(page, name);
  await expectNoSeriousAccessibilityViolations(page, name);
  await expectPageStructure(page, name, { lang });
  const unexpected = problems.list.filter((line) => !provokedRefusals.some((refusal) => refusal.test(line)));
  if (unexpected.length > 0) throw new Error(`${name}: the page reported ${unexpected.length} problem(s):\n  ${unexpected.join('\n  ')}`);
}

const status = (page: Page, text: string) => page.getByRole('status').filter({ hasText: text }).waitFor();

describe.each([
  ['phone', phoneContext],
  ['desktop', desktopContext],
] as const)('on a %s', (viewport, newContext) => {
  let context: BrowserContext;
  beforeEach(async () => {
    context = await newContext(browser);
  });
  afterEach(async () => {
    await context?.close();
  });

  test('an owner administers the organisation; every change shows in the audit log; a viewer is told administration is not theirs', async () => {
    const ownerEmail = unique(`owner-${viewport}`);
    const organization = await createOrganization(dataSource, { name: `Nordic Rentals ${viewport}`, ownerEmail }, { publicUrl: api.url });
    await choosePassword(organization.ownerPasswordLink!);
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: api.url });
    const { page, problems } = await openPage(context);

    // Sign-in returns to the page that asked for it.
    await signInThroughLogin(page, ownerEmail, '/admin/members');
    await page.getByRole('heading', { level: 1, name: 'Members' }).waitFor();
    await page.getByRole('row').filter({ hasText: ownerEmail }).waitFor();
    await checkPage(page, problems, `${viewport}-members`);

    // Invite a support member: the invitation email goes out.
    const supportEmail = unique(`maria-${viewport}`);
    await page.getByLabel('Email', { exact: true }).fill(supportEmail);
    await page.getByLabel('Name (optional)').fill('Maria Virtanen');
    await page.getByLabel('Role', { exact: true }).selectOption('support');
    await page.getByRole('button', { name: 'Send invitation' }).click();
    await status(page, `Invitation sent to ${supportEmail}.`);
    const maria = `Maria Virtanen (${supportEmail})`;
    const mariaRow = page.getByRole('row').filter({ hasText: supportEmail });
    expect(await mariaRow.getByLabel(`Role of ${maria}`, { exact: true }).inputValue()).toBe('support');
    const [invitation] = await smtp.waitForMail(supportEmail, 'invited');
    const mariaLink = passwordLinkIn(invitation!.text);

    // Inviting the same person again: the error sits at the email field.
    await page.getByLabel('Email', { exact: true }).fill(supportEmail);
    await page.getByRole('button', { name: 'Send invitation' }).click();
    await page.getByText('This person is already a member.').waitFor();
    await page.locator('#invite-email[aria-invalid="true"]').waitFor();
    await checkPage(page, problems, `${viewport}-members-field-error`);
    await page.getByLabel('Email', { exact: true }).fill('');

    // Change her role to viewer.
    await mariaRow.getByLabel(`Role of ${maria}`, { exact: true }).selectOption('viewer');
    await mariaRow.getByRole('button', { name: `Change role of ${maria}` }).click();
    await status(page, `${maria} is now Viewer.`);
    await mariaRow.getByRole('button', { name: `Change role of ${maria}`, disabled: true }).waitFor();

    // Remove someone, through the confirmation step.
    const leaverEmail = unique(`leaver-${viewport}`);
    await page.getByLabel('Email', { exact: true }).fill(leaverEmail);
    await page.getByRole('button', { name: 'Send invitation' }).click();
    await status(page, `Invitation sent to ${leaverEmail}.`);
    const leaverRow = page.getByRole('row').filter({ hasText: leaverEmail });
    await leaverRow.getByRole('button', { name: `Remove ${leaverEmail}` }).click();
    const question = page.getByRole('group', { name: `Remove ${leaverEmail} from the organisation?` });
    await question.and(page.locator(':focus')).waitFor();
    await checkPage(page, problems, `${viewport}-members-remove-confirmation`);
    await question.getByRole('button', { name: 'Yes, remove' }).click();
    await status(page, `${leaverEmail} was removed.`);
    await page.getByRole('row').filter({ hasText: leaverEmail }).waitFor({ state: 'detached' });

    // Folders: one at the top, one inside it; grant the viewer, then withdraw it after a confirmation.
    await page.getByRole('navigation', { name: 'Administration' }).getByRole('link', { name: 'Folders and access' }).click();
    await page.getByRole('heading', { level: 1, name: 'Folders and access' }).waitFor();
    await page.getByRole('heading', { name: 'Access to Shared' }).waitFor();
    await checkPage(page, problems, `${viewport}-folders`);
    await page.getByLabel('Folder name').fill('Contracts');
    await page.getByRole('button', { name: 'Create folder' }).click();
    await status(page, 'Folder Contracts created.');
    await page.getByRole('heading', { name: 'Access to Contracts' }).waitFor();
    await page.getByLabel('Folder name').fill('Leases');
    await page.getByLabel('Inside').selectOption({ label: 'Contracts' });
    await page.getByRole('button', { name: 'Create folder' }).click();
    await status(page, 'Folder Leases created.');
    await page.getByRole('heading', { name: 'Access to Contracts / Leases' }).waitFor();
    // The tree: Leases is listed inside Contracts.
    await page.getByRole('listitem').filter({ has: page.getByRole('button', { name: 'Contracts', exact: true }) }).getByRole('button', { name: 'Leases' }).waitFor();

    await page.getByRole('button', { name: 'Contracts', exact: true }).click();
    await page.getByRole('heading', { name: 'Access to Contracts' }).waitFor();
    await page.getByText('Nobody has been granted this folder itself.').waitFor();
    await page.getByLabel('Member', { exact: true }).selectOption({ label: maria });
    await page.getByLabel('Access', { exact: true }).selectOption('view');
    await page.getByRole('button', { name: 'Grant', exact: true }).click();
    await status(page, 'Maria Virtanen now has View on Contracts.');
    const grant = page.getByRole('listitem').filter({ hasText: maria });
    await grant.getByText('View', { exact: true }).waitFor();
    await checkPage(page, problems, `${viewport}-folders-granted`);
    await grant.getByRole('button', { name: `Withdraw access of ${maria}` }).click();
    await checkPage(page, problems, `${viewport}-folders-withdraw-confirmation`);
    await page.getByRole('button', { name: 'Yes, withdraw' }).click();
    await status(page, `${maria} no longer has access to Contracts.`);
    await page.getByText('Nobody has been granted this folder itself.').waitFor();
    const grants = await apiClient(() => api.url, () => organization.apiKey)(`/v1/folders`);
    const contracts = (grants.body.items as Array<{ id: string; name: string }>).find((folder) => folder.name === 'Contracts')!;
    expect((await apiClient(() => api.url, () => organization.apiKey)(`/v1/folders/${contracts.id}/grants`)).body.items).toEqual([]);

    // An API key, scoped to Contracts: its secret is shown once, copies, and works.
    await page.getByRole('navigation', { name: 'Administration' }).getByRole('link', { name: 'API keys' }).click();
    await page.getByRole('heading', { level: 1, name: 'API keys' }).waitFor();
    await checkPage(page, problems, `${viewport}-api-keys`);
    await page.getByLabel('Name', { exact: true }).fill('HR system');
    await page.getByLabel('Folder', { exact: true }).selectOption({ label: 'Contracts' });
    await page.getByLabel('Send', { exact: true }).check();
    await page.getByRole('button', { name: 'Create key' }).click();
    await page.getByRole('heading', { name: 'The key HR system is ready' }).waitFor();
    await page.getByText('You will not see it again').waitFor();
    const secret = await page.getByLabel('API key', { exact: true }).inputValue();
    expect(secret.length).toBeGreaterThan(20);
    await page.getByRole('button', { name: 'Copy key' }).click();
    await status(page, 'Copied to the clipboard.');
    expect(await page.evaluate('navigator.clipboard.readText()')).toBe(secret);
    await checkPage(page, problems, `${viewport}-api-key-shown-once`);
    const withKey = apiClient(() => api.url, () => secret);
    expect((await withKey('/v1/signing-requests')).status).toBe(200);
    await page.getByRole('button', { name: 'I have stored it' }).click();
    await page.getByLabel('API key', { exact: true }).waitFor({ state: 'detached' });
    expect(await page.content()).not.toContain(secret);
    const keyRow = page.getByRole('row').filter({ hasText: 'HR system' });
    await keyRow.getByText('Contracts').waitFor();
    await keyRow.getByText('View, Send').waitFor();
    await keyRow.getByRole('button', { name: 'Revoke the key HR system' }).click();
    await checkPage(page, problems, `${viewport}-api-key-revoke-confirmation`);
    await page.getByRole('button', { name: 'Yes, revoke' }).click();
    await status(page, 'The key HR system was revoked.');
    expect((await withKey('/v1/signing-requests')).status).toBe(401);

    // The organisation's language and time zone.
    await page.getByRole('navigation', { name: 'Administration' }).getByRole('link', { name: 'Organisation settings' }).click();
    await page.getByRole('heading', { level: 1, name: 'Organisation settings' }).waitFor();
    await page.getByRole('button', { name: 'Save settings', disabled: true }).waitFor();
    await checkPage(page, problems, `${viewport}-settings`);
    await page.getByLabel('Default language').selectOption('fi');
    await page.getByLabel('Time zone').selectOption('Europe/Helsinki');
    await page.getByRole('button', { name: 'Save settings' }).click();
    await status(page, 'Settings saved.');
    const settings = await apiClient(() => api.url, () => organization.apiKey)('/v1/organization');
    expect(settings.body).toMatchObject({ defaultLocale: 'fi', timeZone: 'Europe/Helsinki' });

    // A back-office system files some folders with the organisation's first key: the log runs to a second page.
    const firstKey = apiClient(() => api.url, () => organization.apiKey);
    for (let year = 2020; year < 2028; year++) expect((await firstKey('/v1/folders', { body: { name: `Archive ${year}` } })).status).toBe(201);

    // The audit log says all of it, in words, newest first.
    await page.getByRole('navigation', { name: 'Administration' }).getByRole('link', { name: 'Audit log' }).click();
    await page.getByRole('heading', { level: 1, name: 'Audit log' }).waitFor();
    await page.getByText('The log is intact').waitFor();
    const owner = ownerEmail;
    const rows = page.getByRole('row');
    const expected = [
      'Changed the default language from English to Finnish. Changed the time zone from UTC to Europe/Helsinki.',
      'Revoked the API key HR system',
      'Created the API key HR system (Contracts)',
      `Withdrew the access of ${maria} to Contracts`,
      `Gave ${maria} View access to Contracts`,
      'Created the folder Leases',
      'Created the folder Contracts',
      `Removed a former member`,
      `Changed the role of ${maria} from Support to Viewer`,
      `Invited ${maria} as Support`,
    ];
    for (const what of expected) await rows.filter({ hasText: what }).first().waitFor();
    const texts = await page.getByRole('rowheader').allInnerTexts();
    const positions = expected.map((what) => texts.findIndex((text) => text.includes(what)));
    expect(positions).toEqual([...positions].sort((a, b) => a - b));
    await rows.filter({ hasText: 'Created the folder Contracts' }).getByText(owner).waitFor();
    await rows.filter({ hasText: 'Signed in' }).first().waitFor();
    await rows.filter({ hasText: 'Created the folder Archive 2027' }).getByText('API key first key').waitFor();
    // Times are in the organisation's new zone.
    await page.getByText('Times in Europe/Helsinki.').waitFor();
    await checkPage(page, problems, `${viewport}-audit-log`);

    // Twenty entries a page: the oldest, the owner choosing a password, is on the second.
    await page.getByText('Entries 1–20 of 22').waitFor();
    expect(await rows.filter({ hasText: 'Chose a password' }).count()).toBe(0);
    await page.getByRole('button', { name: 'Newer', disabled: true }).waitFor();
    await page.getByRole('button', { name: 'Older' }).click();
    await page.getByText('Entries 21–22 of 22').waitFor();
    await rows.filter({ hasText: 'Chose a password' }).waitFor();
    await page.getByRole('button', { name: 'Older', disabled: true }).waitFor();
    await checkPage(page, problems, `${viewport}-audit-log-older`);
    await page.getByRole('button', { name: 'Newer' }).click();
    await page.getByText('Entries 1–20 of 22').waitFor();

    // The same log read in Finnish, after the console's language switch.
    await page.getByRole('combobox', { name: /^Language/ }).selectOption('fi');
    await page.getByRole('heading', { level: 1, name: 'Tapahtumaloki' }).waitFor();
    await rows.filter({ hasText: 'Vaihtoi aikavyöhykkeen: UTC → Europe/Helsinki.' }).waitFor();
    await rows.filter({ hasText: `Kutsui henkilön ${maria} (rooli: Tuki)` }).waitFor();
    await checkPage(page, problems, `${viewport}-audit-log-fi`, 'fi');

    // The viewer chooses her password, signs in and opens the administration: a polite no.
    await choosePassword(mariaLink);
    const viewerContext = await newContext(browser);
    try {
      const viewer = await openPage(viewerContext);
      await signInThroughLogin(viewer.page, supportEmail, '/admin/members');
      await viewer.page.getByRole('heading', { level: 1, name: 'Administration is for owners and administrators' }).waitFor();
      await viewer.page.getByText('Your role in Nordic Rentals').waitFor();
      expect(await viewer.page.getByRole('link', { name: 'Administration' }).count()).toBe(0);
      expect(await viewer.page.getByRole('row').count()).toBe(0);
      await checkPage(viewer.page, viewer.problems, `${viewport}-admin-no-access`);
      // The API behind it says the same.
      const members = await viewer.page.evaluate(() => fetch('/v1/members').then((response) => response.status));
      expect(members).toBe(403);
    } finally {
      await viewerContext.close();
    }
    // The whole story with axe on fourteen pages and two argon2 sign-ins: about a minute on a busy machine.
  }, 240_000);
});
