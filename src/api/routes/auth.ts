import { z } from 'zod';
import type { Context } from 'koa';
import type { AccountsContext } from '../../accounts/accounts-context';
import { describeSession, passwordLogin, signOut, verifyDeviceCode, type LoginOutcome, type RequestOrigin } from '../../accounts/login';
import { requestPasswordReset, setPasswordWithLink } from '../../accounts/password-links';
import { memberRoles } from '../../accounts/members';
import { maxPasswordLength } from '../../accounts/passwords';
import type { UserPrincipal } from '../../accounts/sessions';
import { AppError } from '../../errors';
import type { Principal } from '../principal';
import { defineRoute } from '../route';
import { clearSessionCookie, deviceCookie, setSignInCookies } from '../session-cookies';

const email = z.email('must be an email address').max(254);
const role = z.enum(memberRoles);

export const sessionBody = z.object({
  user: z.object({ id: z.uuid(), email: z.string(), name: z.string().nullable() }),
  organization: z.object({ id: z.uuid(), name: z.string(), role }),
  organizations: z.array(z.object({ id: z.uuid(), name: z.string(), role })).describe('Every organisation the user belongs to'),
  csrfToken: z.string().describe('Send as the X-CSRF-Token header on every change made with the session cookie'),
  expiresAt: z.iso.datetime(),
  folderScoped: z.boolean().describe('Granted some folders only: organisation-wide data such as privacy requests answers 403'),
});

const deviceCodeBody = z.object({
  status: z.literal('device_code_required'),
  challengeId: z.uuid(),
  channel: z.enum(['sms', 'email']),
  sentTo: z.string().describe('Where the code went, masked'),
  expiresAt: z.iso.datetime(),
});

export const origin = (ctx: Context): RequestOrigin => ({ ip: ctx.ip, userAgent: ctx.get('user-agent') || undefined });

export function signedInMember(principal: Principal | undefined): UserPrincipal {
  if (principal?.kind !== 'user') throw new AppError('forbidden', 'This is for signed-in members (a session cookie), not API keys.');
  return principal;
}

/** Per-IP budgets in front of the per-credential lockout (src/accounts/login-throttle.ts). */
const loginRateLimit = { points: 60, windowSeconds: 15 * 60 };
const codeRateLimit = { points: 30, windowSeconds: 15 * 60 };
/** Each reset request sends an email: few per address. */
const passwordResetRateLimit = { points: 10, windowSeconds: 15 * 60 };
/** Link tokens cannot be guessed (256 bits); this only bounds the hashing work one address can cause. */
const setPasswordRateLimit = { points: 60, windowSeconds: 15 * 60 };

/** Password login with new-device codes, sessions, logout, and password links (R7). */
export function authRoutes(accounts: AccountsContext) {
  async function answer(ctx: Context, outcome: LoginOutcome) {
    if (outcome.kind === 'device-code-required') {
      return {
        status: 202,
        body: {
          status: 'device_code_required' as const,
          challengeId: outcome.challengeId,
          channel: outcome.channel,
          sentTo: outcome.sentTo,
          expiresAt: outcome.expiresAt.toISOString(),
        },
      };
    }
    setSignInCookies(ctx, accounts, outcome);
    return { status: 200, body: await describeSession(accounts, { ...outcome, ...outcome.session }) };
  }

  return [
    defineRoute({
      method: 'post',
      path: '/v1/auth/login',
      summary: 'Sign in with email and password; a new browser first gets a one-time code by SMS or email',
      tag: 'Authentication',
      auth: 'public',
      rateLimit: loginRateLimit,
      body: z.strictObject({
        email,
        password: z.string().min(1, 'must not be empty').max(maxPasswordLength),
        organizationId: z.uuid().optional().describe('Which of your organisations to work in (default: the first you joined)'),
      }),
      responses: {
        200: { description: 'Signed in (session cookie set)', schema: sessionBody },
        202: { description: 'This browser is new: send the code with POST /v1/auth/login/verify', schema: deviceCodeBody },
      },
      errors: [401, 403],
      handler: async ({ body, ctx }) =>
        answer(ctx, await passwordLogin(accounts, { ...body, deviceCookie: deviceCookie(ctx), origin: origin(ctx) })),
    }),
    defineRoute({
      method: 'post',
      path: '/v1/auth/login/verify',
      summary: 'Finish signing in on a new browser with the one-time code; the browser is then remembered',
      tag: 'Authentication',
      auth: 'public',
      rateLimit: codeRateLimit,
      body: z.strictObject({ challengeId: z.uuid('must be the challengeId from the login answer'), code: z.string().trim().regex(/^\d{6}$/, 'must be six digits') }),
      responses: { 200: { description: 'Signed in (session and device cookies set)', schema: sessionBody } },
      errors: [401],
      handler: async ({ body, ctx }) => answer(ctx, await verifyDeviceCode(accounts, { ...body, origin: origin(ctx) })),
    }),
    defineRoute({
      method: 'get',
      path: '/v1/auth/session',
      summary: 'Who is signed in, in which organisation, and the CSRF token for changes',
      tag: 'Authentication',
      auth: 'principal',
      responses: { 200: { description: 'The session', schema: sessionBody } },
      handler: async ({ principal }) => {
        const member = signedInMember(principal);
        return { status: 200, body: await describeSession(accounts, { ...member, expiresAt: member.sessionExpiresAt }) };
      },
    }),
    defineRoute({
      method: 'post',
      path: '/v1/auth/logout',
      summary: 'End this session (needs the X-CSRF-Token header)',
      tag: 'Authentication',
      auth: 'principal',
      responses: { 204: { description: 'Signed out' } },
      handler: async ({ principal, ctx }) => {
        await signOut(accounts, signedInMember(principal), origin(ctx));
        clearSessionCookie(ctx, accounts);
        return { status: 204, body: undefined };
      },
    }),
    defineRoute({
      method: 'post',
      path: '/v1/auth/password-reset',
      summary: 'Email a single-use link to choose a new password (the same answer whether or not the address has an account)',
      tag: 'Authentication',
      auth: 'public',
      rateLimit: passwordResetRateLimit,
      body: z.strictObject({ email }),
      responses: { 202: { description: 'If the address belongs to a member, a link is on its way' } },
      handler: async ({ body, ctx }) => {
        await requestPasswordReset(accounts, { email: body.email, origin: origin(ctx) });
        return { status: 202, body: { status: 'accepted' } };
      },
    }),
    defineRoute({
      method: 'post',
      path: '/v1/auth/password',
      summary: 'Choose a password with the token of an invitation or reset link (ends every session of the user)',
      tag: 'Authentication',
      auth: 'public',
      rateLimit: setPasswordRateLimit,
      body: z.strictObject({
        token: z.string().min(1).max(200),
        password: z.string().max(maxPasswordLength, `must be at most ${maxPasswordLength} characters`),
      }),
      responses: { 200: { description: 'Password set; sign in with it', schema: z.object({ email: z.string() }) } },
      handler: async ({ body, ctx }) => ({ status: 200, body: await setPasswordWithLink(accounts, { ...body, origin: origin(ctx) }) }),
    }),
  ];
}
