/**
 * Structured JSON logs. Redaction is by field name, applied to every log line, so a secret passed by mistake
 * in a logged object is still censored. Code should not log secrets in the first place; this is the net.
 */
import { isSpanContextValid, trace } from '@opentelemetry/api';
import pino, { type Logger } from 'pino';

export type { Logger };

/** Field names whose values are never written to logs, wherever they appear (up to two levels deep). */
const secretFields = [
  'authorization',
  'cookie',
  'set-cookie',
  'x-api-key',
  'apiKey',
  'password',
  'pin',
  'token',
  'sessionToken',
  'secret',
  'secretAccessKey',
  'contentBase64',
  'document',
  'body',
  'html',
  'text',
];

const redactPaths = secretFields.flatMap((field) => {
  const key = /^[A-Za-z_$][\w$]*$/.test(field) ? field : `["${field}"]`;
  const dotted = key.startsWith('[') ? key : `.${key}`;
  return [key.startsWith('[') ? key : field, `*${dotted}`, `*.*${dotted}`];
});

/**
 * The active span's ids on every line written inside one (tracing on: a request, an activity), so a log
 * line leads to its trace. Without tracing there is never an active span and lines stay as they were.
 */
function traceIds(): { traceId?: string; spanId?: string } {
  const spanContext = trace.getActiveSpan()?.spanContext();
  return spanContext && isSpanContextValid(spanContext) ? { traceId: spanContext.traceId, spanId: spanContext.spanId } : {};
}

export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'sigill' },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: redactPaths, censor: '[redacted]' },
      formatters: { level: (label) => ({ level: label }) },
      mixin: traceIds,
    },
    destination,
  );
}
