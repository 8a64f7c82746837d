/**
 * The operations console's HTML for every console path (`/`, `/requests/...`, `/stuck`, `/admin/...`): the same
 * shell, whose script (src/web/client/console) routes on the client and calls /v1 with the session cookie.
 * Without a live session the browser goes to sign-in first and comes back. The language is the member's
 * choice (the `sigill_locale` cookie the console's switch sets), else the browser's Accept-Language.
 */
import type Router from '@koa/router';
import type { Context } from 'koa';
import type { DataSource } from 'typeorm';
import { authenticateSession } from '../accounts/sessions';
import { isLocale, pickLocale } from '../i18n/locales';
import { translator } from '../i18n';
import { renderScriptPage } from '../web/page-shell';
import { sessionToken } from './session-cookies';

/** Every path the console's client-side router may show (path-to-regexp 8 syntax: an optional wildcard tail). */
export const consolePaths = ['/', '/requests{/*rest}', '/stuck', '/admin{/*rest}', '/kyc{/*rest}', '/privacy-requests{/*rest}'];

export function mountConsolePage(router: Router, dataSource: DataSource): void {
  const serve = async (ctx: Context) => {
    const token = sessionToken(ctx);
    const signedIn = token ? await authenticateSession(dataSource, token).then(() => true, () => false) : false;
    ctx.set('Cache-Control', 'no-store');
    if (!signedIn) {
      ctx.redirect(`/login?${new URLSearchParams({ next: ctx.originalUrl })}`);
      return;
    }
    const chosen = ctx.cookies.get('sigill_locale');
    const locale = isLocale(chosen) ? chosen : pickLocale(ctx.get('accept-language'));
    ctx.type = 'html';
    ctx.body = await renderScriptPage({
      page: 'console',
      locale,
      title: 'Sigill',
      bootstrap: { locale },
      noscript: translator(locale)('console:needsScript'),
    });
  };
  for (const path of consolePaths) router.get(path, serve);
}
