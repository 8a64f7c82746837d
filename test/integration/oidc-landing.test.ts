/**
 * Google and Microsoft sign-in land where the sign-in began: `next` (a console page the browser asked for)
 * rides in the signed OIDC state cookie through the provider's pages and the new-device code, and a path
 * to another site is never followed. A real OpenID Connect provider (oidc-provider in its own process).
 */
import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { TestBrowser } from '../support/browser';
import { createTestOrganization } from '../support/factories';
import { freePort } from '../support/free-port';
import { openTestDataSource, startTestApi, type TestApi } from '../support/harness';
import { startLocalOidcProvider, type LocalOidcProvider } from '../support/local-oidc-provider';
import { deviceCodeIn, goodPassword, inviteMember, outboxMessage } from '../support/members';
import { loginAtProvider } from '../support/oidc-browser';

let dataSource: DataSource;
let api: TestApi;
let provider: LocalOidcProvider;

const unique = randomUUID().slice(0, 8);
const member = { email: `landing-${unique}@example.test`, sub: `google-landing-${unique}` };

beforeAll(async () => {
  dataSource = await openTestDataSource();
  const port = await freePort();
  provider = await startLocalOidcProvider({
    clients: [{ clientId: 'sigill-google', clientSecret: 'google-secret-for-tests', redirectUris: [`http://127.0.0.1:${port}/v1/auth/oidc/google/callback`] }],
    accounts: [{ sub: member.sub, email: member.email, email_verified: true, name: 'Landing' }],
  });
  api = await startTestApi(dataSource, {
    port,
    env: { OIDC_GOOGLE_ISSUER: provider.issuer, OIDC_GOOGLE_CLIENT_ID: 'sigill-google', OIDC_GOOGLE_CLIENT_SECRET: 'google-secret-for-tests' },
  });
  const org = await createTestOrganization(dataSource);
  await inviteMember(api, org.apiKey, { email: member.email, role: 'member', password: goodPassword });
});
afterAll(async () => {
  await api?.close();
  await provider?.stop();
  await dataSource?.destroy();
});

/** From the sign-in page's Google link (which carries `next`) through the provider, back at the callback. */
async function signInWithGoogle(browser: TestBrowser, next: string) {
  const page = await browser.open(`/login?${new URLSearchParams({ next })}`);
  const link = /<a href="([^"]*\/v1\/auth\/oidc\/google[^"]*)"/.exec(page.text)![1]!.replace(/&amp;/g, '&');
  const start = await browser.open(link);
  expect(start.status).toBe(302);
  return browser.open(await loginAtProvider(start.headers.get('location')!, member.sub));
}

test('next survives the round trip to the provider and the new-device code, then a remembered browser lands directly', async () => {
  const requestPage = `/requests/${randomUUID()}?tab=history`;
  const browser = new TestBrowser(api.url);
  const callback = await signInWithGoogle(browser, requestPage);
  // A new browser: the code step first, still carrying where to land.
  expect(callback.status).toBe(303);
  const codePage = new URL(callback.headers.get('location')!, api.url);
  expect(codePage.pathname).toBe('/login/code');
  expect(codePage.searchParams.get('next')).toBe(requestPage);
  const challengeId = codePage.searchParams.get('challenge')!;
  const form = await browser.open(`${codePage.pathname}${codePage.search}`);
  const next = /name="next" value="([^"]*)"/.exec(form.text)![1]!.replace(/&amp;/g, '&');
  const done = await browser.submit('/login/code', { challengeId, code: deviceCodeIn(outboxMessage(api, 'mail', `device-code-${challengeId}`)), next });
  expect(done.status).toBe(303);
  expect(done.headers.get('location')).toBe(requestPage);

  // The browser is remembered now: straight from the provider to the page asked for.
  const again = await signInWithGoogle(browser, '/admin/folders');
  expect(again.status).toBe(303);
  expect(again.headers.get('location')).toBe('/admin/folders');

  // Another site is never a landing place: such a `next` lands on the console's start page.
  const elsewhere = await signInWithGoogle(browser, '//evil.example/phish');
  expect(elsewhere.headers.get('location')).toBe('/');
});
