/**
 * `npm run bench:api`: how much a status read (`GET /v1/signing-requests/:id`) costs compared with a bare
 * Koa route returning the same JSON bytes, under the same load, in one run. Prints a table and ratios; it
 * asserts nothing about timings and exits non-zero only on errors (non-2xx answers, a part failing to start).
 *
 * Production topology on one machine: a Temporal dev server, a fresh database on DATABASE_URL's PostgreSQL
 * (default postgres://postgres@127.0.0.1:5432/postgres, dropped at the end), the worker (`src/worker.ts`)
 * and the API (`src/main.ts api`) as one child process each, the bare Koa app (`bench-bare-koa.ts`) in a
 * child process too; autocannon runs in this process. Everything is stopped and removed at the end, on
 * errors and on Ctrl-C too.
 *
 * Two phases, each target in turn in both:
 * - the same offered load (`--rate`, requests per second, default 200: an operations console and a
 *   back-office poller or two) as one even stream: latency at that load is the goal's measure, since it
 *   shows what a read costs rather than how requests queue behind each other. (autocannon paces each
 *   connection on its own timer, all started together: ten paced connections arrive in bursts of ten,
 *   which measures the bursts, not the reads.)
 * - saturation (as fast as the connections go): the most requests per second each target serves.
 *
 *   npm run bench:api [-- --duration SECONDS] [-- --quick] [-- --rounds N] [-- --connections N] [-- --rate R]
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { startOrJoinEmbeddedTemporal } from '../src/adapters/temporal-dev-server';
import { createDataSource, runMigrations } from '../src/database/data-source';
import { createLogger } from '../src/logger';
import { apiClient } from '../test/support/api-client';
import { startTsxProcess } from '../test/support/child-process';
import { createTestOrganization } from '../test/support/factories';
import { freePort } from '../test/support/free-port';
import { createTestPdf } from '../test/support/pdf-factories';
import { createServerDatabase } from '../test/support/server-database';
import { waitFor } from '../test/support/wait-for';
import { emptySample, load as loadTarget, summarize, type LoadSample, type LoadTarget } from './bench/http-load';
import { commitDescription, runBenchmark, type BenchRun } from './bench/run';

const { values: flags } = parseArgs({
  options: {
    duration: { type: 'string', default: '10' },
    quick: { type: 'boolean', default: false },
    rounds: { type: 'string', default: '20' },
    connections: { type: 'string', default: '10' },
    rate: { type: 'string', default: '200' },
  },
});
const durationSeconds = flags.quick ? 2 : positive('duration', flags.duration);
const warmupSeconds = flags.quick ? 1 : 3;
const roundCount = positive('rounds', flags.rounds);
const connections = positive('connections', flags.connections);
const offeredRate = positive('rate', flags.rate);
// Targets take turns in short slices, so a slow phase of the machine (a Temporal compaction, another job)
// hits all of them alike rather than one target's whole measurement.
const slices = Math.max(1, Math.round(durationSeconds / 2));

function positive(name: string, value: string): number {
  const number = Number(value);
  if (!Number.isInteger(number) || number < 1) throw new Error(`--${name} must be a positive whole number, not ${value}`);
  return number;
}

const log = createLogger('warn');
const serverUrl = process.env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/postgres';

interface Stack {
  apiUrl: string;
  apiKey: string;
  requestPaths: string[];
  bareUrl: string;
}

async function startStack({ shutdown, track }: BenchRun): Promise<Stack> {
  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sigill-bench-'));
  shutdown.add('temp dir', () => fs.rmSync(workDir, { recursive: true, force: true }));

  const [temporal, database] = await Promise.all([
    (async () => {
      const dbFile = path.join(workDir, 'temporal', 'temporal.db');
      const ports = { port: await freePort(), uiPort: await freePort() };
      const server = await startOrJoinEmbeddedTemporal({ cliPath: process.env.TEMPORAL_CLI_PATH, ...ports, dbFile, namespace: 'default' }, log);
      shutdown.add('temporal', () => server.stop());
      return server;
    })(),
    (async () => {
      const db = await createServerDatabase(serverUrl, 'sigill_bench');
      shutdown.add('database', () => db.drop());
      return db;
    })(),
  ]);

  // Migrations on a pool of one, as the service does; the organisation is made the way tests make it.
  const dataSource = await createDataSource(database.url, { poolSize: 1 }).initialize();
  const organization = await (async () => {
    await runMigrations(dataSource, log);
    return createTestOrganization(dataSource);
  })().finally(() => dataSource.destroy());

  const apiPort = await freePort();
  // Exactly these settings, nothing from the developer's shell (an S3 bucket, an SMTP server): every other
  // part runs on its default under DATA_DIR.
  const env = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    DATABASE_URL: database.url,
    TEMPORAL_ADDRESS: temporal.address,
    DATA_DIR: path.join(workDir, 'data'),
    PORT: String(apiPort),
    PUBLIC_URL: `http://127.0.0.1:${apiPort}`,
    LOG_LEVEL: 'warn',
    MIGRATE_ON_START: 'false',
  };
  // The worker first: it creates the master key in the shared DATA_DIR that the API then reads.
  const worker = startTsxProcess('the worker', 'src/worker.ts', [], env);
  track('worker', worker);
  await worker.waitForOutput(/Sigill is running/, 120_000);
  const api = startTsxProcess('the API', 'src/main.ts', ['api'], env);
  track('api', api);
  await api.waitForOutput(/Sigill is running/, 120_000);
  const apiUrl = env.PUBLIC_URL;

  const call = apiClient(() => apiUrl, () => organization.apiKey);
  const pdf = Buffer.from(await createTestPdf()).toString('base64');
  const requestPaths: string[] = [];
  for (let i = 1; i <= roundCount; i++) {
    const created = await call('/v1/signing-requests', {
      body: {
        title: `Bench round ${i}`,
        document: { filename: 'agreement.pdf', contentBase64: pdf },
        signers: [1, 2].map((n) => ({ name: `Signer ${n}`, email: `signer-${n}-${i}@example.test`, pinDelivery: 'sender' })),
      },
    });
    if (created.status !== 201) throw new Error(`creating round ${i} answered ${created.status}: ${JSON.stringify(created.body)}`);
    requestPaths.push(`/v1/signing-requests/${created.body.id}`);
  }

  // Measure steady state: every signer invited, so the answers no longer change while we read them.
  const bodies: Record<string, string> = {};
  for (const requestPath of requestPaths) {
    bodies[requestPath] = await waitFor(`${requestPath} to show both signers invited`, async () => {
      const response = await fetch(apiUrl + requestPath, { headers: { authorization: `Bearer ${organization.apiKey}` } });
      const text = await response.text();
      if (response.status !== 200) throw new Error(`GET ${requestPath} answered ${response.status}: ${text}`);
      const status = JSON.parse(text) as { status: string; signers: Array<{ status: string }> };
      return status.status === 'pending' && status.signers.every((signer) => signer.status === 'invited') && text;
    }, 60_000);
  }
  const bodiesFile = path.join(workDir, 'bare-bodies.json');
  fs.writeFileSync(bodiesFile, JSON.stringify(bodies));
  const barePort = await freePort();
  const bare = startTsxProcess('the bare Koa app', 'scripts/bench-bare-koa.ts', [String(barePort), bodiesFile]);
  track('bare koa', bare);
  await bare.waitForOutput(/listening/, 60_000);

  return { apiUrl, apiKey: organization.apiKey, requestPaths, bareUrl: `http://127.0.0.1:${barePort}` };
}

async function bench(stack: Stack): Promise<boolean> {
  const headers = { authorization: `Bearer ${stack.apiKey}` };
  const targets: LoadTarget[] = [
    { name: 'Sigill GET /v1/signing-requests/:id', url: stack.apiUrl, paths: stack.requestPaths },
    { name: 'bare Koa, same JSON bytes', url: stack.bareUrl, paths: stack.requestPaths },
    { name: 'Sigill GET /healthz (reference)', url: stack.apiUrl, paths: ['/healthz'] },
  ];
  const warmups = targets.map(emptySample);
  process.stderr.write(`warming up (${warmupSeconds} s per target), then two phases of ${durationSeconds} s per target in ${slices} alternating slices…\n`);
  for (const [i, target] of targets.entries()) await loadTarget(target, { seconds: warmupSeconds, headers, connections }, warmups[i]!);
  const measure = async (rate?: number) => {
    const samples = targets.map(emptySample);
    for (let slice = 0; slice < slices; slice++) {
      // Alternate the order too, so no target always runs right after the same other one.
      const order = slice % 2 === 0 ? [0, 1, 2] : [2, 1, 0];
      for (const i of order) await loadTarget(targets[i]!, { seconds: durationSeconds / slices, headers, connections, rate }, samples[i]!);
    }
    return samples;
  };
  const atRate = await measure(offeredRate);
  const saturated = await measure();

  const ms = (value: number) => value.toFixed(value < 10 ? 2 : 1);
  const table = (samples: LoadSample[]) => {
    const results = samples.map(summarize);
    const rows = [
      ['target', 'p50 ms', 'p99 ms', 'req/s', 'non-2xx', 'errors'],
      ...results.map((r, i) => [targets[i]!.name, ms(r.p50), ms(r.p99), r.perSecond.toFixed(0), String(r.non2xx), String(r.errors)]),
    ];
    const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
    const line = (row: string[]) => row.map((cell, column) => (column === 0 ? cell.padEnd(widths[column]!) : cell.padStart(widths[column]!))).join('  ');
    return { lines: rows.map(line), sigill: results[0]!, bare: results[1]! };
  };
  const steady = table(atRate);
  const flat = table(saturated);
  const p99Ratio = steady.sigill.p99 / steady.bare.p99;
  const output = [
    '',
    `Sigill API benchmark at ${commitDescription()}`,
    `Topology: Temporal dev server, PostgreSQL database on ${new URL(serverUrl).host}, ` +
      'worker and API one child process each, bare Koa a child process; autocannon in the benchmark process.',
    `${durationSeconds} s per target and phase (${warmupSeconds} s warm-up), ${stack.requestPaths.length} pending two-signer rounds read in turn.`,
    '',
    `Same offered load: an even stream of ${offeredRate} requests/s`,
    ...steady.lines,
    `Sigill ÷ bare Koa: p50 ${(steady.sigill.p50 / steady.bare.p50).toFixed(1)}×, p99 ${p99Ratio.toFixed(1)}×`,
    '',
    `Saturation: as fast as ${connections} connections go`,
    ...flat.lines,
    `Sigill ÷ bare Koa: p50 ${(flat.sigill.p50 / flat.bare.p50).toFixed(1)}×, p99 ${(flat.sigill.p99 / flat.bare.p99).toFixed(1)}×; requests/s Sigill ÷ bare ${(flat.sigill.perSecond / flat.bare.perSecond).toFixed(3)}`,
    '',
    `Goal "status read p99 ≤ 3× bare Koa at the same load": ${p99Ratio <= 3 ? 'met' : 'NOT met'} (${p99Ratio.toFixed(1)}×)`,
    '',
  ];
  process.stdout.write(output.join('\n'));

  const samples = [...atRate, ...saturated];
  const failures = [...warmups, ...samples].reduce((sum, s) => sum + s.non2xx + s.errors, 0);
  if (failures) process.stderr.write(`${failures} request(s) failed (non-2xx answers or connection errors): see the table.\n`);
  return failures === 0;
}

runBenchmark('bench:api', log, async (run) => {
  process.stderr.write('starting Temporal, PostgreSQL database, worker and API…\n');
  return bench(await startStack(run));
});
