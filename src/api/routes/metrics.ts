/**
 * `/metrics` in the Prometheus text format (R17): Sigill's metrics and the Temporal SDK's, in one scrape.
 * Who may read it: with METRICS_TOKEN, whoever presents it as a Bearer token; without one, on the public
 * port only clients on this machine talking to it directly (the embedded setup; never with TRUST_PROXY
 * or in production),
 * on a METRICS_PORT listener anyone who can reach
 * that port (the operator keeps it internal). Metrics hold no personal data, but request rates and round
 * counts are the operator's business, not the internet's.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import Router from '@koa/router';
import ipaddr from 'ipaddr.js';
import Koa, { type Context } from 'koa';
import { AppError } from '../../errors';
import type { Logger } from '../../logger';
import { collectMetrics, metricsContentType } from '../../observability/metrics-exposition';
import { errorHandler } from '../middleware/error-handler';
import { requestContext } from '../middleware/request-context';
import { bearerToken, defineRoute } from '../route';
import { listen, type RunningServer } from '../server';

export interface MetricsEndpoint {
  token?: string;
  /**
   * Whether clients on this machine may read it without a token (not in production: a TCP-level proxy or a
   * mesh sidecar on the host relays strangers from loopback and adds no header to tell them apart).
   */
  loopbackWithoutToken: boolean;
  /** The Temporal SDK's exposition in this process (a worker runs here), read at each scrape. */
  temporalMetricsUrl(): string | undefined;
}

/** Compared as SHA-256 digests: equal lengths, so the comparison's time says nothing about the token. */
function tokenMatches(given: string | undefined, expected: string): boolean {
  const digest = (value: string) => createHash('sha256').update(value).digest();
  return given !== undefined && timingSafeEqual(digest(given), digest(expected));
}

/** Headers by which proxies say they relayed a request (nginx's usual X-Real-IP among them). */
const relayHeaders = ['forwarded', 'x-forwarded-for', 'x-forwarded-host', 'x-forwarded-proto', 'x-real-ip', 'via'];

/**
 * A client on this machine, talking to us directly. A request relayed by a proxy on this host comes from
 * the proxy's loopback socket but from a stranger: it does not count, whichever relay header it carries.
 * With TRUST_PROXY (`app.proxy`) the operator has told us a proxy is in front, so the loopback peer is that
 * proxy even when it adds no header at all: nobody is local then, and a scraper needs METRICS_TOKEN or
 * METRICS_PORT.
 */
function isLocalClient(ctx: Context): boolean {
  if (ctx.app.proxy || relayHeaders.some((name) => ctx.get(name))) return false;
  const address = ctx.req.socket.remoteAddress;
  return address !== undefined && ipaddr.isValid(address) && ipaddr.process(address).range() === 'loopback';
}

async function answerScrape(ctx: Context, endpoint: MetricsEndpoint, openToAnyone: boolean): Promise<void> {
  if (endpoint.token) {
    if (!tokenMatches(bearerToken(ctx), endpoint.token)) {
      throw new AppError('unauthenticated', 'The metrics endpoint needs its access token (Authorization: Bearer ...).');
    }
  } else if (!openToAnyone && !(endpoint.loopbackWithoutToken && isLocalClient(ctx))) {
    // As if absent: the endpoint exists for local scrapers only until a token is configured.
    throw new AppError('not_found', 'No such resource.');
  }
  ctx.set('Cache-Control', 'no-store');
  ctx.type = metricsContentType;
  ctx.body = await collectMetrics(endpoint.temporalMetricsUrl());
}

/** `/metrics` on the public port (when no METRICS_PORT is configured). */
export function metricsRoutes(endpoint: MetricsEndpoint) {
  return [
    defineRoute({
      method: 'get',
      path: '/metrics',
      summary: "Prometheus metrics: Sigill's and the Temporal SDK's worker metrics (Bearer METRICS_TOKEN, or loopback clients without one)",
      tag: 'Operations',
      auth: 'public',
      responses: { 200: { description: 'Prometheus text exposition format (text/plain; version=0.0.4)' } },
      errors: [401, 404],
      handler: async ({ ctx }) => {
        await answerScrape(ctx, endpoint, false);
        return { status: 200, body: ctx.body };
      },
    }),
  ];
}

/**
 * `/metrics` on a listener of its own (METRICS_PORT): also in worker-only processes, which have no API.
 * Same error shape and access log as the API; every other path is 404.
 */
export async function startMetricsListener(
  endpoint: MetricsEndpoint,
  options: { host: string; port: number; log: Logger },
): Promise<RunningServer> {
  const app = new Koa();
  app.silent = true;
  const router = new Router();
  router.get('/metrics', (ctx) => answerScrape(ctx, endpoint, true));
  app.use(requestContext(options.log));
  app.use(errorHandler());
  app.use(router.routes());
  app.use(router.allowedMethods());
  return listen(app, options);
}
