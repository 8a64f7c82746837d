/**
 * What people read about their own account (src/accounts/account-messages.ts): invitations, password
 * resets and new-device codes in the organisation's language, times in its zone, HTML escaped by
 * construction, links alone on their line, and no catalog key left untranslated.
 */
import {
  deviceCodeEmail,
  deviceCodeSms,
  memberInvitationEmail,
  passwordResetEmail,
  type OrganizationVoice,
} from '../../src/accounts/account-messages';
import type { Email } from '../../src/email/render-email';
import { locales, type Locale } from '../../src/i18n';

const hostile = `<script>alert("x")</script> & 'co'`;
const link = 'https://sign.example.test/login/password?token=sgp_abc-DEF_123';
// 21:30 UTC on 1 July is 2 July 00:30 in Helsinki and 23:30 on 1 July in Stockholm.
const expiresAt = new Date('2026-07-01T21:30:00Z');
const organization = (locale: Locale, overrides: Partial<OrganizationVoice> = {}): OrganizationVoice => ({
  name: 'Acme Oy',
  locale,
  timeZone: locale === 'sv' ? 'Europe/Stockholm' : locale === 'fi' ? 'Europe/Helsinki' : 'UTC',
  ...overrides,
});

const invitation = (locale: Locale, overrides: Partial<OrganizationVoice> = {}) =>
  memberInvitationEmail(
    { organization: organization(locale, overrides), inviterName: 'Sara Sändare', inviteeName: 'Maja' },
    { kind: 'choose-password', link, expiresAt },
  );
const reset = (locale: Locale) => passwordResetEmail(organization(locale), { name: 'Maja', email: 'maja@example.test' }, { url: link, expiresAt, lifetimeMinutes: 30 });
const code = (locale: Locale) => deviceCodeEmail(organization(locale), { name: null, email: 'maja@example.test' }, { code: '042917', expiresAt, lifetimeMinutes: 10 });

/** A key printed instead of its text (`account:…`), or a placeholder left unfilled. */
function expectNoMissingText(email: Email): void {
  for (const part of [email.subject, email.text, email.html]) {
    expect(part).not.toMatch(/account:|deviceCode\.|passwordReset\.|invitation\.|\{\{|\}\}/);
  }
}

describe('member invitations', () => {
  test('name the inviting person and the organisation, in the organisation’s language, with the link’s expiry in its zone', () => {
    const sv = invitation('sv');
    expect(sv.subject).toBe('Du har bjudits in till Acme Oy i Sigill');
    expect(sv.text).toContain('Hej Maja,');
    expect(sv.text).toContain('Sara Sändare har bjudit in dig till Acme Oy i Sigill.');
    expect(sv.text).toContain('Länken gäller till den 1 juli 2026 kl. 23:30');

    const fi = invitation('fi');
    expect(fi.subject).toBe('Kutsu Sigill-palveluun: Acme Oy');
    expect(fi.text).toContain('Sara Sändare on kutsunut sinut Sigill-palveluun organisaation Acme Oy käyttäjäksi.');
    expect(fi.text).toContain('Linkki on voimassa 2. heinäkuuta 2026 klo 00.30');
    expect(fi.html).toContain('<html lang="fi">');

    const en = invitation('en');
    expect(en.subject).toBe('You have been invited to Acme Oy on Sigill');
    expect(en.text).toContain('Sara Sändare has invited you to join Acme Oy on Sigill.');
    expect(en.text).toContain('1 July 2026');
  });

  test('carry the link alone on its line in the text part and as the button’s href in the HTML', () => {
    for (const locale of locales) {
      const mail = invitation(locale);
      expect({ locale, line: mail.text.split('\n').includes(link) }).toEqual({ locale, line: true });
      expect(mail.html).toContain(`href="${link}"`);
      expectNoMissingText(mail);
    }
  });

  test('sent with an API key, name the organisation alone; to someone with a password, link to sign-in', () => {
    const mail = memberInvitationEmail(
      { organization: organization('sv'), inviterName: null, inviteeName: null },
      { kind: 'sign-in', link: 'https://sign.example.test/login' },
    );
    expect(mail.text).toContain('Hej!');
    expect(mail.text).toContain('Du har fått tillgång till Acme Oy i Sigill.');
    expect(mail.text).toContain('\nhttps://sign.example.test/login\n');
    expect(mail.text).not.toContain('lösenord.\n\nVälj');
    expectNoMissingText(mail);
  });

  test('escape every value in the HTML part and keep the text part verbatim', () => {
    const mail = memberInvitationEmail(
      { organization: organization('fi', { name: hostile }), inviterName: hostile, inviteeName: hostile },
      { kind: 'choose-password', link: `${link}&next="/x"`, expiresAt },
    );
    expect(mail.html).not.toContain('<script>');
    expect(mail.html).not.toContain(`"x"`);
    expect(mail.html).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;co&#39;');
    expect(mail.html).toContain(`href="${link}&amp;next=&quot;/x&quot;"`);
    expect(mail.text).toContain(`Hei ${hostile},`);
    expect(mail.subject).toContain(hostile);
    const tags = new Set([...mail.html.matchAll(/<\/?([a-z!]+)/gi)].map((m) => m[1]!.toLowerCase()));
    expect([...tags].sort()).toEqual(['!doctype', 'a', 'body', 'div', 'head', 'html', 'meta', 'p', 'title']);
  });
});

describe('password resets', () => {
  test('say whose account, how long the link lives and when it ends, in three languages', () => {
    expect(reset('en').subject).toBe('Reset your Sigill password');
    expect(reset('en').text).toContain('The link works once and expires in 30 minutes, at 1 July 2026');
    expect(reset('sv').subject).toBe('Återställ ditt lösenord i Sigill');
    expect(reset('sv').text).toContain('Sigill-konto, maja@example.test.');
    expect(reset('sv').text).toContain('gäller i 30 minuter, till den 1 juli 2026 kl. 23:30');
    expect(reset('fi').subject).toBe('Sigill-salasanasi vaihtaminen');
    expect(reset('fi').text).toContain('vanhenee 30 minuutin kuluttua (2. heinäkuuta 2026 klo 00.30');
    for (const locale of locales) {
      const mail = reset(locale);
      expect(mail.text.split('\n')).toContain(link);
      expect(mail.html).toContain(`href="${link}"`);
      expect(mail.text).toContain('Acme Oy');
      expectNoMissingText(mail);
    }
  });
});

describe('new-device codes', () => {
  test('put the code first, alone on its line, and escape the HTML', () => {
    expect(code('en').subject).toBe('Your Sigill sign-in code');
    expect(code('sv').subject).toBe('Din inloggningskod till Sigill');
    expect(code('fi').subject).toBe('Sigill-kirjautumiskoodisi');
    for (const locale of locales) {
      const mail = code(locale);
      // The first six digits a reader (or a test) finds are the code.
      expect(/\b(\d{6})\b/.exec(mail.text)?.[1]).toBe('042917');
      expect(mail.text.split('\n')).toContain('042917');
      expect(mail.html).toContain('>042917</p>');
      expectNoMissingText(mail);
    }
    expect(code('fi').text).toContain('Hei!');
    expect(code('sv').text).toContain('gäller i 10 minuter');
    const hostileOrg = deviceCodeEmail(organization('en', { name: hostile }), { name: hostile, email: 'x@example.test' }, { code: '123456', expiresAt, lifetimeMinutes: 10 });
    expect(hostileOrg.html).not.toContain('<script>');
    expect(hostileOrg.html).toContain('&lt;script&gt;');
  });

  test('by SMS: short, the code first, in the organisation’s language', () => {
    expect(deviceCodeSms(organization('en'), { code: '042917', lifetimeMinutes: 10 })).toBe(
      'Your Sigill sign-in code is 042917. It expires in 10 minutes. If you did not just sign in, change your password.',
    );
    expect(deviceCodeSms(organization('sv'), { code: '042917', lifetimeMinutes: 10 })).toContain('Din inloggningskod till Sigill är 042917.');
    expect(deviceCodeSms(organization('fi'), { code: '042917', lifetimeMinutes: 10 })).toContain('Sigill-kirjautumiskoodisi on 042917.');
    for (const locale of locales) expect(deviceCodeSms(organization(locale), { code: '042917', lifetimeMinutes: 10 }).length).toBeLessThanOrEqual(160);
  });
});
