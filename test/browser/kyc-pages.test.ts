/**
 * KYC pages in real Chromium (issue 13, part 2), as one story. A case is opened over the API; the customer,
 * on a 360 px phone, opens the emailed link, enters the PIN, answers part of the questionnaire and sees it
 * saved, reloads and finds the answers kept; a file over the size limit is refused at its question before it
 * is sent; the customer answers PEP = yes (which brings up its follow-up question), submits, is handed to the
 * signer page without a second PIN and signs the declaration. In the console a member approves and reads
 * "Waiting for a second reviewer"; approving again is refused in words; another member approves, the case
 * shows Approved, and the evidence package downloads as a ZIP. Every page passes axe-core, nothing is wider
 * than the phone, and screenshots go to test-output/screenshots/kyc-pages/.
 */
import fs from 'node:fs';
import { randomUUID } from 'node:crypto';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import type { DataSource } from 'typeorm';
import { createOrganization } from '../../src/accounts/create-organization';
import { apiClient } from '../support/api-client';
import { openTestDataSource, startTestApi, type TestApi } from '../support/harness';
import { deviceCodeIn, goodPassword, passwordLinkIn, tokenOf } from '../support/members';
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

// What the page-side callbacks below use (this program is type-checked without the DOM library).
declare const document: { documentElement: { scrollWidth: number } };

async function choosePassword(link: string): Promise<void> {
  const set = await anonymous('/v1/auth/password', { body: { token: tokenOf(link), password: goodPassword } });
  if (set.status !== 200) throw new Error(`setting the password answered ${set.status}: ${JSON.stringify(set.body)}`);
}

/** A member invited with the organisation's key, who chose a password from the invitation email. */
async function member(apiKey: string, role: string, name: string): Promise<{ email: string; userId: string }> {
  const email = unique(role);
  const invited = await apiClient(() => api.url, () => apiKey)('/v1/members', { body: { email, role, name } });
  if (invited.status !== 201) throw new Error(`inviting a ${role} answered ${invited.status}: ${JSON.stringify(invited.body)}`);
  const [invitation] = await smtp.waitForMail(email, 'invited');
  await choosePassword(passwordLinkIn(invitation!.text));
  return { email, userId: invited.body.userId as string };
}

/** Opens `pathname`, is sent to /login, signs in (the new-device code from the mail) and lands back on it. */
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

async function newContext(kind: 'phone' | 'desktop'): Promise<BrowserContext> {
  // The narrowest phone the pages promise to work on.
  const context = kind === 'phone' ? await phoneContext(browser, { viewport: { width: 360, height: 740 } }) : await desktopContext(browser, { acceptDownloads: true });
  contexts.push(context);
  return context;
}

async function expectFitsPhone(page: Page, label: string): Promise<void> {
  const width = await page.evaluate(() => document.documentElement.scrollWidth);
  if (width > 360) throw new Error(`${label}: the page is ${width} px wide on a 360 px phone (it scrolls sideways)`);
}

async function checkCustomerPage(page: Page, name: string, lang = 'en'): Promise<void> {
  await screenshot(page, name);
  await expectNoSeriousAccessibilityViolations(page, name);
  await expectPageStructure(page, name, { lang });
  await expectFitsPhone(page, name);
}

describe('KYC: the customer answers on a phone, two members approve in the console', () => {
  test('PIN, draft kept over a reload, PEP answered, declaration signed on the signer page; four-eyes approval and the evidence package', async () => {
    const organization = await createOrganization(dataSource, { name: `Pohjola Savings ${randomUUID().slice(0, 4)}`, ownerEmail: unique('owner') }, { publicUrl: api.url });
    await choosePassword(organization.ownerPasswordLink!);
    const firstReviewer = (await member(organization.apiKey, 'admin', 'Anna Admin')).email;
    const asOrganization = apiClient(() => api.url, () => organization.apiKey);
    // The second reviewer is a member who may send in the default folder, where the case is.
    const secondMember = await member(organization.apiKey, 'member', 'Mikko Member');
    const defaultFolder = ((await asOrganization('/v1/folders')).body.items as Array<{ id: string; isDefault: boolean }>).find((folder) => folder.isDefault)!;
    expect((await asOrganization(`/v1/folders/${defaultFolder.id}/grants/${secondMember.userId}`, { method: 'PUT', body: { permission: 'send' } })).status).toBe(200);
    const secondReviewer = secondMember.email;

    const customerEmail = unique('aino');
    const created = await asOrganization('/v1/kyc-cases', { body: { customer: { type: 'person', name: 'Aino Virtanen', email: customerEmail, locale: 'en' } } });
    expect(created.status).toBe(201);
    const caseId = created.body.id as string;
    const pin = created.body.customer.pin as string;
    const [invitation] = await smtp.waitForMail(customerEmail, '');
    const link = /https?:\/\/\S+\/k\/[A-Za-z0-9_.~-]+/.exec(invitation!.text)?.[0];
    if (!link) throw new Error(`no /k/ link in the invitation "${invitation!.subject}"`);

    // The customer, on a phone. A link that is not one says so, and nothing else.
    const phone = await newContext('phone');
    const { page, problems } = await openPage(phone);
    await page.goto(`${api.url}/k/not-a-link-of-ours`);
    await page.getByRole('heading', { level: 1, name: 'This link does not work' }).waitFor();
    expect(await page.getByLabel(/PIN/).count()).toBe(0);

    // The PIN first; a wrong one says how many tries are left.
    await page.goto(link);
    await page.getByLabel(/PIN/).waitFor();
    await checkCustomerPage(page, 'pin');
    await page.getByLabel(/PIN/).fill(pin === '000000' ? '111111' : '000000');
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.getByText('That PIN is not correct. 4 attempts left before the link locks.').waitFor();
    await page.getByLabel(/PIN/).fill(pin);
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.getByRole('heading', { level: 1, name: 'Customer due diligence (AML)' }).waitFor();
    // A person is not asked about beneficial owners; the PEP follow-up waits for a yes.
    expect(await page.getByText(/Beneficial owners/).count()).toBe(0);
    expect(await page.getByLabel(/which position do they hold/).count()).toBe(0);
    await checkCustomerPage(page, 'questionnaire');

    // Part of it, saved as it goes; a reload keeps it (and needs no PIN again in this tab).
    await page.getByRole('radio', { name: 'Savings and investments' }).check();
    await page.getByRole('checkbox', { name: 'Salary or pension' }).check();
    await page.getByText(/^Saved \d/).waitFor();
    await page.reload();
    await page.getByRole('heading', { level: 1, name: 'Customer due diligence (AML)' }).waitFor();
    expect(await page.getByRole('radio', { name: 'Savings and investments' }).isChecked()).toBe(true);
    expect(await page.getByRole('checkbox', { name: 'Salary or pension' }).isChecked()).toBe(true);

    // A file over the question's 10 MB limit is refused before it is sent.
    await page.getByLabel(/A copy of an identity document/).setInputFiles({ name: 'passport.pdf', mimeType: 'application/pdf', buffer: Buffer.alloc(11 * 1024 * 1024, 0x20) });
    await page.getByText('passport.pdf is too large. The largest file accepted is 10 MB.').waitFor();

    // Submitting without the PEP answer points at it.
    await page.getByRole('button', { name: 'Submit my answers' }).click();
    await page.getByText('1 question needs your attention (marked below).').waitFor();
    await page.getByText('Please answer this question.').waitFor();

    // PEP = yes brings up who and which position.
    const pepQuestion = page.getByRole('group', { name: /politically exposed person \(PEP\)\?/ });
    await pepQuestion.getByRole('radio', { name: 'Yes' }).check();
    await page.getByLabel(/which position do they hold/).fill('My brother is a member of parliament.');
    await checkCustomerPage(page, 'questionnaire-pep');
    await page.getByRole('button', { name: 'Submit my answers' }).click();

    // The declaration: handed to the signer page with a session, so no second PIN.
    await page.getByRole('heading', { level: 1, name: 'Sign your declaration' }).waitFor();
    await page.getByText('Your declaration is being prepared.', { exact: false }).waitFor({ state: 'detached' });
    await checkCustomerPage(page, 'declaration');
    await page.getByRole('button', { name: 'Sign the declaration' }).click();
    await page.waitForURL(/\/s\/[0-9a-f]+$/);
    await page.locator('#consent:enabled').waitFor();
    await expectFitsPhone(page, 'signer page');
    await page.getByLabel('Your full name').fill('Aino Virtanen');
    await page.getByLabel(/I have read the document/).check();
    await page.getByRole('button', { name: 'Sign the document' }).click();
    await page.getByRole('heading', { name: /you have signed/ }).waitFor();
    // Back on the case's link: it is with the reviewers, and the page will say when they decide.
    await page.goto(link);
    await page.getByRole('heading', { level: 1, name: 'Thank you' }).waitFor();
    await page.getByText(/have reached Pohjola Savings/).waitFor();
    await checkCustomerPage(page, 'in-review');
    // The wrong PIN's 401 is the only failed request.
    expect(problems.list.filter((line) => !/status of 401/.test(line))).toEqual([]);

    // The first reviewer approves; a PEP needs a second one.
    const desktop = await newContext('desktop');
    const { page: first, problems: firstProblems } = await openPage(desktop);
    await signIn(first, firstReviewer, `/kyc/${caseId}`);
    await first.getByRole('heading', { level: 1, name: 'Aino Virtanen' }).waitFor();
    await first.locator('.badge', { hasText: 'Waiting for review' }).waitFor();
    await first.getByText('My brother is a member of parliament.').waitFor();
    await first.getByText(/Two reviewers must approve this case because of: a politically exposed person/).waitFor();
    await first.getByRole('button', { name: 'Approve', exact: true }).click();
    await first.getByRole('button', { name: 'Yes, approve' }).click();
    await first.getByText('Waiting for a second reviewer').waitFor();
    await first.getByText(/Approved first by Anna Admin/).waitFor();
    await screenshot(first, 'console-first-approval');
    await expectNoSeriousAccessibilityViolations(first, 'console after the first approval');
    // Approving again is not a second approval.
    await first.getByRole('button', { name: 'Approve', exact: true }).click();
    await first.getByRole('button', { name: 'Yes, approve' }).click();
    await first.getByText('You approved first: another member must give the second approval.').waitFor();
    const allowed = /Failed to load resource: the server responded with a status of 409/;
    expect(firstProblems.list.filter((line) => !allowed.test(line))).toEqual([]);

    // Another member gives the second approval: approved, with the evidence package.
    const { page: second, problems: secondProblems } = await openPage(await newContext('desktop'));
    await signIn(second, secondReviewer, '/kyc');
    await second.getByRole('heading', { level: 1, name: 'KYC cases' }).waitFor();
    await second.getByText('Needs a second reviewer').waitFor();
    await screenshot(second, 'console-list');
    await expectNoSeriousAccessibilityViolations(second, 'KYC list');
    await second.getByRole('link', { name: 'Aino Virtanen' }).click();
    await second.getByRole('button', { name: 'Approve', exact: true }).click();
    await second.getByRole('button', { name: 'Yes, approve' }).click();
    await second.locator('.badge', { hasText: 'Approved' }).waitFor();
    const downloadLink = second.getByRole('link', { name: 'Download the evidence package (ZIP)' });
    await downloadLink.waitFor();
    await screenshot(second, 'console-approved');
    await expectNoSeriousAccessibilityViolations(second, 'approved case');
    const [download] = await Promise.all([second.waitForEvent('download'), downloadLink.click()]);
    const zip = fs.readFileSync((await download.path())!);
    expect(zip.subarray(0, 2).toString('latin1')).toBe('PK');
    secondProblems.expectNone('the second reviewer');
    // The first reviewer's open page follows by itself, and so does the customer's.
    await first.locator('.badge', { hasText: 'Approved' }).waitFor();
    await page.getByRole('heading', { level: 1, name: 'You are approved' }).waitFor();
  }, 120_000);

  test('in Finnish: the customer reads the PIN page and the questionnaire in Finnish; an answer given as the tab closes is kept', async () => {
    const organization = await createOrganization(dataSource, { name: `Lapin Osuuspankki ${randomUUID().slice(0, 4)}`, ownerEmail: unique('owner') }, { publicUrl: api.url });
    const customerEmail = unique('matti');
    const created = await apiClient(() => api.url, () => organization.apiKey)('/v1/kyc-cases', {
      body: { customer: { type: 'person', name: 'Matti Meikäläinen', email: customerEmail, locale: 'fi' } },
    });
    expect(created.status).toBe(201);
    const [invitation] = await smtp.waitForMail(customerEmail, '');
    const link = /https?:\/\/\S+\/k\/[A-Za-z0-9_.~-]+/.exec(invitation!.text)![0];
    const phone = await newContext('phone');
    let { page, problems } = await openPage(phone);
    await page.goto(link);
    await page.getByRole('heading', { level: 1, name: 'Syötä PIN-koodisi' }).waitFor();
    await checkCustomerPage(page, 'pin-fi', 'fi');
    await page.getByLabel('PIN-koodi (6 numeroa)').fill(created.body.customer.pin as string);
    await page.getByRole('button', { name: 'Jatka' }).click();
    await page.getByRole('heading', { level: 1, name: 'Asiakkaan tunteminen (rahanpesu)' }).waitFor();
    await page.getByRole('radio', { name: 'Säästäminen ja sijoittaminen' }).check();
    await page.getByText(/^Tallennettu \d/).waitFor();
    // An answer given just before the tab is closed is saved as the page goes; a new tab finds it.
    await page.getByRole('checkbox', { name: 'Palkka tai eläke' }).check();
    await page.close({ runBeforeUnload: true });
    ({ page, problems } = await openPage(phone));
    await page.goto(link);
    await page.getByLabel('PIN-koodi (6 numeroa)').fill(created.body.customer.pin as string);
    await page.getByRole('button', { name: 'Jatka' }).click();
    await page.getByRole('heading', { level: 1, name: 'Asiakkaan tunteminen (rahanpesu)' }).waitFor();
    expect(await page.getByRole('checkbox', { name: 'Palkka tai eläke' }).isChecked()).toBe(true);
    expect(await page.getByRole('radio', { name: 'Säästäminen ja sijoittaminen' }).isChecked()).toBe(true);
    await page.getByRole('button', { name: 'Lähetä vastaukseni' }).click();
    await page.getByText('1 kysymys vaatii huomiotasi (merkitty alla).').waitFor();
    await checkCustomerPage(page, 'questionnaire-fi', 'fi');
    problems.expectNone('the Finnish customer page');
  }, 60_000);

  test('in Swedish on phones: a company case opened in the console, beneficial owners and an upload, sent back with a reason the customer reads, found by status, cancelled, and the link then says so', async () => {
    const ownerEmail = unique('owner');
    const organization = await createOrganization(dataSource, { name: `Acme Finans ${randomUUID().slice(0, 4)}`, ownerEmail }, { publicUrl: api.url });
    await choosePassword(organization.ownerPasswordLink!);

    // The owner opens a case from the console on a phone, after switching it to Swedish.
    const { page: console_, problems: consoleProblems } = await openPage(await newContext('phone'));
    await signIn(console_, ownerEmail, '/kyc/new');
    await console_.locator('header').getByLabel('Language').selectOption('sv');
    await console_.getByRole('heading', { level: 1, name: 'Nytt KYC-ärende' }).waitFor();
    await console_.getByText('E-legitimation är inte konfigurerad i denna Sigill', { exact: false }).waitFor();
    await console_.getByRole('radio', { name: 'Företag' }).check();
    const customerEmail = unique('acme');
    await console_.getByLabel('Företagets namn').fill('Acme Oy');
    await console_.getByLabel('E-post').fill(customerEmail);
    await console_.getByLabel('Organisationsnummer (valfritt)').fill('1234567-8');
    await console_.getByLabel('Kundens språk').selectOption('sv');
    await screenshot(console_, 'console-new-sv-phone');
    await expectNoSeriousAccessibilityViolations(console_, 'new case form');
    await expectFitsPhone(console_, 'new case form');
    await console_.getByRole('button', { name: 'Öppna ärendet och bjud in kunden' }).click();
    await console_.getByRole('heading', { level: 1, name: 'Ärendet är öppnat' }).waitFor();
    const pin = (await console_.locator('.pin').textContent())!.trim();
    expect(pin).toMatch(/^\d{6}$/);
    await console_.getByRole('link', { name: 'Öppna ärendet' }).click();
    await console_.getByRole('heading', { level: 1, name: 'Acme Oy' }).waitFor();
    await console_.locator('.badge', { hasText: 'Inbjuden' }).waitFor();
    await expectFitsPhone(console_, 'case page');
    await console_.getByRole('button', { name: 'Skicka en påminnelse' }).click();
    await console_.getByText('Skicka en påminnelse till Acme Oy nu?').waitFor();
    await console_.getByRole('button', { name: 'Skicka påminnelsen' }).click();
    await console_.getByText('Påminnelsen är på väg.').waitFor();

    const [invitation] = await smtp.waitForMail(customerEmail, '');
    const link = /https?:\/\/\S+\/k\/[A-Za-z0-9_.~-]+/.exec(invitation!.text)![0];
    const { page, problems } = await openPage(await newContext('phone'));
    await page.goto(link);
    await page.getByRole('heading', { level: 1, name: 'Ange din PIN-kod' }).waitFor();
    await page.getByLabel(/PIN-kod/).fill(pin);
    await page.getByRole('button', { name: 'Fortsätt' }).click();
    await page.getByRole('heading', { level: 1, name: 'Kundkännedom (penningtvätt)' }).waitFor();
    await page.getByRole('radio', { name: 'Affärsverksamhet' }).check();
    await page.getByRole('checkbox', { name: 'Inkomst från näringsverksamhet' }).check();
    await page.getByRole('group', { name: /politiskt utsatt ställning \(PEP\)\?/ }).getByRole('radio', { name: 'Nej' }).check();

    // Beneficial owners: two rows added, the second removed again.
    await page.getByRole('button', { name: 'Lägg till en ägare' }).click();
    await page.getByRole('button', { name: 'Lägg till en ägare' }).click();
    const firstOwner = page.getByRole('group', { name: 'Ägare 1' });
    await firstOwner.getByLabel('Fullständigt namn').fill('Matti Meikäläinen');
    await firstOwner.getByLabel('Födelsedatum').fill('1975-04-12');
    await firstOwner.getByLabel('Ägarandel (%)').fill('60');
    await page.getByRole('button', { name: 'Ta bort ägare 2' }).click();
    expect(await page.getByRole('group', { name: 'Ägare 2' }).count()).toBe(0);

    // An identity document: uploaded, named on the page.
    await page.getByLabel(/En kopia av en identitetshandling/).setInputFiles({ name: 'pass.pdf', mimeType: 'application/pdf', buffer: Buffer.from('%PDF-1.4\n%%EOF\n') });
    await page.getByRole('button', { name: 'Ta bort pass.pdf' }).waitFor();
    await page.getByText(/^Sparat \d/).waitFor();
    await checkCustomerPage(page, 'questionnaire-company-sv', 'sv');

    await page.getByRole('button', { name: 'Skicka mina svar' }).click();
    await page.getByRole('heading', { level: 1, name: 'Skriv under din försäkran' }).waitFor();
    await page.getByRole('button', { name: 'Skriv under försäkran' }).click();
    await page.waitForURL(/\/s\/[0-9a-f]+$/);
    await page.locator('#consent:enabled').waitFor();
    await page.getByLabel('Ditt för- och efternamn').fill('Matti Meikäläinen');
    await page.getByLabel(/Jag har läst dokumentet/).check();
    await page.getByRole('button', { name: 'Skriv under dokumentet' }).click();
    await page.getByRole('heading', { name: /du har skrivit under/ }).waitFor();

    // The open case page follows by itself; no PEP, so one reviewer decides: sent back with a reason.
    await console_.locator('.badge', { hasText: 'Väntar på granskning' }).waitFor();
    await console_.getByText('Matti Meikäläinen, född 1975-04-12, äger 60 %').waitFor();
    await console_.getByRole('button', { name: 'Skicka tillbaka för ändringar' }).click();
    await console_.getByLabel('Skäl').fill('Ange även styrelseordförandens namn.');
    await console_.getByRole('button', { name: 'Skicka tillbaka', exact: true }).click();
    await console_.locator('.badge', { hasText: 'Skickad tillbaka för ändringar' }).waitFor();
    await screenshot(console_, 'console-case-sv-phone');
    await expectNoSeriousAccessibilityViolations(console_, 'case sent back');

    // The customer opens the link again: the reason, and the answers as they were.
    await page.goto(link);
    await page.getByText('Ange även styrelseordförandens namn.').waitFor();
    await page.getByText(/har bett dig ändra dina svar/).waitFor();
    expect(await page.getByRole('group', { name: 'Ägare 1' }).getByLabel('Fullständigt namn').inputValue()).toBe('Matti Meikäläinen');
    await checkCustomerPage(page, 'changes-requested-sv', 'sv');

    // The list finds it by status; the owner cancels it, and the customer's link says the case is closed.
    await console_.getByRole('link', { name: 'Tillbaka till KYC-ärenden' }).click();
    await console_.getByLabel('Status').selectOption('changes_requested');
    await console_.getByRole('link', { name: 'Acme Oy' }).click();
    await console_.getByRole('button', { name: 'Avbryt ärendet' }).click();
    await console_.getByLabel('Skäl').fill('Kunden valde en annan bank.');
    await console_.locator('.kyc-confirm').getByRole('button', { name: 'Avbryt ärendet' }).click();
    await console_.locator('.badge', { hasText: 'Avbruten' }).waitFor();
    await page.reload();
    await page.getByRole('heading', { level: 1, name: 'Ärendet är avslutat' }).waitFor();
    const allowed = /Failed to load resource: the server responded with a status of 409/;
    expect(problems.list.filter((line) => !allowed.test(line))).toEqual([]);
    consoleProblems.expectNone('the console in Swedish');
  }, 120_000);
});
