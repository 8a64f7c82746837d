/**
 * Password login (R7, R18) through the real API and PostgreSQL: invitation and password links, the password
 * policy, new-device codes (hashed, single-use, expiring), session cookies and CSRF, the brute-force limits,
 * and the organisation's audit log of it all.
 */
import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { apiClient, type Json } from '../support/api-client';
import { TestBrowser } from '../support/browser';
import { createTestOrganization } from '../support/factories';
import { openTestDataSource, startTestApi, type TestApi } from '../support/harness';
import { deviceCodeIn, goodPassword, inviteMember, outboxMessage, passwordLinkIn, signIn, tokenOf } from '../support/members';

let dataSource: DataSource;
let api: TestApi;
let orgKey: string;

beforeAll(async () => {
  dataSource = await openTestDataSource();
  api = await startTestApi(dataSource);
  orgKey = (await createTestOrganization(dataSource)).apiKey;
});
afterAll(async () => {
  await api?.close();
  await dataSource?.destroy();
});

const anonymous = () => apiClient(() => api.url, () => null);
const admin = () => apiClient(() => api.url, () => orgKey);
const uniqueEmail = (label: string) => `${label}-${randomUUID().slice(0, 8)}@example.test`;

describe('invitation and password', () => {
  test('an invited member chooses a password from the emailed single-use link; weak passwords are refused', async () => {
    const email = uniqueEmail('ines');
    await inviteMember(api, orgKey, { email, role: 'member' });
    const token = tokenOf(passwordLinkIn(outboxMessage(api, 'mail', 'member-invitation-')));

    for (const [password, problem] of [
      ['short pass', 'at least 12'],
      [email, 'email'],
      [email.split('@')[0]!, 'email'],
      ['aaaaaaaaaaaaaaaa', 'repeated'],
    ] as const) {
      const refused = await anonymous()('/v1/auth/password', { body: { token, password } });
      expect(refused.status).toBe(400);
      expect(refused.body.error.message).toContain(problem);
    }
    const set = await anonymous()('/v1/auth/password', { body: { token, password: goodPassword } });
    expect(set).toMatchObject({ status: 200, body: { email } });
    const again = await anonymous()('/v1/auth/password', { body: { token, password: `${goodPassword}!` } });
    expect(again.status).toBe(400);
    expect(again.body.error.message).toMatch(/expired or was already used/);

    // Stored as an argon2id hash, never the password.
    const [row] = await dataSource.query(`SELECT password_hash FROM users WHERE email = $1`, [email]);
    expect(row.password_hash).toMatch(/^\$argon2id\$v=19\$m=19456,p=1,t=2\$/);
    expect(row.password_hash).not.toContain(goodPassword);
  });

  test('a password reset link works once, within its time, and ends open sessions', async () => {
    const email = uniqueEmail('reset');
    await inviteMember(api, orgKey, { email, role: 'member', password: goodPassword });
    const { browser } = await signIn(api, email, goodPassword);
    expect((await browser.call('/v1/auth/session')).status).toBe(200);

    expect((await anonymous()('/v1/auth/password-reset', { body: { email } })).status).toBe(202);
    // Unknown addresses get the same answer.
    expect((await anonymous()('/v1/auth/password-reset', { body: { email: uniqueEmail('nobody') } })).status).toBe(202);
    const token = tokenOf(passwordLinkIn(outboxMessage(api, 'mail', 'password-reset-')));
    const page = await browser.open(`/login/password?token=${encodeURIComponent(token)}`);
    expect(page.status).toBe(200);
    expect(page.text).toContain(email);

    const newPassword = 'a brand new passphrase';
    expect((await anonymous()('/v1/auth/password', { body: { token, password: newPassword } })).status).toBe(200);
    expect((await browser.call('/v1/auth/session')).status).toBe(401);
    expect((await anonymous()('/v1/auth/login', { body: { email, password: goodPassword } })).status).toBe(401);
    expect((await browser.call('/v1/auth/login', { body: { email, password: newPassword } })).status).toBe(200);

    // An expired link is refused.
    await anonymous()('/v1/auth/password-reset', { body: { email } });
    const stale = tokenOf(passwordLinkIn(outboxMessage(api, 'mail', 'password-reset-')));
    await dataSource.query(`UPDATE password_tokens SET expires_at = now() - interval '1 second' WHERE used_at IS NULL AND user_id = (SELECT id FROM users WHERE email = $1)`, [email]);
    expect((await anonymous()('/v1/auth/password', { body: { token: stale, password: 'yet another passphrase' } })).status).toBe(400);
  });
});

describe('new-device verification', () => {
  test('a new browser needs the SMS code; the code is stored hashed; the browser is then remembered', async () => {
    const email = uniqueEmail('sms');
    await inviteMember(api, orgKey, { email, role: 'member', phone: '+46701234567', password: goodPassword });
    const browser = new TestBrowser(api.url);
    const login = await browser.call('/v1/auth/login', { body: { email, password: goodPassword } });
    expect(login.status).toBe(202);
    expect(login.body).toMatchObject({ status: 'device_code_required', channel: 'sms', sentTo: expect.stringMatching(/^\+46•+67$/) });
    expect(login.setCookies).toEqual([]);
    const code = deviceCodeIn(outboxMessage(api, 'sms', `device-code-${login.body.challengeId}`));

    const [stored] = await dataSource.query(`SELECT code_hash FROM login_challenges WHERE id = $1`, [login.body.challengeId]);
    expect(Buffer.from(stored.code_hash).toString('latin1')).not.toContain(code);
    expect(Buffer.from(stored.code_hash).toString('hex')).not.toContain(Buffer.from(code).toString('hex'));

    const verified = await browser.call('/v1/auth/login/verify', { body: { challengeId: login.body.challengeId, code } });
    expect(verified.status).toBe(200);
    expect(verified.body.user.email).toBe(email);
    const session = verified.setCookies.find((line) => line.startsWith('sigill_session='))!;
    expect(session).toMatch(/httponly/i);
    expect(session).toMatch(/samesite=lax/i);
    expect(session).not.toMatch(/;\s*secure/i); // PUBLIC_URL is http here
    expect(verified.setCookies.find((line) => line.startsWith('sigill_device='))).toMatch(/httponly/i);

    // Same browser, next time: no code.
    expect((await browser.call('/v1/auth/logout', { method: 'POST' })).status).toBe(204);
    expect((await browser.call('/v1/auth/login', { body: { email, password: goodPassword } })).status).toBe(200);
    // Another browser: a code again.
    expect((await new TestBrowser(api.url).call('/v1/auth/login', { body: { email, password: goodPassword } })).status).toBe(202);
  });

  test('a used code, an expired code and a sixth guess are refused', async () => {
    const email = uniqueEmail('codes');
    await inviteMember(api, orgKey, { email, role: 'member', password: goodPassword });
    const first = new TestBrowser(api.url);
    const login = await first.call('/v1/auth/login', { body: { email, password: goodPassword } });
    expect(login.body.channel).toBe('email');
    const code = deviceCodeIn(outboxMessage(api, 'mail', `device-code-${login.body.challengeId}`));
    expect((await first.call('/v1/auth/login/verify', { body: { challengeId: login.body.challengeId, code } })).status).toBe(200);

    // Used: refused, even from another browser.
    const replay = await new TestBrowser(api.url).call('/v1/auth/login/verify', { body: { challengeId: login.body.challengeId, code } });
    expect(replay.status).toBe(401);
    expect(replay.body.error.message).toMatch(/expired or was already used/);

    // Expired: refused.
    const second = new TestBrowser(api.url);
    const late = await second.call('/v1/auth/login', { body: { email, password: goodPassword } });
    const lateCode = deviceCodeIn(outboxMessage(api, 'mail', `device-code-${late.body.challengeId}`));
    await dataSource.query(`UPDATE login_challenges SET expires_at = now() - interval '1 second' WHERE id = $1`, [late.body.challengeId]);
    expect((await second.call('/v1/auth/login/verify', { body: { challengeId: late.body.challengeId, code: lateCode } })).status).toBe(401);
    expect(second.cookies.has('sigill_session')).toBe(false);

    // Five wrong guesses use the challenge up: the right code afterwards is refused.
    const third = new TestBrowser(api.url);
    const guessed = await third.call('/v1/auth/login', { body: { email, password: goodPassword } });
    const rightCode = deviceCodeIn(outboxMessage(api, 'mail', `device-code-${guessed.body.challengeId}`));
    const wrongCode = rightCode === '000000' ? '111111' : '000000';
    const answers: Json[] = [];
    for (let i = 0; i < 5; i++) answers.push((await third.call('/v1/auth/login/verify', { body: { challengeId: guessed.body.challengeId, code: wrongCode } })).body);
    expect(answers.slice(0, 4).map((a) => a.attemptsLeft)).toEqual([4, 3, 2, 1]);
    const after = await third.call('/v1/auth/login/verify', { body: { challengeId: guessed.body.challengeId, code: rightCode } });
    expect(after.status).toBe(401);
    expect(third.cookies.has('sigill_session')).toBe(false);
  });
});

describe('brute force', () => {
  test('20 wrong passwords from one IP are throttled and never succeed; the right one is refused while locked', async () => {
    const email = uniqueEmail('target');
    await inviteMember(api, orgKey, { email, role: 'member', password: goodPassword });
    const statuses: number[] = [];
    for (let i = 0; i < 20; i++) {
      const attempt = await anonymous()('/v1/auth/login', { body: { email, password: `wrong password ${i}` } });
      statuses.push(attempt.status);
      if (attempt.status === 429) expect(Number(attempt.headers.get('retry-after'))).toBeGreaterThan(0);
    }
    expect(statuses.slice(0, 5)).toEqual([401, 401, 401, 401, 401]);
    expect(statuses.slice(5)).toEqual(Array(15).fill(429));
    expect(statuses).not.toContain(200);
    expect(statuses).not.toContain(202);
    const right = await anonymous()('/v1/auth/login', { body: { email, password: goodPassword } });
    expect(right.status).toBe(429);

    // The failures and the lock are in the organisation's audit log, with an intact chain.
    const log = (await admin()('/v1/audit-log')).body;
    expect(log.chain.valid).toBe(true);
    const { userId } = (await admin()('/v1/members')).body.items.find((m: Json) => m.email === email);
    const mine = log.events.filter((e: Json) => e.actor === `user:${userId}`).map((e: Json) => e.type);
    expect(mine.filter((t: string) => t === 'login.failed')).toHaveLength(5);
    expect(mine).toContain('login.locked');
  });

  test('one IP spraying passwords over many accounts is blocked after 10 failures', async () => {
    const sprayApi = await startTestApi(dataSource, { withWorker: false });
    try {
      const call = apiClient(() => sprayApi.url, () => null);
      const statuses: number[] = [];
      for (let i = 0; i < 12; i++) statuses.push((await call('/v1/auth/login', { body: { email: uniqueEmail('spray'), password: 'Summer2026!!' } })).status);
      expect(statuses.slice(0, 10)).toEqual(Array(10).fill(401));
      expect(statuses.slice(10)).toEqual([429, 429]);
    } finally {
      await sprayApi.close();
    }
  });

  test('unknown and known emails answer alike', async () => {
    const email = uniqueEmail('known');
    await inviteMember(api, orgKey, { email, role: 'member', password: goodPassword });
    const known = await anonymous()('/v1/auth/login', { body: { email, password: 'not the password' } });
    const unknown = await anonymous()('/v1/auth/login', { body: { email: uniqueEmail('unknown'), password: 'not the password' } });
    expect(known.status).toBe(401);
    expect(unknown.status).toBe(401);
    expect(unknown.body).toEqual(known.body);
  });
});

describe('sessions', () => {
  test('changes made with the session cookie need the CSRF header; logout ends the session', async () => {
    const email = uniqueEmail('csrf');
    await inviteMember(api, orgKey, { email, role: 'admin', password: goodPassword });
    const { browser } = await signIn(api, email, goodPassword);
    const forged = await browser.call('/v1/folders', { body: { name: `Forged ${randomUUID()}` }, csrf: false });
    expect(forged.status).toBe(403);
    expect(forged.body.error.code).toBe('csrf_token_invalid');
    const wrong = await browser.call('/v1/folders', { body: { name: `Forged ${randomUUID()}` }, csrf: false, headers: { 'x-csrf-token': 'guess' } });
    expect(wrong.status).toBe(403);
    const made = await browser.call('/v1/folders', { body: { name: `Made ${randomUUID()}` } });
    expect(made.status).toBe(201);
    expect((await browser.call('/v1/auth/logout', { method: 'POST', csrf: false })).status).toBe(403);
    expect((await browser.call('/v1/auth/logout', { method: 'POST' })).status).toBe(204);
    expect((await browser.call('/v1/folders')).status).toBe(401);
  });

  test('cookies are Secure when PUBLIC_URL is https', async () => {
    const httpsApi = await startTestApi(dataSource, { withWorker: false, env: { PUBLIC_URL: 'https://sign.example.test' } });
    try {
      const key = (await createTestOrganization(dataSource)).apiKey;
      const email = uniqueEmail('secure');
      await inviteMember(httpsApi, key, { email, role: 'member', password: goodPassword });
      const raw = new TestBrowser(httpsApi.url);
      const login = await raw.call('/v1/auth/login', { body: { email, password: goodPassword } });
      const code = deviceCodeIn(outboxMessage(httpsApi, 'mail', `device-code-${login.body.challengeId}`));
      const verified = await raw.call('/v1/auth/login/verify', { body: { challengeId: login.body.challengeId, code } });
      expect(verified.status).toBe(200);
      for (const line of verified.setCookies) expect(line).toMatch(/;\s*secure/i);
    } finally {
      await httpsApi.close();
    }
  });

  test('the sign-in page works without JavaScript, code step included', async () => {
    const email = uniqueEmail('page');
    await inviteMember(api, orgKey, { email, role: 'member', password: goodPassword });
    const browser = new TestBrowser(api.url);
    expect((await browser.open('/login')).text).toContain('name="password"');
    const codePage = await browser.submit('/login', { email, password: goodPassword });
    expect(codePage.status).toBe(200);
    const challengeId = /name="challengeId" value="([^"]+)"/.exec(codePage.text)![1]!;
    const code = deviceCodeIn(outboxMessage(api, 'mail', `device-code-${challengeId}`));
    const done = await browser.submit('/login/code', { challengeId, code });
    expect(done.status).toBe(303);
    expect(done.headers.get('location')).toBe('/'); // no `next`: the console
    const account = await browser.open('/account');
    expect(account.text).toContain(email);
    const csrf = /name="_csrf" value="([^"]+)"/.exec(account.text)![1]!;
    expect((await browser.submit('/logout', { _csrf: csrf })).status).toBe(303);
    expect((await browser.open('/account')).status).toBe(302);
    const wrong = await browser.submit('/login', { email, password: 'not my password at all' });
    expect(wrong.status).toBe(401);
    expect(wrong.text).toContain('Wrong email or password');
  });
});

describe('organisation audit log', () => {
  test('concurrent admin actions each get their own position in one intact chain', async () => {
    const org = await createTestOrganization(dataSource);
    const key = apiClient(() => api.url, () => org.apiKey);
    const made = await Promise.all(Array.from({ length: 8 }, (_, i) => key('/v1/folders', { body: { name: `Parallel ${i}` } })));
    expect(made.map((response) => response.status)).toEqual(Array(8).fill(201));
    const log = (await key('/v1/audit-log')).body;
    expect(log.chain.valid).toBe(true);
    expect(log.events.map((event: Json) => event.sequence)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(new Set(log.events.map((event: Json) => event.detail.folderId))).toEqual(new Set(made.map((response) => response.body.id)));

    // Rows edited behind the service's back break the chain where they were changed.
    await dataSource.query(`ALTER TABLE organization_audit_events DISABLE TRIGGER organization_audit_events_append_only`);
    try {
      await dataSource.query(`UPDATE organization_audit_events SET actor = 'user:someone-else' WHERE organization_id = $1 AND sequence = 5`, [org.orgId]);
    } finally {
      await dataSource.query(`ALTER TABLE organization_audit_events ENABLE TRIGGER organization_audit_events_append_only`);
    }
    const broken = (await key('/v1/audit-log')).body;
    expect(broken.chain).toMatchObject({ valid: false, firstBrokenEvent: { sequence: 5, reason: 'hash_mismatch' } });
    await expect(dataSource.query(`DELETE FROM organization_audit_events WHERE organization_id = $1`, [org.orgId])).rejects.toThrow(/append-only/);
  });
});
