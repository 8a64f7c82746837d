/**
 * The signer's page in a real browser (Debian Chromium): on a 390×844 phone a signer opens the link, enters
 * the PIN, sees page 1 drawn (pixels, not an empty canvas), scrolls to the end and signs; the audit trail
 * then says exactly that, in order. Every state of a link has its page, each accessible (axe-core) and
 * screenshotted to test-output/screenshots/signer-page/.
 */
import type { Browser, Page } from 'playwright-core';
import type { DataSource } from 'typeorm';
import { workflowIdForRequest } from '../../src/signing/create-signing-request';
import { apiClient, type Json } from '../support/api-client';
import { createTestOrganization } from '../support/factories';
import { openTestDataSource, startTestApi, type TestApi } from '../support/harness';
import { createTestPdf } from '../support/pdf-factories';
import {
  desktopContext,
  expectNoSeriousAccessibilityViolations,
  launchChromium,
  openPage,
  phoneContext,
  screenshot,
} from '../support/real-browser';
import { signingTokenIn, startSmtpCatcher } from '../support/smtp-catcher';

let dataSource: DataSource;
let smtp: Awaited<ReturnType<typeof startSmtpCatcher>>;
let api: TestApi;
let org: { orgId: string; apiKey: string };
let browser: Browser;
let pdfBase64: string;

beforeAll(async () => {
  dataSource = await openTestDataSource();
  smtp = await startSmtpCatcher();
  api = await startTestApi(dataSource, { env: { SMTP_URL: smtp.url } });
  org = await createTestOrganization(dataSource);
  browser = await launchChromium();
  pdfBase64 = Buffer.from(await createTestPdf([{ text: 'Page one of the agreement' }, {}, { text: 'The last page' }])).toString('base64');
});

afterAll(async () => {
  await browser?.close();
  await api?.close();
  await smtp?.close();
  await dataSource?.destroy();
});

const call = apiClient(() => api.url, () => org.apiKey);
let counter = 0;
const uniqueEmail = (name: string) => `${name}-${++counter}-${Date.now()}@example.test`;

interface CreatedRound {
  id: string;
  signers: Array<{ email: string; pin: string; link: string }>;
}

async function createRound(names: string[], overrides: Record<string, unknown> = {}): Promise<CreatedRound> {
  const emails = names.map((name) => uniqueEmail(name.split(' ')[0]!.normalize('NFD').replace(/[^a-zA-Z]/g, '').toLowerCase()));
  const created = await call('/v1/signing-requests', {
    body: {
      title: 'Consulting agreement',
      message: 'Hello!\nHere is the agreement we discussed.',
      document: { filename: 'agreement.pdf', contentBase64: pdfBase64 },
      signers: names.map((name, index) => ({ name, email: emails[index], pinDelivery: 'sender' })),
      ...overrides,
    },
  });
  if (created.status !== 201) throw new Error(`create answered ${created.status}: ${JSON.stringify(created.body)}`);
  const signers = await Promise.all(
    emails.map(async (email, index) => {
      const [invitation] = await smtp.waitForMail(email, 'Please sign');
      return { email, pin: created.body.signers[index].pin as string, link: `${api.url}/s/${signingTokenIn(invitation!)}` };
    }),
  );
  return { id: created.body.id, signers };
}

async function auditEvents(requestId: string): Promise<Json[]> {
  const trail = await call(`/v1/signing-requests/${requestId}/audit-trail`);
  expect(trail.status).toBe(200);
  return trail.body.events as Json[];
}

// What the functions below use in the page (this program is type-checked without the DOM library).
interface PageCanvas {
  width: number;
  height: number;
  getContext(kind: '2d'): { getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray } } | null;
}
declare const sessionStorage: { setItem(key: string, value: string): void };

/** Non-white pixels of the first drawn page: an empty canvas has none. */
const inkOnFirstPage = (page: Page) =>
  page.locator('canvas[data-drawn="true"]').first().evaluate((element) => {
    const canvas = element as unknown as PageCanvas;
    const context = canvas.getContext('2d')!;
    const { data } = context.getImageData(0, 0, canvas.width, canvas.height);
    let ink = 0;
    for (let i = 0; i < data.length; i += 4) if (data[i]! < 200 || data[i + 1]! < 200 || data[i + 2]! < 200) ink++;
    return ink;
  });

async function enterPin(page: Page, pin: string) {
  await page.getByLabel(/PIN/).fill(pin);
  await page.getByRole('button', { name: /open the document|öppna dokumentet|avaa asiakirja/i }).click();
}

describe('the signer page on a phone', () => {
  it('shows the request and renders the document, records what was displayed, and signs', async () => {
    const round = await createRound(['Aino Virtanen', 'Björn Berg']);
    const context = await phoneContext(browser);
    const { page, problems } = await openPage(context);
    await page.goto(round.signers[0]!.link);

    await page.getByLabel(/PIN/).waitFor();
    await screenshot(page, 'pin-phone');
    await expectNoSeriousAccessibilityViolations(page, 'PIN entry');

    // Before the PIN: the link was opened, nothing was displayed.
    expect((await auditEvents(round.id)).map((event) => event.type)).toContain('link_opened');
    await enterPin(page, round.signers[0]!.pin);

    await page.getByRole('heading', { name: 'Consulting agreement' }).waitFor();
    await page.getByText('Here is the agreement we discussed.').waitFor();
    await page.getByText(/Page 1 of 3/).waitFor();
    await page.locator('canvas[data-drawn="true"]').first().waitFor();
    expect(await inkOnFirstPage(page)).toBeGreaterThan(100);
    // Consent is possible once the document was displayed.
    await page.locator('#consent:enabled').waitFor();
    await screenshot(page, 'document-phone');
    // Readable on the phone: nothing wider than the screen, and the document zooms.
    expect(await page.evaluate(() => (globalThis as unknown as { document: { documentElement: { scrollWidth: number } } }).document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    const widthAt = () => page.locator('.page-holder').first().evaluate((holder) => (holder as unknown as { clientWidth: number }).clientWidth);
    const fitted = await widthAt();
    await page.getByRole('button', { name: 'Zoom in' }).click();
    await page.getByText('125 %').waitFor();
    expect(await widthAt()).toBeGreaterThan(fitted * 1.2);
    await page.getByRole('button', { name: 'Fit to width' }).click();
    await page.getByText('100 %').waitFor();
    await expectNoSeriousAccessibilityViolations(page, 'document and sign form');

    // Scroll the document to its end: the last page is drawn and reported.
    await page.locator('.pages').evaluate((pages) => pages.scrollTo(0, pages.scrollHeight));
    await page.getByText(/Page 3 of 3/).waitFor();
    await page.locator('.page-holder').last().locator('canvas[data-drawn="true"]').waitFor();

    await page.getByLabel('Your full name').fill('Aino Virtanen');
    await page.getByLabel(/I have read the document/).check();
    await page.getByRole('button', { name: 'Sign the document' }).click();
    await page.getByRole('heading', { name: /you have signed/ }).waitFor();
    await page.getByText(/We are waiting for the others\.$/).waitFor();
    await screenshot(page, 'signed-waiting-phone');
    await expectNoSeriousAccessibilityViolations(page, 'signed, waiting for others');

    // Revisiting the link after signing shows where the round stands, not the sign form again.
    await page.reload();
    await page.getByRole('heading', { name: /you have signed/ }).waitFor();
    expect(await page.getByRole('button', { name: 'Sign the document' }).count()).toBe(0);
    problems.expectNone('signing on a phone');
    await context.close();

    const signer1 = (await call(`/v1/signing-requests/${round.id}`)).body.signers[0].id as string;
    const order = (await auditEvents(round.id)).filter((event) => event.signerId === signer1).map((event) => event.type);
    const position = (type: string) => order.indexOf(type);
    expect(position('link_opened')).toBeGreaterThanOrEqual(0);
    expect(position('link_opened')).toBeLessThan(position('opened'));
    expect(position('opened')).toBeLessThan(position('viewed'));
    expect(position('viewed')).toBeLessThan(position('last_page_reached'));
    expect(position('last_page_reached')).toBeLessThan(position('signed'));
    expect(order.filter((type) => type === 'viewed')).toHaveLength(1);
  });

  it('records no `viewed` for a signer who entered the PIN but never had the document displayed, and refuses their signature', async () => {
    const round = await createRound(['Cecilia Ek']);
    const opened = await call('/v1/signer/session', { key: null, body: { token: round.signers[0]!.link.split('/s/')[1], pin: round.signers[0]!.pin } });
    expect(opened.status).toBe(200);
    const auth = { authorization: `Bearer ${opened.body.sessionToken}` };
    // Fetching the PDF is not reading it.
    expect((await call('/v1/signer/document', { key: null, headers: auth })).status).toBe(200);
    const types = (await auditEvents(round.id)).map((event) => event.type);
    expect(types).toContain('opened');
    expect(types).not.toContain('viewed');
    // Consent follows reading: no signature before the document was displayed.
    const tooEarly = await call('/v1/signer/sign', { key: null, headers: auth, body: { typedName: 'Cecilia Ek', consent: true } });
    expect(tooEarly.status).toBe(409);
    expect(tooEarly.body.error.message).toMatch(/Open the document before signing/);

    // The display report, replayed, makes one `viewed`.
    for (let i = 0; i < 3; i++) {
      const reported = await call('/v1/signer/reading-events', { key: null, headers: auth, body: { event: 'document_displayed', page: 1, pageCount: 3 } });
      expect(reported.status).toBe(200);
    }
    expect((await auditEvents(round.id)).filter((event) => event.type === 'viewed')).toHaveLength(1);
  });

  it('sends an expired session back to PIN entry, not to an error', async () => {
    const round = await createRound(['Dagny Lind']);
    const context = await phoneContext(browser);
    const { page, problems } = await openPage(context);
    const token = round.signers[0]!.link.split('/s/')[1]!;
    await page.goto(round.signers[0]!.link);
    await page.getByLabel(/PIN/).waitFor();
    await page.evaluate((key) => sessionStorage.setItem(key, 'expired.session'), `sigill.signer.${token}`);
    await page.reload();
    await page.getByText('For your security, please enter your PIN again.').waitFor();
    await enterPin(page, round.signers[0]!.pin);
    await page.getByRole('heading', { name: 'Consulting agreement' }).waitFor();
    // The refused session is a 401 the browser logs; nothing else may go wrong.
    expect(problems.list.filter((line) => !/status of 401/.test(line))).toEqual([]);
    await context.close();
  });
});

describe("in the signer's language", () => {
  it('speaks Finnish to a Finnish signer, from the PIN to the document', async () => {
    const email = uniqueEmail('ilkka');
    const created = await call('/v1/signing-requests', {
      body: {
        title: 'Vuokrasopimus',
        document: { filename: 'sopimus.pdf', contentBase64: pdfBase64 },
        signers: [{ name: 'Ilkka Salo', email, pinDelivery: 'sender', locale: 'fi' }],
      },
    });
    expect(created.status).toBe(201);
    const [invitation] = await smtp.waitForMail(email, 'Vuokrasopimus');
    const context = await phoneContext(browser, { locale: 'en-GB' });
    const { page, problems } = await openPage(context);
    await page.goto(`${api.url}/s/${signingTokenIn(invitation!)}`);
    expect(await page.locator('html').getAttribute('lang')).toBe('fi');
    await page.getByLabel('PIN-koodi (6 numeroa)').fill(created.body.signers[0].pin);
    await page.getByRole('button', { name: 'Avaa asiakirja' }).click();
    await page.getByText(/Sivu 1\/3/).waitFor();
    await page.getByLabel(/Olen lukenut asiakirjan/).waitFor();
    await screenshot(page, 'document-phone-fi');
    await expectNoSeriousAccessibilityViolations(page, 'Finnish document page');
    problems.expectNone('Finnish signer page');
    await context.close();
  });
});

describe('every state of a link has its page', () => {
  it('says an unknown link does not work, before and without asking for a PIN', async () => {
    const context = await phoneContext(browser);
    const { page } = await openPage(context);
    const response = await page.goto(`${api.url}/s/${'0'.repeat(64)}`);
    expect(response?.status()).toBe(404);
    await page.getByRole('heading', { name: 'This link does not work' }).waitFor();
    expect(await page.getByLabel(/PIN/).count()).toBe(0);
    await screenshot(page, 'unknown-link-phone');
    await expectNoSeriousAccessibilityViolations(page, 'unknown link');
    await context.close();
  });

  it('says a cancelled request has ended, revealing nothing else', async () => {
    const round = await createRound(['Eero Aho']);
    expect((await call(`/v1/signing-requests/${round.id}/cancel`, { body: { reason: 'Sent by mistake' } })).status).toBe(200);
    const context = await desktopContext(browser);
    const { page } = await openPage(context);
    await page.goto(round.signers[0]!.link);
    await page.getByRole('heading', { name: 'This signing request has ended' }).waitFor();
    expect(await page.getByLabel(/PIN/).count()).toBe(0);
    expect(await page.content()).not.toContain('Consulting agreement');
    await screenshot(page, 'ended-link-desktop');
    await expectNoSeriousAccessibilityViolations(page, 'ended link');
    await context.close();
  });

  it('locks after five wrong PINs and says what to do', async () => {
    const round = await createRound(['Frida Holm']);
    const context = await phoneContext(browser);
    const { page } = await openPage(context);
    await page.goto(round.signers[0]!.link);
    const wrong = round.signers[0]!.pin === '000000' ? '111111' : '000000';
    for (let attempt = 1; attempt <= 4; attempt++) {
      await enterPin(page, wrong);
      await page.getByText(new RegExp(`You have ${5 - attempt} attempts? left`)).waitFor();
    }
    await screenshot(page, 'wrong-pin-phone');
    await enterPin(page, wrong);
    await page.getByRole('heading', { name: 'This link is locked' }).waitFor();
    await page.getByText(/Ask them for a new PIN/).waitFor();
    await screenshot(page, 'locked-phone');
    await expectNoSeriousAccessibilityViolations(page, 'locked link');
    await page.reload();
    await page.getByRole('heading', { name: 'This link is locked' }).waitFor();
    await context.close();
  });

  it('declines with a reason after a confirmation, then shows the declined page', async () => {
    const round = await createRound(['Gunnar Ström']);
    const context = await desktopContext(browser);
    const { page, problems } = await openPage(context);
    await page.goto(round.signers[0]!.link);
    await enterPin(page, round.signers[0]!.pin);
    await page.getByRole('button', { name: 'Decline to sign…' }).click();
    await page.getByLabel('Why are you declining?').fill('The fee in section 4 is not what we agreed.');
    await screenshot(page, 'decline-desktop');
    await expectNoSeriousAccessibilityViolations(page, 'decline form');
    await page.getByRole('button', { name: 'Decline to sign', exact: true }).click();
    await page.getByText(/You declined to sign/).waitFor();
    await screenshot(page, 'declined-desktop');
    problems.expectNone('declining');
    await context.close();
    expect((await call(`/v1/signing-requests/${round.id}`)).body.status).toBe('declined');
  });
});

describe('the signer page on a desktop', () => {
  it('completes a round and offers the sealed PDF on the link', async () => {
    const round = await createRound(['Helmi Koskinen']);
    const context = await desktopContext(browser);
    const { page, problems } = await openPage(context);
    await page.goto(round.signers[0]!.link);
    await enterPin(page, round.signers[0]!.pin);
    await page.locator('canvas[data-drawn="true"]').first().waitFor();
    await screenshot(page, 'document-desktop');
    await page.getByLabel('Your full name').fill('Helmi Koskinen');
    await page.getByLabel(/I have read the document/).check();
    await page.getByRole('button', { name: 'Sign the document' }).click();
    // Alone in the round: nobody to wait for, only the seal. Read at once, before the page's poll finds it sealed.
    await page.getByRole('heading', { name: /you have signed/ }).waitFor();
    const thanks = await page.locator('body').innerText();
    expect(thanks).toContain('that was the last one needed: the document is being sealed now.');
    expect(thanks).not.toMatch(/waiting for the others|when everyone has signed|Who has signed/);
    await api.client.workflow.getHandle(workflowIdForRequest(round.id)).result();
    await page.reload();
    await page.getByRole('heading', { name: 'Everyone has signed' }).waitFor();
    const download = page.waitForEvent('download');
    await page.getByRole('link', { name: /Download the sealed document/ }).click();
    const file = await download;
    expect(file.suggestedFilename()).toBe('agreement-sealed.pdf');
    await screenshot(page, 'completed-desktop');
    await expectNoSeriousAccessibilityViolations(page, 'completed');
    problems.expectNone('completing');
    await context.close();
  });
});
