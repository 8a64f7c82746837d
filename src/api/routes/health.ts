import { z } from 'zod';
import type { ReadinessCheck } from '../../readiness';
import { defineRoute } from '../route';

const readinessBody = z.object({
  status: z.enum(['ready', 'not_ready']),
  checks: z.record(z.string(), z.enum(['ok', 'unavailable'])),
});

export function healthRoutes(readinessChecks: ReadinessCheck[]) {
  return [
    defineRoute({
      method: 'get',
      path: '/healthz',
      summary: 'Liveness: the process is up and serving HTTP',
      tag: 'Operations',
      auth: 'public',
      responses: { 200: { description: 'Alive', schema: z.object({ status: z.literal('ok') }) } },
      handler: async () => ({ status: 200, body: { status: 'ok' } }),
    }),
    defineRoute({
      method: 'get',
      path: '/readyz',
      summary: 'Readiness: Temporal, the database, the blob store and the key service are reachable',
      tag: 'Operations',
      auth: 'public',
      responses: {
        200: { description: 'Ready to serve', schema: readinessBody },
        503: { description: 'A dependency is unreachable; `checks` says which', schema: readinessBody },
      },
      handler: async ({ ctx }) => {
        const results = await Promise.all(
          readinessChecks.map(async (check) => {
            try {
              await withTimeout(check.run(), 3000);
              return [check.name, 'ok'] as const;
            } catch (error) {
              // The reason goes to the operator's log, not to an unauthenticated caller.
              ctx.state.log.warn({ check: check.name, err: error }, 'readiness check failed');
              return [check.name, 'unavailable'] as const;
            }
          }),
        );
        const ready = results.every(([, result]) => result === 'ok');
        return { status: ready ? 200 : 503, body: { status: ready ? 'ready' : 'not_ready', checks: Object.fromEntries(results) } };
      },
    }),
  ];
}

async function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
