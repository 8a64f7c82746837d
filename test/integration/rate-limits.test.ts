/**
 * Rate-limit budgets live in PostgreSQL (src/database/rate-limit-store.ts): API replicas on one database
 * spend one budget per client address, a restarted API finds it spent, and when PostgreSQL does not answer
 * each process counts in memory instead of failing the request. Each test's APIs share a namespace of their
 * own, so no other test (all clients here are 127.0.0.1) spends these budgets.
 */
import { randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import { Pool } from 'pg';
import type { DataSource } from 'typeorm';
import { maxFailuresPerIp } from '../../src/accounts/login-throttle';
import { pinRateLimit } from '../../src/api/routes/signer';
import { RateLimitStore } from '../../src/database/rate-limit-store';
import { createLogger } from '../../src/logger';
import { apiClient, type CallResult } from '../support/api-client';
import { freePort } from '../support/free-port';
import { openTestDataSource, startTestApi, testLog, type TestApi } from '../support/harness';
import { waitFor } from '../support/wait-for';

let dataSources: DataSource[];
const started: TestApi[] = [];

beforeAll(async () => {
  // One pool per replica, as separate processes would have.
  dataSources = await Promise.all([openTestDataSource(), openTestDataSource()]);
});
afterEach(async () => {
  await Promise.all(started.splice(0).map((api) => api.close()));
});
afterAll(async () => {
  await Promise.all((dataSources ?? []).map((dataSource) => dataSource.destroy()));
});

/** An API counting its rate limits under `namespace` on the replica's own pool. */
async function startReplica(namespace: string, replica: 0 | 1 = 0): Promise<TestApi> {
  const dataSource = dataSources[replica]!;
  const api = await startTestApi(dataSource, { withWorker: false, rateLimits: RateLimitStore.onDataSource(dataSource, testLog, namespace) });
  started.push(api);
  return api;
}

/** A PIN entry that fails validation: it still spends the route's budget, which is checked first. */
const enterPin = (api: TestApi): Promise<CallResult> =>
  apiClient(() => api.url, () => null)('/v1/signer/session', { body: { token: 'no-such-link', pin: 'nope' } });

function expectRateLimited(response: CallResult, windowSeconds: number) {
  expect(response.status).toBe(429);
  expect(response.body.error.code).toBe('rate_limited');
  const retryAfter = Number(response.headers.get('retry-after'));
  expect(retryAfter).toBeGreaterThan(0);
  expect(retryAfter).toBeLessThanOrEqual(windowSeconds);
}

test('two API replicas on one database spend one budget per address', async () => {
  const namespace = randomUUID();
  const replicas = [await startReplica(namespace, 0), await startReplica(namespace, 1)];

  const statuses: number[] = [];
  for (let i = 0; i < pinRateLimit.points; i++) statuses.push((await enterPin(replicas[i % 2]!)).status);
  expect(statuses).not.toContain(429);
  // Each replica has answered only half the budget, yet both refuse: the count is the database's.
  for (const replica of replicas) expectRateLimited(await enterPin(replica), pinRateLimit.windowSeconds);

  // Budgets are per route: verification, on the same replicas, is untouched.
  const verification = await fetch(`${replicas[0]!.url}/v1/verify`, { method: 'POST', headers: { 'content-type': 'application/pdf' }, body: '%PDF-1.7 tiny' });
  expect(verification.status).not.toBe(429);

  const [row] = await dataSources[0]!.query(`SELECT points FROM rate_limits WHERE key LIKE $1`, [`${namespace}:POST /v1/signer/session:%`]);
  expect(row.points).toBeGreaterThan(pinRateLimit.points);
});

test('a restarted API finds the budget spent', async () => {
  const namespace = randomUUID();
  const before = await startReplica(namespace);
  for (let i = 0; i < pinRateLimit.points; i++) expect((await enterPin(before)).status).not.toBe(429);
  await before.close();
  started.splice(started.indexOf(before), 1);

  const after = await startReplica(namespace);
  expectRateLimited(await enterPin(after), pinRateLimit.windowSeconds);
});

test('failed sign-ins from one address are counted across replicas: 10 over many emails block it on both', async () => {
  const namespace = randomUUID();
  const replicas = [await startReplica(namespace, 0), await startReplica(namespace, 1)];
  const login = (api: TestApi) =>
    apiClient(() => api.url, () => null)('/v1/auth/login', {
      body: { email: `spray-${randomUUID().slice(0, 8)}@example.test`, password: 'Summer2026!!' },
    });

  const statuses: number[] = [];
  for (let i = 0; i < maxFailuresPerIp; i++) statuses.push((await login(replicas[i % 2]!)).status);
  expect(statuses).toEqual(Array(maxFailuresPerIp).fill(401));
  for (const replica of replicas) expectRateLimited(await login(replica), 15 * 60);
});

test('while PostgreSQL does not answer, each API counts in memory: limited, never a 500', async () => {
  const logLines: string[] = [];
  const log = createLogger('info', new Writable({ write: (chunk, _encoding, done) => (logLines.push(chunk.toString()), done()) }));
  // Nothing listens on this port: every rate-limit query fails at once.
  const unreachable = new Pool({ connectionString: `postgres://postgres@127.0.0.1:${await freePort()}/none` });
  try {
    const api = await startTestApi(dataSources[0]!, { withWorker: false, log, rateLimits: new RateLimitStore(unreachable, log, randomUUID()) });
    started.push(api);

    const statuses: number[] = [];
    for (let i = 0; i < pinRateLimit.points; i++) statuses.push((await enterPin(api)).status);
    // Refused for its invalid PIN, after the budget check answered from memory.
    expect(statuses.filter((status) => status >= 500 || status === 429 || status < 400)).toEqual([]);
    expectRateLimited(await enterPin(api), pinRateLimit.windowSeconds);

    const warnings = logLines.map((line) => JSON.parse(line)).filter((line) => /PostgreSQL store failed/.test(line.msg));
    expect(warnings).toHaveLength(1);
  } finally {
    await unreachable.end();
  }
});

test('rows whose window ended over an hour ago are deleted; live ones stay', async () => {
  const [dataSource] = dataSources;
  const namespace = randomUUID();
  const hourAndMore = Date.now() - 2 * 60 * 60_000;
  await dataSource!.query(`INSERT INTO rate_limits (key, points, expire) VALUES ($1, 3, $2), ($3, 3, $4)`, [
    `${namespace}:old:10.0.0.1`,
    hourAndMore,
    `${namespace}:live:10.0.0.1`,
    Date.now() + 60_000,
  ]);

  // A fresh store cleans up after its first answered request.
  await RateLimitStore.onDataSource(dataSource!, testLog, namespace).budget('cleanup', { points: 5, windowSeconds: 60 }).consume('10.0.0.2');

  const keysLeft = async () => (await dataSource!.query(`SELECT key FROM rate_limits WHERE key LIKE $1`, [`${namespace}:%`])).map((row: { key: string }) => row.key);
  await waitFor('the expired row to be deleted', async () => !(await keysLeft()).includes(`${namespace}:old:10.0.0.1`));
  expect((await keysLeft()).sort()).toEqual([`${namespace}:cleanup:10.0.0.2`, `${namespace}:live:10.0.0.1`]);
});
