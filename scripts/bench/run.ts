/**
 * What the benchmark scripts share: every part they start is stopped at the end, on a failure and on Ctrl-C
 * or SIGTERM; a failure shows what the started processes logged last; and the commit a table was measured at.
 */
import { execFileSync } from 'node:child_process';
import { ShutdownSequence } from '../../src/lifecycle';
import type { Logger } from '../../src/logger';
import type { ChildProcess } from '../../test/support/child-process';

export interface BenchRun {
  shutdown: ShutdownSequence;
  /** A started child process: stopped with everything else, its output shown if the run fails. */
  track(name: string, child: ChildProcess): ChildProcess;
}

/** Runs `body` (true: success) and exits the process with its status once everything it started has stopped. */
export function runBenchmark(name: string, log: Logger, body: (run: BenchRun) => Promise<boolean>): void {
  const shutdown = new ShutdownSequence(log);
  const children: Array<{ name: string; process: ChildProcess }> = [];
  const track = (childName: string, child: ChildProcess) => {
    children.push({ name: childName, process: child });
    shutdown.add(childName, () => child.stop());
    return child;
  };
  const printChildLogs = () => {
    for (const child of children) {
      const tail = child.process.output().trim();
      if (tail) process.stderr.write(`--- last output of ${child.name} ---\n${tail.slice(-3000)}\n`);
    }
  };
  const stopOnSignal = (signal: NodeJS.Signals) => {
    process.stderr.write(`${signal}: stopping everything the benchmark started…\n`);
    void shutdown.run().then(() => process.exit(130));
  };
  process.once('SIGINT', stopOnSignal);
  process.once('SIGTERM', stopOnSignal);
  const main = async (): Promise<number> => {
    try {
      if (await body({ shutdown, track })) return 0;
      printChildLogs();
      return 1;
    } catch (error) {
      printChildLogs();
      process.stderr.write(`${name} failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
      return 1;
    } finally {
      await shutdown.run();
    }
  };
  void main().then((code) => process.exit(code));
}

/** The commit measured, marked when the sources or scripts differ from it. */
export function commitDescription(): string {
  try {
    const git = (...args: string[]) => execFileSync('git', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    const head = git('rev-parse', '--short', 'HEAD');
    return git('status', '--porcelain', '--', 'src', 'scripts') !== '' ? `${head} (with uncommitted changes)` : head;
  } catch {
    return 'unknown (not a git checkout)';
  }
}
