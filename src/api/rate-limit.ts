/**
 * Per-client request budgets for the endpoints that guess-able secrets or expensive work sit behind (PIN
 * entry, sign-in, public verification). Counted in PostgreSQL (src/database/rate-limit-store.ts), so every
 * API replica spends one budget and a restart does not refill it; while PostgreSQL does not answer, each
 * process counts in memory rather than refusing or failing the request.
 */
import type { Context, Middleware } from 'koa';
import { RateLimiterRes } from 'rate-limiter-flexible';
import { rateLimitedError } from '../errors';
import type { RateLimitPolicy, RateLimitStore } from '../database/rate-limit-store';

export type { RateLimitPolicy };

/** `name` identifies the budget across processes (routes use their method and path). */
export function rateLimit(
  store: RateLimitStore,
  name: string,
  policy: RateLimitPolicy,
  keyOf: (ctx: Context) => string = (ctx) => ctx.ip,
): Middleware {
  const budget = store.budget(name, policy);
  return async (ctx, next) => {
    try {
      await budget.consume(keyOf(ctx));
    } catch (rejection) {
      if (!(rejection instanceof RateLimiterRes)) throw rejection;
      throw rateLimitedError('Too many requests from this address; try again later.', rejection.msBeforeNext / 1000);
    }
    await next();
  };
}
