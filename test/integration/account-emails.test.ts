/**
 * Account emails in the organisation's language (issue 10 §4, §5), through the real API, PostgreSQL and
 * SMTP: a Finnish organisation's invitation, password reset and new-device code arrive in Finnish, as HTML
 * and text, their links intact in the raw .eml after quoted-printable wrapping, times in Helsinki time.
 */
import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { apiClient } from '../support/api-client';
import { TestBrowser } from '../support/browser';
import { createTestOrganization } from '../support/factories';
import { openTestDataSource, startTestApi, type TestApi } from '../support/harness';
import { deviceCodeIn, goodPassword, tokenOf } from '../support/members';
import { expectBothPartsCarry } from '../support/raw-mail';
import { startSmtpCatcher } from '../support/smtp-catcher';

// Long, with `=` and `&` in it: quoted-printable encodes `=` and wraps lines at 76 characters.
const publicUrl = `http://sign.example.test/tenant=acme-suomi/${'long-path-segment-'.repeat(4)}x=1&y=2`;
const passwordLinkPattern = /(https?:\/\/\S+\/login\/password\?token=[A-Za-z0-9_%-]+)/;

let dataSource: DataSource;
let smtp: Awaited<ReturnType<typeof startSmtpCatcher>>;
let api: TestApi;

beforeAll(async () => {
  dataSource = await openTestDataSource();
  smtp = await startSmtpCatcher();
  api = await startTestApi(dataSource, { env: { SMTP_URL: smtp.url, PUBLIC_URL: publicUrl } });
});

afterAll(async () => {
  await api?.close();
  await smtp?.close();
  await dataSource?.destroy();
});

test('a Finnish organisation’s invitation, password reset and sign-in code arrive in Finnish, as HTML and text, links intact', async () => {
  const org = await createTestOrganization(dataSource, { name: 'Suomen Sopimus Oy' });
  const admin = apiClient(() => api.url, () => org.apiKey);
  expect((await admin('/v1/organization', { method: 'PATCH', body: { defaultLocale: 'fi', timeZone: 'Europe/Helsinki' } })).status).toBe(200);
  const email = `aino-${randomUUID().slice(0, 8)}@example.test`;

  expect((await admin('/v1/members', { body: { email, role: 'member', name: 'Aino Äijälä' } })).status).toBe(201);
  const [invitation] = await smtp.waitForMail(email, 'Kutsu Sigill-palveluun: Suomen Sopimus Oy');
  const invitationLink = passwordLinkPattern.exec(invitation!.text)![1]!;
  const invited = expectBothPartsCarry(invitation!, invitationLink);
  expect(invited.text).toContain('Hei Aino Äijälä,');
  expect(invited.text).toContain('Sinut on kutsuttu Sigill-palveluun organisaation Suomen Sopimus Oy käyttäjäksi.');
  // Seven days from now, written in Helsinki time (UTC+2 or UTC+3).
  expect(invited.text).toMatch(/Linkki on voimassa \d{1,2}\. \p{L}+ \d{4} klo \d{2}\.\d{2} UTC\+[23] asti\./u);
  expect(invited.html).toContain('<html lang="fi">');
  expect(invited.html).toContain('Valitse salasana</a>');

  const anonymous = apiClient(() => api.url, () => null);
  expect((await anonymous('/v1/auth/password', { body: { token: tokenOf(invitationLink), password: goodPassword } })).status).toBe(200);

  expect((await anonymous('/v1/auth/password-reset', { body: { email } })).status).toBe(202);
  const [reset] = await smtp.waitForMail(email, 'Sigill-salasanasi vaihtaminen');
  const resetLink = passwordLinkPattern.exec(reset!.text)![1]!;
  expect(resetLink).not.toBe(invitationLink);
  const resetParts = expectBothPartsCarry(reset!, resetLink);
  expect(resetParts.text).toContain(`Olemme saaneet pyynnön vaihtaa Sigill-tunnuksesi (${email}) salasanan.`);
  expect(resetParts.text).toContain('vanhenee 30 minuutin kuluttua');

  const browser = new TestBrowser(api.url);
  const login = await browser.call('/v1/auth/login', { body: { email, password: goodPassword } });
  expect(login.body).toMatchObject({ channel: 'email' });
  const [codeMail] = await smtp.waitForMail(email, 'Sigill-kirjautumiskoodisi');
  expect(codeMail!.text).toContain('Kirjautumiskoodisi:');
  expect(codeMail!.text).toContain('Olet kirjautumassa Sigill-palveluun (Suomen Sopimus Oy)');
  expect(codeMail!.html).toContain(`>${deviceCodeIn(codeMail!.text)}</p>`);
  const verified = await browser.call('/v1/auth/login/verify', { body: { challengeId: login.body.challengeId, code: deviceCodeIn(codeMail!.text) } });
  expect(verified.status).toBe(200);
});
