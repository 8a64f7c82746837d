/**
 * The KYC customer's page with eID (issue 13, part 2), in real Chromium against a real OpenID Connect
 * provider playing a BankID broker (test/support/eid-broker.ts). On a 360 px phone the customer of an eID
 * case is asked to identify, not for a PIN; someone else's eID is refused in words and the customer can try
 * again; their own eID opens the questionnaire, with the broker's answer taken out of the address. In the
 * console the new-case form offers eID (a broker is configured), and the case page shows the identification
 * as evidence: the name and the masked identity number. Screenshots in test-output/screenshots/kyc-eid-page/.
 */
import { randomInt, randomUUID } from 'node:crypto';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import type { DataSource } from 'typeorm';
import { createOrganization } from '../../src/accounts/create-organization';
import { apiClient } from '../support/api-client';
import { freePort, startLocalEidBroker, type LocalEidBroker } from '../support/eid-broker';
import { openTestDataSource, startTestApi, type TestApi } from '../support/harness';
import { deviceCodeIn, goodPassword, tokenOf } from '../support/members';
import { desktopContext, expectNoSeriousAccessibilityViolations, expectPageStructure, launchChromium, openPage, phoneContext, screenshot, type PageProblems } from '../support/real-browser';
import { startSmtpCatcher } from '../support/smtp-catcher';

/** Two people with Swedish BankID (fictitious numbers, unique to the run). */
const serial = String(randomInt(1000, 9999));
const anna = { sub: `anna-${randomUUID().slice(0, 8)}`, name: 'Anna Andersson', birthdate: '1980-01-01', nationalId: `19800101${serial}` };
const bertil = { sub: `bertil-${randomUUID().slice(0, 8)}`, name: 'Bertil Berg', birthdate: '1975-05-05', nationalId: `19750505${serial}` };

let dataSource: DataSource;
let smtp: Awaited<ReturnType<typeof startSmtpCatcher>>;
let broker: LocalEidBroker;
let api: TestApi;
let browser: Browser;
const contexts: BrowserContext[] = [];

beforeAll(async () => {
  dataSource = await openTestDataSource();
  smtp = await startSmtpCatcher();
  // The API's port first: the provider must know the redirect URI it will be sent back to.
  const port = await freePort();
  broker = await startLocalEidBroker({ port, people: [anna, bertil] });
  api = await startTestApi(dataSource, { port, env: { ...broker.env, SMTP_URL: smtp.url } });
  browser = await launchChromium();
});

afterAll(async () => {
  for (const context of contexts) await context.close().catch(() => undefined);
  await browser?.close();
  await api?.close();
  await broker?.stop();
  await smtp?.close();
  await dataSource?.destroy();
});

const unique = (label: string) => `${label}-${randomUUID().slice(0, 8)}@example.test`;

// What the page-side callbacks below use (this program is type-checked without the DOM library).
declare const document: { documentElement: { scrollWidth: number } };

/** From the eID step: to the broker, log in as `who`, and back to the customer's page. */
async function identifyAs(page: Page, who: { sub: string }): Promise<void> {
  await page.getByRole('button', { name: 'Identify with eID' }).click();
  const login = page.locator('input[name="login"]');
  await login.waitFor();
  await login.fill(who.sub);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL((url) => url.pathname.startsWith('/k/'));
}

/** What went wrong on our pages: the broker's own pages (a favicon it has not got) are not ours. */
const ourProblems = (problems: PageProblems) => problems.list.filter((line) => !line.includes(`(${broker.provider.issuer}/`));

describe('KYC customer page with eID', () => {
  test('identify instead of a PIN on a 360 px phone: someone else is refused, the customer gets in; the console offers eID and shows the evidence', async () => {
    const ownerEmail = unique('owner');
    const organization = await createOrganization(dataSource, { name: `Norrland Bank ${randomUUID().slice(0, 4)}`, ownerEmail }, { publicUrl: api.url });
    const password = await apiClient(() => api.url, () => null)('/v1/auth/password', { body: { token: tokenOf(organization.ownerPasswordLink!), password: goodPassword } });
    expect(password.status).toBe(200);
    const customerEmail = unique('anna');
    const created = await apiClient(() => api.url, () => organization.apiKey)('/v1/kyc-cases', {
      body: { customer: { type: 'person', name: 'Anna Andersson', email: customerEmail, nationalId: anna.nationalId, locale: 'en' }, identification: 'eid' },
    });
    expect(created.status).toBe(201);
    expect(created.body.customer.pin).toBeUndefined();
    const [invitation] = await smtp.waitForMail(customerEmail, '');
    const link = /https?:\/\/\S+\/k\/[A-Za-z0-9_.~-]+/.exec(invitation!.text)![0];

    const phone = await phoneContext(browser, { viewport: { width: 360, height: 740 } });
    contexts.push(phone);
    const { page, problems } = await openPage(phone);
    await page.goto(link);
    await page.getByRole('heading', { level: 1, name: 'Identify yourself' }).waitFor();
    expect(await page.getByLabel(/PIN/).count()).toBe(0);
    await screenshot(page, 'eid-step-360');
    await expectNoSeriousAccessibilityViolations(page, 'eID step');
    await expectPageStructure(page, 'eID step', { lang: 'en' });

    // Someone else's eID: refused in words, and the broker's answer leaves the address.
    await identifyAs(page, bertil);
    await page.getByText('The eID you used belongs to someone else than the person this questionnaire is for.', { exact: false }).waitFor();
    expect(new URL(page.url()).search).toBe('');
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(360);
    await screenshot(page, 'eid-mismatch-360');
    await expectNoSeriousAccessibilityViolations(page, 'eID mismatch');

    // The right person tries again (the test broker keeps a sign-in that BankID would not: it goes).
    await phone.clearCookies({ name: /^_session/ });
    await identifyAs(page, anna);
    await page.getByRole('heading', { level: 1, name: 'Customer due diligence (AML)' }).waitFor();
    expect(new URL(page.url()).search).toBe('');
    expect(ourProblems(problems).filter((line) => !/status of 40[13]/.test(line))).toEqual([]);

    // The console: eID is offered for new cases, and this case shows who identified.
    const desktop = await desktopContext(browser);
    contexts.push(desktop);
    const { page: console_, problems: consoleProblems } = await openPage(desktop);
    await console_.goto(`${api.url}/kyc/new`);
    await console_.waitForURL('**/login?**');
    await console_.getByLabel('Email', { exact: true }).fill(ownerEmail);
    await console_.getByLabel('Password', { exact: true }).fill(goodPassword);
    await console_.getByRole('button', { name: 'Sign in' }).click();
    await console_.getByLabel('Code', { exact: true }).waitFor();
    const [codeMail] = await smtp.waitForMail(ownerEmail, 'sign-in code');
    await console_.getByLabel('Code', { exact: true }).fill(deviceCodeIn(codeMail!.text));
    await console_.getByRole('button', { name: 'Continue' }).click();
    await console_.getByRole('heading', { level: 1, name: 'New KYC case' }).waitFor();
    await console_.getByRole('radio', { name: 'eID (BankID, Finnish bank ID)' }).waitFor();

    await console_.goto(`${api.url}/kyc/${created.body.id}`);
    const evidence = console_.getByRole('region', { name: 'Identified with eID' });
    await evidence.getByText('Anna Andersson').waitFor();
    const masked = (await evidence.locator('dt', { hasText: 'Identity number' }).locator('xpath=following-sibling::dd').textContent())!;
    expect(masked).toMatch(/^(19)?800101/);
    expect(masked).toContain('*');
    // Only the birth-date part is shown: no digit of the rest.
    expect(masked.replace(/^(19)?800101/, '')).not.toMatch(/\d/);
    await screenshot(console_, 'console-evidence');
    await expectNoSeriousAccessibilityViolations(console_, 'case with eID evidence');
    consoleProblems.expectNone('console');
  }, 90_000);
});
