/**
 * The README's run command as a newcomer uses it: `npm start` with no configuration. Runs the real entry
 * point as a child process on embedded defaults (PGlite, `temporal server start-dev`), then checks what
 * the foundation promises: readiness, the dev API key, `org create` beside a running service, a clean
 * Ctrl-C that leaves no process behind, and a second start that reuses the data.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { isProcessAlive, readProcessLock } from '../../src/adapters/process-lock';
import { isPortOpen } from '../../src/adapters/wait-for-port';
import { freePort } from '../support/free-port';
import { TestBrowser } from '../support/browser';
import { harness } from '../support/harness';
import { deviceCodeIn } from '../support/members';

const projectRoot = path.resolve(__dirname, '..', '..');
const tsx = path.join(projectRoot, 'node_modules', '.bin', 'tsx');

interface RunningSigill {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

let env: NodeJS.ProcessEnv;
let baseUrl: string;
const started: RunningSigill[] = [];

beforeAll(async () => {
  const port = await freePort();
  baseUrl = `http://127.0.0.1:${port}`;
  // Only what a newcomer might have; no DATABASE_URL or TEMPORAL_ADDRESS, whatever the test run uses.
  const { DATABASE_URL: _database, TEMPORAL_ADDRESS: _temporal, ...inherited } = process.env;
  env = {
    ...inherited,
    DATA_DIR: harness.tempDir('e2e-data'),
    PORT: String(port),
    TEMPORAL_DEV_PORT: String(await freePort()),
    TEMPORAL_DEV_UI_PORT: String(await freePort()),
    EMBEDDED_POSTGRES_PORT: String(await freePort()),
  };
});

afterAll(async () => {
  for (const run of started) {
    if (run.child.exitCode === null && run.child.signalCode === null) process.kill(-run.child.pid!, 'SIGKILL');
  }
});

function startSigill(extraEnv: NodeJS.ProcessEnv = {}): RunningSigill {
  // Its own process group, like a terminal job: the test can signal the whole group as Ctrl-C does.
  const child = spawn(tsx, ['src/main.ts'], { cwd: projectRoot, env: { ...env, ...extraEnv }, detached: true });
  let output = '';
  child.stdout!.on('data', (chunk) => (output += chunk));
  child.stderr!.on('data', (chunk) => (output += chunk));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const run = { child, output: () => output, exited };
  started.push(run);
  return run;
}

async function waitUntilReady(run: RunningSigill): Promise<void> {
  const deadline = Date.now() + 110_000;
  while (Date.now() < deadline) {
    if (run.child.exitCode !== null) throw new Error(`Sigill exited early:\n${run.output()}`);
    const status = await fetch(`${baseUrl}/readyz`).then((response) => response.status, () => 0);
    if (status === 200) return;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`Sigill did not become ready:\n${run.output()}`);
}

const devApiKey = () => fs.readFileSync(path.join(env.DATA_DIR!, 'dev-api-key'), 'utf8').trim();

function authorized(key: string, pathname: string, init: RequestInit = {}) {
  return fetch(`${baseUrl}${pathname}`, { ...init, headers: { authorization: `Bearer ${key}`, ...init.headers } });
}

async function stopWithCtrlC(run: RunningSigill): Promise<number | null> {
  process.kill(-run.child.pid!, 'SIGINT');
  return run.exited;
}

test('a bad configuration value exits at once with one line naming the variable', async () => {
  const run = startSigill({ DATABASE_URL: 'not-a-url' });
  const code = await run.exited;
  expect(code).not.toBe(0);
  const lines = run.output().trim().split('\n');
  expect(lines).toEqual([expect.stringContaining('DATABASE_URL')]);
  expect(lines[0]).not.toContain('not-a-url');
});

test('Ctrl-C while the embedded Temporal server is still starting stops it too: nothing left behind', async () => {
  const dataDir = harness.tempDir('e2e-early-stop');
  const temporalPort = await freePort();
  const run = startSigill({ DATA_DIR: dataDir, TEMPORAL_DEV_PORT: String(temporalPort), TEMPORAL_DEV_UI_PORT: String(await freePort()) });
  const deadline = Date.now() + 60_000;
  while (!run.output().includes('starting the embedded Temporal server')) {
    if (run.child.exitCode !== null || Date.now() > deadline) throw new Error(`Sigill did not reach the Temporal start:\n${run.output()}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  expect(await stopWithCtrlC(run)).toBe(0);
  // The server was spawned in a process group of its own: only our stop step ends it.
  expect(await isPortOpen(temporalPort)).toBe(false);
  const serverLeft = spawnSync('pgrep', ['-f', `start-dev .*--port ${temporalPort} `], { encoding: 'utf8' }).stdout.trim();
  expect(serverLeft).toBe('');
});

let probeId: string;

test('first start: ready with no configuration, dev key works, org create joins the running service, Ctrl-C stops everything', async () => {
  const run = startSigill();
  await waitUntilReady(run);

  const keyFile = path.join(env.DATA_DIR!, 'dev-api-key');
  expect(fs.statSync(keyFile).mode & 0o777).toBe(0o600);
  expect(fs.statSync(path.join(env.DATA_DIR!, 'keys', 'master.key')).mode & 0o777).toBe(0o600);
  const key = devApiKey();
  expect(run.output()).toContain(key);

  // The banner's link lets the development owner choose a password; the sign-in page is there.
  const ownerLink = /(http\S+\/login\/password\?token=\S+)/.exec(run.output())?.[1];
  expect(ownerLink).toBeDefined();
  const passwordPage = await fetch(`${baseUrl}${new URL(ownerLink!).pathname}${new URL(ownerLink!).search}`);
  expect(passwordPage.status).toBe(200);
  expect(await passwordPage.text()).toContain('dev@sigill.localhost');
  // ... and signs in on the embedded database, the new-browser code arriving in the mail outbox.
  const owner = new TestBrowser(baseUrl);
  const token = new URL(ownerLink!).searchParams.get('token')!;
  expect((await owner.submit('/login/password', { token, password: 'development passphrase' })).status).toBe(200);
  const codePage = await owner.submit('/login', { email: 'dev@sigill.localhost', password: 'development passphrase' });
  const challengeId = /name="challengeId" value="([^"]+)"/.exec(codePage.text)?.[1];
  expect(challengeId).toBeDefined();
  const mail = fs.readFileSync(path.join(env.DATA_DIR!, 'outbox', 'mail', `device-code-${challengeId}.eml`), 'utf8');
  const signedIn = await owner.submit('/login/code', { challengeId: challengeId!, code: deviceCodeIn(mail) });
  expect(signedIn.status).toBe(303);
  expect((await owner.call('/v1/auth/session')).body.organization).toMatchObject({ name: 'Development', role: 'owner' });

  const probe = await authorized(key, '/v1/diagnostics/probes', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ timeout: 'P1D' }),
  });
  expect(probe.status).toBe(201);
  probeId = ((await probe.json()) as { id: string }).id;
  expect((await fetch(`${baseUrl}/v1/diagnostics/probes/${probeId}`)).status).toBe(401);

  const cli = spawnSync(tsx, ['src/cli.ts', 'org', 'create', '--name', 'Acme Oy', '--owner-email', 'Ops@Acme.example'], {
    cwd: projectRoot,
    env,
    encoding: 'utf8',
  });
  expect(cli.status).toBe(0);
  const created = JSON.parse(cli.stdout) as { orgId: string; apiKey: string; ownerPasswordLink: string };
  expect(Object.keys(created).sort()).toEqual(['apiKey', 'orgId', 'ownerPasswordLink']);
  expect(created.ownerPasswordLink).toMatch(/\/login\/password\?token=sgp_/);
  // The new organisation's key is valid, and sees nothing of the dev organisation.
  expect((await authorized(created.apiKey, `/v1/diagnostics/probes/${probeId}`)).status).toBe(404);
  expect((await authorized(key, `/v1/diagnostics/probes/${probeId}`)).status).toBe(200);

  const temporalLock = readProcessLock(path.join(env.DATA_DIR!, 'temporal', 'server.lock.json'));
  expect(temporalLock?.childPid).toEqual(expect.any(Number));

  expect(await stopWithCtrlC(run)).toBe(0);
  expect(isProcessAlive(temporalLock!.childPid!)).toBe(false);
  for (const port of [env.PORT, env.TEMPORAL_DEV_PORT, env.EMBEDDED_POSTGRES_PORT]) {
    expect(await isPortOpen(Number(port))).toBe(false);
  }
  expect(fs.existsSync(path.join(env.DATA_DIR!, 'postgres.lock.json'))).toBe(false);
});

test('second start reuses the data: same key, no new organisation, the earlier probe is still there', async () => {
  const keyBefore = devApiKey();
  const run = startSigill();
  await waitUntilReady(run);

  expect(devApiKey()).toBe(keyBefore);
  expect(run.output()).not.toContain(keyBefore);
  expect(run.output()).not.toContain('development organisation was created');
  const probe = await authorized(keyBefore, `/v1/diagnostics/probes/${probeId}`);
  expect(probe.status).toBe(200);
  expect(await probe.json()).toMatchObject({ id: probeId, status: 'waiting' });

  expect(await stopWithCtrlC(run)).toBe(0);
});

test('`org create` without a running service opens the embedded database itself; bad input exits non-zero', () => {
  const ok = spawnSync(tsx, ['src/cli.ts', 'org', 'create', '--name', 'Beta AB', '--owner-email', 'it@beta.example'], {
    cwd: projectRoot,
    env,
    encoding: 'utf8',
  });
  expect(ok.status).toBe(0);
  expect(JSON.parse(ok.stdout)).toEqual({
    orgId: expect.any(String),
    apiKey: expect.stringMatching(/^sgl_/),
    ownerPasswordLink: expect.stringMatching(/\/login\/password\?token=sgp_/),
  });

  const bad = spawnSync(tsx, ['src/cli.ts', 'org', 'create', '--name', 'Gamma', '--owner-email', 'not-an-email'], {
    cwd: projectRoot,
    env,
    encoding: 'utf8',
  });
  expect(bad.status).not.toBe(0);
  expect(bad.stderr).toContain('ownerEmail');
  expect(bad.stdout).toBe('');
});
