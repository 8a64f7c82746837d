/**
 * The sign-in pages and /verify in Swedish, Finnish and English (issue 10 §5): the language is the reader's
 * `sigill_locale` cookie, else Accept-Language, else English; `<html lang>` says which; a use case's refusal is
 * told in that language while the JSON API stays English; /language switches and never sends anyone off-site.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { escapeHtml } from '../../src/api/html';
import { SigningRequest } from '../../src/database/entities';
import { apiClient } from '../support/api-client';
import { createTestOrganization } from '../support/factories';
import { openTestDataSource, startTestApi, type TestApi } from '../support/harness';
import { deviceCodeIn, goodPassword, inviteMember, outboxMessage, passwordLinkIn, tokenOf } from '../support/members';

let dataSource: DataSource;
let api: TestApi;
let org: { orgId: string; apiKey: string };

beforeAll(async () => {
  dataSource = await openTestDataSource();
  // No page here starts a round: the API runs without a worker.
  api = await startTestApi(dataSource, { withWorker: false });
  org = await createTestOrganization(dataSource);
});
afterAll(async () => {
  await api?.close();
  await dataSource?.destroy();
});

const uniqueEmail = (label: string) => `${label}-${randomUUID().slice(0, 8)}@example.test`;

type Reader = { acceptLanguage?: string; cookie?: string };
const swedishBrowser: Reader = { acceptLanguage: 'sv-SE,sv;q=0.9,en;q=0.8' };
// The reader chose Finnish in a switch; the browser itself asks for English.
const finnishChoice: Reader = { acceptLanguage: 'en-US,en;q=0.9', cookie: 'sigill_locale=fi' };

const headersOf = (reader: Reader, extra: Record<string, string> = {}) => ({
  ...(reader.acceptLanguage ? { 'accept-language': reader.acceptLanguage } : {}),
  ...(reader.cookie ? { cookie: reader.cookie } : {}),
  ...extra,
});

async function open(path: string, reader: Reader = {}) {
  const response = await fetch(`${api.url}${path}`, { headers: headersOf(reader), redirect: 'manual' });
  return { status: response.status, headers: response.headers, text: await response.text() };
}

async function post(path: string, fields: Record<string, string>, reader: Reader = {}) {
  const response = await fetch(`${api.url}${path}`, {
    method: 'POST',
    headers: headersOf(reader, { 'content-type': 'application/x-www-form-urlencoded' }),
    body: new URLSearchParams(fields).toString(),
    redirect: 'manual',
  });
  return { status: response.status, headers: response.headers, text: await response.text() };
}

async function postVerify(form: FormData, reader: Reader) {
  const response = await fetch(`${api.url}/verify`, { method: 'POST', headers: headersOf(reader), body: form });
  return { status: response.status, text: await response.text() };
}

const langOf = (html: string) => /<html lang="([^"]+)">/.exec(html)?.[1];
const titleOf = (html: string) => /<h1>([^<]*)<\/h1>/.exec(html)?.[1];

/** A member with a password, signed in through the pages (code step included), with the session cookie. */
async function signedInCookie(email: string): Promise<string> {
  await inviteMember(api, org.apiKey, { email, role: 'admin', password: goodPassword });
  const login = await post('/login', { email, password: goodPassword });
  const challengeId = /name="challengeId" value="([^"]+)"/.exec(login.text)![1]!;
  const done = await post('/login/code', { challengeId, code: deviceCodeIn(outboxMessage(api, 'mail', `device-code-${challengeId}`)) });
  expect(done.status).toBe(303);
  return done.headers
    .getSetCookie()
    .map((line) => line.split(';')[0]!)
    .join('; ');
}

describe('each page in the reader’s language', () => {
  test('Swedish from Accept-Language, Finnish from the cookie even when the browser asks for English', async () => {
    await inviteMember(api, org.apiKey, { email: uniqueEmail('kielet'), role: 'member' });
    const passwordPath = `/login/password?token=${encodeURIComponent(tokenOf(passwordLinkIn(outboxMessage(api, 'mail', 'member-invitation-'))))}`;
    const email = uniqueEmail('sprak');
    const session = await signedInCookie(email);
    const challengeId = randomUUID();
    const codePath = `/login/code?challenge=${challengeId}&sentTo=${encodeURIComponent('a•••@example.test')}`;
    // The code page names where the code went: a mailbox, or a phone by text message.
    const smsCodePath = `/login/code?challenge=${challengeId}&sentTo=${encodeURIComponent('+46•••67')}`;
    const [emailCodePage, smsCodePage] = [await open(codePath, {}), await open(smsCodePath, {})];
    expect([titleOf(emailCodePage.text), titleOf(smsCodePage.text)]).toEqual(['Check your email', 'Check your phone']);
    expect(emailCodePage.text).toContain('We emailed a six-digit code to a•••@example.test.');
    expect(smsCodePage.text).toContain('We sent a six-digit code by text message to +46•••67.');

    const pages: Array<[string, Reader, { sv: string[]; fi: string[] }]> = [
      ['/login', {}, { sv: ['Logga in', 'E-postadress', 'Har du glömt ditt lösenord?'], fi: ['Kirjaudu sisään', 'Salasana', 'Unohditko salasanasi?'] }],
      ['/login/forgot', {}, { sv: ['Din e-postadress', 'Skicka en länk till mig'], fi: ['Sähköpostiosoitteesi', 'Lähetä minulle linkki'] }],
      [codePath, {}, { sv: ['Kolla din e-post', 'mejlat en sexsiffrig kod till a•••@example.test'], fi: ['Tarkista sähköpostisi', 'koodin sähköpostiosoitteeseen a•••@example.test'] }],
      [smsCodePath, {}, { sv: ['Kolla din telefon', 'kod med sms till +46•••67'], fi: ['Tarkista puhelimesi', 'tekstiviestillä numeroon +46•••67'] }],
      [passwordPath, {}, { sv: ['Välkommen till', 'Spara lösenordet'], fi: ['Tervetuloa organisaatioon', 'Tallenna salasana'] }],
      ['/account', { cookie: session }, { sv: ['Ditt konto', `Du är inloggad som <strong>${email}</strong> – administratör i`], fi: ['Tilisi', 'rooli: ylläpitäjä'] }],
      ['/verify', {}, { sv: ['Verifiera ett förseglat dokument', 'Förseglad pdf-fil'], fi: ['Tarkista sinetöity asiakirja', 'Sinetöity PDF-tiedosto'] }],
    ];
    for (const [path, extra, expected] of pages) {
      const sessionCookie = extra.cookie ? `${extra.cookie}; ` : '';
      const swedish = await open(path, { ...swedishBrowser, cookie: extra.cookie });
      const finnish = await open(path, { ...finnishChoice, cookie: `${sessionCookie}${finnishChoice.cookie}` });
      const english = await open(path, { cookie: extra.cookie });
      expect({ path, status: swedish.status, lang: langOf(swedish.text) }).toEqual({ path, status: 200, lang: 'sv' });
      expect({ path, status: finnish.status, lang: langOf(finnish.text) }).toEqual({ path, status: 200, lang: 'fi' });
      expect({ path, lang: langOf(english.text) }).toEqual({ path, lang: 'en' });
      for (const text of expected.sv) expect({ path, contains: text, found: swedish.text.includes(text) }).toEqual({ path, contains: text, found: true });
      for (const text of expected.fi) expect({ path, contains: text, found: finnish.text.includes(text) }).toEqual({ path, contains: text, found: true });
      // Nothing English left on the translated page: its title differs from the English one.
      expect(titleOf(swedish.text)).not.toBe(titleOf(english.text));
      expect(titleOf(finnish.text)).not.toBe(titleOf(english.text));
      expect(swedish.headers.get('content-language')).toBe('sv');
      // The switch at the foot comes back to this very page.
      expect(swedish.text).toContain(`href="${escapeHtml(`/language?${new URLSearchParams({ to: 'fi', next: path })}`)}"`);
    }
  });

  test('a refusal from a use case is told in the page’s language; the JSON API keeps English', async () => {
    const email = uniqueEmail('neka');
    await inviteMember(api, org.apiKey, { email, role: 'member', password: goodPassword });
    const wrong = await post('/login', { email, password: 'not my password at all' }, swedishBrowser);
    expect(wrong.status).toBe(401);
    expect(wrong.text).toContain('E-postadressen eller lösenordet stämmer inte.');
    const wrongFi = await post('/login', { email, password: 'not my password at all' }, finnishChoice);
    expect(wrongFi.text).toContain('Sähköpostiosoite tai salasana on väärin.');
    const json = await apiClient(() => api.url, () => null)('/v1/auth/login', { body: { email, password: 'not my password at all' }, headers: { 'accept-language': 'sv-SE' } });
    expect(json.body.error.message).toBe('Wrong email or password.');

    // A wrong device code counts down in the reader's plural; a dead password link says so.
    const login = await post('/login', { email, password: goodPassword }, finnishChoice);
    const challengeId = /name="challengeId" value="([^"]+)"/.exec(login.text)![1]!;
    const code = deviceCodeIn(outboxMessage(api, 'mail', `device-code-${challengeId}`));
    const wrongCode = code === '000000' ? '111111' : '000000';
    const firstGuess = await post('/login/code', { challengeId, code: wrongCode }, finnishChoice);
    expect(firstGuess.text).toContain('Koodi ei ole oikein. Sinulla on 4 yritystä jäljellä.');
    const deadLink = await open(`/login/password?token=${'x'.repeat(43)}`, swedishBrowser);
    expect(deadLink.status).toBe(400);
    expect(deadLink.text).toContain('Länken gäller inte längre eller har redan använts.');
    expect(deadLink.text).toContain('Beställ en ny länk');

    // The password policy, on the page, in Finnish.
    await inviteMember(api, org.apiKey, { email: uniqueEmail('policy'), role: 'member' });
    const token = tokenOf(passwordLinkIn(outboxMessage(api, 'mail', 'member-invitation-')));
    const weak = await post('/login/password', { token, password: 'short' }, finnishChoice);
    expect(weak.status).toBe(400);
    expect(weak.text).toContain('Valitse salasana, jossa on vähintään 12 merkkiä.');
  });

  test('verify: verdicts, refusals and the sealing time in the reader’s language and conventions, in UTC said so', async () => {
    const malformed = new FormData();
    malformed.set('code', 'not-a-code');
    const refused = await postVerify(malformed, finnishChoice);
    expect(refused.status).toBe(400);
    expect(refused.text).toContain('Asiakirjatunnus on muotoa SGL-XXXX-XXXX-XXXX.');

    const unknownCode = new FormData();
    unknownCode.set('code', 'SGL-0000-0000-0000');
    const unknown = await postVerify(unknownCode, swedishBrowser);
    expect(unknown.status).toBe(404);
    expect(unknown.text).toContain('Det finns inget förseglat dokument med den här koden.');

    // A sealed request as the round leaves it (no round needed to read it back).
    const crockford = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
    const group = () => Array.from(randomBytes(4), (byte) => crockford[byte % 32]).join('');
    const documentCode = `SGL-${group()}-${group()}-${group()}`;
    const [folder] = await dataSource.query(`SELECT id FROM folders WHERE organization_id = $1 LIMIT 1`, [org.orgId]);
    await dataSource.getRepository(SigningRequest).insert({
      id: randomUUID(),
      organizationId: org.orgId,
      folderId: folder.id,
      title: 'Sealed for the verify page',
      message: null,
      documentFilename: 'sealed.pdf',
      documentCode,
      originalBlobKey: `test/${randomUUID()}`,
      originalSha256: randomBytes(32).toString('hex'),
      pageCount: 1,
      routing: 'parallel',
      reminderFirstAfterMs: 0,
      reminderEveryMs: 0,
      reminderMax: 0,
      status: 'completed',
      createdAt: new Date('2026-06-30T08:00:00Z'),
      expiresAt: new Date('2026-07-30T08:00:00Z'),
      completedAt: new Date('2026-07-01T10:29:00Z'),
      sealedAt: new Date('2026-07-01T10:30:00Z'),
      sealedBlobKey: `test/${randomUUID()}`,
      sealedSha256: randomBytes(32).toString('hex'),
      remindersSent: 0,
      createdByUserId: null,
    });
    const byCode = new FormData();
    byCode.set('code', documentCode.toLowerCase());
    const swedish = await postVerify(byCode, swedishBrowser);
    expect(swedish.status).toBe(200);
    expect(swedish.text).toContain('Koden hör till ett förseglat dokument.');
    expect(swedish.text).toMatch(/<dt>Förseglat<\/dt><dd>1 juli 2026 kl\. 10:30 UTC<\/dd>/);
    const finnish = await postVerify(byCode, finnishChoice);
    expect(finnish.text).toMatch(/<dt>Sinetöity<\/dt><dd>1\. heinäkuuta 2026 klo 10\.30 UTC<\/dd>/);
  });
});

describe('the language switch', () => {
  test('sets the cookie for a year and goes back to the page it came from', async () => {
    const switched = await open(`/language?to=sv&next=${encodeURIComponent('/login?next=/requests')}`);
    expect(switched.status).toBe(303);
    expect(switched.headers.get('location')).toBe('/login?next=/requests');
    const cookie = switched.headers.getSetCookie().find((line) => line.startsWith('sigill_locale='));
    expect(cookie).toMatch(/^sigill_locale=sv;/);
    expect(cookie).toMatch(/path=\//);
    expect(cookie).toMatch(/samesite=lax/i);
    expect(cookie).toMatch(/max-age=31536000|expires=/i);
    // The page then speaks Swedish whatever the browser asks for.
    expect(langOf((await open('/login', { acceptLanguage: 'fi', cookie: 'sigill_locale=sv' })).text)).toBe('sv');
  });

  test.each([
    ['another site', 'https://evil.example/login'],
    ['a protocol-relative address', '//evil.example/login'],
    ['a backslash browsers read as a slash', '/\\evil.example'],
    ['a header-splitting line break', '/login\r\nSet-Cookie: x=1'],
  ])('refuses %s as the page to go back to', async (_, next) => {
    const switched = await open(`/language?to=fi&next=${encodeURIComponent(next)}`);
    expect(switched.status).toBe(303);
    expect(switched.headers.get('location')).toBe('/');
  });

  test('an unknown language changes nothing', async () => {
    const switched = await open('/language?to=de&next=/verify');
    expect(switched.headers.get('location')).toBe('/verify');
    expect(switched.headers.getSetCookie().some((line) => line.startsWith('sigill_locale='))).toBe(false);
  });
});
