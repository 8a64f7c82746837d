/**
 * Routes are declared once, with zod schemas for their input and output. The same declaration validates
 * requests, mounts the Koa handler and documents the route in /openapi.json, so a route cannot exist
 * undocumented or documented differently from what it accepts.
 */
import type Router from '@koa/router';
import type { OpenAPIRegistry, RouteConfig } from '@asteasolutions/zod-to-openapi';
import { bodyParser } from '@koa/bodyparser';
import type { Context } from 'koa';
import { z } from 'zod';
import { AppError } from '../errors';
import { forbiddenCharacterIn, forbiddenCharacterMessage, isInvalidTextIssue } from '../text-input';
import { requirePermission, type Permission } from '../accounts/access';
import type { Principal } from './principal';
import { rateLimit, type RateLimitPolicy } from './rate-limit';
import type { RateLimitStore } from '../database/rate-limit-store';

type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';
type AnyObject = z.ZodObject<z.ZodRawShape>;

export interface RouteResponse {
  description: string;
  schema?: z.ZodType;
}

export interface RouteInput<P extends AnyObject, Q extends AnyObject, B extends z.ZodType> {
  params: z.output<P>;
  query: z.output<Q>;
  body: z.output<B>;
  principal: Principal | undefined;
  /** The raw body of a `binaryBody` route. */
  binaryBody: Buffer | undefined;
  ctx: Context;
}

export interface RouteDefinition<P extends AnyObject, Q extends AnyObject, B extends z.ZodType> {
  method: Method;
  /** Koa path, e.g. `/v1/diagnostics/probes/:probeId`. */
  path: string;
  summary: string;
  tag: string;
  /**
   * `principal`: an API key (`Authorization: Bearer <key>`) or a member's session cookie (with the CSRF
   * header on changes), checked before the body is read.
   * `signer-session`: `Authorization: Bearer <session token>`, checked by the handler's use case.
   * `public`: no credentials.
   */
  auth: 'principal' | 'signer-session' | 'public';
  /**
   * For `principal` routes: the permission needed (403 for organisation-wide principals without it). For
   * folder-scoped principals the use case checks it in the object's folder.
   */
  permission?: Permission;
  /** Requests per client IP per window; checked before credentials and body. */
  rateLimit?: RateLimitPolicy;
  /**
   * The body is a file of this media type (e.g. application/pdf), not JSON: the handler gets it as
   * `binaryBody`, refused with 413 past `maxBytes()`. Excludes `body` and `multipart`.
   */
  binaryBody?: { mediaType: string; maxBytes(): number };
  /** Largest JSON body accepted (bytes or a string like '1mb'); default 1 MB. */
  bodyLimit?: number | string;
  /**
   * Also accept multipart/form-data, turned into the same body the JSON schema validates (so both forms
   * obey one contract). Documented in OpenAPI beside the JSON form.
   */
  multipart?: { toBody(ctx: Context): Promise<unknown>; description: string };
  params?: P;
  query?: Q;
  body?: B;
  /** Documented responses by status; error statuses are added from `errors`. */
  responses: Record<number, RouteResponse>;
  errors?: number[];
  handler(input: RouteInput<P, Q, B>): Promise<{ status: number; body: unknown }>;
}

export type AnyRoute = RouteDefinition<AnyObject, AnyObject, z.ZodType>;

export function defineRoute<
  P extends AnyObject = z.ZodObject<{}>,
  Q extends AnyObject = z.ZodObject<{}>,
  B extends z.ZodType = z.ZodUndefined,
>(route: RouteDefinition<P, Q, B>): AnyRoute {
  return route as unknown as AnyRoute;
}

/**
 * The body of an endpoint that needs no input: none, or `{}`. Any field is refused (400 naming it), as on every
 * other endpoint, rather than silently ignored: a caller sending options we do not have should find out.
 */
export const emptyBody = z.strictObject({}).default({});

export const errorBodySchema = z.object({
  error: z.object({
    code: z.string().describe('Stable machine-readable code, e.g. invalid_request'),
    message: z.string(),
    details: z.unknown().optional(),
  }),
});

const errorDescriptions: Record<number, string> = {
  400: 'Invalid request',
  401: 'Missing or invalid credentials',
  403: 'The credential lacks the permission this needs, is an API key where a signed-in person is needed, or (a session-authenticated change) lacks its CSRF token',
  404: 'Not found',
  409: 'Conflict with the current state',
  410: 'The record was deleted (`record_deleted`): its data can no longer be read',
  413: 'Payload too large',
  415: 'Unsupported media type',
  422: 'Request understood but cannot be processed',
  429: 'Too many requests',
  503: 'A part Sigill depends on is unavailable (`database_unavailable`, `temporal_unavailable`, `dependency_unavailable`); retry after `Retry-After` seconds',
};

/**
 * 400 for a request of the wrong shape; 422 when the shape is right but a text holds characters Sigill
 * never stores (src/text-input.ts), naming the field either way.
 */
function validationError(where: string, error: z.ZodError): AppError {
  const textIssues = error.issues.filter(isInvalidTextIssue);
  const reported = textIssues.length > 0 ? textIssues : error.issues;
  const issues = reported.map((issue) => ({ path: [where, ...issue.path].join('.'), message: issue.message }));
  return new AppError(textIssues.length > 0 ? 'invalid_text' : 'invalid_request', `${issues[0]!.path}: ${issues[0]!.message}`, { issues });
}

/**
 * Every string of every request (keys included) obeys the text rule before any schema sees it, so a field
 * whose schema is not free text (a token, a cursor, a password) cannot carry a NUL or a lone surrogate
 * into the database, a workflow or a log either. Line breaks and tabs pass here; single-line fields refuse
 * them in their own schema.
 */
function refuseForbiddenCharacters(value: unknown, path: string): void {
  if (typeof value === 'string') {
    const problem = forbiddenCharacterIn(value, { lineBreaks: true });
    if (problem) {
      const message = forbiddenCharacterMessage[problem];
      throw new AppError('invalid_text', `${path}: ${message}`, { issues: [{ path, message }] });
    }
  } else if (Array.isArray(value)) {
    value.forEach((item, index) => refuseForbiddenCharacters(item, `${path}.${index}`));
  } else if (typeof value === 'object' && value !== null) {
    for (const [key, item] of Object.entries(value)) {
      refuseForbiddenCharacters(key, `${path} (a key)`);
      refuseForbiddenCharacters(item, `${path}.${key}`);
    }
  }
}

function parse<T extends z.ZodType>(schema: T | undefined, value: unknown, where: string): z.output<T> {
  if (!schema) return undefined as z.output<T>;
  refuseForbiddenCharacters(value, where);
  const result = schema.safeParse(value);
  if (!result.success) throw validationError(where, result.error);
  return result.data;
}

export function mountRoute(
  router: Router,
  registry: OpenAPIRegistry,
  route: AnyRoute,
  authenticate: (ctx: Context) => Promise<Principal>,
  rateLimits: RateLimitStore,
): void {
  registry.registerPath(openApiEntry(route));
  const parseBody = bodyParser({
    enableTypes: ['json'],
    jsonLimit: route.bodyLimit ?? '1mb',
    // Reject `"text"` or `42` as a body: every endpoint takes an object.
    jsonStrict: true,
    // DELETE too: a deletion may carry its reason (DELETE /v1/signing-requests/:id).
    parsedMethods: ['POST', 'PUT', 'PATCH', 'DELETE'],
    onError: (error) => {
      throw error;
    },
  });
  const limit = route.rateLimit ? rateLimit(rateLimits, `${route.method.toUpperCase()} ${route.path}`, route.rateLimit) : (_ctx: Context, next: () => Promise<unknown>) => next();
  router[route.method](
    route.path,
    limit,
    // Credentials first: nobody gets a large body parsed without a valid key.
    async (ctx, next) => {
      ctx.state.principal = route.auth === 'principal' ? await authenticate(ctx) : undefined;
      // An organisation-wide principal without the permission is refused here, before any lookup. A
      // folder-scoped one is judged by the use case against the object's folder (404 where it cannot see,
      // 403 where it sees but may not act), so the answer about an unseen object never differs from 404.
      const principal = ctx.state.principal as Principal | undefined;
      if (route.permission && principal?.folders === undefined) requirePermission(principal!, route.permission);
      await next();
    },
    async (ctx, next) => {
      if (route.binaryBody) {
        if (!requestHasBody(ctx)) throw new AppError('invalid_request', `Send the file as the request body (${route.binaryBody.mediaType}).`);
        if (!ctx.is(route.binaryBody.mediaType)) {
          throw new AppError('unsupported_media_type', `Send the request body as ${route.binaryBody.mediaType}.`);
        }
        ctx.state.binaryBody = await readRawBody(ctx, route.binaryBody.maxBytes());
        return next();
      }
      if (!route.body || !requestHasBody(ctx)) return next();
      if (route.multipart && ctx.is('multipart/form-data')) {
        (ctx.request as { body?: unknown }).body = await route.multipart.toBody(ctx);
        return next();
      }
      if (!ctx.is('application/json')) {
        const accepted = route.multipart ? 'application/json or multipart/form-data' : 'application/json';
        throw new AppError('unsupported_media_type', `Send the request body as ${accepted}.`);
      }
      return parseBody(ctx, next);
    },
    async (ctx) => {
      const input = {
        params: parse(route.params, ctx.params, 'params'),
        query: parse(route.query, ctx.query, 'query'),
        body: parse(route.body, requestHasBody(ctx) ? (ctx.request as { body?: unknown }).body : undefined, 'body'),
        principal: ctx.state.principal as Principal | undefined,
        binaryBody: ctx.state.binaryBody as Buffer | undefined,
        ctx,
      };
      const result = await route.handler(input);
      ctx.status = result.status;
      ctx.body = result.body;
    },
  );
}

/** The request body as bytes, refused with 413 as soon as it passes `maxBytes` (never buffered whole). */
async function readRawBody(ctx: Context, maxBytes: number): Promise<Buffer> {
  const declared = Number(ctx.get('content-length') || 0);
  const tooLarge = () => new AppError('payload_too_large', `The file is larger than the limit of ${Math.round(maxBytes / 1024 / 1024)} MB.`);
  if (declared > maxBytes) throw tooLarge();
  const chunks: Buffer[] = [];
  let received = 0;
  for await (const chunk of ctx.req as AsyncIterable<Buffer>) {
    received += chunk.length;
    if (received > maxBytes) throw tooLarge();
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

function requestHasBody(ctx: Context): boolean {
  return ctx.get('transfer-encoding') !== '' || Number(ctx.get('content-length') || 0) > 0;
}

/** The bearer token of a request, whatever it stands for (an API key, a signer session). */
export function bearerToken(ctx: Context): string | undefined {
  return /^Bearer (\S+)$/i.exec(ctx.get('authorization'))?.[1];
}

function openApiEntry(route: AnyRoute): RouteConfig {
  const responses: RouteConfig['responses'] = {};
  for (const [status, response] of Object.entries(route.responses)) {
    responses[status] = {
      description: response.description,
      ...(response.schema ? { content: { 'application/json': { schema: response.schema } } } : {}),
    };
  }
  const takesInput = Boolean(route.body || route.binaryBody || route.params || route.query);
  const errorStatuses = new Set([
    ...(route.errors ?? []),
    // Input of the wrong shape is 400; text with characters Sigill never stores is 422 (src/text-input.ts).
    ...(takesInput ? [400, 422] : []),
    // Anything that reads credentials or input reaches the database (or Temporal): an outage is 503.
    ...(takesInput || route.auth !== 'public' ? [503] : []),
    ...(route.binaryBody ? [413, 415] : []),
    ...(route.rateLimit ? [429] : []),
  ]);
  if (route.auth !== 'public') errorStatuses.add(401);
  // A principal may lack the permission, be the wrong kind (an API key where a person's session is needed),
  // or, signed in with a cookie, send a change without its CSRF token.
  if (route.auth === 'principal') errorStatuses.add(403);
  for (const status of errorStatuses) {
    responses[status] = {
      description: errorDescriptions[status] ?? 'Error',
      content: { 'application/json': { schema: errorBodySchema } },
    };
  }
  return {
    method: route.method,
    path: route.path.replace(/:([A-Za-z0-9_]+)/g, '{$1}'),
    summary: route.summary,
    tags: [route.tag],
    security:
      route.auth === 'principal' ? [{ bearerAuth: [] }, { sessionCookie: [] }] : route.auth === 'signer-session' ? [{ signerSession: [] }] : [],
    request: {
      params: route.params,
      query: route.query,
      body: route.binaryBody
        ? { content: { [route.binaryBody.mediaType]: { schema: { type: 'string', format: 'binary' } } }, required: true }
        : route.body
        ? {
            content: {
              'application/json': { schema: route.body },
              ...(route.multipart
                ? {
                    'multipart/form-data': {
                      schema: z.object({
                        request: z.string().describe(route.multipart.description),
                        document: z.string().describe('The file (binary)'),
                      }),
                    },
                  }
                : {}),
            },
            // A body schema with a default (e.g. a probe's options) makes the body optional.
            required: !route.body.safeParse(undefined).success,
          }
        : undefined,
    },
    responses,
  };
}
