/**
 * The plain sign-in pages: password, new-device code, choosing a password from an invitation or reset
 * link, forgotten password, and a minimal account page with sign-out. Classic form posts rendered on the
 * server (no JavaScript), over the same use cases as /v1/auth. The one page that changes state for a signed-in
 * member (sign-out) carries the session's CSRF token in the form.
 */
import type Router from '@koa/router';
import { bodyParser } from '@koa/bodyparser';
import type { Context } from 'koa';
import type { AccountsContext } from '../accounts/accounts-context';
import { describeSession, passwordLogin, signOut, verifyDeviceCode, type LoginOutcome } from '../accounts/login';
import { describePasswordLink, requestPasswordReset, setPasswordWithLink } from '../accounts/password-links';
import { authenticateSession, csrfTokenMatches } from '../accounts/sessions';
import { oidcProviderNames, type OidcProviderName } from '../config';
import { OidcLogin, oidcCookieLifetimeMs, oidcCookieName } from '../accounts/oidc-login';
import { AppError } from '../errors';
import { escapeHtml, htmlPage } from './html';
import type { RateLimitStore } from '../database/rate-limit-store';
import { rateLimit } from './rate-limit';
import { origin } from './routes/auth';
import { clearSessionCookie, deviceCookie, sessionToken, setSignInCookies } from './session-cookies';

const providerLabel = { google: 'Google', microsoft: 'Microsoft' } as const;

const notice = (text: string, kind: 'error' | 'notice' = 'error') =>
  `<p class="${kind}" role="${kind === 'error' ? 'alert' : 'status'}">${escapeHtml(text)}</p>`;

/**
 * Where sign-in lands: the page that sent the browser here (`next`, e.g. a console page), when it is a path
 * on this site; anything else (another host, `//host`, `/\\host`, control characters) lands on the console.
 */
export function landingPath(next: unknown): string {
  if (typeof next !== 'string' || next.length > 2000) return '/';
  return /^\/(?![/\\])[^\x00-\x1f\x7f\\]*$/.test(next) ? next : '/';
}

const nextField = (next: string) => (next === '/' ? '' : `\n  <input type="hidden" name="next" value="${escapeHtml(next)}">`);

function loginForm(accounts: AccountsContext, message = '', next = '/'): string {
  const providers = oidcProviderNames
    .filter((name) => accounts.auth.oidc[name])
    .map((name) => `<p><a href="/v1/auth/oidc/${name}">Sign in with ${providerLabel[name]}</a></p>`)
    .join('');
  return `${message}
<form method="post" action="/login">${nextField(next)}
  <label for="email">Email</label>
  <input id="email" name="email" type="email" autocomplete="username" required>
  <label for="password">Password</label>
  <input id="password" name="password" type="password" autocomplete="current-password" required>
  <p><button type="submit">Sign in</button></p>
</form>
${providers}
<p><a href="/login/forgot">Forgot your password?</a></p>`;
}

export function codeForm(challengeId: string, sentTo: string, message = '', next = '/'): string {
  return `${message}
<p>This browser is new to us. We sent a six-digit code to ${escapeHtml(sentTo)}.</p>
<form method="post" action="/login/code">${nextField(next)}
  <input type="hidden" name="challengeId" value="${escapeHtml(challengeId)}">
  <input type="hidden" name="sentTo" value="${escapeHtml(sentTo)}">
  <label for="code">Code</label>
  <input id="code" name="code" inputmode="numeric" autocomplete="one-time-code" pattern="[0-9]{6}" maxlength="6" aria-describedby="code-hint" required>
  <p class="hint" id="code-hint">Six digits; it works for 10 minutes.</p>
  <p><button type="submit">Continue</button></p>
</form>`;
}

function passwordForm(token: string, facts: { email: string; purpose: string; organization: string }, message = ''): string {
  const intro =
    facts.purpose === 'invitation'
      ? `Welcome to ${facts.organization}. Choose a password for ${facts.email}.`
      : `Choose a new password for ${facts.email}.`;
  return `${message}
<p>${escapeHtml(intro)}</p>
<form method="post" action="/login/password">
  <input type="hidden" name="token" value="${escapeHtml(token)}">
  <input type="hidden" name="username" value="${escapeHtml(facts.email)}" autocomplete="username">
  <label for="password">New password</label>
  <input id="password" name="password" type="password" autocomplete="new-password" minlength="12" aria-describedby="password-hint" required>
  <p class="hint" id="password-hint">At least 12 characters; a few unrelated words make a good one.</p>
  <p><button type="submit">Save password</button></p>
</form>`;
}

export function mountLoginPages(router: Router, accounts: AccountsContext, rateLimits: RateLimitStore): void {
  const formBody = bodyParser({ enableTypes: ['form'], formLimit: '16kb' });
  const form = (ctx: Context) => ((ctx.request as { body?: Record<string, unknown> }).body ?? {}) as Record<string, string | undefined>;
  const html = (ctx: Context, status: number, title: string, body: string) => {
    ctx.status = status;
    ctx.type = 'text/html; charset=utf-8';
    ctx.set('Cache-Control', 'no-store');
    ctx.body = htmlPage(title, body);
  };
  /** Renders the page again with the error, for every failure a person can fix or wait out. */
  const onUserError = async (ctx: Context, title: string, render: (message: string) => string, run: () => Promise<void>) => {
    try {
      await run();
    } catch (error) {
      if (!(error instanceof AppError)) throw error;
      const retryAfter = error.topLevel?.retryAfterSeconds;
      if (typeof retryAfter === 'number') ctx.set('Retry-After', String(retryAfter));
      html(ctx, error.status, title, render(notice(error.message)));
    }
  };
  const finish = (ctx: Context, outcome: LoginOutcome, next = '/') => {
    if (outcome.kind === 'device-code-required') return html(ctx, 200, 'Check your phone', codeForm(outcome.challengeId, outcome.sentTo, '', next));
    setSignInCookies(ctx, accounts, outcome);
    ctx.redirect(next);
    ctx.status = 303;
  };
  // The password form and both OpenID Connect steps spend one budget.
  const loginLimit = rateLimit(rateLimits, 'sign-in pages', { points: 60, windowSeconds: 15 * 60 });
  const codeLimit = rateLimit(rateLimits, 'device-code page', { points: 30, windowSeconds: 15 * 60 });
  const resetLimit = rateLimit(rateLimits, 'password-reset page', { points: 10, windowSeconds: 15 * 60 });
  const setPasswordLimit = rateLimit(rateLimits, 'set-password page', { points: 60, windowSeconds: 15 * 60 });

  router.get('/login', (ctx) => html(ctx, 200, 'Sign in', loginForm(accounts, '', landingPath(ctx.query.next))));
  router.post('/login', loginLimit, formBody, (ctx) => {
    const next = landingPath(form(ctx).next);
    return onUserError(ctx, 'Sign in', (message) => loginForm(accounts, message, next), async () => {
      const { email = '', password = '' } = form(ctx);
      if (!email || !password) throw new AppError('invalid_request', 'Enter your email and password.');
      finish(ctx, await passwordLogin(accounts, { email: email.slice(0, 254), password: password.slice(0, 256), deviceCookie: deviceCookie(ctx), origin: origin(ctx) }), next);
    });
  });

  // Google and Microsoft: leave for the provider, come back to the callback (browser navigations, not JSON).
  const oidc = new OidcLogin(accounts);
  const providerOf = (ctx: Context): OidcProviderName => {
    const provider = oidcProviderNames.find((name) => name === ctx.params.provider);
    if (!provider || !oidc.enabled(provider)) throw new AppError('not_found', 'This sign-in provider is not configured here.');
    return provider;
  };
  const oidcCookie = (maxAgeMs: number) => ({
    httpOnly: true,
    sameSite: 'lax' as const, // the provider sends the browser back with a top-level GET: Lax cookies come along
    secure: accounts.auth.secureCookies,
    path: '/v1/auth/oidc',
    overwrite: true,
    maxAge: maxAgeMs,
  });
  router.get('/v1/auth/oidc/:provider', loginLimit, async (ctx) => {
    await onUserError(ctx, 'Sign in', (message) => loginForm(accounts, message), async () => {
      const started = await oidc.start(providerOf(ctx));
      if (accounts.auth.secureCookies) ctx.cookies.secure = true;
      ctx.cookies.set(oidcCookieName, started.cookie, oidcCookie(oidcCookieLifetimeMs));
      ctx.redirect(started.authorizationUrl);
    });
  });
  router.get('/v1/auth/oidc/:provider/callback', loginLimit, async (ctx) => {
    await onUserError(ctx, 'Sign in', (message) => loginForm(accounts, message), async () => {
      const provider = providerOf(ctx);
      const cookie = ctx.cookies.get(oidcCookieName);
      if (accounts.auth.secureCookies) ctx.cookies.secure = true;
      ctx.cookies.set(oidcCookieName, '', oidcCookie(0));
      const outcome = await oidc.finish(provider, {
        // As the provider saw it: the redirect URI registered there is under PUBLIC_URL.
        callbackUrl: new URL(ctx.originalUrl, `${accounts.publicUrl}/`),
        cookie,
        deviceCookie: deviceCookie(ctx),
        origin: origin(ctx),
      });
      if (outcome.kind === 'device-code-required') {
        ctx.redirect(`/login/code?${new URLSearchParams({ challenge: outcome.challengeId, sentTo: outcome.sentTo })}`);
        ctx.status = 303;
        return;
      }
      finish(ctx, outcome);
    });
  });

  router.get('/login/code', (ctx) => {
    const challengeId = String(ctx.query.challenge ?? '');
    // Only a masked address as this service writes them: a link cannot make the page say anything else.
    const given = String(ctx.query.sentTo ?? '');
    const sentTo = /^(\+\d{2}•+\d{2}|[^\s@<>]•••@[A-Za-z0-9.-]+)$/.test(given) ? given : 'your phone or email';
    html(ctx, 200, 'Check your phone', codeForm(challengeId, sentTo));
  });
  router.post('/login/code', codeLimit, formBody, async (ctx) => {
    const { challengeId = '', code = '', sentTo = 'your phone or email' } = form(ctx);
    const next = landingPath(form(ctx).next);
    await onUserError(ctx, 'Check your phone', (message) => codeForm(challengeId, sentTo, message, next), async () => {
      if (!/^[0-9a-f-]{36}$/i.test(challengeId) || !/^\d{6}$/.test(code.trim())) throw new AppError('invalid_request', 'Enter the six-digit code.');
      finish(ctx, await verifyDeviceCode(accounts, { challengeId, code, origin: origin(ctx) }), next);
    });
  });

  router.get('/login/password', async (ctx) => {
    const token = String(ctx.query.token ?? '');
    await onUserError(ctx, 'Choose a password', (message) => `${message}<p><a href="/login/forgot">Ask for a new link</a></p>`, async () => {
      html(ctx, 200, 'Choose a password', passwordForm(token, await describePasswordLink(accounts, token)));
    });
  });
  router.post('/login/password', setPasswordLimit, formBody, async (ctx) => {
    const { token = '', password = '' } = form(ctx);
    let facts: Awaited<ReturnType<typeof describePasswordLink>> | undefined;
    await onUserError(
      ctx,
      'Choose a password',
      (message) => (facts ? passwordForm(token, facts, message) : `${message}<p><a href="/login/forgot">Ask for a new link</a></p>`),
      async () => {
        facts = await describePasswordLink(accounts, token);
        await setPasswordWithLink(accounts, { token, password: password.slice(0, 257), origin: origin(ctx) });
        html(ctx, 200, 'Password saved', `${notice('Your password is saved.', 'notice')}<p><a href="/login">Sign in</a></p>`);
      },
    );
  });

  const forgotForm = (message = '') => `${message}
<form method="post" action="/login/forgot">
  <label for="email">Your email</label>
  <input id="email" name="email" type="email" autocomplete="username" required>
  <p><button type="submit">Email me a link</button></p>
</form>
<p><a href="/login">Back to sign in</a></p>`;
  router.get('/login/forgot', (ctx) => html(ctx, 200, 'Forgot your password?', forgotForm()));
  router.post('/login/forgot', resetLimit, formBody, async (ctx) => {
    const { email = '' } = form(ctx);
    await onUserError(ctx, 'Forgot your password?', forgotForm, async () => {
      if (!/^[^@\s]+@[^@\s]+$/.test(email) || email.length > 254) throw new AppError('invalid_request', 'Enter your email address.');
      await requestPasswordReset(accounts, { email, origin: origin(ctx) });
      html(
        ctx,
        200,
        'Forgot your password?',
        `${notice('If this address belongs to an account, a link to choose a new password is on its way. It works for 30 minutes.', 'notice')}<p><a href="/login">Back to sign in</a></p>`,
      );
    });
  });

  router.get('/account', async (ctx) => {
    const token = sessionToken(ctx);
    const member = token ? await authenticateSession(accounts.dataSource, token).catch(() => undefined) : undefined;
    if (!member) {
      ctx.redirect('/login');
      return;
    }
    const session = await describeSession(accounts, { ...member, expiresAt: member.sessionExpiresAt });
    html(
      ctx,
      200,
      'Your account',
      `<p>Signed in as <strong>${escapeHtml(session.user.email)}</strong>, ${escapeHtml(session.organization.role)} of ${escapeHtml(session.organization.name)}.</p>
<form method="post" action="/logout">
  <input type="hidden" name="_csrf" value="${escapeHtml(session.csrfToken)}">
  <p><button type="submit">Sign out</button></p>
</form>`,
    );
  });
  router.post('/logout', formBody, async (ctx) => {
    const token = sessionToken(ctx);
    const member = token ? await authenticateSession(accounts.dataSource, token).catch(() => undefined) : undefined;
    if (member) {
      if (!csrfTokenMatches(member, form(ctx)._csrf)) return html(ctx, 403, 'Sign out', notice('This sign-out form has expired; open your account page again.'));
      await signOut(accounts, member, origin(ctx));
    }
    clearSessionCookie(ctx, accounts);
    ctx.redirect('/login');
    ctx.status = 303;
  });
}
