/**
 * What people read in emails and SMS (src/signing/messages.ts): their own language, the organisation and
 * the sending person named, dates in the organisation's zone, plurals by count, and HTML escaped by
 * construction whatever a title, name, message or reason holds.
 */
import { invitationEmail, lockedEmail, outcomeEmail, pinSms, reminderEmail, type RequestFacts } from '../../src/signing/messages';

const hostile = `<script>alert("x")</script> & 'co'`;
const request = (overrides: Partial<RequestFacts> = {}): RequestFacts => ({
  title: 'Hyresavtal',
  organizationName: 'Acme Oy',
  senderName: 'Sara Sändare',
  message: 'Hej!\nSe punkt 4.',
  expiresAt: new Date('2026-07-01T21:30:00Z'),
  timeZone: 'Europe/Helsinki',
  ...overrides,
});
const link = 'https://sign.example.test/s/0123456789abcdef';

describe('invitations', () => {
  test('name the organisation and the sending person, in the signer’s language, with the deadline in the organisation’s zone', () => {
    const sv = invitationEmail(request(), { name: 'Sven', pinDelivery: 'sms', locale: 'sv' }, link);
    expect(sv.subject).toBe('Dokument att signera: Hyresavtal');
    expect(sv.text).toContain('Sara Sändare på Acme Oy ber dig skriva under ”Hyresavtal”.');
    expect(sv.text).toContain('sms');
    // 21:30 UTC on 1 July is already 2 July in Helsinki.
    expect(sv.text).toContain('2 juli 2026');
    expect(sv.text).toContain(`\n${link}\n`);
    expect(sv.text).toContain('> Hej!\n> Se punkt 4.');

    const fi = invitationEmail(request(), { name: 'Aino', pinDelivery: 'sender', locale: 'fi' }, link);
    expect(fi.subject).toBe('Allekirjoituspyyntö: Hyresavtal');
    expect(fi.text).toContain('Sara Sändare (Acme Oy) on lähettänyt asiakirjan ”Hyresavtal” allekirjoitettavaksi.');
    expect(fi.text).toContain('2. heinäkuuta 2026');
    expect(fi.html).toContain('<html lang="fi">');

    const en = invitationEmail(request(), { name: 'Ann', pinDelivery: 'sender', locale: 'en' }, link);
    expect(en.subject).toBe('Please sign: Hyresavtal');
    expect(en.text).toContain('Sara Sändare of Acme Oy asks you to sign');
  });

  test('created with an API key, name the organisation only', () => {
    const mail = reminderEmail(request({ senderName: null }), { name: 'Ann', pinDelivery: 'sender', locale: 'en' }, link);
    expect(mail.text).toContain('“Hyresavtal” from Acme Oy is still waiting for your signature.');
    expect(mail.text).toContain('Sent by Sigill on behalf of Acme Oy.');
    expect(mail.text).not.toContain('Sara');
  });

  test('escape every value in the HTML part, and keep the text part verbatim', () => {
    const facts = request({ title: hostile, organizationName: hostile, senderName: hostile, message: hostile });
    const mail = invitationEmail(facts, { name: hostile, pinDelivery: 'sender', locale: 'sv' }, `${link}?a=1&b="2"`);
    expect(mail.html).not.toContain('<script>');
    expect(mail.html).not.toContain(`"x"`);
    expect(mail.html).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;co&#39;');
    expect(mail.html).toContain(`href="${link}?a=1&amp;b=&quot;2&quot;"`);
    expect(mail.text).toContain(hostile);
    expect(mail.subject).toContain(hostile);
    // The only markup is the renderer's own.
    const tags = new Set([...mail.html.matchAll(/<\/?([a-z!]+)/gi)].map((m) => m[1]!.toLowerCase()));
    expect([...tags].sort()).toEqual(['!doctype', 'a', 'blockquote', 'body', 'div', 'head', 'html', 'meta', 'p', 'title']);
  });
});

describe('outcomes', () => {
  test('a completion links signers to their signing page and senders to the console, with the count in plural form', () => {
    const toSigner = outcomeEmail(request(), { name: 'Aino', locale: 'fi' }, 'completed', { signerCount: 2, link: { url: link, audience: 'signer' } });
    expect(toSigner.subject).toBe('Allekirjoitettu: Hyresavtal');
    expect(toSigner.text).toContain('Kaikki 2 osapuolta ovat allekirjoittaneet');
    expect(toSigner.text).toContain(link);
    const toSender = outcomeEmail(request(), { name: 'Sara', locale: 'sv' }, 'completed', {
      signerCount: 1,
      link: { url: 'https://sign.example.test/requests/42', audience: 'sender' },
    });
    expect(toSender.text).toContain('”Hyresavtal” från Acme Oy är nu underskrivet och förseglat.');
    expect(toSender.html).toContain('href="https://sign.example.test/requests/42"');
  });

  test('a decline says who and why, the reason quoted and escaped', () => {
    const mail = outcomeEmail(request(), { name: 'Olli', locale: 'sv' }, 'declined', { decline: { signerName: 'Dana', reason: `Fel avgift.\n${hostile}` } });
    expect(mail.subject).toBe('Inte underskrivet: Hyresavtal');
    expect(mail.text).toContain('Dana har avböjt att skriva under ”Hyresavtal” från Acme Oy.');
    expect(mail.text).toContain(`Angiven anledning:\n> Fel avgift.\n> ${hostile}`);
    expect(mail.html).toContain('<blockquote');
    expect(mail.html).not.toContain('<script>');
  });
});

test('a lockout tells the sender who, when (in the organisation’s zone) and what to do', () => {
  const mail = lockedEmail(
    request({ timeZone: 'Europe/Stockholm' }),
    { name: 'Sara', locale: 'sv' },
    { name: 'Bertil', email: 'bertil@example.test', at: new Date('2026-07-01T10:30:00Z'), attempts: 5 },
    'https://sign.example.test/requests/42',
  );
  expect(mail.subject).toBe('Signeringslänken är spärrad: Hyresavtal');
  expect(mail.text).toContain('Signeringslänken för Bertil (bertil@example.test) till ”Hyresavtal” spärrades');
  expect(mail.text).toContain('12:30');
  expect(mail.text).toContain('efter 5 felaktiga PIN-koder');
  expect(mail.text).toContain('ny PIN-kod');
  expect(mail.text).toContain('https://sign.example.test/requests/42');
  const one = lockedEmail(request(), { name: 'Sara', locale: 'en' }, { name: 'B', email: 'b@example.test', at: new Date(), attempts: 1 }, link);
  expect(one.text).toContain('after 1 wrong PIN.');
});

test('the PIN SMS is in the signer’s language and carries the PIN', () => {
  expect(pinSms({ title: 'Hyresavtal', organizationName: 'Acme Oy' }, '123456', 'fi')).toBe(
    'PIN-koodi asiakirjan ”Hyresavtal” (Acme Oy) allekirjoittamiseen on 123456. Koodia ei pidä kertoa kenellekään. /Sigill',
  );
  expect(pinSms({ title: 'Hyresavtal', organizationName: 'Acme Oy' }, '123456', 'sv')).toContain('123456');
});
