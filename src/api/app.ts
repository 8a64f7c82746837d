/**
 * The Koa application: middleware in the order a request meets it, then every route. Route modules
 * declare; this file mounts. Dependencies come in ready-made, so tests build the app against real parts.
 */
import Router from '@koa/router';
import { OpenAPIRegistry, OpenApiGeneratorV31 } from '@asteasolutions/zod-to-openapi';
import Koa from 'koa';
import cors from '@koa/cors';
import helmet from 'koa-helmet';
import type { DataSource } from 'typeorm';
import type { RateLimitStore } from '../database/rate-limit-store';
import { sessionCookieName } from '../accounts/sessions';
import { principalAuthenticator } from './authenticate';
import type { TemporalTarget } from '../adapters/temporal-connection';
import { deletionRoutes } from './routes/deletion-receipts';
import type { Logger } from '../logger';
import type { ReadinessCheck } from '../readiness';
import { errorHandler } from './middleware/error-handler';
import { requestContext } from './middleware/request-context';
import { mountRoute, type AnyRoute } from './route';
import { diagnosticsRoutes } from './routes/diagnostics';
import { healthRoutes } from './routes/health';
import { signerRoutes } from './routes/signer';
import { signingRequestRoutes } from './routes/signing-requests';
import { mountSignerPage } from './signer-page';
import { mountConsolePage } from './console-page';
import { mountKycCustomerPage } from './kyc-customer-page';
import { mountPrivacyPage } from './privacy-page';
import { mountWebAssets, webAssets } from '../web/assets';
import type { SigningContext } from '../signing/signing-context';
import type { CodecConfig, StuckRoundsConfig } from '../config';
import { codecRoutes } from './routes/codec';
import { verifyRoutes } from './routes/verify';
import { adminRoutes } from './routes/admin';
import { mountVerifyPage } from './verify-page';
import type { AccountsContext } from '../accounts/accounts-context';
import { authRoutes } from './routes/auth';
import { memberRoutes } from './routes/members';
import { organizationRoutes } from './routes/organization';
import { organizationExportRoutes } from './routes/organization-exports';
import { organizationSealRoutes } from './routes/organization-seal';
import { stuckRoundRoutes } from './routes/stuck-rounds';
import { webhookEndpointRoutes } from './routes/webhook-endpoints';
import { kycCaseRoutes } from './routes/kyc-cases';
import { kycCustomerRoutes } from './routes/kyc-customer';
import { dataSubjectRequestRoutes, privacyRequestRoutes } from './routes/data-subject-requests';
import { questionnaireRoutes } from './routes/questionnaires';
import { retentionRoutes } from './routes/retention';
import { mountLoginPages } from './login-pages';
import { identificationRoutes } from './routes/identification';
import { mountEidCallback } from './eid-callback';
import { eidProcesses } from './eid-processes';
import { mountLanguageSwitch } from './page-language';
import { metricsRoutes, type MetricsEndpoint } from './routes/metrics';
import { requestSpans } from '../observability/tracing';

export interface ApiDependencies {
  log: Logger;
  dataSource: DataSource;
  temporal: TemporalTarget;
  readinessChecks: ReadinessCheck[];
  signing: SigningContext;
  accounts: AccountsContext;
  codec: CodecConfig;
  publicUrl: string;
  /** See Config.http.trustProxy: client IPs end up in audit trails, so they must not be forgeable. */
  trustProxy: boolean;
  /** Per-client budgets, shared with the other API processes through the database. */
  rateLimits: RateLimitStore;
  /** `/metrics` on this app (absent: not served here, e.g. it has a METRICS_PORT listener of its own). */
  metrics?: MetricsEndpoint;
  /** When a round counts as stuck (GET /v1/stuck-rounds). */
  stuckRounds: StuckRoundsConfig;
}

export function createApp(deps: ApiDependencies): Koa {
  const app = new Koa({ proxy: deps.trustProxy });
  // Koa's own error printing would write stacks to stderr; our error handler logs them as JSON instead.
  app.silent = true;

  const routes: AnyRoute[] = [
    ...healthRoutes(deps.readinessChecks),
    ...diagnosticsRoutes(deps.temporal),
    ...signingRequestRoutes(deps.signing, deps.temporal),
    ...deletionRoutes(deps.signing, deps.temporal),
    ...signerRoutes(deps.signing, deps.temporal),
    ...identificationRoutes(deps.signing.eid),
    ...codecRoutes(deps.codec, deps.signing.payloadCodec),
    ...verifyRoutes(deps.dataSource, deps.signing.maxDocumentBytes),
    ...adminRoutes(deps.dataSource),
    ...memberRoutes(deps.accounts),
    ...organizationRoutes(deps.accounts),
    ...organizationExportRoutes(deps.signing, deps.temporal),
    ...organizationSealRoutes(deps.signing),
    ...stuckRoundRoutes(deps.dataSource, deps.stuckRounds),
    ...webhookEndpointRoutes(deps.signing, deps.temporal),
    ...kycCaseRoutes(deps.signing, deps.temporal),
    ...kycCustomerRoutes(deps.signing, deps.temporal),
    ...dataSubjectRequestRoutes(deps.signing, deps.temporal),
    ...privacyRequestRoutes(deps.signing, deps.temporal),
    ...questionnaireRoutes(deps.signing),
    ...retentionRoutes(deps.dataSource),
    ...authRoutes(deps.accounts),
    ...(deps.metrics ? metricsRoutes(deps.metrics) : []),
  ];
  const { router, openApiDocument, allowedMethodsAt, apiLayers } = buildRouter(routes, deps);

  // First, so everything below (the access log line too) happens inside the request's span.
  app.use(requestSpans());
  app.use(requestContext(deps.log));
  app.use(errorHandler());
  // Helmet's defaults, except that `upgrade-insecure-requests` is sent only behind an https PUBLIC_URL: on
  // plain http under a LAN or VM address the browser would otherwise fetch the page's script over https,
  // where nothing listens, and the page breaks (browsers exempt only localhost from the upgrade).
  // Scripts only from our origin, never inline; 'wasm-unsafe-eval' lets pdf.js compile its own bundled image
  // decoders (JPEG 2000, JBIG2), which cannot run script.
  const servedOverHttps = new URL(deps.publicUrl).protocol === 'https:';
  app.use(
    helmet({
      contentSecurityPolicy: {
        directives: { scriptSrc: ["'self'", "'wasm-unsafe-eval'"], ...(servedOverHttps ? {} : { upgradeInsecureRequests: null }) },
      },
    }),
  );
  // Only the codec endpoint is called from another origin (the Temporal Web UI, in the browser).
  const codecCors = cors({
    origin: (ctx) => (deps.codec.corsOrigins.includes(ctx.get('origin')) ? ctx.get('origin') : ''),
    allowMethods: ['POST', 'OPTIONS'],
    allowHeaders: ['content-type', 'authorization', 'x-namespace'],
    credentials: true,
  });
  app.use((ctx, next) => (ctx.path.startsWith('/codec/') ? codecCors(ctx, next) : next()));
  router.get('/openapi.json', (ctx) => {
    ctx.body = openApiDocument;
  });
  mountWebAssets(router);
  // Bundle the pages now rather than on the first visitor's request (a failure is logged; pages retry it).
  webAssets().catch((error: unknown) => deps.log.error({ err: error }, 'the pages could not be built'));
  mountSignerPage(router, deps.signing);
  mountEidCallback(router, deps.signing, eidProcesses(deps), deps.log, deps.rateLimits);
  mountConsolePage(router, deps.dataSource);
  mountKycCustomerPage(router);
  mountPrivacyPage(router, deps.dataSource, { eidAvailable: deps.signing.eid.available });
  mountVerifyPage(router, deps.dataSource, deps.signing.maxDocumentBytes, deps.rateLimits);
  mountLoginPages(router, deps.accounts, deps.rateLimits);
  mountLanguageSwitch(router);
  app.use(methodOfAnotherRoute(router, allowedMethodsAt, apiLayers));
  app.use(router.routes());
  // 405 with Allow (501 for a method never implemented, e.g. TRACE); the error handler gives them their body.
  app.use(exactAllowHeader(allowedMethodsAt));
  app.use(router.allowedMethods());
  return app;
}

function buildRouter(routes: AnyRoute[], deps: ApiDependencies) {
  const router = new Router();
  const registry = new OpenAPIRegistry();
  registry.registerComponent('securitySchemes', 'bearerAuth', {
    type: 'http',
    scheme: 'bearer',
    description: 'An organisation API key: `Authorization: Bearer sgl_...`',
  });
  registry.registerComponent('securitySchemes', 'signerSession', {
    type: 'http',
    scheme: 'bearer',
    description: 'A signer session token from `POST /v1/signer/session`',
  });
  registry.registerComponent('securitySchemes', 'sessionCookie', {
    type: 'apiKey',
    in: 'cookie',
    name: sessionCookieName,
    description: 'A member signed in through /v1/auth/login; changes also need the `X-CSRF-Token` header',
  });
  const authenticate = principalAuthenticator(deps.dataSource);
  const mounted = routes.map((route) => {
    mountRoute(router, registry, route, authenticate, deps.rateLimits);
    return { route, layer: router.stack[router.stack.length - 1]! };
  });
  /**
   * The methods an API path really has. The router's own answer counts every route whose pattern matches,
   * so `/v1/signing-requests/export.csv` would also advertise DELETE of `/v1/signing-requests/:id`; a route
   * counts here only if the path's parameters are valid for it (an id must be an id).
   */
  const allowedMethodsAt = (path: string): string[] => {
    const methods = new Set<string>();
    for (const { route, layer } of mounted) {
      if (!layer.match(path)) continue;
      if (route.params && !route.params.safeParse(layer.params(path, layer.captures(path))).success) continue;
      methods.add(route.method.toUpperCase());
      if (route.method === 'get') methods.add('HEAD');
    }
    return [...methods];
  };

  const openApiDocument = new OpenApiGeneratorV31(registry.definitions).generateDocument({
    openapi: '3.1.0',
    info: {
      title: 'Sigill API',
      version: '0.1.0',
      description: 'E-signature engine: every signing request is a durable Temporal workflow.',
    },
    servers: [{ url: deps.publicUrl }],
  });
  return { router, openApiDocument, allowedMethodsAt, apiLayers: new Set(mounted.map(({ layer }) => layer)) };
}

/**
 * Replaces the Allow header the router computed (on OPTIONS and 405) with the API routes' exact answer,
 * where the path is an API route's; pages keep the router's.
 */
function exactAllowHeader(allowedMethodsAt: (path: string) => string[]): Koa.Middleware {
  return async (ctx, next) => {
    await next();
    if (!ctx.response.get('Allow')) return;
    const methods = allowedMethodsAt(ctx.path);
    if (methods.length > 0) ctx.set('Allow', methods.join(', '));
  };
}

/**
 * `DELETE /v1/signing-requests/export.csv` would reach `DELETE /v1/signing-requests/:id` and be refused as a
 * bad id (400); the path has no DELETE at all, so it is 405 with Allow, like any other method a path lacks.
 * Only where nothing but API routes match: pages keep the router's own handling.
 */
function methodOfAnotherRoute(router: Router, allowedMethodsAt: (path: string) => string[], apiLayers: ReadonlySet<unknown>): Koa.Middleware {
  return async (ctx, next) => {
    if (ctx.method === 'OPTIONS') return next();
    const methods = allowedMethodsAt(ctx.path);
    if (methods.length === 0 || methods.includes(ctx.method)) return next();
    const layers = router.match(ctx.path, ctx.method).pathAndMethod;
    if (layers.length === 0 || layers.some((layer) => !apiLayers.has(layer))) return next();
    ctx.status = 405;
    ctx.set('Allow', methods.join(', '));
  };
}
