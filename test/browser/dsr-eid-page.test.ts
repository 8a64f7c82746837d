/**
 * The requester's status page with eID (issue 14 part 4), in real Chromium against a real OpenID Connect
 * provider playing a BankID broker: on a 360 px phone the code entry offers "Identify with eID"; identifying
 * there brings the requester back to their page with the request's status (identity confirmed) without any
 * code; a cancelled identification says so next to the code entry. Every page passes axe-core.
 * Screenshots in test-output/screenshots/dsr-eid-page/.
 */
import { randomInt, randomUUID } from 'node:crypto';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import type { DataSource } from 'typeorm';
import { apiClient } from '../support/api-client';
import { freePort, startLocalEidBroker, type LocalEidBroker } from '../support/eid-broker';
import { createTestOrganization } from '../support/factories';
import { openTestDataSource, startTestApi, type TestApi } from '../support/harness';
import { outboxMessage } from '../support/members';
import { expectNoSeriousAccessibilityViolations, launchChromium, openPage, phoneContext, screenshot, type PageProblems } from '../support/real-browser';
import { waitFor } from '../support/wait-for';

const linnea = { sub: `linnea-${randomUUID().slice(0, 8)}`, name: 'Linnea Lund', birthdate: '1980-01-01', nationalId: `19800101${randomInt(1000, 9999)}` };

let dataSource: DataSource;
let broker: LocalEidBroker;
let api: TestApi;
let browser: Browser;
let org: { orgId: string; apiKey: string; slug: string };
const contexts: BrowserContext[] = [];
const call = apiClient(() => api.url, () => org.apiKey);

beforeAll(async () => {
  dataSource = await openTestDataSource();
  const port = await freePort();
  broker = await startLocalEidBroker({ port, people: [linnea] });
  api = await startTestApi(dataSource, { port, env: broker.env });
  org = await createTestOrganization(dataSource);
  browser = await launchChromium();
});

afterAll(async () => {
  for (const context of contexts) await context.close().catch(() => undefined);
  await browser?.close();
  await api?.close();
  await broker?.stop();
  await dataSource?.destroy();
});

async function requesterLink(): Promise<{ id: string; link: string }> {
  const created = await call('/v1/data-subject-requests', { body: { type: 'access', requester: { name: linnea.name, email: `linnea-${randomUUID()}@example.test` } } });
  expect(created.status).toBe(201);
  const text = await waitFor('the confirmation email', () => {
    try {
      return outboxMessage(api, 'mail', `dsr-code-${created.body.id}-v1`);
    } catch {
      return undefined;
    }
  });
  return { id: created.body.id, link: /https?:\/\/\S+\/privacy\/[a-z0-9-]+\/r\/[0-9a-f]{64}/.exec(text)![0] };
}

async function smallPhone(): Promise<{ page: Page; problems: PageProblems }> {
  const context = await phoneContext(browser, { viewport: { width: 360, height: 740 } });
  contexts.push(context);
  return openPage(context);
}

/** What went wrong on our pages: the broker's own pages are not ours. */
const ourProblems = (problems: PageProblems) => problems.list.filter((line) => !line.includes(`(${broker.provider.issuer}/`));

test('the requester identifies with eID from the code entry and lands on their status, identity confirmed', async () => {
  const request = await requesterLink();
  const { page, problems } = await smallPhone();
  await page.goto(request.link);
  await page.getByRole('heading', { name: 'Confirm it is you' }).waitFor();
  await page.getByRole('heading', { name: 'Or identify with eID' }).waitFor();
  await screenshot(page, 'code-or-eid-360');
  await expectNoSeriousAccessibilityViolations(page, 'code entry with eID');

  await page.getByRole('button', { name: 'Identify with eID' }).click();
  const login = page.locator('input[name="login"]');
  await login.waitFor();
  await login.fill(linnea.sub);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL((url) => url.pathname.startsWith('/privacy/'));
  await page.getByRole('heading', { name: 'Your access request' }).waitFor();
  await page.getByText('Identity confirmed').waitFor();
  // The `?eid=ok` is read once and dropped from the address.
  expect(new URL(page.url()).search).toBe('');
  await screenshot(page, 'status-after-eid-360');
  await expectNoSeriousAccessibilityViolations(page, 'status after eID');
  expect((await call(`/v1/data-subject-requests/${request.id}`)).body).toMatchObject({ identityMethod: 'eid' });
  expect(ourProblems(problems)).toEqual([]);
});

test('a cancelled identification is said next to the code entry, and eID can be tried again', async () => {
  const request = await requesterLink();
  const { page } = await smallPhone();
  await page.goto(`${request.link}?eid=cancelled`);
  await page.getByText('The eID identification was cancelled. Try again, or enter the code.').waitFor();
  await page.getByRole('button', { name: 'Identify with eID' }).waitFor();
  await page.getByLabel('Code').waitFor();
  await screenshot(page, 'eid-cancelled-360');
});
