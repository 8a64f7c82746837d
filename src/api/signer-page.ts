/**
 * The signer's page at PUBLIC_URL/s/<token>. The server decides what can be said before any PIN: an
 * unknown or ended link gets a page that says so and nothing else (no PIN form, no title, no names);
 * a locked link says what to do; an open link gets the signing app (src/web/client/signer), which only
 * calls the public signer API.
 */
import type Router from '@koa/router';
import { pickLocale } from '../i18n/locales';
import { translator } from '../i18n';
import type { SigningContext } from '../signing/signing-context';
import { describeSignerLink } from '../signing/signer-view';
import { renderMessagePage, renderScriptPage } from '../web/page-shell';

export function mountSignerPage(router: Router, context: SigningContext): void {
  router.get('/s/:token', async (ctx) => {
    const token = ctx.params.token!;
    const link = token.length <= 200 ? await describeSignerLink(context, token) : ({ state: 'unknown' } as const);
    ctx.set('Cache-Control', 'no-store');
    ctx.type = 'html';
    const locale = link.state === 'unknown' ? pickLocale(ctx.get('accept-language')) : link.locale;
    const t = translator(locale);
    const title = t('signer:pageTitle');
    if (link.state === 'open') {
      ctx.body = await renderScriptPage({ page: 'signer', locale, title, bootstrap: { token, locale }, noscript: t('signer:needsScript') });
      return;
    }
    // Said before any PIN, so it reveals nothing but the link's state.
    if (link.state === 'unknown') ctx.status = 404;
    ctx.body = await renderMessagePage({
      locale,
      title,
      heading: t(`signer:link.${link.state}.heading`),
      paragraphs: [t(`signer:link.${link.state}.body`)],
    });
  });
}
