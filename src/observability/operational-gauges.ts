/**
 * Gauges an alert can fire on (R17), computed from PostgreSQL when Prometheus scrapes, across every
 * organisation: how many rounds are stuck for each reason (src/operations/stuck-rounds.ts) and how many
 * webhook endpoints Sigill disabled (410 Gone, or failing for days). Every API process reports the same
 * deployment-wide numbers; alert rules take the `max` over instances (docs/prometheus/sigill-alerts.yml).
 *
 * A query that fails or is slow must not cost the scrape its other metrics: its gauge is left without
 * samples (an alert on it then neither fires on old numbers nor clears by mistake) and
 * `sigill_operational_gauge_up{gauge}` says 0, which has an alert of its own.
 */
import { Gauge } from 'prom-client';
import type { DataSource } from 'typeorm';
import type { StuckRoundsConfig } from '../config';
import type { Logger } from '../logger';
import { countStuckRounds } from '../operations/stuck-rounds';
import { metricsRegistry } from './metrics';

/** A scrape waits at most this long for one gauge's query; Prometheus's own default timeout is 10 s. */
const queryTimeoutMs = 3000;

/** The gauges' names: alert rules depend on them (test/unit/alert-rules.test.ts checks they exist). */
export const operationalGaugeNames = {
  stuckRounds: 'sigill_stuck_rounds',
  webhookEndpointsDisabled: 'sigill_webhook_endpoints_disabled',
  dataSubjectRequestsOverdue: 'sigill_data_subject_requests_overdue',
  up: 'sigill_operational_gauge_up',
} as const;
const names = operationalGaugeNames;

export interface OperationalGauges {
  /** Removes the gauges from the registry (tests; a second registration replaces the first anyway). */
  unregister(): void;
}

function withTimeout<T>(work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${queryTimeoutMs} ms`)), queryTimeoutMs);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

/** Registers the gauges on `metricsRegistry`; called once by each API process. */
export function registerOperationalGauges(deps: { dataSource: DataSource; stuckRounds: StuckRoundsConfig; log: Logger }): OperationalGauges {
  for (const name of Object.values(names)) metricsRegistry.removeSingleMetric(name);

  // The queries of the scrape under way: `up` (registered last, so read last) waits for them.
  const inFlight = new Set<Promise<void>>();
  const upValues = new Map<string, number>();

  /** Runs one gauge's query; on failure the gauge keeps no samples and `up` says so. */
  const refresh = (gauge: Gauge<'reason'>, name: string, fill: () => Promise<Record<string, number>>) => {
    const done = (async () => {
      try {
        const values = await withTimeout(fill());
        gauge.reset();
        for (const [reason, value] of Object.entries(values)) gauge.set({ reason }, value);
        upValues.set(name, 1);
      } catch (error) {
        gauge.reset();
        upValues.set(name, 0);
        deps.log.warn({ err: error, gauge: name }, 'an operational gauge could not be computed; the scrape goes on without it');
      }
    })();
    inFlight.add(done);
    return done.finally(() => inFlight.delete(done));
  };

  const stuckRounds: Gauge<'reason'> = new Gauge({
    name: names.stuckRounds,
    help: 'Open signing rounds that need a person, by reason (past_deadline, seal_retrying, activity_failing, no_progress)',
    labelNames: ['reason'] as const,
    registers: [metricsRegistry],
    collect: () => refresh(stuckRounds, names.stuckRounds, () => countStuckRounds(deps.dataSource, deps.stuckRounds)),
  });

  const webhookEndpointsDisabled: Gauge<'reason'> = new Gauge({
    name: names.webhookEndpointsDisabled,
    help: 'Webhook endpoints Sigill disabled and nobody has re-enabled, by reason (gone: the receiver answered 410; failing: no success for days)',
    labelNames: ['reason'] as const,
    registers: [metricsRegistry],
    collect: () =>
      refresh(webhookEndpointsDisabled, names.webhookEndpointsDisabled, async () => {
        const rows: Array<{ reason: string; endpoints: string }> = await deps.dataSource.query(
          `SELECT disabled_reason AS reason, count(*) AS endpoints FROM webhook_endpoints
            WHERE NOT enabled AND deleted_at IS NULL AND disabled_reason IN ('gone', 'failing')
            GROUP BY disabled_reason`,
        );
        const counts: Record<string, number> = { gone: 0, failing: 0 };
        for (const row of rows) counts[row.reason] = Number(row.endpoints);
        return counts;
      }),
  });

  // Open data-subject requests past their legal deadline (GDPR Art. 12(3)), as their workflows marked them:
  // the deadline is the workflow's timer, so the gauge agrees with the console's attention list.
  const dataSubjectRequestsOverdue: Gauge<'reason'> = new Gauge({
    name: names.dataSubjectRequestsOverdue,
    help: 'Open data-subject requests past their legal deadline (reason past_deadline), across organisations',
    labelNames: ['reason'] as const,
    registers: [metricsRegistry],
    collect: () =>
      refresh(dataSubjectRequestsOverdue, names.dataSubjectRequestsOverdue, async () => {
        const [row]: Array<{ overdue: string }> = await deps.dataSource.query(
          `SELECT count(*) AS overdue FROM data_subject_requests WHERE (overdue_at IS NOT NULL OR coalesce(extended_until, due_at) <= now()) AND status IN ('awaiting_identity', 'in_progress')`,
        );
        return { past_deadline: Number(row?.overdue ?? 0) };
      }),
  });

  const up: Gauge<'gauge'> = new Gauge({
    name: names.up,
    help: 'Whether the query behind an operational gauge answered at this scrape (1) or failed (0), by gauge',
    labelNames: ['gauge'] as const,
    registers: [metricsRegistry],
    collect: async () => {
      await Promise.all([...inFlight]);
      for (const [gauge, value] of upValues) up.set({ gauge }, value);
    },
  });

  return {
    unregister() {
      for (const name of Object.values(names)) metricsRegistry.removeSingleMetric(name);
    },
  };
}
