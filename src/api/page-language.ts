/**
 * The language of the server-rendered pages (sign-in, /verify): the reader's own choice first (the
 * `sigill_locale` cookie, set by the console's switch or by `GET /language` below), else the browser's
 * Accept-Language, else English. The switch on these pages is plain links to `/language`, which sets the
 * cookie and goes back to the page — no script, so the CSP stays strict.
 */
import type Router from '@koa/router';
import type { Context } from 'koa';
import { isLocale, localeNames, locales, pickLocale, translator, type Locale } from '../i18n';
import { escapeHtml } from './html';
import { landingPath } from './login-pages';

/** Also written by the console's own switch (src/web/client/console), so it stays readable by scripts. */
export const localeCookieName = 'sigill_locale';
const oneYearMs = 365 * 24 * 60 * 60 * 1000;

export function pageLocale(ctx: Context): Locale {
  const chosen = ctx.cookies.get(localeCookieName);
  return isLocale(chosen) ? chosen : pickLocale(ctx.get('accept-language'));
}

/** The switch each page carries at its foot: the other languages, each named in itself, and the current one marked. */
export function languageSwitch(current: Locale, here: string): string {
  const items = locales.map((locale) =>
    locale === current
      ? `<li><span lang="${locale}" aria-current="true">${escapeHtml(localeNames[locale])}</span></li>`
      : `<li><a href="/language?${escapeHtml(new URLSearchParams({ to: locale, next: here }).toString())}" lang="${locale}" hreflang="${locale}">${escapeHtml(localeNames[locale])}</a></li>`,
  );
  return `<nav class="languages" aria-label="${escapeHtml(translator(current)('common:language'))}"><ul>${items.join('')}</ul></nav>`;
}

export function mountLanguageSwitch(router: Router): void {
  router.get('/language', (ctx) => {
    const to = ctx.query.to;
    if (isLocale(to)) ctx.cookies.set(localeCookieName, to, { httpOnly: false, sameSite: 'lax', path: '/', maxAge: oneYearMs, overwrite: true });
    ctx.set('Cache-Control', 'no-store');
    // Only back to a page of this site (no open redirect); anything else lands on the console at /.
    ctx.redirect(landingPath(ctx.query.next));
    ctx.status = 303;
  });
}
