/**
 * `/metrics` as an operator's Prometheus scrapes it (R17), from Sigill's real entry points run as child
 * processes (each installs its own Temporal runtime, whose worker metrics one scrape includes):
 * - `src/main.ts` with no token: a whole round (create → sign → sealed) shows in the round's counters and
 *   histograms, HTTP requests by route pattern, messages by channel, and the Temporal SDK's metrics; open
 *   to loopback clients only (a proxied request is refused).
 * - `src/worker.ts` with METRICS_PORT and METRICS_TOKEN: a worker-only process serves its metrics on a
 *   listener of its own, and only to the token.
 * - `src/main.ts` with METRICS_PORT alone: /metrics moves off the public port to its own, open there.
 */
import type { DataSource } from 'typeorm';
import { createTestOrganization } from '../support/factories';
import { freePort } from '../support/free-port';
import { openTestDataSource } from '../support/harness';
import { createTestPdf } from '../support/pdf-factories';
import { startSmtpCatcher } from '../support/smtp-catcher';
import { signOneRoundOverHttp, startSpawnedService, waitUntilServing, type SpawnedService } from '../support/spawned-service';
import { waitFor } from '../support/wait-for';

const metricsToken = 'metrics-token-0123456789abcdef';
let dataSource: DataSource;
let smtp: Awaited<ReturnType<typeof startSmtpCatcher>>;
let service: SpawnedService;
let worker: SpawnedService;
let workerMetricsUrl: string;
let separate: SpawnedService;
let separateMetricsUrl: string;

beforeAll(async () => {
  dataSource = await openTestDataSource();
  smtp = await startSmtpCatcher();
  const workerMetricsPort = await freePort();
  workerMetricsUrl = `http://127.0.0.1:${workerMetricsPort}/metrics`;
  service = await startSpawnedService({ entry: 'src/main.ts', smtpUrl: smtp.url });
  worker = await startSpawnedService({
    entry: 'src/worker.ts',
    env: { METRICS_PORT: String(workerMetricsPort), METRICS_TOKEN: metricsToken },
  });
  const separatePort = await freePort();
  separateMetricsUrl = `http://127.0.0.1:${separatePort}/metrics`;
  separate = await startSpawnedService({ entry: 'src/main.ts', env: { METRICS_PORT: String(separatePort) } });
  await Promise.all([
    waitUntilServing(service, 'src/main.ts'),
    waitUntilServing(worker, 'src/worker.ts'),
    waitUntilServing(separate, 'src/main.ts'),
  ]);
}, 150_000);

afterAll(async () => {
  await Promise.all([service?.process.stop(), worker?.process.stop(), separate?.process.stop()]);
  await smtp?.close();
  await dataSource?.destroy();
});

/** The value of one sample, its labels given in full or in part; undefined when no sample matches. */
function sampleValue(exposition: string, name: string, labels: Record<string, string> = {}): number | undefined {
  const matches = exposition
    .split('\n')
    .filter((line) => line.startsWith(`${name}{`) || line.startsWith(`${name} `))
    .filter((line) => Object.entries(labels).every(([key, value]) => line.includes(`${key}="${value}"`)));
  if (matches.length === 0) return undefined;
  return matches.reduce((sum, line) => sum + Number(line.slice(line.lastIndexOf(' ') + 1)), 0);
}

async function scrape(url: string, headers: Record<string, string> = {}): Promise<string> {
  const response = await fetch(url, { headers });
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  return response.text();
}

test('after one whole round a scrape shows its counters, histograms, requests by route, messages and the Temporal SDK metrics', async () => {
  const org = await createTestOrganization(dataSource);
  const { id } = await signOneRoundOverHttp(service, org.apiKey, smtp, await createTestPdf());

  // The outcome emails go out after the outcome is recorded, and the workflow completes after them.
  let text = '';
  try {
    await waitFor('all three emails and the workflow completion counted', async () => {
      text = await scrape(`${service.url}/metrics`);
      return (sampleValue(text, 'sigill_messages_sent_total', { channel: 'email' }) ?? 0) >= 3 && sampleValue(text, 'temporal_workflow_completed') !== undefined;
    });

    // Exactly once each, though activities ran and a create was answered: nothing counted twice.
    expect(sampleValue(text, 'sigill_signing_rounds_started_total')).toBe(1);
    expect(sampleValue(text, 'sigill_signing_rounds_ended_total', { outcome: 'completed' })).toBe(1);
    expect(sampleValue(text, 'sigill_signing_round_completion_seconds_count')).toBe(1);
    expect(sampleValue(text, 'sigill_signing_round_last_signature_to_sealed_seconds_count')).toBe(1);
    // In seconds, from the round's own times: it took seconds from creation, less from the signature to the seal.
    const completion = sampleValue(text, 'sigill_signing_round_completion_seconds_sum')!;
    const sealing = sampleValue(text, 'sigill_signing_round_last_signature_to_sealed_seconds_sum')!;
    expect(completion).toBeGreaterThan(0);
    expect(completion).toBeLessThan(120);
    expect(sealing).toBeGreaterThan(0);
    expect(sealing).toBeLessThanOrEqual(completion);
    expect(sampleValue(text, 'sigill_seal_duration_seconds_count', { outcome: 'sealed' })).toBe(1);
    expect(sampleValue(text, 'sigill_messages_sent_total', { channel: 'email' })).toBe(3); // invitation, signer's and owner's outcome

    // Requests by the router's pattern, never the raw URL (which holds ids and tokens).
    expect(sampleValue(text, 'sigill_http_requests_total', { method: 'POST', route: '/v1/signing-requests', status: '201' })).toBe(1);
    expect(sampleValue(text, 'sigill_http_requests_total', { method: 'POST', route: '/v1/signer/sign', status: '200' })).toBe(1);
    expect(sampleValue(text, 'sigill_http_requests_total', { method: 'GET', route: '/v1/signing-requests/:id' })).toBeGreaterThanOrEqual(1);
    expect(sampleValue(text, 'sigill_http_request_duration_seconds_count', { route: '/v1/signer/sign' })).toBe(1);
    expect(text).not.toContain(id);

    // The Temporal SDK's own worker metrics, durations in seconds, for this process's task queue.
    const queue = { task_queue: service.taskQueue };
    expect(sampleValue(text, 'temporal_workflow_completed', { ...queue, workflow_type: 'signingRoundWorkflow' })).toBe(1);
    expect(sampleValue(text, 'temporal_activity_execution_latency_count', { ...queue, activity_type: 'sealSignedDocument' })).toBeGreaterThanOrEqual(1);
    expect(sampleValue(text, 'temporal_activity_schedule_to_start_latency_count', queue)).toBeGreaterThan(0);
    expect(sampleValue(text, 'temporal_workflow_task_schedule_to_start_latency_count', queue)).toBeGreaterThan(0);
    // Seconds, not milliseconds: the seal's activity ran well under a minute, so its sum is small.
    expect(sampleValue(text, 'temporal_activity_execution_latency_sum', { ...queue, activity_type: 'sealSignedDocument' })).toBeLessThan(60);

    // One HELP and one TYPE line per family, though two sources were joined.
    const comments = text.split('\n').filter((line) => line.startsWith('# HELP ') || line.startsWith('# TYPE '));
    expect(new Set(comments.map((line) => line.split(' ').slice(0, 3).join(' '))).size).toBe(comments.length);
  } catch (error) {
    throw new Error(`${(error as Error).message}\n--- the last scrape:\n${text}`);
  }
});

test('without a token, /metrics answers loopback clients only: a request relayed by a proxy gets 404', async () => {
  const relayed = await fetch(`${service.url}/metrics`, { headers: { 'x-forwarded-for': '203.0.113.9' } });
  expect(relayed.status).toBe(404);
  expect(await relayed.json()).toEqual({ error: { code: 'not_found', message: 'No such resource.' } });
});

test('a worker-only process serves /metrics on METRICS_PORT, to its token only', async () => {
  const missing = await fetch(workerMetricsUrl);
  expect(missing.status).toBe(401);
  expect(((await missing.json()) as { error: { code: string } }).error.code).toBe('unauthenticated');
  const wrong = await fetch(workerMetricsUrl, { headers: { authorization: `Bearer ${metricsToken.replace('0', '1')}` } });
  expect(wrong.status).toBe(401);
  expect(((await wrong.json()) as { error: { code: string } }).error.code).toBe('unauthenticated');

  const text = await scrape(workerMetricsUrl, { authorization: `Bearer ${metricsToken}` });
  expect(text).toContain('# TYPE sigill_signing_rounds_started_total counter');
  // Its own runtime's metrics: its pollers on its own task queue.
  expect(text).toMatch(new RegExp(`^temporal_\\w+\\{[^}]*task_queue="${worker.taskQueue}"`, 'm'));

  const elsewhere = await fetch(workerMetricsUrl.replace('/metrics', '/readyz'), { headers: { authorization: `Bearer ${metricsToken}` } });
  expect(elsewhere.status).toBe(404);
  expect(((await elsewhere.json()) as { error: { code: string } }).error.code).toBe('not_found');
  // The token never reaches the log.
  expect(worker.process.output()).not.toContain(metricsToken);
});

test('with METRICS_PORT, /metrics is served on that port (no token configured: open there) and not on the public one', async () => {
  const onPublicPort = await fetch(`${separate.url}/metrics`);
  expect(onPublicPort.status).toBe(404);
  expect(await onPublicPort.json()).toEqual({ error: { code: 'not_found', message: 'No such resource.' } });

  const text = await scrape(separateMetricsUrl);
  expect(text).toContain('# TYPE sigill_http_requests_total counter');
  expect(text).toMatch(new RegExp(`^temporal_\\w+\\{[^}]*task_queue="${separate.taskQueue}"`, 'm'));
  // Its own request shows on it, by pattern, like any other.
  expect(sampleValue(await scrape(separateMetricsUrl), 'sigill_http_requests_total', { route: '/metrics', status: '200' })).toBeGreaterThanOrEqual(1);
});
