import { randomUUID } from 'node:crypto';
import type { Middleware } from 'koa';
import type { Logger } from '../../logger';
import { recordHttpRequest } from '../../observability/http-metrics';

declare module 'koa' {
  interface DefaultState {
    requestId: string;
    log: Logger;
  }
}

const acceptableRequestId = /^[A-Za-z0-9._-]{1,128}$/;

/**
 * Gives every request an id (the caller's `X-Request-Id` when sane, else a new one), echoes it, and writes
 * one access-log line and its metrics. Both carry the route pattern, not the raw URL: signer links and query
 * strings can hold tokens, and logs must never do (and metric labels must stay few).
 */
export function requestContext(log: Logger): Middleware {
  return async (ctx, next) => {
    const offered = ctx.get('x-request-id');
    const requestId = acceptableRequestId.test(offered) ? offered : randomUUID();
    ctx.state.requestId = requestId;
    ctx.state.log = log.child({ requestId });
    ctx.set('X-Request-Id', requestId);
    const started = process.hrtime.bigint();
    try {
      await next();
    } finally {
      const route = (ctx as { _matchedRoute?: string })._matchedRoute ?? '(unmatched)';
      recordHttpRequest(ctx.method, route, ctx.status, started);
      ctx.state.log.info(
        {
          method: ctx.method,
          route,
          status: ctx.status,
          durationMs: Number(process.hrtime.bigint() - started) / 1e6,
          ip: ctx.ip,
        },
        'request',
      );
    }
  };
}
