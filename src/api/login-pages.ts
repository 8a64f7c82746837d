/**
 * The plain sign-in pages: password, new-device code, choosing a password from an invitation or reset
 * link, forgotten password, and a minimal account page with sign-out. Classic form posts rendered on the
 * server (no JavaScript), over the same use cases as /v1/auth. The one page that changes state for a signed-in
 * member (sign-out) carries the session's CSRF token in the form.
 *
 * The pages speak the reader's language (src/api/page-language.ts) from the `auth` catalog; a use case's
 * refusal is told by its stable error code (`refusalText`), while /v1/auth keeps its English JSON messages.
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
import { translator, type Translate } from '../i18n';
import { escapeHtml, htmlPage, messageWithMarkup } from './html';
import { languageSwitch, pageLocale } from './page-language';
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

/** A message of the `auth` catalog, escaped for HTML. */
const say = (t: Translate, key: string, values?: Record<string, unknown>) => escapeHtml(t(`auth:${key}`, values));

type RefusingPage = 'login' | 'code' | 'password' | 'forgot' | 'oidc';

/**
 * What a page tells a person when a use case refuses, by the error's stable code and the page it happened on
 * (a code means one thing per step: `unauthenticated` is a wrong password on sign-in, a wrong or spent code on
 * the code page).
 */
function refusalText(t: Translate, error: AppError, page: RefusingPage, provider = 'OpenID Connect'): string {
  const retryAfter = error.topLevel?.retryAfterSeconds;
  if (error.code === 'rate_limited') return t('auth:errors.rateLimited', { count: typeof retryAfter === 'number' ? Math.max(1, Math.ceil(retryAfter / 60)) : 15 });
  if (error.code === 'dependency_unavailable' && page === 'oidc') return t('auth:oidc.unreachable', { provider });
  if (error.code === 'database_unavailable' || error.code === 'temporal_unavailable' || error.code === 'dependency_unavailable') return t('auth:errors.unavailable');
  const byPage: Record<RefusingPage, Partial<Record<AppError['code'], () => string>>> = {
    login: {
      invalid_request: () => t('auth:login.missing'),
      unauthenticated: () => t('auth:login.wrongCredentials'),
      forbidden: () => t('auth:login.notMember'),
    },
    code: {
      invalid_request: () => t('auth:code.enterCode'),
      unauthenticated: () => {
        const attemptsLeft = error.topLevel?.attemptsLeft;
        return typeof attemptsLeft === 'number' ? t('auth:code.wrong', { count: attemptsLeft }) : t('auth:code.expired');
      },
    },
    password: {
      // The policy's refusal names the field in its details; anything else is the link itself.
      invalid_request: () => (error.details ? t('auth:password.policy') : t('auth:password.linkExpired')),
    },
    forgot: { invalid_request: () => t('auth:forgot.enterEmail') },
    oidc: {
      invalid_request: () => t('auth:oidc.startAgain', { provider }),
      unauthenticated: () => t('auth:oidc.failed', { provider }),
      forbidden: () => t('auth:oidc.noAccount', { provider }),
      not_found: () => t('auth:oidc.notConfigured', { provider }),
    },
  };
  return byPage[page][error.code]?.() ?? t('auth:errors.generic');
}

function loginForm(t: Translate, accounts: AccountsContext, message = '', next = '/'): string {
  const providers = oidcProviderNames
    .filter((name) => accounts.auth.oidc[name])
    .map((name) => {
      const href = `/v1/auth/oidc/${name}${next === '/' ? '' : `?${new URLSearchParams({ next })}`}`;
      return `<p><a href="${escapeHtml(href)}">${say(t, 'login.withProvider', { provider: providerLabel[name] })}</a></p>`;
    })
    .join('');
  return `${message}
<form method="post" action="/login">${nextField(next)}
  <label for="email">${say(t, 'login.email')}</label>
  <input id="email" name="email" type="email" autocomplete="username" required>
  <label for="password">${say(t, 'login.password')}</label>
  <input id="password" name="password" type="password" autocomplete="current-password" required>
  <p><button type="submit">${say(t, 'login.submit')}</button></p>
</form>
${providers}
<p><a href="/login/forgot">${say(t, 'login.forgot')}</a></p>`;
}

/** The address the code went to, only as this service masks them: a link cannot make the page say anything else. */
const maskedAddress = (given: string | undefined) => (given && /^(\+\d{2}•+\d{2}|[^\s@<>]•••@[A-Za-z0-9.-]+)$/.test(given) ? given : '');

/** Where the language switch takes the reader back to (a GET that shows the same form, `next` kept). */
const loginPagePath = (next: string) => (next === '/' ? '/login' : `/login?${new URLSearchParams({ next })}`);
const codePagePath = (challengeId: string, sentTo: string, next: string) =>
  `/login/code?${new URLSearchParams({ challenge: challengeId, sentTo, ...(next === '/' ? {} : { next }) })}`;

/**
 * How the code went, told by the masked address itself (`+46•••67` a phone, `a•••@example.com` a mailbox), so
 * the page names the right place to look; `''` when the address is unknown (a link without one).
 */
const codeChannel = (sentTo: string): 'Email' | 'Sms' | '' => (sentTo.startsWith('+') ? 'Sms' : sentTo.includes('@') ? 'Email' : '');
/** The code page's title key: "Check your email", "Check your phone", or neither when the channel is unknown. */
const codeTitle = (sentTo: string) => `code.title${codeChannel(sentTo)}`;

export function codeForm(t: Translate, challengeId: string, sentTo: string, message = '', next = '/'): string {
  const intro = sentTo ? say(t, `code.intro${codeChannel(sentTo)}`, { sentTo }) : say(t, 'code.intro', { sentTo: t('auth:code.sentToUnknown') });
  return `${message}
<p>${intro}</p>
<form method="post" action="/login/code">${nextField(next)}
  <input type="hidden" name="challengeId" value="${escapeHtml(challengeId)}">
  <input type="hidden" name="sentTo" value="${escapeHtml(sentTo)}">
  <label for="code">${say(t, 'code.label')}</label>
  <input id="code" name="code" inputmode="numeric" autocomplete="one-time-code" pattern="[0-9]{6}" maxlength="6" aria-describedby="code-hint" required>
  <p class="hint" id="code-hint">${say(t, 'code.hint')}</p>
  <p><button type="submit">${say(t, 'code.submit')}</button></p>
</form>`;
}

function passwordForm(t: Translate, token: string, facts: { email: string; purpose: string; organization: string }, message = ''): string {
  const intro =
    facts.purpose === 'invitation'
      ? say(t, 'password.welcome', { organization: facts.organization, email: facts.email })
      : say(t, 'password.reset', { email: facts.email });
  return `${message}
<p>${intro}</p>
<form method="post" action="/login/password">
  <input type="hidden" name="token" value="${escapeHtml(token)}">
  <input type="hidden" name="username" value="${escapeHtml(facts.email)}" autocomplete="username">
  <label for="password">${say(t, 'password.label')}</label>
  <input id="password" name="password" type="password" autocomplete="new-password" minlength="12" aria-describedby="password-hint" required>
  <p class="hint" id="password-hint">${say(t, 'password.hint')}</p>
  <p><button type="submit">${say(t, 'password.submit')}</button></p>
</form>`;
}

const askForNewLink = (t: Translate, message: string) => `${message}<p><a href="/login/forgot">${say(t, 'password.askNewLink')}</a></p>`;

export function mountLoginPages(router: Router, accounts: AccountsContext, rateLimits: RateLimitStore): void {
  const formBody = bodyParser({ enableTypes: ['form'], formLimit: '16kb' });
  const form = (ctx: Context) => ((ctx.request as { body?: Record<string, unknown> }).body ?? {}) as Record<string, string | undefined>;
  /** The reader's translate function for this request. */
  const textsOf = (ctx: Context) => translator(pageLocale(ctx));
  /**
   * `title` is a key of the `auth` catalog; `here` is the page the language switch comes back to (by default
   * the address asked for, which after a form post is the GET of the same page).
   */
  const html = (ctx: Context, status: number, title: string, body: string, here: string = ctx.originalUrl) => {
    const locale = pageLocale(ctx);
    ctx.status = status;
    ctx.type = 'text/html; charset=utf-8';
    ctx.set('Cache-Control', 'no-store');
    ctx.set('Content-Language', locale);
    ctx.vary('Accept-Language');
    ctx.vary('Cookie');
    ctx.body = htmlPage(translator(locale)(`auth:${title}`), body, { lang: locale, footer: languageSwitch(locale, here) });
  };
  /** Renders the page again with the error, for every failure a person can fix or wait out. */
  const onUserError = async (
    ctx: Context,
    page: RefusingPage,
    title: string,
    render: (message: string) => string,
    run: () => Promise<void>,
    here?: string,
  ) => {
    try {
      await run();
    } catch (error) {
      if (!(error instanceof AppError)) throw error;
      const retryAfter = error.topLevel?.retryAfterSeconds;
      if (typeof retryAfter === 'number') ctx.set('Retry-After', String(retryAfter));
      const provider = oidcProviderNames.find((name) => name === ctx.params.provider);
      html(ctx, error.status, title, render(notice(refusalText(textsOf(ctx), error, page, provider && providerLabel[provider]))), here);
    }
  };
  const finish = (ctx: Context, outcome: LoginOutcome, next = '/') => {
    if (outcome.kind === 'device-code-required') {
      const { challengeId, sentTo } = outcome;
      return html(ctx, 200, codeTitle(sentTo), codeForm(textsOf(ctx), challengeId, sentTo, '', next), codePagePath(challengeId, sentTo, next));
    }
    setSignInCookies(ctx, accounts, outcome);
    ctx.redirect(next);
    ctx.status = 303;
  };
  // The password form and both OpenID Connect steps spend one budget.
  const loginLimit = rateLimit(rateLimits, 'sign-in pages', { points: 60, windowSeconds: 15 * 60 });
  const codeLimit = rateLimit(rateLimits, 'device-code page', { points: 30, windowSeconds: 15 * 60 });
  const resetLimit = rateLimit(rateLimits, 'password-reset page', { points: 10, windowSeconds: 15 * 60 });
  const setPasswordLimit = rateLimit(rateLimits, 'set-password page', { points: 60, windowSeconds: 15 * 60 });

  router.get('/login', (ctx) => html(ctx, 200, 'login.title', loginForm(textsOf(ctx), accounts, '', landingPath(ctx.query.next))));
  router.post('/login', loginLimit, formBody, (ctx) => {
    const next = landingPath(form(ctx).next);
    return onUserError(
      ctx,
      'login',
      'login.title',
      (message) => loginForm(textsOf(ctx), accounts, message, next),
      async () => {
        const { email = '', password = '' } = form(ctx);
        if (!email || !password) throw new AppError('invalid_request', 'Enter your email and password.');
        finish(ctx, await passwordLogin(accounts, { email: email.slice(0, 254), password: password.slice(0, 256), deviceCookie: deviceCookie(ctx), origin: origin(ctx) }), next);
      },
      loginPagePath(next),
    );
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
    await onUserError(ctx, 'oidc', 'login.title', (message) => loginForm(textsOf(ctx), accounts, message), async () => {
      // `next` rides in the signed state cookie, so the provider's round trip lands where the sign-in began.
      const started = await oidc.start(providerOf(ctx), landingPath(ctx.query.next));
      if (accounts.auth.secureCookies) ctx.cookies.secure = true;
      ctx.cookies.set(oidcCookieName, started.cookie, oidcCookie(oidcCookieLifetimeMs));
      ctx.redirect(started.authorizationUrl);
    }, '/login');
  });
  router.get('/v1/auth/oidc/:provider/callback', loginLimit, async (ctx) => {
    await onUserError(ctx, 'oidc', 'login.title', (message) => loginForm(textsOf(ctx), accounts, message), async () => {
      const provider = providerOf(ctx);
      const cookie = ctx.cookies.get(oidcCookieName);
      if (accounts.auth.secureCookies) ctx.cookies.secure = true;
      ctx.cookies.set(oidcCookieName, '', oidcCookie(0));
      const { outcome, next } = await oidc.finish(provider, {
        // As the provider saw it: the redirect URI registered there is under PUBLIC_URL.
        callbackUrl: new URL(ctx.originalUrl, `${accounts.publicUrl}/`),
        cookie,
        deviceCookie: deviceCookie(ctx),
        origin: origin(ctx),
      });
      if (outcome.kind === 'device-code-required') {
        ctx.redirect(codePagePath(outcome.challengeId, outcome.sentTo, landingPath(next)));
        ctx.status = 303;
        return;
      }
      finish(ctx, outcome, landingPath(next));
    }, '/login');
  });

  router.get('/login/code', (ctx) => {
    const challengeId = String(ctx.query.challenge ?? '');
    // `next` comes back here only through the language switch, which keeps it.
    const sentTo = maskedAddress(String(ctx.query.sentTo ?? ''));
    html(ctx, 200, codeTitle(sentTo), codeForm(textsOf(ctx), challengeId, sentTo, '', landingPath(ctx.query.next)));
  });
  router.post('/login/code', codeLimit, formBody, async (ctx) => {
    const { challengeId = '', code = '' } = form(ctx);
    const sentTo = maskedAddress(form(ctx).sentTo);
    const next = landingPath(form(ctx).next);
    await onUserError(
      ctx,
      'code',
      codeTitle(sentTo),
      (message) => codeForm(textsOf(ctx), challengeId, sentTo, message, next),
      async () => {
        if (!/^[0-9a-f-]{36}$/i.test(challengeId) || !/^\d{6}$/.test(code.trim())) throw new AppError('invalid_request', 'Enter the six-digit code.');
        finish(ctx, await verifyDeviceCode(accounts, { challengeId, code, origin: origin(ctx) }), next);
      },
      codePagePath(challengeId, sentTo, next),
    );
  });

  router.get('/login/password', async (ctx) => {
    const token = String(ctx.query.token ?? '');
    await onUserError(ctx, 'password', 'password.title', (message) => askForNewLink(textsOf(ctx), message), async () => {
      html(ctx, 200, 'password.title', passwordForm(textsOf(ctx), token, await describePasswordLink(accounts, token)));
    });
  });
  router.post('/login/password', setPasswordLimit, formBody, async (ctx) => {
    const { token = '', password = '' } = form(ctx);
    let facts: Awaited<ReturnType<typeof describePasswordLink>> | undefined;
    const t = textsOf(ctx);
    await onUserError(
      ctx,
      'password',
      'password.title',
      (message) => (facts ? passwordForm(t, token, facts, message) : askForNewLink(t, message)),
      async () => {
        facts = await describePasswordLink(accounts, token);
        await setPasswordWithLink(accounts, { token, password: password.slice(0, 257), origin: origin(ctx) });
        html(ctx, 200, 'password.savedTitle', `${notice(t('auth:password.saved'), 'notice')}<p><a href="/login">${say(t, 'password.signIn')}</a></p>`, '/login');
      },
      `/login/password?${new URLSearchParams({ token })}`,
    );
  });

  const forgotForm = (t: Translate, message = '') => `${message}
<form method="post" action="/login/forgot">
  <label for="email">${say(t, 'forgot.email')}</label>
  <input id="email" name="email" type="email" autocomplete="username" required>
  <p><button type="submit">${say(t, 'forgot.submit')}</button></p>
</form>
<p><a href="/login">${say(t, 'forgot.back')}</a></p>`;
  router.get('/login/forgot', (ctx) => html(ctx, 200, 'forgot.title', forgotForm(textsOf(ctx))));
  router.post('/login/forgot', resetLimit, formBody, async (ctx) => {
    const { email = '' } = form(ctx);
    const t = textsOf(ctx);
    await onUserError(ctx, 'forgot', 'forgot.title', (message) => forgotForm(t, message), async () => {
      if (!/^[^@\s]+@[^@\s]+$/.test(email) || email.length > 254) throw new AppError('invalid_request', 'Enter your email address.');
      await requestPasswordReset(accounts, { email, origin: origin(ctx) });
      html(ctx, 200, 'forgot.title', `${notice(t('auth:forgot.sent'), 'notice')}<p><a href="/login">${say(t, 'forgot.back')}</a></p>`, '/login/forgot');
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
    const t = textsOf(ctx);
    const signedInAs = messageWithMarkup(
      (markup) => t('auth:account.signedInAs', { ...markup, role: t(`auth:account.roles.${session.organization.role}`), organization: session.organization.name }),
      { email: `<strong>${escapeHtml(session.user.email)}</strong>` },
    );
    html(
      ctx,
      200,
      'account.title',
      `<p>${signedInAs}</p>
<form method="post" action="/logout">
  <input type="hidden" name="_csrf" value="${escapeHtml(session.csrfToken)}">
  <p><button type="submit">${say(t, 'account.signOut')}</button></p>
</form>`,
    );
  });
  router.post('/logout', formBody, async (ctx) => {
    const token = sessionToken(ctx);
    const member = token ? await authenticateSession(accounts.dataSource, token).catch(() => undefined) : undefined;
    if (member) {
      if (!csrfTokenMatches(member, form(ctx)._csrf)) return html(ctx, 403, 'account.signOut', notice(textsOf(ctx)('auth:account.signOutExpired')), '/account');
      await signOut(accounts, member, origin(ctx));
    }
    clearSessionCookie(ctx, accounts);
    ctx.redirect('/login');
    ctx.status = 303;
  });
}
