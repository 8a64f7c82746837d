/**
 * People in tests, the way they arrive in production: an admin invites them over the API, they choose a
 * password from the emailed link, and they sign in, reading the new-device code from the SMS or mail outbox.
 */
import fs from 'node:fs';
import path from 'node:path';
import { apiClient, type Json } from './api-client';
import { TestBrowser } from './browser';
import type { TestApi } from './harness';

export const goodPassword = 'correct horse battery staple';

/** The newest outbox message (mail `.eml` or SMS `.json`) whose file name starts with `prefix`. */
export function outboxMessage(api: TestApi, kind: 'mail' | 'sms', prefix: string): string {
  const dir = path.join(api.config.dataDir, 'outbox', kind);
  const files = fs.existsSync(dir) ? fs.readdirSync(dir).filter((name) => name.startsWith(prefix) && !name.endsWith('.partial')) : [];
  if (files.length === 0) throw new Error(`no ${kind} message ${prefix}* in the outbox`);
  const newest = files.map((name) => ({ name, at: fs.statSync(path.join(dir, name)).mtimeMs })).sort((a, b) => b.at - a.at)[0]!;
  const content = fs.readFileSync(path.join(dir, newest.name), 'utf8');
  return kind === 'sms' ? (JSON.parse(content) as { text: string }).text : decodeQuotedPrintable(content);
}

function decodeQuotedPrintable(eml: string): string {
  return eml.replace(/=\r?\n/g, '').replace(/=([0-9A-F]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
}

/** The link an invitation or reset email carries. */
export function passwordLinkIn(text: string): string {
  const match = /(https?:\/\/\S+\/login\/password\?token=[A-Za-z0-9_%-]+)/.exec(text);
  if (!match) throw new Error('no password link in the message');
  return match[1]!;
}

export const tokenOf = (link: string) => decodeURIComponent(new URL(link).searchParams.get('token')!);

export function deviceCodeIn(text: string): string {
  const match = /\b(\d{6})\b/.exec(text);
  if (!match) throw new Error('no code in the message');
  return match[1]!;
}

/** Invites through the API with `adminKey`, then sets the password from the emailed link. */
export async function inviteMember(
  api: TestApi,
  adminKey: string,
  input: { email: string; role: string; phone?: string; name?: string; password?: string },
): Promise<{ userId: string }> {
  const admin = apiClient(() => api.url, () => adminKey);
  const invited = await admin('/v1/members', { body: { email: input.email, role: input.role, phone: input.phone, name: input.name } });
  if (invited.status !== 201) throw new Error(`invitation failed: ${invited.status} ${JSON.stringify(invited.body)}`);
  const userId = invited.body.userId as string;
  if (input.password !== undefined) {
    const link = passwordLinkIn(outboxMessage(api, 'mail', `member-invitation-`));
    const set = await apiClient(() => api.url, () => null)('/v1/auth/password', { body: { token: tokenOf(link), password: input.password } });
    if (set.status !== 200) throw new Error(`setting the password failed: ${set.status} ${JSON.stringify(set.body)}`);
  }
  return { userId };
}

/** Signs in on `browser` (a new one by default), answering the new-device code from the outbox. */
export async function signIn(api: TestApi, email: string, password: string, browser = new TestBrowser(api.url)): Promise<{ browser: TestBrowser; session: Json }> {
  const login = await browser.call('/v1/auth/login', { body: { email, password } });
  if (login.status === 200) return { browser, session: login.body };
  if (login.status !== 202) throw new Error(`sign-in failed: ${login.status} ${JSON.stringify(login.body)}`);
  const kind = login.body.channel === 'sms' ? 'sms' : 'mail';
  const code = deviceCodeIn(outboxMessage(api, kind, `device-code-${login.body.challengeId}`));
  const verified = await browser.call('/v1/auth/login/verify', { body: { challengeId: login.body.challengeId, code } });
  if (verified.status !== 200) throw new Error(`device code refused: ${verified.status} ${JSON.stringify(verified.body)}`);
  return { browser, session: verified.body };
}
