/**
 * The customer's KYC page at PUBLIC_URL/k/<token>: the same shell for every token, whose script
 * (src/web/client/kyc) asks the public customer API what the link is (unknown, ended, locked or open, and
 * the case's language) before anything else, so the page itself reveals nothing about a link. Until the
 * script knows the case's language it speaks the browser's.
 */
import type Router from '@koa/router';
import { pickLocale } from '../i18n/locales';
import { translator } from '../i18n';
import { renderScriptPage } from '../web/page-shell';

export function mountKycCustomerPage(router: Router): void {
  router.get('/k/:token', async (ctx) => {
    const token = ctx.params.token!;
    const locale = pickLocale(ctx.get('accept-language'));
    const t = translator(locale);
    ctx.set('Cache-Control', 'no-store');
    ctx.type = 'html';
    // An over-long token is no link of ours; the script says "unknown" for it like for any other.
    ctx.body = await renderScriptPage({ page: 'kyc', locale, title: t('kyc:customer.pageTitle'), bootstrap: { token: token.slice(0, 200), locale }, noscript: t('kyc:customer.needsScript') });
  });
}
