/**
 * `GET /v1/eid/callback`: where the eID broker sends the browser back, for every process that identifies
 * someone. The pending flow's cookie says whose identification it is; the process's completion records it
 * and says where the browser goes next (the signer's or customer's page, with `?eid=ok|mismatch|…`). The
 * result rides to that page in a cookie only this browser holds (src/identity/eid-result-cookie.ts).
 * Failures never show the broker's error text or a stack: the page is told `cancelled`, `failed` or, when
 * the flow cookie is gone, a page says to start again.
 */
import type Router from '@koa/router';
import type { Context } from 'koa';
import { translator } from '../i18n';
import { pickLocale } from '../i18n/locales';
import { EidFailure, eidCookieName, type EidFlow, type EidIdentity, type EidPurpose } from '../identity/eid-broker';
import type { Logger } from '../logger';
import type { RateLimitStore } from '../database/rate-limit-store';
import { rateLimit } from './rate-limit';
import type { SigningContext } from '../signing/signing-context';
import { renderMessagePage } from '../web/page-shell';
import type { ActorContext } from '../workflows/signing-round';

/** A process's part after the broker answered: record the identity, say where the browser goes. */
export type EidCompletion = (input: { flow: EidFlow; identity: EidIdentity; actor: ActorContext; now: Date }) => Promise<{
  redirectTo: string;
  identificationId?: string;
}>;

/** Where a flow's page is when it failed before any identity: the same page, told why. */
export type EidFailurePage = (flow: EidFlow, reason: EidFailure['reason']) => Promise<string>;

export function mountEidCallback(
  router: Router,
  context: SigningContext,
  processes: Partial<Record<EidPurpose, { complete: EidCompletion; failurePage: EidFailurePage }>>,
  logger: Logger,
  rateLimits: RateLimitStore,
): void {
  // Each answer costs a token exchange at the broker: bound what one address can make us spend.
  const callbackLimit = rateLimit(rateLimits, 'eID callback', { points: 60, windowSeconds: 15 * 60 });
  router.get('/v1/eid/callback', callbackLimit, async (ctx) => {
    ctx.set('Cache-Control', 'no-store');
    const cookie = ctx.cookies.get(eidCookieName);
    const flow = context.eid.pendingFlow(cookie);
    const process = flow ? processes[flow.purpose] : undefined;
    if (!flow || !process || !context.eid.available) return expiredPage(ctx);
    const callbackUrl = new URL(ctx.originalUrl, `${context.publicUrl}/`);
    // A request without this flow's state (a forged link to the callback) neither finishes nor ends the flow.
    if (!context.eid.answersFlow(cookie, callbackUrl)) {
      ctx.status = 303;
      ctx.redirect(await process.failurePage(flow, 'failed'));
      return;
    }
    // Spent from here on: a flow is answered once.
    ctx.cookies.set(eidCookieName, '', { ...context.eid.cookieOptions, maxAge: 0 });
    try {
      const { identity } = await context.eid.finish({ callbackUrl, cookie });
      const actor = { ip: ctx.ip, userAgent: ctx.get('user-agent') || undefined };
      const outcome = await process.complete({ flow, identity, actor, now: new Date() });
      if (outcome.identificationId) {
        context.eid.results.set(ctx, {
          purpose: flow.purpose,
          ref: flow.ref,
          identificationId: outcome.identificationId,
          ...(flow.pinVersion !== undefined ? { pinVersion: flow.pinVersion } : {}),
        });
      }
      ctx.status = 303;
      ctx.redirect(outcome.redirectTo);
    } catch (error) {
      const reason = error instanceof EidFailure ? error.reason : 'failed';
      // The reason, never the broker's answer: it may name the person.
      logger.warn({ purpose: flow.purpose, reason, error: error instanceof EidFailure ? error.message : (error as Error).name }, 'eID identification did not complete');
      ctx.status = 303;
      ctx.redirect(await process.failurePage(flow, reason));
    }
  });
}

async function expiredPage(ctx: Context): Promise<void> {
  const locale = pickLocale(ctx.get('accept-language'));
  const t = translator(locale);
  ctx.status = 400;
  ctx.type = 'html';
  ctx.body = await renderMessagePage({ locale, title: t('common:eidExpired.heading'), heading: t('common:eidExpired.heading'), paragraphs: [t('common:eidExpired.body')] });
}
