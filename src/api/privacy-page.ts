/**
 * An organisation's public privacy page (issue 14 part 4): the intake form at PUBLIC_URL/privacy/<org-slug>
 * and the requester's status page at PUBLIC_URL/privacy/<org-slug>/r/<token>, both the same script
 * (src/web/client/privacy), which only calls the public requester API (/v1/privacy/*). An address whose slug
 * names no organisation answers a plain "not found" page (404); the token is judged by the API when the
 * requester enters their code, so the page itself reveals nothing about a link.
 */
import type Router from '@koa/router';
import type { Context } from 'koa';
import type { DataSource } from 'typeorm';
import { Organization } from '../database/entities';
import { isLocale, pickLocale, type Locale } from '../i18n/locales';
import { translator } from '../i18n';
import { renderMessagePage, renderScriptPage } from '../web/page-shell';

/** Slugs as the organisations table makes them: lower-case words joined by hyphens. */
const slugShape = /^[a-z0-9]+(-[a-z0-9]+)*$/;

export interface PrivacyPageBootstrap {
  slug: string;
  organizationName: string;
  locale: Locale;
  /** The requester's link token on the status page; absent on the intake page. */
  token?: string;
  /** The status page offers eID next to the code (an eID broker is configured). */
  eidAvailable: boolean;
}

export function mountPrivacyPage(router: Router, dataSource: DataSource, options: { eidAvailable?: boolean } = {}): void {
  const serve = async (ctx: Context, slug: string, token: string | undefined) => {
    const chosen = ctx.cookies.get('sigill_locale');
    const askedLocale = isLocale(chosen) ? chosen : undefined;
    // As the requester API finds it (src/dsr/requester-access.ts organizationBySlug): a closed organisation, or one
    // whose work stopped, has no privacy page, so nobody fills in a form every submission of which is refused.
    const [open]: Array<{ id: string }> =
      slug.length <= 64 && slugShape.test(slug)
        ? await dataSource.query(`SELECT id FROM organizations WHERE slug = $1 AND closed_at IS NULL AND work_stopped_at IS NULL`, [slug])
        : [];
    const organization = open ? await dataSource.getRepository(Organization).findOneBy({ id: open.id }) : null;
    ctx.set('Cache-Control', 'no-store');
    ctx.type = 'html';
    if (!organization) {
      const locale = askedLocale ?? pickLocale(ctx.get('accept-language'));
      const t = translator(locale);
      ctx.status = 404;
      ctx.body = await renderMessagePage({ locale, title: t('privacy:notFound.title'), heading: t('privacy:notFound.heading'), paragraphs: [t('privacy:notFound.body')] });
      return;
    }
    // The reader's choice, else their browser's language when we speak it, else the organisation's.
    const locale = askedLocale ?? pickLocale(ctx.get('accept-language'), organization.defaultLocale);
    const t = translator(locale);
    const bootstrap: PrivacyPageBootstrap = { slug, organizationName: organization.name, locale, eidAvailable: options.eidAvailable ?? false, ...(token === undefined ? {} : { token: token.slice(0, 200) }) };
    ctx.body = await renderScriptPage({ page: 'privacy', locale, title: t('privacy:pageTitle'), bootstrap, noscript: t('privacy:needsScript') });
  };
  router.get('/privacy/:slug', (ctx) => serve(ctx, ctx.params.slug!, undefined));
  router.get('/privacy/:slug/r/:token', (ctx) => serve(ctx, ctx.params.slug!, ctx.params.token!));
}
