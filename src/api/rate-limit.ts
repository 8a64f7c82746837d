/**
 * Per-client request budgets for the endpoints that guess-able secrets or expensive work sit behind (PIN
 * entry, public verification). Counted per API process in memory: with N API replicas a client gets up to
 * N budgets, which still bounds guessing; a shared store (PostgreSQL/Redis) is the upgrade for large fleets.
 */
import type { Context, Middleware } from 'koa';
import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import { AppError } from '../errors';

export interface RateLimitPolicy {
  /** Requests allowed per window, per client IP. */
  points: number;
  windowSeconds: number;
}

export function rateLimit(policy: RateLimitPolicy, keyOf: (ctx: Context) => string = (ctx) => ctx.ip): Middleware {
  const limiter = new RateLimiterMemory({ points: policy.points, duration: policy.windowSeconds });
  return async (ctx, next) => {
    try {
      await limiter.consume(keyOf(ctx));
    } catch (rejection) {
      if (!(rejection instanceof RateLimiterRes)) throw rejection;
      ctx.set('Retry-After', String(Math.max(1, Math.ceil(rejection.msBeforeNext / 1000))));
      throw new AppError('rate_limited', 'Too many requests from this address; try again later.');
    }
    await next();
  };
}
