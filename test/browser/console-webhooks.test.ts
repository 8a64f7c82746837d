/**
 * Webhooks and stuck rounds in the console, in real Chromium on a phone and a desktop (issue 12 §1 and §3).
 *
 * Webhooks: an owner connects a real receiver (a plain HTTP server of this test on 127.0.0.1; the service runs
 * in development, where loopback is allowed) at /admin/webhooks: the signing secret is shown once and verifies
 * what arrives (the official `standardwebhooks` package); a round's events arrive and appear in the delivery
 * log, each linked to its request; while the receiver answers 500 a message fails and waits to retry
 * ("Retrying"), is redelivered from the page without waiting and arrives with the same `webhook-id`, and every
 * failed one since a time is redelivered at once; a new secret is shown once and both
 * secrets sign during the overlap; the endpoint is turned off and on, its events edited; a receiver answering
 * 410 turns it off, which the open page shows by itself; it is deleted after a confirmation. Read in Swedish
 * and Finnish too.
 *
 * Stuck rounds: a support member (who has no administration and sees no webhooks) opens /stuck and sees, with
 * their reasons in words, a round past its deadline (made so in the read model, as a round whose expiry never
 * happened) and a signed round whose seal keeps failing (its worker's seal key file is missing); opens one,
 * and sees it leave the list without a reload once it is no longer stuck. A quiet organisation's list says
 * nothing needs attention.
 *
 * Every page passes axe-core, shows nothing wider than the screen, and is screenshotted to
 * test-output/screenshots/console-webhooks/.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { Webhook } from 'standardwebhooks';
import type { DataSource } from 'typeorm';
import { createOrganization } from '../../src/accounts/create-organization';
import { apiClient } from '../support/api-client';
import { signingRequestBody } from '../support/factories';
import { harness, openTestDataSource, startTestApi, type TestApi } from '../support/harness';
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
import { reportDocumentDisplayed } from '../support/signer-reading';
import { signingTokenIn, startSmtpCatcher } from '../support/smtp-catcher';
import { waitFor } from '../support/wait-for';

let dataSource: DataSource;
let smtp: Awaited<ReturnType<typeof startSmtpCatcher>>;
let api: TestApi;
/** Seals with a key file that does not exist (as when its secret was not mounted): its rounds' seals keep failing. */
let brokenSeal: TestApi;
let browser: Browser;
let pdfBase64: string;
/** The organisations this file makes: its API dispatches their webhook messages (test files share the database). */
const organizationIds: string[] = [];

beforeAll(async () => {
  dataSource = await openTestDataSource();
  smtp = await startSmtpCatcher();
  // One retry a second after the first attempt, the next an hour later: a delivery to a receiver answering
  // 500 is retrying within seconds, and waits there until someone redelivers it.
  // Two failed attempts of a step make a round stuck (the stuck list is read from this API).
  const stuckAfter = { STUCK_ACTIVITY_ATTEMPTS: '2' };
  api = await startTestApi(dataSource, { env: { SMTP_URL: smtp.url, WEBHOOK_RETRY_SCHEDULE: 'PT1S,PT1H', ...stuckAfter }, webhookOrganizations: () => organizationIds });
  brokenSeal = await startTestApi(dataSource, {
    env: { SMTP_URL: smtp.url, SEAL_P12_PATH: `${harness.tempDir('missing-seal')}/seal.p12`, SEAL_P12_PASSWORD: randomUUID(), ...stuckAfter },
  });
  browser = await launchChromium();
  pdfBase64 = Buffer.from(await createTestPdf()).toString('base64');
});

afterAll(async () => {
  await browser?.close();
  await brokenSeal?.close();
  await api?.close();
  await smtp?.close();
  await dataSource?.destroy();
});

const unique = (label: string) => `${label}-${randomUUID().slice(0, 8)}@example.test`;
const anonymous = () => apiClient(() => api.url, () => null);

interface ReceivedDelivery {
  id: string;
  timestamp: string;
  signature: string;
  body: string;
  answered: number;
}

/** A receiver outside Sigill's code: records every request, answers 500 while told to fail (410 when gone), else 204. */
async function startReceiver() {
  const received: ReceivedDelivery[] = [];
  let failing: false | 500 | 410 = false;
  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const answered = failing || 204;
      received.push({
        id: String(request.headers['webhook-id']),
        timestamp: String(request.headers['webhook-timestamp']),
        signature: String(request.headers['webhook-signature']),
        body: Buffer.concat(chunks).toString('utf8'),
        answered,
      });
      response.statusCode = answered;
      response.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/sigill/webhooks`,
    received,
    fail(on: boolean | 410) {
      failing = on === true ? 500 : on;
    },
    /** Deliveries accepted (2xx) of one event type, as a subscriber would process them. */
    accepted: (type: string) => received.filter((delivery) => delivery.answered < 300 && (JSON.parse(delivery.body) as { type: string }).type === type),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** Standard Webhooks' own verification, with the headers as they arrived. */
function verifies(secret: string, delivery: ReceivedDelivery): boolean {
  try {
    new Webhook(secret).verify(delivery.body, { 'webhook-id': delivery.id, 'webhook-timestamp': delivery.timestamp, 'webhook-signature': delivery.signature });
    return true;
  } catch {
    return false;
  }
}

async function choosePassword(link: string): Promise<void> {
  const set = await anonymous()('/v1/auth/password', { body: { token: tokenOf(link), password: goodPassword } });
  if (set.status !== 200) throw new Error(`setting the password answered ${set.status}: ${JSON.stringify(set.body)}`);
}

async function organizationWithOwner(name: string) {
  const ownerEmail = unique('owner');
  const organization = await createOrganization(dataSource, { name, ownerEmail }, { publicUrl: api.url });
  organizationIds.push(organization.orgId);
  await choosePassword(organization.ownerPasswordLink!);
  return { ...organization, ownerEmail, call: apiClient(() => api.url, () => organization.apiKey) };
}

async function member(apiKey: string, role: string, name: string): Promise<string> {
  const email = unique(role);
  const invited = await apiClient(() => api.url, () => apiKey)('/v1/members', { body: { email, role, name } });
  if (invited.status !== 201) throw new Error(`inviting a ${role} answered ${invited.status}: ${JSON.stringify(invited.body)}`);
  const [invitation] = await smtp.waitForMail(email, 'invited');
  await choosePassword(passwordLinkIn(invitation!.text));
  return email;
}

/** Starts a one-signer round on `target` and signs it through the signer API: what follows is the seal. */
async function signedRound(target: TestApi, apiKey: string, title: string): Promise<string> {
  const call = apiClient(() => target.url, () => apiKey);
  const signerEmail = unique('signer');
  const created = await call('/v1/signing-requests', {
    body: { title, document: { filename: 'agreement.pdf', contentBase64: pdfBase64 }, signers: [{ name: 'Aino Virtanen', email: signerEmail, pinDelivery: 'sender' }] },
  });
  expect(created.status).toBe(201);
  const [invitation] = await smtp.waitForMail(signerEmail, 'Please sign');
  const session = await call('/v1/signer/session', { key: null, body: { token: signingTokenIn(invitation!), pin: created.body.signers[0].pin } });
  expect(session.status).toBe(200);
  await reportDocumentDisplayed(call, session.body.sessionToken);
  expect((await call('/v1/signer/sign', { key: session.body.sessionToken, body: { typedName: 'Aino Virtanen', consent: true } })).status).toBe(200);
  return created.body.id as string;
}

/** Opens `path`, is sent to /login, signs in by typing (the new-device code from the mail) and lands back on `path`. */
async function signInThroughLogin(page: Page, email: string, path: string): Promise<void> {
  await page.goto(`${api.url}${path}`);
  await page.waitForURL('**/login?**');
  await page.getByLabel('Email', { exact: true }).fill(email);
  await page.getByLabel('Password', { exact: true }).fill(goodPassword);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByLabel('Code', { exact: true }).waitFor();
  const [codeMail] = await smtp.waitForMail(email, 'sign-in code');
  await page.getByLabel('Code', { exact: true }).fill(deviceCodeIn(codeMail!.text));
  await page.getByRole('button', { name: 'Continue' }).click();
  await page.waitForURL(`${api.url}${path}`);
}

/** What every page must pass as it is now: axe-core, structure, nothing wider than the screen, no console errors. */
async function checkPage(page: Page, problems: PageProblems, name: string, lang = 'en'): Promise<void> {
  await screenshot(page, name);
  await expectNoSeriousAccessibilityViolations(page, name);
  await expectPageStructure(page, name, { lang });
  // Evaluated in the page (a string: this file is compiled without the DOM library).
  expect({ name, overflow: await page.evaluate<number>('document.documentElement.scrollWidth - window.innerWidth') }).toEqual({ name, overflow: 0 });
  problems.expectNone(name);
}

const status = (page: Page, text: string | RegExp) => page.getByRole('status').filter({ hasText: text }).waitFor();

/** The console's language switch (its label changes with the language). */
const switchLanguage = (page: Page, locale: 'en' | 'sv' | 'fi') => page.locator('header select').selectOption(locale);

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

  test('an owner connects a receiver: secret once, deliveries logged, a failed one redelivered with its id, rotation, off and on, edit, 410, delete', async () => {
    const receiver = await startReceiver();
    try {
      const owner = await organizationWithOwner(`Nordic Rentals ${viewport}`);
      await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: api.url });
      const { page, problems } = await openPage(context);

      await signInThroughLogin(page, owner.ownerEmail, '/admin/webhooks');
      await page.getByRole('heading', { level: 1, name: 'Webhooks' }).waitFor();
      await page.getByText('No endpoint yet: nothing is sent.').waitFor();
      await page.getByLabel('A signer signed').waitFor(); // the event types arrived
      await checkPage(page, problems, `${viewport}-webhooks-empty`);

      // A new endpoint: no event chosen is said at the events; "All events" ticks every one.
      await page.getByLabel('URL', { exact: true }).fill(receiver.url);
      await page.getByLabel('Description (optional)').fill('ERP integration');
      await page.getByRole('button', { name: 'Create endpoint' }).click();
      await page.getByText('Choose at least one event.').waitFor();
      await page.getByLabel('All events').check();
      expect(await page.getByLabel('A request was cancelled').isChecked()).toBe(true);
      await page.getByRole('button', { name: 'Create endpoint' }).click();

      // The secret, once.
      await page.getByRole('heading', { name: `The endpoint ${receiver.url} is ready` }).waitFor();
      await page.getByText('You will not see it again').waitFor();
      const secret = await page.getByLabel('Signing secret', { exact: true }).inputValue();
      expect(secret).toMatch(/^whsec_/);
      await page.getByRole('button', { name: 'Copy secret' }).click();
      await status(page, 'Copied to the clipboard.');
      expect(await page.evaluate('navigator.clipboard.readText()')).toBe(secret);
      await checkPage(page, problems, `${viewport}-webhook-secret-once`);
      await page.getByRole('button', { name: 'I have stored it' }).click();
      await page.getByLabel('Signing secret', { exact: true }).waitFor({ state: 'detached' });
      expect(await page.content()).not.toContain(secret);
      const row = page.getByRole('row').filter({ hasText: receiver.url });
      await row.getByText('All events').waitFor();
      await row.getByText('Receiving').waitFor();
      await checkPage(page, problems, `${viewport}-webhooks-list`);

      // A round starts: its creation reaches the receiver, signed with that secret, and shows in the log.
      const round = await owner.call('/v1/signing-requests', { body: signingRequestBody(pdfBase64, 'Lease 12') });
      expect(round.status).toBe(201);
      const [created] = await waitFor('signing_request.created at the receiver', () => {
        const found = receiver.accepted('signing_request.created');
        return found.length > 0 ? found : undefined;
      });
      expect(verifies(secret, created!)).toBe(true);
      expect(JSON.parse(created!.body)).toMatchObject({ type: 'signing_request.created', data: { signingRequestId: round.body.id, status: 'pending' } });

      await row.getByRole('link', { name: receiver.url }).click();
      await page.getByRole('heading', { level: 1, name: `Endpoint ${receiver.url}` }).waitFor();
      const deliveries = page.getByRole('list', { name: 'Delivery log' }).getByRole('listitem').filter({ has: page.getByRole('heading', { level: 3 }) });
      const createdItem = deliveries.filter({ hasText: created!.id });
      await createdItem.getByRole('heading', { name: 'A request was created' }).waitFor();
      await createdItem.getByText('Delivered', { exact: true }).waitFor();
      await createdItem.getByText('HTTP 204', { exact: true }).waitFor();
      // Each message names the request it is about, linked.
      expect(await createdItem.getByRole('link', { name: round.body.id }).getAttribute('href')).toBe(`/requests/${round.body.id}`);
      await checkPage(page, problems, `${viewport}-webhook-endpoint`);

      // The receiver fails: the cancellation's delivery fails twice and waits an hour to retry; the page shows
      // it without a reload, as retrying.
      receiver.fail(true);
      expect((await owner.call(`/v1/signing-requests/${round.body.id}/cancel`, { body: { reason: 'Wrong tenant' } })).status).toBe(200);
      const cancelledItem = deliveries.filter({ has: page.getByRole('heading', { name: 'A request was cancelled' }) });
      const attempts = cancelledItem.getByRole('list', { name: 'Attempts to deliver A request was cancelled' }).getByRole('listitem');
      await attempts.nth(1).waitFor();
      await cancelledItem.getByText('Retrying', { exact: true }).waitFor();
      await cancelledItem.getByText('Next attempt').waitFor();
      expect(await attempts.count()).toBe(2);
      expect(await attempts.filter({ hasText: 'HTTP 500' }).count()).toBe(2);
      await page.getByText(/^Deliveries have failed since /).waitFor();
      const failedId = receiver.received.find((delivery) => JSON.parse(delivery.body).type === 'signing_request.cancelled')!.id;
      await cancelledItem.getByText(failedId).waitFor();
      await checkPage(page, problems, `${viewport}-webhook-failed`);

      // Redelivered from the page, not waiting for the hour: the same message id arrives, and the log says delivered.
      receiver.fail(false);
      await cancelledItem.getByRole('button', { name: `Redeliver message ${failedId}` }).click();
      await status(page, 'The message is being sent again, with the same message id.');
      const [redelivered] = await waitFor('the redelivered cancellation', () => {
        const found = receiver.accepted('signing_request.cancelled');
        return found.length > 0 ? found : undefined;
      });
      expect(redelivered!.id).toBe(failedId);
      expect(verifies(secret, redelivered!)).toBe(true);
      await cancelledItem.getByText('Delivered', { exact: true }).waitFor();
      await cancelledItem.getByText('HTTP 204', { exact: true }).waitFor();

      // Every failed one since a time: a second round's messages fail and wait to retry, then all are sent again at once.
      receiver.fail(true);
      const second = await owner.call('/v1/signing-requests', { body: signingRequestBody(pdfBase64, 'Lease 13') });
      expect(second.status).toBe(201);
      const endpointId = (await owner.call('/v1/webhook-endpoints')).body.items[0].id as string;
      const log = (query: string) =>
        owner
          .call(`/v1/webhook-endpoints/${endpointId}/deliveries?${query}`)
          .then((answer) => answer.body.items as Array<{ messageId: string; eventType: string; attempts: unknown[] }>);
      // Counted once every pending one has failed twice and waits the hour, so the count the page announces is known.
      const failedNow = await waitFor("the second round's deliveries to fail", async () => {
        const pending = await log('status=pending');
        return pending.every((item) => item.attempts.length === 2) && pending.some((item) => item.eventType === 'signing_request.created') ? pending : undefined;
      });
      receiver.fail(false);
      await page.getByRole('button', { name: 'Redeliver all failed since then' }).click();
      await status(page, failedNow.length === 1 ? '1 failed message is being sent again.' : `${failedNow.length} failed messages are being sent again.`);
      for (const { messageId } of failedNow) {
        await waitFor(`${messageId} accepted`, () => receiver.received.some((delivery) => delivery.id === messageId && delivery.answered < 300));
      }
      await deliveries.filter({ hasText: failedNow[0]!.messageId }).getByText('Delivered', { exact: true }).waitFor();

      // A new secret: shown once, with until when the previous one signs; both sign meanwhile.
      await page.getByLabel('The previous secret keeps signing for').selectOption('PT1H');
      await page.getByRole('button', { name: 'Make a new secret' }).click();
      const question = page.getByRole('group', { name: 'Make a new signing secret?' });
      await question.and(page.locator(':focus')).waitFor();
      await question.getByText('The previous one stops signing after 1 hour.').waitFor();
      await checkPage(page, problems, `${viewport}-webhook-rotate-confirmation`);
      await question.getByRole('button', { name: 'Yes, make a new secret' }).click();
      await page.getByRole('heading', { name: 'The new signing secret' }).waitFor();
      await page.getByText(/^The previous secret also signs until /).first().waitFor();
      const newSecret = await page.getByLabel('Signing secret', { exact: true }).inputValue();
      expect(newSecret).toMatch(/^whsec_/);
      expect(newSecret).not.toBe(secret);
      await checkPage(page, problems, `${viewport}-webhook-rotated`);
      await page.getByRole('button', { name: 'I have stored it' }).click();
      expect((await owner.call(`/v1/signing-requests/${second.body.id}/cancel`, { body: { reason: 'Duplicate' } })).status).toBe(200);
      const [afterRotation] = await waitFor('a delivery after the rotation', () => {
        const found = receiver.accepted('signing_request.cancelled').filter((delivery) => JSON.parse(delivery.body).data.signingRequestId === second.body.id);
        return found.length > 0 ? found : undefined;
      });
      expect(afterRotation!.signature.split(' ')).toHaveLength(2);
      expect(verifies(newSecret, afterRotation!)).toBe(true);
      expect(verifies(secret, afterRotation!)).toBe(true);

      // Off and on again.
      await page.getByRole('button', { name: 'Turn off' }).click();
      await status(page, 'The endpoint is turned off.');
      await page.getByText(/^Turned off by an administrator\./).waitFor();
      // Nothing is sent to it, redeliveries included: none is offered.
      await page.getByText('Turn the endpoint on to send messages to it again.').waitFor();
      expect(await page.getByRole('button', { name: /^Redeliver/ }).count()).toBe(0);
      await checkPage(page, problems, `${viewport}-webhook-off`);
      expect((await owner.call(`/v1/webhook-endpoints/${endpointId}`)).body).toMatchObject({ enabled: false, disabledReason: 'manual' });
      await page.getByRole('button', { name: 'Turn on' }).click();
      await status(page, 'The endpoint is turned on.');
      expect((await owner.call(`/v1/webhook-endpoints/${endpointId}`)).body).toMatchObject({ enabled: true });

      // Only completions from now on.
      const edit = page.getByRole('form', { name: 'Change the endpoint' });
      await edit.getByLabel('All events').uncheck();
      await edit.getByLabel('A request was signed by everyone').check();
      await edit.getByRole('button', { name: 'Save changes' }).click();
      await status(page, 'Changes saved.');
      expect((await owner.call(`/v1/webhook-endpoints/${endpointId}`)).body.events).toEqual(['signing_request.completed']);

      // The receiver is gone (410): a redelivery turns the endpoint off, and the open page says so by itself.
      receiver.fail(410);
      await createdItem.getByRole('button', { name: `Redeliver message ${created!.id}` }).click();
      await page.getByText(/^Turned off: the receiver answered 410 Gone\./).waitFor();
      await page.getByRole('button', { name: 'Turn on' }).waitFor();
      expect((await owner.call(`/v1/webhook-endpoints/${endpointId}`)).body).toMatchObject({ enabled: false, disabledReason: 'gone' });

      // In Swedish and Finnish.
      await switchLanguage(page, 'sv');
      await page.getByRole('heading', { level: 1, name: `Mottagare ${receiver.url}` }).waitFor();
      await page.getByRole('heading', { name: 'Leveranslogg' }).waitFor();
      await page.getByText(/^Avstängd: mottagaren svarade 410 Gone\./).waitFor();
      await checkPage(page, problems, `${viewport}-webhook-endpoint-sv`, 'sv');
      await switchLanguage(page, 'fi');
      await page.getByRole('heading', { level: 1, name: `Vastaanottaja ${receiver.url}` }).waitFor();
      await page.getByRole('heading', { name: 'Toimitusloki' }).waitFor();
      await checkPage(page, problems, `${viewport}-webhook-endpoint-fi`, 'fi');
      await page.getByRole('link', { name: 'Kaikki webhook-vastaanottajat' }).click();
      await page.getByRole('heading', { level: 1, name: 'Webhookit' }).waitFor();
      await checkPage(page, problems, `${viewport}-webhooks-list-fi`, 'fi');
      await switchLanguage(page, 'sv');
      await page.getByRole('heading', { level: 1, name: 'Webhooks' }).waitFor();
      await page.getByRole('heading', { name: 'Ny mottagare' }).waitFor();
      await checkPage(page, problems, `${viewport}-webhooks-list-sv`, 'sv');
      await switchLanguage(page, 'en');

      // Deleted after a confirmation: back on the list, which says so.
      await page.getByRole('link', { name: receiver.url }).click();
      await page.getByRole('button', { name: `Delete the endpoint ${receiver.url}` }).click();
      const deletion = page.getByRole('group', { name: `Delete the endpoint ${receiver.url}?` });
      await deletion.and(page.locator(':focus')).waitFor();
      await checkPage(page, problems, `${viewport}-webhook-delete-confirmation`);
      await deletion.getByRole('button', { name: 'Yes, delete' }).click();
      await page.waitForURL(`${api.url}/admin/webhooks`);
      await status(page, `The endpoint ${receiver.url} was deleted.`);
      await page.getByText('No endpoint yet: nothing is sent.').waitFor();
      expect((await owner.call(`/v1/webhook-endpoints/${endpointId}`)).status).toBe(404);

      // Both rounds were cancelled: nothing of this organisation needs attention.
      await page.getByRole('navigation', { name: 'Console' }).getByRole('link', { name: 'Needs attention' }).click();
      await page.getByText('Nothing needs attention: every open round is moving on schedule.').waitFor();
      await checkPage(page, problems, `${viewport}-stuck-none`);
    } finally {
      await receiver.close();
    }
    // Two sign-in-free rounds, a dozen axe runs and waits on real retries: about a minute on a busy machine.
  }, 240_000);

  test('support staff see stuck rounds with their reasons, open one, and see it leave the list; they have no webhooks', async () => {
    const owner = await organizationWithOwner(`Stuck Rentals ${viewport}`);
    const supportEmail = await member(owner.apiKey, 'support', 'Sanna Support');
    const stuck = await owner.call('/v1/signing-requests', { body: signingRequestBody(pdfBase64, 'Lease that never expired') });
    const moving = await owner.call('/v1/signing-requests', { body: signingRequestBody(pdfBase64, 'Lease on schedule') });
    expect([stuck.status, moving.status]).toEqual([201, 201]);
    // Signed, then sealed by a worker whose seal key cannot be opened: the seal is retried, and fails again.
    await signedRound(brokenSeal, owner.apiKey, 'Lease that cannot be sealed');
    // A deadline three hours gone while the row still says pending: the expiry never happened (as when no
    // worker runs the round); the read model is what the stuck list reads.
    await dataSource.query(`UPDATE signing_requests SET expires_at = now() - interval '3 hours' WHERE id = $1`, [stuck.body.id]);

    const { page, problems } = await openPage(context);
    await signInThroughLogin(page, supportEmail, '/stuck');
    await page.getByRole('heading', { level: 1, name: 'Needs attention' }).waitFor();
    const nav = page.getByRole('navigation', { name: 'Console' });
    await nav.getByRole('link', { name: 'Needs attention' }).waitFor();
    expect(await nav.getByRole('link', { name: 'Administration' }).count()).toBe(0);
    await page.getByRole('list', { name: 'Rounds that need attention' }).waitFor();
    // Found by its link, not the list's name: the list is named in the reader's language.
    const item = page.getByRole('main').getByRole('listitem').filter({ has: page.getByRole('link', { name: 'Lease that never expired' }) });
    await item.getByText(/^Past its deadline since .+, yet still open\.$/).waitFor();
    const unsealed = page.getByRole('main').getByRole('listitem').filter({ has: page.getByRole('link', { name: 'Lease that cannot be sealed' }) });
    // The missing key file's error in words, its raw kind beside it for support staff.
    await unsealed.getByText(/^Sealing keeps failing: \d+ attempts since .+\. Last error: a configured file is missing \(a key or certificate file, for instance\)\. Code: Error:ENOENT$/).waitFor();
    await unsealed.getByText('Code: Error:ENOENT', { exact: true }).waitFor();
    await status(page, '2 rounds need attention.');
    expect(await page.getByRole('link', { name: 'Lease on schedule' }).count()).toBe(0);
    await checkPage(page, problems, `${viewport}-stuck`);
    await switchLanguage(page, 'sv');
    await item.getByText(/^Förbi sista dagen sedan .+, men fortfarande öppen\.$/).waitFor();
    await unsealed.getByText(/^Förseglingen misslyckas gång på gång: \d+ försök sedan .+\. Senaste fel: en konfigurerad fil saknas/).waitFor();
    await checkPage(page, problems, `${viewport}-stuck-sv`, 'sv');
    await switchLanguage(page, 'fi');
    await item.getByText(/^Määräaika umpeutui .+, mutta kierros on yhä auki\.$/).waitFor();
    await unsealed.getByText(/^Sinetöinti epäonnistuu toistuvasti: \d+ yritystä .+ lähtien\./).waitFor();
    await checkPage(page, problems, `${viewport}-stuck-fi`, 'fi');
    await switchLanguage(page, 'en');

    // The title opens the request's page.
    await item.getByRole('link', { name: 'Lease that never expired' }).click();
    await page.waitForURL(`${api.url}/requests/${stuck.body.id}`);
    await page.getByRole('heading', { level: 1, name: 'Lease that never expired' }).waitFor();
    // Its page says it is stuck, and why, as the list does.
    const notice = page.getByRole('note', { name: 'This round needs attention: it does not move on by itself.' });
    await notice.getByText(/^Past its deadline since .+, yet still open\.$/).waitFor();
    await checkPage(page, problems, `${viewport}-stuck-request`);

    // Once the round is no longer stuck, it leaves the open page by itself.
    await nav.getByRole('link', { name: 'Needs attention' }).click();
    await item.waitFor();
    await dataSource.query(`UPDATE signing_requests SET expires_at = now() + interval '7 days' WHERE id = $1`, [stuck.body.id]);
    await item.waitFor({ state: 'detached' });
    await status(page, '1 round needs attention.');
    await unsealed.waitFor();

    // Webhooks are administration: support is told so, and the API refuses.
    await page.goto(`${api.url}/admin/webhooks`);
    await page.getByRole('heading', { level: 1, name: 'Administration is for owners and administrators' }).waitFor();
    await checkPage(page, problems, `${viewport}-webhooks-no-access`);
    expect(await page.evaluate<number>("fetch('/v1/webhook-endpoints').then((answer) => answer.status)")).toBe(403);
  }, 180_000);
});
