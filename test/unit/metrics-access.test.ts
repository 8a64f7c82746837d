/**
 * Who reads `/metrics` on the public port without METRICS_TOKEN: clients on this machine talking to us
 * directly, and nobody else. A reverse proxy on the same host connects from loopback too, so a request it
 * relays must not count as local, whichever way the proxy says it relayed (or, with TRUST_PROXY, even when
 * it says nothing: the operator has told us a proxy is in front). In production there is no loopback leeway
 * at all: a proxy that relays at the TCP level, or a service mesh's sidecar, adds no header to go by.
 */
import Koa from 'koa';
import { metricsRoutes } from '../../src/api/routes/metrics';
import { errorHandler } from '../../src/api/middleware/error-handler';
import { listen, type RunningServer } from '../../src/api/server';

interface Setup {
  trustProxy: boolean;
  token?: string;
  /** NODE_ENV=production: no leeway for loopback. */
  production?: boolean;
}

async function serveMetrics(options: Setup): Promise<RunningServer> {
  const app = new Koa({ proxy: options.trustProxy });
  app.silent = true;
  const [route] = metricsRoutes({ token: options.token, loopbackWithoutToken: !options.production, temporalMetricsUrl: () => undefined });
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

async function statusOf(options: Setup, headers: Record<string, string> = {}): Promise<number> {
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

test('in production the loopback leeway is gone: a proxy that adds no header at all (an L4 or mesh proxy) cannot open it', async () => {
  expect(await statusOf({ trustProxy: false, production: true })).toBe(404);
});

test('with a token, the token decides (behind a proxy too)', async () => {
  const token = 'metrics-token-0123456789abcdef';
  expect(await statusOf({ trustProxy: true, token }, { authorization: `Bearer ${token}` })).toBe(200);
  expect(await statusOf({ trustProxy: false, token })).toBe(401);
  expect(await statusOf({ trustProxy: false, production: true, token }, { authorization: `Bearer ${token}` })).toBe(200);
});
