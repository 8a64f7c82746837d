/**
 * eID identification on the signer's page and in the console (issue 13), in real Chromium against a real
 * OpenID Connect provider (oidc-provider in its own process, playing a BankID broker; its login form takes
 * the account's `sub`). A signer asked for eID sees the eID step, not the document, on a 360 px phone;
 * identifying as the person the sender named opens the document and signing; someone else is stopped and
 * told, and the attempt is in the audit trail; PIN then eID asks for both; a cancelled or failed
 * identification says so (in the signer's language) and can be tried again; the sender chooses eID in the
 * console's new-request form and reads the evidence on the request page; a deployment without a broker
 * offers no eID choice. Screenshots in test-output/screenshots/signer-eid/.
 */
import { randomInt, randomUUID } from 'node:crypto';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import type { DataSource } from 'typeorm';
import { createOrganization } from '../../src/accounts/create-organization';
import { apiClient, type Json } from '../support/api-client';
import { freePort, startLocalEidBroker, swedishBankId, type LocalEidBroker } from '../support/eid-broker';
import { openTestDataSource, startTestApi, type TestApi } from '../support/harness';
import { deviceCodeIn, goodPassword, tokenOf } from '../support/members';
import { createTestPdf } from '../support/pdf-factories';
import { desktopContext, expectNoSeriousAccessibilityViolations, launchChromium, openPage, phoneContext, screenshot, type PageProblems } from '../support/real-browser';
import { signingTokenIn, startSmtpCatcher } from '../support/smtp-catcher';

/** Two people with Swedish BankID (fictitious numbers, unique to the run: finding one means this test put it there). */
const serial = String(randomInt(1000, 9999));
const anna = { sub: `anna-${randomUUID().slice(0, 8)}`, name: 'Anna Andersson', birthdate: '1980-01-01', nationalId: `19800101${serial}` };
const bertil = { sub: `bertil-${randomUUID().slice(0, 8)}`, name: 'Bertil Berg', birthdate: '1975-05-05', nationalId: `19750505${serial}` };

let dataSource: DataSource;
let smtp: Awaited<ReturnType<typeof startSmtpCatcher>>;
let broker: LocalEidBroker;
let api: TestApi;
let org: { orgId: string; apiKey: string; ownerEmail: string };
let browser: Browser;
let pdfBase64: string;
const contexts: BrowserContext[] = [];

beforeAll(async () => {
  dataSource = await openTestDataSource();
  smtp = await startSmtpCatcher();
  // The API's port first: the provider must know the redirect URI it will be sent back to.
  const port = await freePort();
  broker = await startLocalEidBroker({ port, people: [anna, bertil] });
  api = await startTestApi(dataSource, { port, env: { ...broker.env, SMTP_URL: smtp.url } });
  const ownerEmail = `owner-${randomUUID().slice(0, 8)}@example.test`;
  const created = await createOrganization(dataSource, { name: 'Berg & Virtanen AB', ownerEmail }, { publicUrl: api.url });
  const password = await apiClient(() => api.url, () => null)('/v1/auth/password', { body: { token: tokenOf(created.ownerPasswordLink!), password: goodPassword } });
  if (password.status !== 200) throw new Error(`setting the owner's password answered ${password.status}`);
  org = { orgId: created.orgId, apiKey: created.apiKey, ownerEmail };
  browser = await launchChromium();
  pdfBase64 = Buffer.from(await createTestPdf([{ text: 'Loan agreement' }, { text: 'The last page' }])).toString('base64');
});

afterAll(async () => {
  for (const context of contexts) await context.close().catch(() => undefined);
  await browser?.close();
  await api?.close();
  await broker?.stop();
  await smtp?.close();
  await dataSource?.destroy();
});

const call = apiClient(() => api.url, () => org.apiKey);
const uniqueEmail = (name: string) => `${name}-${randomUUID().slice(0, 8)}@example.test`;

/** A 360 px wide phone: the smallest screen the eID step must work on. */
async function smallPhone(): Promise<BrowserContext> {
  const context = await phoneContext(browser, { viewport: { width: 360, height: 740 } });
  contexts.push(context);
  return context;
}

interface Round {
  id: string;
  signerId: string;
  link: string;
  pin?: string;
}

async function createRound(title: string, identification: Json, name = 'Anna Andersson'): Promise<Round> {
  const email = uniqueEmail(name.split(' ')[0]!.toLowerCase());
  const created = await call('/v1/signing-requests', {
    body: {
      title,
      document: { filename: 'loan.pdf', contentBase64: pdfBase64 },
      signers: [{ name, email, pinDelivery: 'sender', identification }],
    },
  });
  if (created.status !== 201) throw new Error(`create answered ${created.status}: ${JSON.stringify(created.body)}`);
  const [invitation] = await smtp.waitForMail(email, title);
  return { id: created.body.id, signerId: created.body.signers[0].id, link: `${api.url}/s/${signingTokenIn(invitation!)}`, pin: created.body.signers[0].pin };
}

async function auditEvents(requestId: string): Promise<Json[]> {
  const trail = await call(`/v1/signing-requests/${requestId}/audit-trail`);
  expect(trail.status).toBe(200);
  return trail.body.events as Json[];
}

/** From the eID step: to the broker, log in as `who`, and back to the signer's page. */
async function identifyAs(page: Page, who: { sub: string }, button: RegExp | string = 'Identify with eID'): Promise<void> {
  await page.getByRole('button', { name: button }).click();
  const login = page.locator('input[name="login"]');
  await login.waitFor();
  await login.fill(who.sub);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL((url) => url.pathname.startsWith('/s/'));
}

/** What went wrong on our pages: the broker's own pages (Chromium asks it for a favicon it has not got) are not ours. */
const ourProblems = (problems: PageProblems) => problems.list.filter((line) => !line.includes(`(${broker.provider.issuer}/`));

// What the functions below use in the page (this program is type-checked without the DOM library).
declare const document: { documentElement: { scrollWidth: number } };
const pageWidth = (page: Page) => page.evaluate(() => document.documentElement.scrollWidth);

async function readToTheEndAndSign(page: Page, name: string): Promise<void> {
  await page.locator('canvas[data-drawn="true"]').first().waitFor();
  await page.locator('.pages').evaluate((pages) => pages.scrollTo(0, pages.scrollHeight));
  await page.locator('.page-holder').last().locator('canvas[data-drawn="true"]').waitFor();
  await page.getByLabel('Your full name').fill(name);
  await page.getByLabel(/I have read the document/).check();
  await page.getByRole('button', { name: 'Sign the document' }).click();
  await page.getByRole('heading', { name: /you have signed/ }).waitFor();
}

describe('a signer asked for eID', () => {
  it('identifies before the document is shown, as the person the sender named, and signs; the trail and the request name the identification', async () => {
    const round = await createRound('Loan agreement', { method: 'eid', eid: { acr: swedishBankId, expectedNationalId: anna.nationalId } });
    const context = await smallPhone();
    const { page, problems } = await openPage(context);
    await page.goto(round.link);

    // The eID step, not the PIN and not the document.
    await page.getByRole('heading', { name: 'Identify yourself to open the document' }).waitFor();
    await page.getByText('Identify with your eID to open the document.', { exact: false }).waitFor();
    expect(await page.getByLabel(/PIN/).count()).toBe(0);
    expect(await page.locator('canvas').count()).toBe(0);
    expect(await pageWidth(page)).toBeLessThanOrEqual(360);
    await screenshot(page, 'eid-step-360');
    await expectNoSeriousAccessibilityViolations(page, 'eID step');

    await identifyAs(page, anna);
    await page.getByRole('heading', { name: 'Loan agreement' }).waitFor();
    await page.getByText('Identified as Anna Andersson with Swedish BankID.').waitFor();
    // The broker's answer is taken out of the address, so a reload or a shared link does not replay it.
    expect(new URL(page.url()).search).toBe('');
    expect(await pageWidth(page)).toBeLessThanOrEqual(360);
    await page.locator('canvas[data-drawn="true"]').first().waitFor();
    await screenshot(page, 'identified-document-360');
    await expectNoSeriousAccessibilityViolations(page, 'document after eID');

    await readToTheEndAndSign(page, 'Anna Andersson');
    expect(ourProblems(problems)).toEqual([]);

    const events = (await auditEvents(round.id)).filter((event) => event.signerId === round.signerId);
    const types = events.map((event) => event.type);
    expect(types.indexOf('identified')).toBeGreaterThanOrEqual(0);
    expect(types.indexOf('identified')).toBeLessThan(types.indexOf('viewed'));
    expect(types.indexOf('viewed')).toBeLessThan(types.indexOf('signed'));
    const identified = events.find((event) => event.type === 'identified')!;
    // The broker's transaction id (a `txn` per identification) traces it at the broker.
    expect(identified.detail).toMatchObject({ name: 'Anna Andersson', transactionId: expect.stringMatching(/^[0-9a-f]{24}$/) });
    // The number masked, its birth-date part kept; never the number in clear.
    expect(String(identified.detail.nationalIdMasked)).toMatch(/^(19)?800101/);
    expect(JSON.stringify(events)).not.toContain(anna.nationalId);

    const request = await call(`/v1/signing-requests/${round.id}`);
    const signer = request.body.signers[0];
    expect(signer.identification).toMatchObject({ method: 'eid', acr: swedishBankId, expectsNationalId: true });
    expect(signer.identification.evidence).toMatchObject({ name: 'Anna Andersson', transactionId: identified.detail.transactionId });
    expect(JSON.stringify(request.body)).not.toContain(anna.nationalId);
  });

  it('stops someone else: they are told they cannot sign, the attempt is in the trail, and the right person can still identify', async () => {
    const round = await createRound('Guarantee', { method: 'eid', eid: { expectedNationalId: anna.nationalId } });
    const context = await smallPhone();
    const { page, problems } = await openPage(context);
    await page.goto(round.link);
    await page.getByRole('heading', { name: 'Identify yourself to open the document' }).waitFor();

    await identifyAs(page, bertil);
    await page.getByRole('heading', { name: 'This eID does not match' }).waitFor();
    await page.getByText('The identity you used is not the person this document was sent to, so you cannot sign it.').waitFor();
    await page.getByText(/The sender has been told\./).waitFor();
    expect(await page.locator('canvas').count()).toBe(0);
    expect(await page.getByRole('button', { name: 'Sign the document' }).count()).toBe(0);
    expect(await pageWidth(page)).toBeLessThanOrEqual(360);
    await screenshot(page, 'eid-mismatch-360');
    await expectNoSeriousAccessibilityViolations(page, 'eID mismatch');

    const mismatch = (await auditEvents(round.id)).find((event) => event.type === 'identification_mismatch');
    expect(mismatch).toBeDefined();
    expect(mismatch!.signerId).toBe(round.signerId);
    expect(String(mismatch!.detail.nationalIdMasked)).toMatch(/^(19)?750505/);
    expect((await auditEvents(round.id)).map((event) => event.type)).not.toContain('identified');

    // A wrong eID used by mistake: the right person tries again and gets in. BankID keeps no sign-in at
    // the broker between identifications; the test broker (oidc-provider) would, so its session goes.
    await context.clearCookies({ name: /^_session/ });
    await identifyAs(page, anna, 'Try again with another eID');
    await page.getByRole('heading', { name: 'Guarantee' }).waitFor();
    await page.getByText('Identified as Anna Andersson with Swedish BankID.').waitFor();
    expect(ourProblems(problems)).toEqual([]);
  });

  it('asks for the PIN first and then eID where the sender asked for both', async () => {
    const round = await createRound('Lease', { method: 'pin+eid' });
    expect(round.pin).toMatch(/^\d{6}$/);
    const context = await smallPhone();
    const { page, problems } = await openPage(context);
    await page.goto(round.link);
    await page.getByLabel(/PIN/).fill(round.pin!);
    await page.getByRole('button', { name: 'Open the document' }).click();

    await page.getByRole('heading', { name: 'Identify yourself to open the document' }).waitFor();
    expect(await page.locator('canvas').count()).toBe(0);
    await identifyAs(page, bertil);
    await page.getByRole('heading', { name: 'Lease' }).waitFor();
    await page.getByText('Identified as Bertil Berg with Swedish BankID.').waitFor();
    await page.locator('canvas[data-drawn="true"]').first().waitFor();
    // The PIN session asking for the round before eID is a 403 the browser logs; nothing else may go wrong.
    expect(ourProblems(problems).filter((line) => !/status of 403 .*\/v1\/signer\/round/.test(line))).toEqual([]);
    const types = (await auditEvents(round.id)).map((event) => event.type);
    expect(types.indexOf('opened')).toBeLessThan(types.indexOf('identified'));
  });

  it("speaks the signer's language on the eID step, and says when identification could not be completed", async () => {
    const email = uniqueEmail('aino');
    const created = await call('/v1/signing-requests', {
      body: {
        title: 'Takaussitoumus',
        document: { filename: 'takaus.pdf', contentBase64: pdfBase64 },
        signers: [{ name: 'Aino Virtanen', email, pinDelivery: 'sender', locale: 'fi', identification: { method: 'eid' } }],
      },
    });
    expect(created.status).toBe(201);
    const [invitation] = await smtp.waitForMail(email, 'Takaussitoumus');
    const context = await smallPhone();
    const { page } = await openPage(context);
    await page.goto(`${api.url}/s/${signingTokenIn(invitation!)}?eid=failed`);
    await page.getByRole('heading', { name: 'Tunnistaudu avataksesi asiakirjan' }).waitFor();
    await page.getByText('Tunnistautumista ei voitu suorittaa loppuun. Yritä myöhemmin uudelleen.').waitFor();
    await page.getByRole('button', { name: 'Tunnistaudu' }).waitFor();
    expect(await pageWidth(page)).toBeLessThanOrEqual(360);
    await screenshot(page, 'eid-failed-360-fi');
    await expectNoSeriousAccessibilityViolations(page, 'Finnish eID step');
  });

  it('says so when the signer cancels at the eID service or comes back without an identification, and lets them try again', async () => {
    const round = await createRound('Pledge', { method: 'eid' });
    const context = await smallPhone();
    const { page } = await openPage(context);
    await page.goto(`${round.link}?eid=cancelled`);
    await page.getByText('Identification was cancelled. You can try again when you are ready.').waitFor();
    expect(new URL(page.url()).search).toBe('');
    // A link saying "ok" that this browser has no identification for (copied, or too late) opens nothing.
    await page.goto(`${round.link}?eid=ok`);
    await page.getByText('The identification took too long, or it was started in another browser. Please identify again.').waitFor();
    expect(await page.locator('canvas').count()).toBe(0);
    await identifyAs(page, anna);
    await page.getByRole('heading', { name: 'Pledge' }).waitFor();
  });
});

const signIns = new Map<string, number>();

/** Opens `path`, is sent to /login, signs in (the new-device code from the mail) and lands back on `path`. */
async function signInThroughLogin(page: Page, email: string, pathname: string, apiUrl = api.url): Promise<void> {
  await page.goto(`${apiUrl}${pathname}`);
  await page.waitForURL('**/login?**');
  await page.getByLabel('Email', { exact: true }).fill(email);
  await page.getByLabel('Password', { exact: true }).fill(goodPassword);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByLabel('Code', { exact: true }).waitFor();
  const count = (signIns.get(email) ?? 0) + 1;
  signIns.set(email, count);
  const codeMails = await smtp.waitForMail(email, 'sign-in code', count);
  await page.getByLabel('Code', { exact: true }).fill(deviceCodeIn(codeMails[count - 1]!.text));
  await page.getByRole('button', { name: 'Continue' }).click();
  await page.waitForURL(`${apiUrl}${pathname}`);
}

describe('the sender in the console', () => {
  it('asks a signer for eID in the new-request form and reads the evidence on the request page once they identified', async () => {
    const context = await desktopContext(browser);
    contexts.push(context);
    const { page, problems } = await openPage(context);
    await signInThroughLogin(page, org.ownerEmail, '/requests/new');

    await page.getByLabel('Title').fill('Mortgage deed');
    await page.locator('#document').setInputFiles({ name: 'deed.pdf', mimeType: 'application/pdf', buffer: Buffer.from(pdfBase64, 'base64') });
    const email = uniqueEmail('anna');
    const signer = page.locator('fieldset.signer-fields').first();
    await signer.getByLabel('Full name').fill('Anna Andersson');
    await signer.getByLabel('Email').fill(email);
    await signer.getByLabel('Identification', { exact: true }).selectOption('eid');
    // eID alone needs no PIN, so there is none to deliver.
    expect(await signer.getByLabel('How they get the PIN').count()).toBe(0);
    await signer.getByLabel('eID to use').selectOption({ label: 'Swedish BankID' });
    const expectedId = signer.getByLabel('Expected national identity number (optional)');
    expect(await expectedId.getAttribute('autocomplete')).toBe('off');
    // Not a number: the API's refusal appears at the field, and nothing is sent.
    await expectedId.fill('Anna');
    await page.getByRole('button', { name: 'Send for signing' }).click();
    await page.getByRole('alert').filter({ hasText: 'Please check the marked fields.' }).waitFor();
    await signer.locator('input[aria-invalid="true"]').waitFor();
    expect(await signer.locator('input[aria-invalid="true"]').getAttribute('id')).toBe(await expectedId.getAttribute('id'));
    await expectedId.fill(anna.nationalId);
    await screenshot(page, 'console-new-request-eid');
    await expectNoSeriousAccessibilityViolations(page, 'new request with eID');
    await page.getByRole('button', { name: 'Send for signing' }).click();
    await page.getByRole('heading', { name: 'Sent for signing' }).waitFor();
    await page.getByRole('link', { name: 'Open the request' }).click();
    await page.getByRole('heading', { level: 1, name: 'Mortgage deed' }).waitFor();
    const requestId = new URL(page.url()).pathname.split('/').pop()!;

    const card = page.locator('.signer-card', { hasText: 'Anna Andersson' });
    await card.getByText('Identification: eID · Swedish BankID · must match the national identity number given').waitFor();

    // The signer identifies on their phone; the request page follows without a reload.
    const [invitation] = await smtp.waitForMail(email, 'Mortgage deed');
    const signerContext = await smallPhone();
    const { page: signerPage } = await openPage(signerContext);
    await signerPage.goto(`${api.url}/s/${signingTokenIn(invitation!)}`);
    await identifyAs(signerPage, anna);
    await signerPage.getByRole('heading', { name: 'Mortgage deed' }).waitFor();

    const evidence = card.locator('.identification-evidence');
    await evidence.waitFor();
    await evidence.getByText('Anna Andersson').waitFor();
    await evidence.getByText('Swedish BankID').waitFor();
    const transactionId = (await call(`/v1/signing-requests/${requestId}`)).body.signers[0].identification.evidence.transactionId as string;
    await evidence.getByText(transactionId).waitFor();
    expect(await evidence.textContent()).toMatch(/(19)?800101/);
    expect(await page.content()).not.toContain(anna.nationalId);
    await card.getByText('Identified with eID').waitFor();
    // Nobody entered a PIN: the opening is the identification's, and there is no PIN to renew.
    await card.getByText('Document opened after eID identification').waitFor();
    expect(await card.getByText('PIN accepted').count()).toBe(0);
    expect(await card.getByRole('button', { name: /New PIN/ }).count()).toBe(0);
    await screenshot(page, 'console-request-evidence');
    await expectNoSeriousAccessibilityViolations(page, 'request page with eID evidence');
    // The refused first attempt is a 4xx the browser logs; nothing else may go wrong.
    expect(ourProblems(problems).filter((line) => !/status of 4\d\d .*\/v1\/signing-requests\)$/.test(line))).toEqual([]);
  });
});

describe('a deployment without an eID broker', () => {
  it('offers no identification choice in the new-request form', async () => {
    const plainApi = await startTestApi(dataSource, { env: { SMTP_URL: smtp.url } });
    try {
      expect((await apiClient(() => plainApi.url, () => org.apiKey)('/v1/identification-methods')).body.eid).toMatchObject({ available: false });
      const context = await desktopContext(browser);
      contexts.push(context);
      const { page, problems } = await openPage(context);
      // The form asks what the deployment offers; only after the answer is its absence of an eID choice telling.
      const methodsAnswered = page.waitForResponse((response) => response.url().endsWith('/v1/identification-methods'));
      await signInThroughLogin(page, org.ownerEmail, '/requests/new', plainApi.url);
      expect((await methodsAnswered).status()).toBe(200);
      const signer = page.locator('fieldset.signer-fields').first();
      await signer.getByLabel('How they get the PIN').waitFor();
      expect(await signer.getByLabel('Identification', { exact: true }).count()).toBe(0);
      expect(await signer.getByLabel(/national identity number/).count()).toBe(0);
      expect(ourProblems(problems)).toEqual([]);
    } finally {
      await plainApi.close();
    }
  });
});
