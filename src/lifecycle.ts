/**
 * Process lifecycle shared by every entry point: an ordered list of shutdown steps, clean shutdown on
 * SIGINT/SIGTERM (a second signal forces exit), and fatal start-up errors reported as one line.
 */
import type { Logger } from './logger';

/**
 * Parts register a stop step as soon as they are started; steps run in reverse order, so what started
 * last stops first (HTTP before the worker, the worker before the database and the embedded servers).
 * Registering before start-up completes means a signal during start-up still stops what was started.
 */
export class ShutdownSequence {
  private readonly steps: Array<{ name: string; run: () => unknown }> = [];
  private running: Promise<void> | undefined;

  constructor(private readonly log: Logger) {}

  add(name: string, run: () => unknown): void {
    this.steps.push({ name, run });
  }

  run(): Promise<void> {
    this.running ??= (async () => {
      for (const step of this.steps.reverse()) {
        try {
          await step.run();
        } catch (error) {
          this.log.error({ err: error, step: step.name }, 'a shutdown step failed');
        }
      }
      this.steps.length = 0;
    })();
    return this.running;
  }
}

/**
 * One Ctrl-C often arrives twice: the terminal signals the whole process group, and wrappers in it (npm,
 * tsx) relay the signal to their child as well. A repeat within this window is that echo, not impatience.
 */
const duplicateSignalWindowMs = 2000;

export function exitOnSignals(log: Logger, shutdown: ShutdownSequence): void {
  let firstSignalAt: number | undefined;
  const handle = (signal: NodeJS.Signals) => {
    if (firstSignalAt !== undefined) {
      if (Date.now() - firstSignalAt < duplicateSignalWindowMs) return;
      log.warn({ signal }, 'second signal: exiting without waiting');
      process.exit(130);
    }
    firstSignalAt = Date.now();
    log.info({ signal }, 'shutting down');
    shutdown.run().then(() => {
      // The last line a person sees after Ctrl-C: everything started has stopped (failed steps were logged above).
      log.info('stopped');
      process.exit(0);
    });
  };
  process.on('SIGINT', handle);
  process.on('SIGTERM', handle);
}

export async function exitOnStartupFailure(log: Logger, shutdown: ShutdownSequence, error: unknown): Promise<never> {
  const message = error instanceof Error ? error.message : String(error);
  log.debug({ err: error }, 'start-up failed');
  await shutdown.run();
  process.stderr.write(`Sigill could not start: ${message}\n`);
  process.exit(1);
}

/**
 * Runs `work` now and then again `everyMs` after each run ends (never two at once), until stopped; `stop`
 * waits for a run in progress. For the outbox relays every API process runs: a failed run is logged and
 * the next one tries again.
 */
export function repeatUntilStopped(work: () => Promise<void>, options: { everyMs: number; log: Logger; failure: string }): { stop(): Promise<void> } {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();
  const tick = () => {
    running = work()
      .catch((error: unknown) => options.log.warn({ err: error }, options.failure))
      .finally(() => {
        if (!stopped) timer = setTimeout(tick, options.everyMs);
      });
  };
  tick();
  return {
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}
