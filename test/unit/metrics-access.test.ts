/**
 * Who reads `/metrics` on the public port without METRICS_TOKEN: clients on this machine talking to us
 * directly, and nobody else. A reverse proxy on the same host connects from loopback too, so a request it
 * relays must not count as local, whichever way the proxy says it relayed (or, with TRUST_PROXY, even when
 * it says nothing: the operator has told us a proxy is in front).
 */
import Koa from 'koa';
import { metricsRoutes } from '../../src/api/routes/metrics';
import { errorHandler } from '../../src/api/middleware/error-handler';
import { listen, type RunningServer } from '../../src/api/server';

async function serveMetrics(options: { trustProxy: boolean; token?: string }): Promise<RunningServer> {
  const app = new Koa({ proxy: options.trustProxy });
  app.silent = true;
  const [route] = metricsRoutes({ token: options.token, temporalMetricsUrl: () => undefined });
  app.use(errorHandler());
  app.use(async (ctx) => {
    const answer = await route!.handler({ ctx } as never);
    ctx.status = answer.status;
  });
  return listen(app, { host: '127.0.0.1', port: 0 });
}

const servers: RunningServer[] = [];
afterAll(async () => {
  await Promise.all(servers.map((server) => server.close()));
});

async function statusOf(options: { trustProxy: boolean; token?: string }, headers: Record<string, string> = {}): Promise<number> {
  const server = await serveMetrics(options);
  servers.push(server);
  const response = await fetch(`${server.url}/metrics`, { headers });
  await response.arrayBuffer();
  return response.status;
}

test('a loopback client talking to us directly reads it', async () => {
  expect(await statusOf({ trustProxy: false })).toBe(200);
});

test.each([
  ['x-forwarded-for', '203.0.113.9'],
  ['forwarded', 'for=203.0.113.9'],
  ['x-real-ip', '203.0.113.9'],
  ['via', '1.1 nginx'],
  ['x-forwarded-host', 'sign.example.com'],
  ['x-forwarded-proto', 'https'],
])('a request relayed by a proxy on this host (%s) is answered as if there were no such resource', async (header, value) => {
  expect(await statusOf({ trustProxy: false }, { [header]: value })).toBe(404);
});

test('with TRUST_PROXY the loopback peer is the proxy: no request is local, whatever headers it sends', async () => {
  expect(await statusOf({ trustProxy: true })).toBe(404);
});

test('with a token, the token decides (behind a proxy too)', async () => {
  const token = 'metrics-token-0123456789abcdef';
  expect(await statusOf({ trustProxy: true, token }, { authorization: `Bearer ${token}` })).toBe(200);
  expect(await statusOf({ trustProxy: false, token })).toBe(401);
});
