import net from 'node:net';
import { Runtime, type Logger as TemporalLogger, type LogLevel, type LogMetadata } from '@temporalio/worker';
import type { Logger } from '../logger';

const pinoLevel: Record<LogLevel, 'trace' | 'debug' | 'info' | 'warn' | 'error'> = {
  TRACE: 'trace',
  DEBUG: 'debug',
  INFO: 'info',
  WARN: 'warn',
  ERROR: 'error',
};

/** Sends the SDK's logs (worker, workflow and activity loggers) into our JSON log. */
class PinoTemporalLogger implements TemporalLogger {
  constructor(private readonly target: Logger) {}
  log(level: LogLevel, message: string, meta?: LogMetadata): void {
    this.target[pinoLevel[level]]({ component: 'temporal', ...meta }, message);
  }
  trace(message: string, meta?: LogMetadata) { this.log('TRACE', message, meta); }
  debug(message: string, meta?: LogMetadata) { this.log('DEBUG', message, meta); }
  info(message: string, meta?: LogMetadata) { this.log('INFO', message, meta); }
  warn(message: string, meta?: LogMetadata) { this.log('WARN', message, meta); }
  error(message: string, meta?: LogMetadata) { this.log('ERROR', message, meta); }
}

/**
 * For bundling workflow code at start: the SDK logs webpack's whole summary (every module, several kB) as
 * one info line on every start. It says nothing an operator needs unless something went wrong, so it goes
 * to debug; a summary with a warning stays a warning, errors stay errors, and the short "Workflow bundle
 * created" line with the bundle's size stays info.
 */
export function bundlerLogger(target: TemporalLogger): TemporalLogger {
  const quieter = (level: LogLevel, message: string): LogLevel => {
    if (level !== 'INFO' || !message.includes('\n')) return level;
    return /\bWARNING\b/.test(message) ? 'WARN' : 'DEBUG';
  };
  return {
    log: (level, message, meta) => target.log(quieter(level, message), message, meta),
    trace: (message, meta) => target.trace(message, meta),
    debug: (message, meta) => target.debug(message, meta),
    info: (message, meta) => target.log(quieter('INFO', message), message, meta),
    warn: (message, meta) => target.warn(message, meta),
    error: (message, meta) => target.error(message, meta),
  };
}

let installed: { metricsUrl: string } | undefined;

/**
 * Installs the Temporal runtime once per process, before any worker or native connection exists.
 * Signal handling stays with our own shutdown sequence, which drains the worker in the right order
 * (HTTP first, then the worker, then the embedded servers); the SDK's own handlers would race it.
 *
 * The SDK's own worker metrics (task latencies, slots, polls; durations in seconds) are served by Core's
 * Prometheus exporter on a loopback port of its own; `/metrics` fetches them from `metricsUrl` and appends
 * them to Sigill's, so one scrape gets both and the port itself is never exposed.
 */
export async function installTemporalRuntime(log: Logger, options: { metricsPort?: number } = {}): Promise<{ metricsUrl: string }> {
  if (installed) return installed;
  const port = options.metricsPort ?? (await freeLoopbackPort());
  const bindAddress = `127.0.0.1:${port}`;
  Runtime.install({
    logger: new PinoTemporalLogger(log),
    shutdownSignals: [],
    telemetryOptions: { metrics: { prometheus: { bindAddress, useSecondsForDurations: true } } },
  });
  installed = { metricsUrl: `http://${bindAddress}/metrics` };
  return installed;
}

/** Where this process's Temporal SDK metrics are, once its runtime is installed (a worker runs here). */
export function temporalMetricsUrl(): string | undefined {
  return installed?.metricsUrl;
}

/** A port free right now; Core binds it a moment later (the gap is too short to matter on loopback). */
async function freeLoopbackPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
