/**
 * Signing in (R7): a password (or Google/Microsoft, see oidc-login.ts) proves who someone is; a browser not
 * seen before must then prove it is theirs with a one-time code sent to their phone (or email when no phone
 * is known). A correct code remembers the browser for 30 days with a signed cookie, and opens a session.
 *
 * Codes: six digits, single-use, 10 minutes, 5 tries; stored as an HMAC under a deployment key (a plain
 * hash of a six-digit code is reversed by trying all million). Every success and failure is written to the
 * organisation's audit log.
 */
import { createHmac, randomInt, randomUUID, timingSafeEqual } from 'node:crypto';
import { IsNull } from 'typeorm';
import { LoginChallenge, Membership, Organization, User, type MemberRole } from '../database/entities';
import { AppError } from '../errors';
import { deviceCodeEmail, deviceCodeSms, voiceOf } from './account-messages';
import type { AccountsContext } from './accounts-context';
import { hashPassword, needsRehash, verifyPassword } from './passwords';
import { recordOrganizationEvent, type OrganizationEventType } from './organization-audit-log';
import { queryReturning } from '../database/data-source';
import { readSignedValue, signValue } from './secret-tokens';
import { createSession, memberScope, revokeSession, type NewSession } from './sessions';

export interface RequestOrigin {
  ip: string;
  userAgent?: string;
}

export const deviceCookieName = 'sigill_device';
export const rememberDeviceMs = 30 * 24 * 3600_000;
const codeLifetimeMs = 10 * 60_000;
const maxCodeAttempts = 5;

export interface SignedIn {
  kind: 'signed-in';
  session: NewSession;
  userId: string;
  organizationId: string;
  /** Set when this sign-in verified a new browser: the cookie that remembers it. */
  rememberDevice?: { value: string; maxAgeMs: number };
}

export interface DeviceCodeRequired {
  kind: 'device-code-required';
  challengeId: string;
  channel: 'sms' | 'email';
  /** Where the code went, masked (`+46•••••89`, `a•••@example.com`). */
  sentTo: string;
  expiresAt: Date;
}

export type LoginOutcome = SignedIn | DeviceCodeRequired;

const wrongCredentials = () => new AppError('unauthenticated', 'Wrong email or password.');

export async function passwordLogin(
  ctx: AccountsContext,
  input: { email: string; password: string; organizationId?: string; deviceCookie?: string; origin: RequestOrigin },
): Promise<LoginOutcome> {
  const email = input.email.trim().toLowerCase();
  await ctx.throttle.assertMayTry(email, input.origin.ip);
  const user = await ctx.dataSource.getRepository(User).findOneBy({ email });
  const passwordMatches = await verifyPassword(user?.passwordHash, input.password);
  const memberships = user ? await membershipsOf(ctx, user.id) : [];
  if (!user || !passwordMatches) {
    const { lockedNow } = await ctx.throttle.recordFailure(email, input.origin.ip);
    for (const membership of memberships) {
      await audit(ctx, membership.organizationId, user!.id, 'login.failed', input.origin, { method: 'password', reason: 'wrong_password' });
      if (lockedNow) await audit(ctx, membership.organizationId, user!.id, 'login.locked', input.origin, { method: 'password' });
    }
    throw wrongCredentials();
  }
  await ctx.throttle.recordSuccess(email);
  if (needsRehash(user.passwordHash!)) {
    await ctx.dataSource.getRepository(User).update({ id: user.id }, { passwordHash: await hashPassword(input.password) });
  }
  return beginSignIn(ctx, user, chooseMembership(memberships, input.organizationId), 'password', input.deviceCookie, input.origin);
}

export async function membershipsOf(ctx: AccountsContext, userId: string): Promise<Membership[]> {
  return ctx.dataSource.getRepository(Membership).find({ where: { userId }, order: { createdAt: 'ASC', organizationId: 'ASC' } });
}

export function chooseMembership(memberships: Membership[], organizationId: string | undefined): Membership {
  const chosen = organizationId ? memberships.find((m) => m.organizationId === organizationId) : memberships[0];
  if (!chosen) {
    throw new AppError('forbidden', organizationId ? 'You are not a member of that organisation.' : 'Your account is not a member of any organisation.');
  }
  return chosen;
}

/**
 * After the user proved who they are: a session at once on a browser remembered for them, otherwise a
 * one-time code to their phone or email first.
 */
export async function beginSignIn(
  ctx: AccountsContext,
  user: User,
  membership: Membership,
  method: string,
  deviceCookie: string | undefined,
  origin: RequestOrigin,
): Promise<LoginOutcome> {
  if (deviceRemembered(ctx, deviceCookie, user.id)) {
    const session = await createSession(ctx.dataSource, { userId: user.id, organizationId: membership.organizationId, method });
    await audit(ctx, membership.organizationId, user.id, 'login.succeeded', origin, { method, device: 'remembered' });
    return { kind: 'signed-in', session, userId: user.id, organizationId: membership.organizationId };
  }
  return sendDeviceCode(ctx, user, membership, method, origin);
}

function deviceRemembered(ctx: AccountsContext, cookie: string | undefined, userId: string): boolean {
  const device = readSignedValue<{ u?: string; exp?: number }>(ctx.keys.deviceCookie, cookie);
  return device?.u === userId && typeof device.exp === 'number' && device.exp > Date.now();
}

function codeHash(ctx: AccountsContext, challengeId: string, code: string): Buffer {
  return createHmac('sha256', ctx.keys.deviceCode).update(`${challengeId}:${code}`).digest();
}

async function sendDeviceCode(ctx: AccountsContext, user: User, membership: Membership, method: string, origin: RequestOrigin): Promise<DeviceCodeRequired> {
  const code = String(randomInt(0, 1_000_000)).padStart(6, '0');
  const now = new Date();
  const challenge: LoginChallenge = {
    id: randomUUID(),
    userId: user.id,
    organizationId: membership.organizationId,
    codeHash: Buffer.alloc(0),
    channel: user.phone ? 'sms' : 'email',
    method,
    createdAt: now,
    expiresAt: new Date(now.getTime() + codeLifetimeMs),
    usedAt: null,
    failedAttempts: 0,
  };
  challenge.codeHash = codeHash(ctx, challenge.id, code);
  await ctx.dataSource.getRepository(LoginChallenge).insert(challenge);
  // In the language and time zone of the organisation being signed in to: the code is for it.
  const organization = voiceOf(await ctx.dataSource.getRepository(Organization).findOneByOrFail({ id: membership.organizationId }));
  const facts = { code, expiresAt: challenge.expiresAt, lifetimeMinutes: codeLifetimeMs / 60_000 };
  if (user.phone) {
    await ctx.sms.send({ messageId: `device-code-${challenge.id}`, to: user.phone, text: deviceCodeSms(organization, facts) });
  } else {
    await ctx.mailer.send({ messageId: `device-code-${challenge.id}`, to: user.email, ...deviceCodeEmail(organization, user, facts) });
  }
  await audit(ctx, membership.organizationId, user.id, 'login.device_code_sent', origin, { method, channel: challenge.channel, challengeId: challenge.id });
  return {
    kind: 'device-code-required',
    challengeId: challenge.id,
    channel: challenge.channel,
    sentTo: user.phone ? maskPhone(user.phone) : maskEmail(user.email),
    expiresAt: challenge.expiresAt,
  };
}

const codeNoLongerValid = () => new AppError('unauthenticated', 'This code has expired or was already used; sign in again.');

/** The second step: the code from the SMS or email. Right once, within 10 minutes, in at most 5 tries. */
export async function verifyDeviceCode(ctx: AccountsContext, input: { challengeId: string; code: string; origin: RequestOrigin }): Promise<SignedIn> {
  const challenges = ctx.dataSource.getRepository(LoginChallenge);
  const challenge = await challenges.findOneBy({ id: input.challengeId });
  if (!challenge || challenge.usedAt || challenge.expiresAt.getTime() <= Date.now() || challenge.failedAttempts >= maxCodeAttempts) {
    throw codeNoLongerValid();
  }
  const given = codeHash(ctx, challenge.id, input.code.trim());
  if (!timingSafeEqual(given, challenge.codeHash)) {
    const [row] = await queryReturning<{ failed_attempts: number }>(
      ctx.dataSource,
      `UPDATE login_challenges SET failed_attempts = failed_attempts + 1 WHERE id = $1 RETURNING failed_attempts`,
      [challenge.id],
    );
    await audit(ctx, challenge.organizationId, challenge.userId, 'login.device_code_failed', input.origin, { challengeId: challenge.id });
    const attemptsLeft = Math.max(0, maxCodeAttempts - (row?.failed_attempts ?? maxCodeAttempts));
    if (attemptsLeft === 0) throw codeNoLongerValid();
    throw new AppError('unauthenticated', 'Wrong code.', undefined, { attemptsLeft });
  }
  // Used at most once even when two requests race with the right code: only one update finds it unused.
  const claimed = await challenges.update({ id: challenge.id, usedAt: IsNull() }, { usedAt: new Date() });
  if (!claimed.affected) throw codeNoLongerValid();
  const membership = await ctx.dataSource.getRepository(Membership).findOneBy({ organizationId: challenge.organizationId, userId: challenge.userId });
  if (!membership) throw codeNoLongerValid();
  const session = await createSession(ctx.dataSource, { userId: challenge.userId, organizationId: challenge.organizationId, method: challenge.method });
  await audit(ctx, challenge.organizationId, challenge.userId, 'login.succeeded', input.origin, { method: challenge.method, device: 'verified' });
  return {
    kind: 'signed-in',
    session,
    userId: challenge.userId,
    organizationId: challenge.organizationId,
    rememberDevice: {
      value: signValue(ctx.keys.deviceCookie, { u: challenge.userId, d: randomUUID(), exp: Date.now() + rememberDeviceMs }),
      maxAgeMs: rememberDeviceMs,
    },
  };
}

export interface SessionView {
  user: { id: string; email: string; name: string | null };
  organization: { id: string; name: string; role: MemberRole };
  organizations: Array<{ id: string; name: string; role: MemberRole }>;
  csrfToken: string;
  expiresAt: string;
  /** Granted some folders only: organisation-wide things (privacy requests) are not theirs to see. */
  folderScoped: boolean;
}

/** Who is signed in, where, and the CSRF token their changes must carry. */
export async function describeSession(
  ctx: AccountsContext,
  session: { userId: string; organizationId: string; csrfToken: string; expiresAt: Date },
): Promise<SessionView> {
  const user = await ctx.dataSource.getRepository(User).findOneByOrFail({ id: session.userId });
  const memberships = await membershipsOf(ctx, user.id);
  const organizations = await ctx.dataSource.getRepository(Organization).findBy(memberships.map((m) => ({ id: m.organizationId })));
  const named = memberships.map((m) => ({ id: m.organizationId, name: organizations.find((o) => o.id === m.organizationId)?.name ?? '', role: m.role }));
  const organization = named.find((o) => o.id === session.organizationId)!;
  const scope = await memberScope(ctx.dataSource, session.organizationId, session.userId, organization.role);
  return {
    user: { id: user.id, email: user.email, name: user.name },
    organization,
    organizations: named,
    csrfToken: session.csrfToken,
    expiresAt: session.expiresAt.toISOString(),
    folderScoped: scope.folders !== undefined,
  };
}

async function audit(
  ctx: AccountsContext,
  organizationId: string,
  userId: string,
  type: OrganizationEventType,
  origin: RequestOrigin,
  detail: Record<string, unknown>,
): Promise<void> {
  await recordOrganizationEvent(ctx.dataSource, { organizationId, type, actor: `user:${userId}`, ip: origin.ip, userAgent: origin.userAgent, detail });
}

export function maskPhone(phone: string): string {
  return `${phone.slice(0, 3)}${'•'.repeat(Math.max(0, phone.length - 5))}${phone.slice(-2)}`;
}

export function maskEmail(email: string): string {
  const [local, domain] = email.split('@');
  return `${local!.slice(0, 1)}•••@${domain}`;
}

export async function signOut(ctx: AccountsContext, session: { sessionId: string; userId: string; organizationId: string }, origin: RequestOrigin): Promise<void> {
  await revokeSession(ctx.dataSource, session.sessionId);
  await audit(ctx, session.organizationId, session.userId, 'logout', origin, {});
}
