/**
 * A long-running child process for tests and scripts (Sigill's API or worker, a stub server). Its output is
 * drained — a full pipe would block it — and the tail kept to explain an early exit. `stop` sends SIGTERM,
 * then SIGKILL after a grace period; it is safe to call twice or after the process exited.
 */
import { spawn } from 'node:child_process';
import { projectRoot } from '../../src/adapters/find-executable';
import { waitFor } from './wait-for';

export interface ChildProcess {
  pid: number;
  /** The last few KB of stdout and stderr together. */
  output(): string;
  /** Resolves with the first match of `pattern` in the output; fails if the process exits first. */
  waitForOutput(pattern: RegExp, timeoutMs?: number): Promise<RegExpExecArray>;
  stop(): Promise<void>;
}

export function startChildProcess(
  name: string,
  command: string,
  args: string[],
  /** `onStdout`: every chunk of stdout, for a caller that needs all of it (e.g. to read its log lines). */
  options: { env?: NodeJS.ProcessEnv; cwd?: string; graceMs?: number; onStdout?: (chunk: Buffer) => void } = {},
): ChildProcess {
  const child = spawn(command, args, { cwd: options.cwd ?? projectRoot, env: options.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
  let tail = '';
  const keep = (chunk: Buffer) => (tail = (tail + chunk.toString()).slice(-8000));
  child.stdout.on('data', keep);
  if (options.onStdout) child.stdout.on('data', options.onStdout);
  child.stderr.on('data', keep);
  let exitError: Error | undefined;
  child.once('error', (error) => (exitError = error));
  const exited = new Promise<void>((resolve) =>
    child.once('exit', (code, signal) => {
      exitError ??= new Error(`${name} exited (code ${code}, signal ${signal}): ${tail.trim().slice(-2000)}`);
      resolve();
    }),
  );
  return {
    pid: child.pid ?? -1,
    output: () => tail,
    async waitForOutput(pattern, timeoutMs = 60_000) {
      const found = await waitFor(`${name} to print ${pattern}`, () => exitError ?? pattern.exec(tail) ?? undefined, timeoutMs);
      if (found instanceof Error) throw found;
      return found;
    },
    async stop() {
      if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), options.graceMs ?? 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** A TypeScript entry point run with tsx from the project root (tsx reads tsconfig.json from the current directory). */
export function startTsxProcess(name: string, script: string, args: string[] = [], env: NodeJS.ProcessEnv = process.env): ChildProcess {
  return startChildProcess(name, process.execPath, ['--import', 'tsx', script, ...args], { env, cwd: projectRoot });
}
