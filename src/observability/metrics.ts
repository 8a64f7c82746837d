/**
 * Sigill's own Prometheus metrics (R17), defined once so every process (API, worker, both) exposes the
 * same names. Processes record into this registry; `/metrics` (src/api/routes/metrics.ts) serves it
 * together with the Temporal SDK's runtime metrics. Labels are low-cardinality by construction: route
 * patterns (never raw URLs), outcomes, channels — never ids, which would grow without bound.
 */
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export const metricsRegistry = new Registry();
collectDefaultMetrics({ register: metricsRegistry, prefix: 'sigill_' });

/** Seconds to days: rounds wait for people, so the buckets span minutes to a month. */
const roundDurationBuckets = [60, 300, 900, 3600, 4 * 3600, 12 * 3600, 86_400, 3 * 86_400, 7 * 86_400, 14 * 86_400, 30 * 86_400];
/** Seconds to hours: from the last signature to the sealed document, which waits out seal retries. */
const sealWaitBuckets = [1, 2.5, 5, 10, 30, 60, 120, 300, 900, 3600, 4 * 3600, 12 * 3600, 86_400];
/** Sub-second to minutes: machine work (sealing, a delivery, an HTTP request). */
const workDurationBuckets = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];

export const metrics = {
  httpRequests: new Counter({
    name: 'sigill_http_requests_total',
    help: 'HTTP requests answered, by method, route pattern and status code',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [metricsRegistry],
  }),
  httpRequestDuration: new Histogram({
    name: 'sigill_http_request_duration_seconds',
    help: 'Time to answer an HTTP request, by method, route pattern and status code',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: workDurationBuckets,
    registers: [metricsRegistry],
  }),
  roundsStarted: new Counter({
    name: 'sigill_signing_rounds_started_total',
    help: 'Signing rounds created (workflow started)',
    registers: [metricsRegistry],
  }),
  roundsEnded: new Counter({
    name: 'sigill_signing_rounds_ended_total',
    help: 'Signing rounds ended, by outcome (completed, declined, expired, cancelled, failed)',
    labelNames: ['outcome'] as const,
    registers: [metricsRegistry],
  }),
  roundCompletionSeconds: new Histogram({
    name: 'sigill_signing_round_completion_seconds',
    help: 'Time from a request being created to its round completing (sealed)',
    buckets: roundDurationBuckets,
    registers: [metricsRegistry],
  }),
  lastSignatureToSealedSeconds: new Histogram({
    name: 'sigill_signing_round_last_signature_to_sealed_seconds',
    help: 'Time from the last signature to the sealed document being archived',
    buckets: sealWaitBuckets,
    registers: [metricsRegistry],
  }),
  sealDuration: new Histogram({
    name: 'sigill_seal_duration_seconds',
    help: 'Time one seal computation took (stamping, signing, timestamps), by outcome (sealed, failed)',
    labelNames: ['outcome'] as const,
    buckets: workDurationBuckets,
    registers: [metricsRegistry],
  }),
  messagesSent: new Counter({
    name: 'sigill_messages_sent_total',
    help: 'Messages sent to people, by channel (email, sms)',
    labelNames: ['channel'] as const,
    registers: [metricsRegistry],
  }),
  temporalScrapeFailures: new Counter({
    name: 'sigill_temporal_metrics_scrape_failures_total',
    help: "Scrapes that could not include the Temporal SDK's metrics (its exporter did not answer in time)",
    registers: [metricsRegistry],
  }),
  // Attempts, not messages: a message that failed three times and then arrived counts four.
  webhookDeliveryAttempts: new Counter({
    name: 'sigill_webhook_delivery_attempts_total',
    help: 'Webhook delivery attempts, by outcome (delivered, failed, refused, gone)',
    labelNames: ['outcome'] as const,
    registers: [metricsRegistry],
  }),
  webhookDeliveryAttemptDuration: new Histogram({
    name: 'sigill_webhook_delivery_attempt_duration_seconds',
    help: 'Time one webhook delivery attempt took, by outcome',
    labelNames: ['outcome'] as const,
    buckets: workDurationBuckets,
    registers: [metricsRegistry],
  }),
};

// A labelled series exists only from its first inc, and Prometheus sees no increase in a series whose first
// sample is already 1: every outcome starts at 0, so the first failed round after a restart (a deploy) is
// an increase that `SigillRoundsFailed` (docs/prometheus/sigill-alerts.yml) fires on.
for (const outcome of ['completed', 'declined', 'expired', 'cancelled', 'failed']) metrics.roundsEnded.inc({ outcome }, 0);
