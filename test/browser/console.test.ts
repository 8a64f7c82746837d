/**
 * The operations console's request pages in real Chromium (issue 10 §2), as one story: an admin signs in
 * through /login, creates a two-signer request in the console (one signer Swedish, one Finnish; PINs given by
 * the sender, read from the page); signer 1 on a 390×844 phone opens the emailed link, enters the PIN, sees
 * page 1 drawn, scrolls to the end and signs; signer 2 reads the page in Finnish and signs; the console, open
 * all along and never reloaded, shows both signatures arrive and offers the sealed PDF, whose audit page says
 * "Document displayed" after "PIN accepted" and before "Signed" for both. Then the list (search, CSV), the
 * actions on a pending request (a new PIN shown once, cancel with a reason), and who sees what: support staff
 * see the request and its workflow history and get 403 on both PDFs; a viewer sees no actions and is refused
 * when acting anyway; another organisation's member finds nothing. Every console page passes axe-core on a
 * phone and a desktop and is screenshotted to test-output/screenshots/console/.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import type { DataSource } from 'typeorm';
import { createOrganization } from '../../src/accounts/create-organization';
import { apiClient } from '../support/api-client';
import { openTestDataSource, startTestApi, type TestApi } from '../support/harness';
import { deviceCodeIn, goodPassword, passwordLinkIn, tokenOf } from '../support/members';
import { createTestPdf } from '../support/pdf-factories';
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
import { signingTokenIn, startSmtpCatcher } from '../support/smtp-catcher';

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

async function newContext(kind: 'phone' | 'desktop'): Promise<BrowserContext> {
  const context = kind === 'phone' ? await phoneContext(browser) : await desktopContext(browser);
  contexts.push(context);
  return context;
}

/** An organisation with an owner (password chosen) and its first API key. */
async function organizationWithOwner(name: string) {
  const ownerEmail = unique('owner');
  const organization = await createOrganization(dataSource, { name, ownerEmail }, { publicUrl: api.url });
  await choosePassword(organization.ownerPasswordLink!);
  return { ...organization, ownerEmail };
}

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

const signIns = new Map<string, number>();

/** Opens `path`, is sent to /login, signs in by typing (the new-device code from the mail) and lands back on `path`. */
async function signInThroughLogin(page: Page, email: string, pathname: string): Promise<void> {
  await page.goto(`${api.url}${pathname}`);
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
  await page.waitForURL(`${api.url}${pathname}`);
}

/** What every console page must pass, as it is now: axe-core, structure, no console errors; and a screenshot. */
async function checkPage(page: Page, problems: PageProblems, name: string, expected: { lang?: string; allowed?: RegExp[] } = {}): Promise<void> {
  await screenshot(page, name);
  await expectNoSeriousAccessibilityViolations(page, name);
  await expectPageStructure(page, name, { lang: expected.lang ?? 'en' });
  const unexpected = problems.list.filter((line) => !(expected.allowed ?? []).some((allowed) => allowed.test(line)));
  if (unexpected.length > 0) throw new Error(`${name}: the page reported ${unexpected.length} problem(s):\n  ${unexpected.join('\n  ')}`);
}

// What the functions below use in the page (this program is type-checked without the DOM library).
interface PageCanvas {
  width: number;
  height: number;
  getContext(kind: '2d'): { getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray } } | null;
}
declare const window: { consoleLoadedOnce?: string };
declare class DataTransfer {
  items: { add(file: unknown): void };
}
declare class File {
  constructor(parts: unknown[], name: string, options: { type: string });
}

/** Non-white pixels of the first drawn page: an empty canvas has none. */
const inkOnFirstPage = (page: Page) =>
  page.locator('canvas[data-drawn="true"]').first().evaluate((element) => {
    const canvas = element as unknown as PageCanvas;
    const { data } = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height);
    let ink = 0;
    for (let i = 0; i < data.length; i += 4) if (data[i]! < 200 || data[i + 1]! < 200 || data[i + 2]! < 200) ink++;
    return ink;
  });

/** The text of a PDF as poppler's pdftotext reads it (layout kept, so lines stay in order). */
function pdfText(bytes: Buffer): string {
  const file = path.join(os.tmpdir(), `console-test-${randomUUID()}.pdf`);
  fs.writeFileSync(file, bytes);
  try {
    return execFileSync('pdftotext', ['-layout', file, '-'], { encoding: 'utf8' });
  } finally {
    fs.rmSync(file, { force: true });
  }
}

/** Chromium logs every 4xx answer to a fetch; the refusals a test provokes on purpose are let through by name. */
const refused = (status: number, pathPattern: string) =>
  new RegExp(`^console error: Failed to load resource: the server responded with a status of ${status} .*\\(http://[^/]+${pathPattern}\\)$`);

describe('the console, from a new request to the sealed PDF', () => {
  test('an admin sends a request from the console, two signers sign on their own devices, the console follows without a reload; support, viewer and outsiders see what they may', async () => {
    const organization = await organizationWithOwner(`Nordic Rentals ${randomUUID().slice(0, 4)}`);
    const adminEmail = (await member(organization.apiKey, 'admin', 'Anna Admin')).email;
    const supportEmail = (await member(organization.apiKey, 'support', 'Sam Support')).email;
    // The viewer is even granted `send` on the folder: the role caps it to following.
    const viewer = await member(organization.apiKey, 'viewer', 'Vera Viewer');
    const viewerEmail = viewer.email;
    const asOrganization = apiClient(() => api.url, () => organization.apiKey);
    const defaultFolder = ((await asOrganization('/v1/folders')).body.items as Array<{ id: string; isDefault: boolean }>).find((folder) => folder.isDefault)!;
    expect((await asOrganization(`/v1/folders/${defaultFolder.id}/grants/${viewer.userId}`, { method: 'PUT', body: { permission: 'send' } })).status).toBe(200);
    const outsider = await organizationWithOwner(`Other Company ${randomUUID().slice(0, 4)}`);
    const pdf = Buffer.from(await createTestPdf([{ text: 'Page one of the lease' }, {}, { text: 'The last page' }]));

    // The admin opens the console at /, signs in and lands back on it: an empty list.
    const desktop = await newContext('desktop');
    const { page: consolePage, problems: consoleProblems } = await openPage(desktop);
    await signInThroughLogin(consolePage, adminEmail, '/');
    await consolePage.getByRole('heading', { level: 1, name: 'Signing requests' }).waitFor();
    await consolePage.getByText('No signing requests yet.').waitFor();
    await checkPage(consolePage, consoleProblems, 'desktop-list-empty');

    // A new request: the PDF dropped on the page, two signers in Swedish and Finnish.
    await consolePage.getByRole('link', { name: 'New request' }).click();
    await consolePage.getByRole('heading', { level: 1, name: 'New signing request' }).waitFor();
    await checkPage(consolePage, consoleProblems, 'desktop-new-request');
    await consolePage.getByLabel('Title').fill('Lease agreement');
    const dropped = await consolePage.evaluateHandle(
      ([bytes]) => {
        const transfer = new DataTransfer();
        transfer.items.add(new File([new Uint8Array(bytes)], 'lease.pdf', { type: 'application/pdf' }));
        return transfer;
      },
      [[...pdf]] as const,
    );
    await consolePage.locator('.drop-zone').dispatchEvent('drop', { dataTransfer: dropped });
    await consolePage.getByText(/Chosen: lease\.pdf/).waitFor();
    const signer1 = { name: 'Åsa Öberg', email: unique('asa') };
    const signer2 = { name: 'Matti Meikäläinen', email: unique('matti') };
    const signerFields = consolePage.locator('fieldset.signer-fields');
    await signerFields.nth(0).getByLabel('Full name').fill(signer1.name);
    await signerFields.nth(0).getByLabel('Email').fill(signer1.email);
    await signerFields.nth(0).getByLabel('Language').selectOption('sv');
    await consolePage.getByRole('button', { name: 'Add a signer' }).click();
    await signerFields.nth(1).getByLabel('Full name').fill(signer2.name);
    await signerFields.nth(1).getByLabel('Email').fill('matti at example');
    await signerFields.nth(1).getByLabel('Language').selectOption('fi');
    await consolePage.getByLabel('One after another, in this order').check();
    await consolePage.getByLabel('Message to the signers (optional)').fill('Hello!\nHere is the lease we discussed.');

    // The API's field error appears at its field; nothing was created.
    await consolePage.getByRole('button', { name: 'Send for signing' }).click();
    await consolePage.getByRole('alert').filter({ hasText: 'Please check the marked fields.' }).waitFor();
    const secondEmail = signerFields.nth(1).getByLabel('Email');
    await signerFields.nth(1).locator('input[type="email"][aria-invalid="true"]').waitFor();
    const errorId = await secondEmail.getAttribute('aria-describedby');
    // In the reader's words, with the API's own (English) rule beside it as a detail.
    expect(await consolePage.locator(`#${errorId}`).textContent()).toMatch(/^Check this value\. \(Server message: .*email address.*\)$/);
    await checkPage(consolePage, consoleProblems, 'desktop-new-request-field-error', { allowed: [refused(400, '/v1/signing-requests')] });
    expect((await apiClient(() => api.url, () => organization.apiKey)('/v1/signing-requests')).body.items).toEqual([]);

    // Corrected and sent (the button is disabled while sending: one request, whatever the clicks).
    await secondEmail.fill(signer2.email);
    await consolePage.getByRole('button', { name: 'Send for signing' }).click();
    await consolePage.getByRole('heading', { level: 1, name: 'Sent for signing' }).waitFor();
    const pin1 = (await consolePage.locator(`.pin[data-signer-email="${signer1.email}"]`).textContent())!.trim();
    const pin2 = (await consolePage.locator(`.pin[data-signer-email="${signer2.email}"]`).textContent())!.trim();
    expect(pin1).toMatch(/^\d{6}$/);
    expect(pin2).toMatch(/^\d{6}$/);
    await checkPage(consolePage, consoleProblems, 'desktop-new-request-created', { allowed: [refused(400, '/v1/signing-requests')] });

    // The request's page, pending, with the sender's actions.
    await consolePage.getByRole('link', { name: 'Open the request' }).click();
    await consolePage.getByRole('heading', { level: 1, name: 'Lease agreement' }).waitFor();
    const requestPath = new URL(consolePage.url()).pathname;
    const requestId = requestPath.split('/').pop()!;
    await consolePage.getByRole('button', { name: 'Send a reminder now' }).waitFor();
    await consolePage.getByRole('link', { name: 'Download original PDF' }).waitFor();
    await consolePage.getByText('Workflow history').waitFor();
    await consolePage.locator('.history-steps li').first().waitFor();
    // The workflow's steps in plain words (not the API's English summaries): who was invited, what the round waits for.
    await consolePage.locator('.history-steps li', { hasText: `Invitation sent to signer 1 (${signer1.name})` }).waitFor();
    await consolePage.locator('.history-steps li', { hasText: /Waiting until the (next reminder|deadline) \(/ }).waitFor();
    expect(await consolePage.locator('.history-steps .step-summary[lang="en"]').count()).toBe(0);
    // The code-version marker is the engine's bookkeeping: shown only with every step.
    const versionStep = consolePage.locator('.history-steps li', { hasText: 'Code version recorded' });
    expect(await versionStep.count()).toBe(0);
    await consolePage.getByLabel('Show every step').check();
    await versionStep.first().waitFor();
    await consolePage.getByLabel('Show every step').uncheck();
    await versionStep.first().waitFor({ state: 'detached' });
    await checkPage(consolePage, consoleProblems, 'desktop-request-pending', { allowed: [refused(400, '/v1/signing-requests')] });
    // The page stays open from here on; a marker in the window tells whether it was ever reloaded.
    await consolePage.evaluate(() => {
      window.consoleLoadedOnce = 'yes';
    });

    // Signer 1, on a phone, in Swedish: the link from the email, the PIN, page 1 drawn, to the end, signed.
    const [invitation1] = await smtp.waitForMail(signer1.email, '');
    const phone = await newContext('phone');
    const { page: signerPage, problems: signerProblems } = await openPage(phone);
    await signerPage.goto(`${api.url}/s/${signingTokenIn(invitation1!)}`);
    await signerPage.getByLabel(/PIN/).fill(pin1);
    await signerPage.getByRole('button', { name: 'Öppna dokumentet' }).click();
    await signerPage.getByRole('heading', { name: 'Lease agreement' }).waitFor();
    await signerPage.locator('canvas[data-drawn="true"]').first().waitFor();
    expect(await inkOnFirstPage(signerPage)).toBeGreaterThan(100);
    await signerPage.locator('.pages').evaluate((pages) => pages.scrollTo(0, pages.scrollHeight));
    await signerPage.locator('.page-holder').last().locator('canvas[data-drawn="true"]').waitFor();
    await signerPage.getByLabel('Ditt för- och efternamn').fill(signer1.name);
    await signerPage.getByLabel(/Jag har läst dokumentet/).check();
    await signerPage.getByRole('button', { name: 'Skriv under dokumentet' }).click();
    await signerPage.getByRole('heading', { name: /du har skrivit under/ }).waitFor();
    signerProblems.expectNone('signer 1 on a phone');

    // The console shows the first signature arrive, without a reload.
    await consolePage.getByText('1 of 2 signed').waitFor();

    // Signer 2 (sequential: invited after signer 1 signed) reads the page in Finnish and signs.
    const [invitation2] = await smtp.waitForMail(signer2.email, '');
    const { page: finnishPage, problems: finnishProblems } = await openPage(await newContext('desktop'));
    await finnishPage.goto(`${api.url}/s/${signingTokenIn(invitation2!)}`);
    await finnishPage.getByRole('heading', { name: 'Avaa asiakirjasi' }).waitFor();
    await finnishPage.getByLabel('PIN-koodi (6 numeroa)').fill(pin2);
    await finnishPage.getByRole('button', { name: 'Avaa asiakirja' }).click();
    await finnishPage.locator('canvas[data-drawn="true"]').first().waitFor();
    await finnishPage.getByLabel('Koko nimesi').fill(signer2.name);
    await finnishPage.getByLabel(/Olen lukenut asiakirjan/).check();
    await finnishPage.getByRole('button', { name: 'Allekirjoita asiakirja' }).click();
    await finnishPage.getByText(/Kaikki ovat allekirjoittaneet|olet allekirjoittanut/).first().waitFor();
    finnishProblems.expectNone('signer 2 in Finnish');

    // The console: both signatures, then the sealed PDF, with no reload.
    await consolePage.getByText('2 of 2 signed').waitFor();
    const sealedLink = consolePage.getByRole('link', { name: 'Download sealed PDF' });
    await sealedLink.waitFor({ timeout: 60_000 });
    expect(await consolePage.evaluate(() => window.consoleLoadedOnce)).toBe('yes');
    await consolePage.locator('.badge', { hasText: 'Signed by everyone' }).waitFor();
    await checkPage(consolePage, consoleProblems, 'desktop-request-completed', { allowed: [refused(400, '/v1/signing-requests')] });
    const [download] = await Promise.all([consolePage.waitForEvent('download'), sealedLink.click()]);
    const sealed = fs.readFileSync((await download.path())!);
    expect(sealed.subarray(0, 5).toString()).toBe('%PDF-');

    // The sealed PDF's audit page: for each signer, PIN accepted → Document displayed → Signed.
    const text = pdfText(sealed);
    for (const signer of [signer1, signer2]) {
      const lines = text.split('\n').filter((line) => line.includes(signer.name) || line.includes(signer.email));
      const order = (label: string) => lines.findIndex((line) => line.includes(label));
      expect({ signer: signer.name, pinAccepted: order('PIN accepted') >= 0, displayed: order('Document displayed') >= 0 }).toEqual({
        signer: signer.name,
        pinAccepted: true,
        displayed: true,
      });
      expect(order('PIN accepted')).toBeLessThan(order('Document displayed'));
      expect(order('Document displayed')).toBeLessThan(order('Signed'));
    }

    // Back to the list (client-side, still no reload): the request with both signatures; a request created
    // elsewhere (through the API) appears by itself.
    await consolePage.getByRole('link', { name: 'All requests' }).click();
    await consolePage.locator('.request-item', { hasText: 'Lease agreement' }).getByText('2 of 2 signed').waitFor();
    const nils = { name: 'Nils Holm', email: unique('nils') };
    const created = await apiClient(() => api.url, () => organization.apiKey)('/v1/signing-requests', {
      body: { title: 'Pending NDA', document: { filename: 'nda.pdf', contentBase64: pdf.toString('base64') }, signers: [{ ...nils, pinDelivery: 'sender' }] },
    });
    expect(created.status).toBe(201);
    const pendingId = created.body.id as string;
    await consolePage.locator('.request-item', { hasText: 'Pending NDA' }).getByText('0 of 1 signed').waitFor();
    expect(await consolePage.evaluate(() => window.consoleLoadedOnce)).toBe('yes');
    await checkPage(consolePage, consoleProblems, 'desktop-list', { allowed: [refused(400, '/v1/signing-requests')] });

    // Search by a signer's name; the CSV export is exactly the filtered list.
    await consolePage.getByLabel('Search').fill('meikäläinen');
    await consolePage.getByRole('button', { name: 'Show', exact: true }).click();
    await consolePage.waitForURL(/q=meik/);
    await consolePage.locator('.request-item', { hasText: 'Pending NDA' }).waitFor({ state: 'detached' });
    await consolePage.locator('.request-item', { hasText: 'Lease agreement' }).waitFor();
    expect(await consolePage.locator('.request-item').count()).toBe(1);
    const csvHref = (await consolePage.getByRole('link', { name: 'Export CSV' }).getAttribute('href'))!;
    const csv = await consolePage.request.get(`${api.url}${csvHref}`);
    expect(csv.status()).toBe(200);
    const csvRows = (await csv.text()).trim().split('\r\n');
    expect(csvRows).toHaveLength(2);
    expect(csvRows[1]).toContain('Lease agreement');
    expect(csvRows[1]).toContain(`${signer2.name} <${signer2.email}>: signed`);
    expect(csv.headers()['x-sigill-truncated']).toBeUndefined();
    // An export cut at the row limit is said beside the link (the API's header, here on a stand-in answer:
    // ten thousand requests are beyond this test; test/integration/signing-request-management.test.ts cuts a real one).
    await consolePage.route('**/v1/signing-requests/export.csv*', (route) =>
      route.request().method() === 'HEAD' ? route.fulfill({ status: 200, headers: { 'x-sigill-truncated': 'true' } }) : route.continue(),
    );
    const exportDownload = consolePage.waitForEvent('download');
    await consolePage.getByRole('link', { name: 'Export CSV' }).click();
    await exportDownload;
    await consolePage.getByRole('status').filter({ hasText: 'The file holds only the newest 10,000 requests' }).waitFor();
    await consolePage.unroute('**/v1/signing-requests/export.csv*');
    // Created from tomorrow (in the organisation's zone): nothing.
    await consolePage.getByRole('button', { name: 'Clear filters' }).click();
    await consolePage.getByLabel('Created from').fill(new Date(Date.now() + 86_400_000).toISOString().slice(0, 10));
    await consolePage.getByRole('button', { name: 'Show', exact: true }).click();
    await consolePage.getByText('No requests match these filters.').waitFor();
    await consolePage.getByRole('button', { name: 'Clear filters' }).click();

    // A viewer follows the pending request: no actions, and acting anyway is refused by the API.
    const { page: viewerPage, problems: viewerProblems } = await openPage(await newContext('desktop'));
    await signInThroughLogin(viewerPage, viewerEmail, `/requests/${pendingId}`);
    await viewerPage.getByRole('heading', { level: 1, name: 'Pending NDA' }).waitFor();
    await viewerPage.locator('.history-steps li').first().waitFor();
    await viewerPage.locator('.timeline li', { hasText: 'Invitation sent' }).waitFor();
    expect(await viewerPage.getByRole('button', { name: /reminder|cancel|PIN/i }).count()).toBe(0);
    expect(await viewerPage.getByRole('heading', { name: 'Actions' }).count()).toBe(0);
    await checkPage(viewerPage, viewerProblems, 'desktop-request-viewer');
    const viewerSession = await (await viewerPage.request.get(`${api.url}/v1/auth/session`)).json();
    for (const action of ['remind', 'cancel']) {
      const acted = await viewerPage.request.post(`${api.url}/v1/signing-requests/${pendingId}/${action}`, {
        headers: { 'x-csrf-token': viewerSession.csrfToken },
        data: action === 'cancel' ? { reason: 'not mine to cancel' } : {},
      });
      expect({ action, status: acted.status(), code: (await acted.json()).error.code }).toEqual({ action, status: 403, code: 'forbidden' });
    }

    // The admin on the pending request: a new PIN, shown once; then cancelled with a reason.
    await consolePage.getByRole('link', { name: 'Pending NDA' }).click();
    await consolePage.getByRole('heading', { level: 1, name: 'Pending NDA' }).waitFor();
    await consolePage.getByRole('button', { name: `New PIN for ${nils.name}` }).click();
    const newPin = (await consolePage.locator('.pin-once .pin').textContent())!.trim();
    expect(newPin).toMatch(/^\d{6}$/);
    await consolePage.locator('.timeline li', { hasText: 'New PIN issued' }).waitFor();
    await checkPage(consolePage, consoleProblems, 'desktop-request-new-pin', { allowed: [refused(400, '/v1/signing-requests')] });
    await consolePage.getByRole('button', { name: 'Cancel the request…' }).click();
    await consolePage.getByLabel('Why is the request cancelled?').fill('Sent to the wrong person');
    await consolePage.getByRole('button', { name: 'Cancel the request', exact: true }).click();
    await consolePage.locator('.badge', { hasText: 'Cancelled' }).waitFor();
    await consolePage.locator('.audit-events li', { hasText: 'Request cancelled' }).waitFor();
    expect(await consolePage.getByRole('button', { name: 'Send a reminder now' }).count()).toBe(0);
    expect(consoleProblems.list.filter((line) => !refused(400, '/v1/signing-requests').test(line))).toEqual([]);

    // Support staff, on a phone: the request, its audit trail and workflow history; no documents (403), no actions.
    const { page: supportPage, problems: supportProblems } = await openPage(await newContext('phone'));
    await signInThroughLogin(supportPage, supportEmail, requestPath);
    await supportPage.getByRole('heading', { level: 1, name: 'Lease agreement' }).waitFor();
    await supportPage.getByText(/^Chain intact: all \d+ events are linked and unchanged\.$/).waitFor();
    await supportPage.locator('.history-steps li', { hasText: 'Signed document sealed' }).waitFor();
    expect(await supportPage.getByRole('link', { name: /Download/ }).count()).toBe(0);
    expect(await supportPage.getByRole('button', { name: /reminder|cancel|PIN/i }).count()).toBe(0);
    await checkPage(supportPage, supportProblems, 'phone-request-support');
    for (const document of ['original', 'document']) {
      const read = await supportPage.request.get(`${api.url}/v1/signing-requests/${requestId}/${document}`);
      expect({ document, status: read.status() }).toEqual({ document, status: 403 });
    }

    // Another organisation's member: not found, in the console and in the API.
    const { page: outsiderPage, problems: outsiderProblems } = await openPage(await newContext('phone'));
    await signInThroughLogin(outsiderPage, outsider.ownerEmail, requestPath);
    await outsiderPage.getByRole('heading', { level: 1, name: 'Request not found' }).waitFor();
    expect(await outsiderPage.getByText('Lease agreement').count()).toBe(0);
    await checkPage(outsiderPage, outsiderProblems, 'phone-request-not-found', { allowed: [refused(404, `/v1/signing-requests/${requestId}[^ ]*`)] });
    expect((await outsiderPage.request.get(`${api.url}/v1/signing-requests/${requestId}`)).status()).toBe(404);
    expect((await outsiderPage.request.get(`${api.url}/v1/signing-requests/${requestId}/history`)).status()).toBe(404);
    await outsiderPage.goto(`${api.url}/`);
    await outsiderPage.getByText('No signing requests yet.').waitFor();

    // The admin on a phone: the list (also in Finnish), a new request, a request.
    const { page: phonePage, problems: phoneProblems } = await openPage(await newContext('phone'));
    await signInThroughLogin(phonePage, adminEmail, '/');
    await phonePage.locator('.request-item', { hasText: 'Lease agreement' }).waitFor();
    await checkPage(phonePage, phoneProblems, 'phone-list');
    await phonePage.getByLabel('Language').selectOption('fi');
    await phonePage.getByRole('heading', { level: 1, name: 'Allekirjoituspyynnöt' }).waitFor();
    await phonePage.locator('.request-item', { hasText: 'Lease agreement' }).getByText('Allekirjoittaneita 2/2').waitFor();
    await checkPage(phonePage, phoneProblems, 'phone-list-fi', { lang: 'fi' });
    await phonePage.getByLabel('Kieli').selectOption('sv');
    await phonePage.getByRole('link', { name: 'Ny förfrågan' }).click();
    await phonePage.getByRole('heading', { level: 1, name: 'Ny signeringsförfrågan' }).waitFor();
    await checkPage(phonePage, phoneProblems, 'phone-new-request-sv', { lang: 'sv' });
    await phonePage.locator('.console-header select').selectOption('en');
    await phonePage.getByRole('link', { name: 'All requests' }).click();
    await phonePage.getByRole('link', { name: 'Lease agreement' }).click();
    await phonePage.getByRole('heading', { level: 1, name: 'Lease agreement' }).waitFor();
    await phonePage.getByRole('link', { name: 'Download sealed PDF' }).waitFor();
    await checkPage(phonePage, phoneProblems, 'phone-request-completed');
    // The history in Finnish too: the steps said in Finnish, the round's end with the request's status.
    await phonePage.locator('.console-header select').selectOption('fi');
    await phonePage.locator('.history-steps li', { hasText: `Kutsu lähetetty allekirjoittajalle 2 (${signer2.name})` }).waitFor();
    await phonePage.locator('.history-steps li', { hasText: 'Allekirjoituskierros päättyi: Kaikki ovat allekirjoittaneet' }).waitFor();
    await phonePage.locator('.console-header select').selectOption('en');
    // Addresses that cannot name a request are "no such page", without a call to the API (and without a blank page).
    for (const address of ['/requests/%E0', '/requests/not-a-request-id']) {
      await phonePage.goto(`${api.url}${address}`);
      await phonePage.getByRole('heading', { level: 1, name: 'There is no such page.' }).waitFor();
    }
    await phonePage.goto(`${api.url}${requestPath}`);
    await phonePage.getByRole('heading', { level: 1, name: 'Lease agreement' }).waitFor();
    await phonePage.getByRole('link', { name: 'All requests' }).click();
    await phonePage.getByRole('link', { name: 'New request' }).click();
    await phonePage.getByRole('heading', { level: 1, name: 'New signing request' }).waitFor();
    await checkPage(phonePage, phoneProblems, 'phone-new-request');
  });
});
