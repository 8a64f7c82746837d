/**
 * A person's way into Sigill, end to end through the real API, worker, Temporal, PostgreSQL, the SMS and
 * mail outboxes, and a real OpenID Connect provider (oidc-provider in its own process, playing Google's and
 * Microsoft's part): an admin invites a colleague and grants them a folder; the colleague chooses a password
 * from the emailed link, signs in on a new browser with the SMS code, sends a document for signing in their
 * folder and cannot see another folder; then signs in with Google (linked by verified email) and, on another
 * browser, with Microsoft plus an SMS code. Strangers and unverified emails are turned away.
 */
import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { apiClient, type Json } from '../support/api-client';
import { TestBrowser } from '../support/browser';
import { createTestOrganization, signingRequestBody } from '../support/factories';
import { freePort } from '../support/free-port';
import { openTestDataSource, startTestApi, type TestApi } from '../support/harness';
import { startLocalOidcProvider, type LocalOidcProvider } from '../support/local-oidc-provider';
import { deviceCodeIn, goodPassword, inviteMember, outboxMessage, passwordLinkIn, signIn, tokenOf } from '../support/members';
import { loginAtProvider } from '../support/oidc-browser';
import { createTestPdf } from '../support/pdf-factories';

let dataSource: DataSource;
let api: TestApi;
let provider: LocalOidcProvider;
let orgKey: string;
let pdfBase64: string;

const unique = randomUUID().slice(0, 8);
const colleague = { email: `maja-${unique}@example.test`, phone: '+46701112233', googleSub: `google-${unique}`, microsoftSub: `ms-${unique}` };

beforeAll(async () => {
  dataSource = await openTestDataSource();
  const port = await freePort();
  const callback = (name: string) => `http://127.0.0.1:${port}/v1/auth/oidc/${name}/callback`;
  provider = await startLocalOidcProvider({
    clients: [
      { clientId: 'sigill-google', clientSecret: 'google-secret-for-tests', redirectUris: [callback('google')] },
      { clientId: 'sigill-microsoft', clientSecret: 'microsoft-secret-for-tests', redirectUris: [callback('microsoft')] },
    ],
    accounts: [
      { sub: colleague.googleSub, email: colleague.email, email_verified: true, name: 'Maja' },
      { sub: colleague.microsoftSub, email: colleague.email.toUpperCase(), email_verified: true, name: 'Maja' },
      { sub: `stranger-${unique}`, email: `stranger-${unique}@example.test`, email_verified: true },
      { sub: `unverified-${unique}`, email: colleague.email, email_verified: false },
    ],
  });
  api = await startTestApi(dataSource, {
    port,
    env: {
      OIDC_GOOGLE_ISSUER: provider.issuer,
      OIDC_GOOGLE_CLIENT_ID: 'sigill-google',
      OIDC_GOOGLE_CLIENT_SECRET: 'google-secret-for-tests',
      OIDC_MICROSOFT_ISSUER: provider.issuer,
      OIDC_MICROSOFT_CLIENT_ID: 'sigill-microsoft',
      OIDC_MICROSOFT_CLIENT_SECRET: 'microsoft-secret-for-tests',
    },
  });
  orgKey = (await createTestOrganization(dataSource)).apiKey;
  pdfBase64 = Buffer.from(await createTestPdf()).toString('base64');
});
afterAll(async () => {
  await api?.close();
  await provider?.stop();
  await dataSource?.destroy();
});

const requestBody = (title: string, folderId?: string) => signingRequestBody(pdfBase64, title, folderId);

/** Follows Sigill's redirect to the provider, logs in there as `login`, and brings the browser back. */
async function signInWith(browser: TestBrowser, name: 'google' | 'microsoft', login: string) {
  const start = await browser.open(`/v1/auth/oidc/${name}`);
  expect(start.status).toBe(302);
  const callbackUrl = await loginAtProvider(start.headers.get('location')!, login);
  return browser.open(callbackUrl);
}

let sales: Json;
let legalRequest: Json;
let mayaBrowser: TestBrowser;

test('an admin invites a colleague and grants them the Sales folder', async () => {
  const org = apiClient(() => api.url, () => orgKey);
  sales = (await org('/v1/folders', { body: { name: 'Sales' } })).body;
  const legal = (await org('/v1/folders', { body: { name: 'Legal' } })).body;
  legalRequest = (await org('/v1/signing-requests', { body: requestBody('Board NDA', legal.id) })).body;
  expect(legalRequest.id).toBeDefined();

  // The admin is a person too: invited with the organisation's key, signed in through the API.
  const adminEmail = `admin-${unique}@example.test`;
  await inviteMember(api, orgKey, { email: adminEmail, role: 'admin', password: goodPassword });
  const { browser: admin } = await signIn(api, adminEmail, goodPassword);

  const invited = await admin.call('/v1/members', { body: { email: colleague.email, role: 'member', phone: colleague.phone, name: 'Maja' } });
  expect(invited.status).toBe(201);
  expect(invited.body).toMatchObject({ email: colleague.email, role: 'member', passwordSet: false });
  const granted = await admin.call(`/v1/folders/${sales.id}/grants/${invited.body.userId}`, { method: 'PUT', body: { permission: 'send' } });
  expect(granted.status).toBe(200);
});

test('the colleague chooses a password from the invitation email', async () => {
  const link = passwordLinkIn(outboxMessage(api, 'mail', 'member-invitation-'));
  const browser = new TestBrowser(api.url);
  const page = await browser.open(link.replace(api.config.http.publicUrl, ''));
  expect(page.status).toBe(200);
  expect(page.text).toContain(colleague.email);
  const saved = await browser.submit('/login/password', { token: tokenOf(link), password: goodPassword });
  expect(saved.status).toBe(200);
  expect(saved.text).toContain('Your password is saved');
});

test('signs in from a new browser with the code sent by SMS', async () => {
  mayaBrowser = new TestBrowser(api.url);
  const codePage = await mayaBrowser.submit('/login', { email: colleague.email, password: goodPassword });
  expect(codePage.status).toBe(200);
  expect(codePage.text).toContain('+46');
  expect(mayaBrowser.cookies.has('sigill_session')).toBe(false);
  const challengeId = /name="challengeId" value="([^"]+)"/.exec(codePage.text)![1]!;
  const sms = outboxMessage(api, 'sms', `device-code-${challengeId}`);
  const done = await mayaBrowser.submit('/login/code', { challengeId, code: deviceCodeIn(sms) });
  expect(done.status).toBe(303);
  expect(done.headers.get('location')).toBe('/'); // the console
  const session = await mayaBrowser.call('/v1/auth/session');
  expect(session.status).toBe(200);
  expect(session.body).toMatchObject({ user: { email: colleague.email }, organization: { role: 'member' } });
});

test('sends a document in the granted folder and cannot see another folder', async () => {
  const created = await mayaBrowser.call('/v1/signing-requests', { body: requestBody('Customer agreement', sales.id) });
  expect(created.status).toBe(201);
  const mine = await mayaBrowser.call(`/v1/signing-requests/${created.body.id}`);
  expect(mine.status).toBe(200);
  expect(mine.body.status).toMatch(/pending|in_progress|sent/);

  const listed = (await mayaBrowser.call('/v1/signing-requests')).body.items.map((item: Json) => item.id);
  expect(listed).toEqual([created.body.id]);
  expect((await mayaBrowser.call(`/v1/signing-requests/${legalRequest.id}`)).status).toBe(404);
  expect((await mayaBrowser.call(`/v1/signing-requests/${legalRequest.id}/cancel`, { body: { reason: 'not mine' } })).status).toBe(404);
  const folders = (await mayaBrowser.call('/v1/folders')).body.items.map((folder: Json) => folder.name);
  expect(folders).toEqual(['Sales']);
});

test('signs in with Google on the same browser: linked by verified email, no code needed', async () => {
  await mayaBrowser.call('/v1/auth/logout', { method: 'POST' });
  expect((await mayaBrowser.call('/v1/auth/session')).status).toBe(401);
  const back = await signInWith(mayaBrowser, 'google', colleague.googleSub);
  expect(back.status).toBe(303);
  expect(back.headers.get('location')).toBe('/'); // the console
  const session = await mayaBrowser.call('/v1/auth/session');
  expect(session.body.user.email).toBe(colleague.email);
  // Still only her folder.
  expect((await mayaBrowser.call(`/v1/signing-requests/${legalRequest.id}`)).status).toBe(404);
});

test('signs in with Microsoft on another browser: the SMS code is asked again', async () => {
  const other = new TestBrowser(api.url);
  const back = await signInWith(other, 'microsoft', colleague.microsoftSub);
  expect(back.status).toBe(303);
  const codeUrl = new URL(back.headers.get('location')!, api.url);
  expect(codeUrl.pathname).toBe('/login/code');
  expect(other.cookies.has('sigill_session')).toBe(false);
  const challengeId = codeUrl.searchParams.get('challenge')!;
  const done = await other.submit('/login/code', { challengeId, code: deviceCodeIn(outboxMessage(api, 'sms', `device-code-${challengeId}`)) });
  expect(done.status).toBe(303);
  expect((await other.call('/v1/auth/session')).body.user.email).toBe(colleague.email);
});

test('strangers and unverified emails are turned away, and no account is created', async () => {
  const stranger = await signInWith(new TestBrowser(api.url), 'google', `stranger-${unique}`);
  expect(stranger.status).toBe(403);
  expect(stranger.text).toContain('There is no Sigill account');
  const rows = await dataSource.query(`SELECT 1 FROM users WHERE email = $1`, [`stranger-${unique}@example.test`]);
  expect(rows).toHaveLength(0);

  const unverified = await signInWith(new TestBrowser(api.url), 'google', `unverified-${unique}`);
  expect(unverified.status).toBe(403);
  const identities = await dataSource.query(`SELECT subject FROM user_identities WHERE subject = $1`, [`unverified-${unique}`]);
  expect(identities).toHaveLength(0);
});

test('a callback without the browser that started the sign-in is refused', async () => {
  const browser = new TestBrowser(api.url);
  const start = await browser.open('/v1/auth/oidc/google');
  const callbackUrl = await loginAtProvider(start.headers.get('location')!, colleague.googleSub);
  // Another browser (no signed state cookie) arriving with the code, as a phished link would.
  const elsewhere = await new TestBrowser(api.url).open(callbackUrl);
  expect(elsewhere.status).toBe(400);
  expect(elsewhere.text).toContain('start again');
});

test('the organisation audit log tells the story, with an intact chain', async () => {
  const log = (await apiClient(() => api.url, () => orgKey)('/v1/audit-log')).body;
  expect(log.chain.valid).toBe(true);
  const types = log.events.map((event: Json) => event.type);
  for (const type of ['member.invited', 'grant.set', 'password.set', 'login.device_code_sent', 'login.succeeded', 'login.identity_linked', 'logout']) {
    expect(types).toContain(type);
  }
  const methods = log.events.filter((event: Json) => event.type === 'login.succeeded').map((event: Json) => event.detail.method);
  expect(methods).toEqual(expect.arrayContaining(['password', 'oidc:google', 'oidc:microsoft']));
});
