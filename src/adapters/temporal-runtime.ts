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

let installed = false;

/**
 * Installs the Temporal runtime once per process, before any worker or native connection exists.
 * Signal handling stays with our own shutdown sequence, which drains the worker in the right order
 * (HTTP first, then the worker, then the embedded servers); the SDK's own handlers would race it.
 */
export function installTemporalRuntime(log: Logger): void {
  if (installed) return;
  Runtime.install({ logger: new PinoTemporalLogger(log), shutdownSignals: [] });
  installed = true;
}
