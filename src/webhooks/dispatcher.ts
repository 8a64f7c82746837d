/**
 * From the outbox to Temporal. Messages are written with the change they report (src/webhooks/events.ts);
 * this relay, running in every API process (src/service.ts), then
 *
 * 1. fans each undispatched message out to the organisation's enabled endpoints subscribed to its type, one
 *    `webhook_deliveries` row each, and marks it dispatched, in one statement (so a crash leaves either
 *    both or neither; UNIQUE (message, endpoint) makes a repeat add nothing);
 * 2. starts a delivery workflow for every delivery run not yet started, on the webhook task queue
 *    (`webhookTaskQueueOf` the target's queue, src/config.ts), with the id
 *    `webhook-delivery-<delivery id>-<run>`: a second start of the same run is refused by Temporal
 *    (conflict policy USE_EXISTING while it runs, reuse policy REJECT_DUPLICATE after), so a relay that
 *    dies after starting but before recording it starts nothing twice.
 *
 * Rows waiting for a start are leased (their next try pushed into the future) rather than locked across
 * the calls to Temporal, as in the round signal relay (src/signing/round-signal-relay.ts), so API replicas
 * share the work and an outage holds no transaction open.
 */
import { WorkflowExecutionAlreadyStartedError, WorkflowIdConflictPolicy, WorkflowIdReusePolicy } from '@temporalio/client';
import type { DataSource } from 'typeorm';
import type { TemporalTarget } from '../adapters/temporal-connection';
import { webhookTaskQueueOf } from '../config';
import { queryReturning } from '../database/data-source';
import { unavailablePart } from '../failure-kinds';
import { repeatUntilStopped } from '../lifecycle';
import type { Logger } from '../logger';
import type { WebhookDeliveryInput } from '../workflows/webhook-delivery';

const batchSize = 50;
/** A run whose start failed waits 2 s, 4 s, … at most 30 s before the next try: deliveries are time-sensitive. */
const leaseStepSeconds = 2;
const maxLeaseSeconds = 30;
/** Under load a start can take seconds; one that timed out may still have started (the retry then finds it). */
const startDeadlineMs = 10_000;

export const workflowIdForDelivery = (deliveryId: string, run: number) => `webhook-delivery-${deliveryId}-${run}`;

/**
 * Which organisations a dispatcher serves: all of them (undefined) in a deployment. Tests that share one
 * database between several APIs, each with its own task queue and schedule, give each the organisations
 * it made, so none starts another's deliveries on its own queue.
 */
export type DispatchScope = (() => string[]) | undefined;

const inScope = (scope: DispatchScope, parameter: string) => (scope ? `organization_id = ANY (${parameter}::uuid[])` : 'true');

/** Fans due messages out to their endpoints; answers how many messages were dispatched. */
export async function dispatchDueMessages(dataSource: DataSource, scope?: DispatchScope): Promise<number> {
  const dispatched = await queryReturning<{ id: string }>(
    dataSource,
    `WITH due AS (
       SELECT id, organization_id, type FROM webhook_messages
        WHERE dispatched_at IS NULL AND next_dispatch_at <= now() AND ${inScope(scope, '$1')}
        ORDER BY next_dispatch_at LIMIT ${batchSize} FOR UPDATE SKIP LOCKED
     ), fanned_out AS (
       INSERT INTO webhook_deliveries (id, message_id, endpoint_id)
       SELECT gen_random_uuid(), d.id, e.id
         FROM due d JOIN webhook_endpoints e
           ON e.organization_id = d.organization_id AND e.enabled AND e.deleted_at IS NULL AND d.type = ANY (e.events)
       ON CONFLICT (message_id, endpoint_id) DO NOTHING
       RETURNING 1
     )
     UPDATE webhook_messages SET dispatched_at = now() WHERE id IN (SELECT id FROM due) RETURNING id`,
    scope ? [scope()] : [],
  );
  return dispatched.length;
}

interface DueRun {
  id: string;
  run: number;
}

async function claimDueRuns(dataSource: DataSource, condition: string, parameters: unknown[]): Promise<DueRun[]> {
  return queryReturning<DueRun>(
    dataSource,
    `UPDATE webhook_deliveries
        SET start_attempts = start_attempts + 1,
            next_start_at = now() + make_interval(secs => least($1 * (start_attempts + 1), $2))
      WHERE id IN (SELECT id FROM webhook_deliveries WHERE started_run < run AND next_start_at <= now() AND ${condition}
                    ORDER BY next_start_at LIMIT ${batchSize} FOR UPDATE SKIP LOCKED)
      RETURNING id, run`,
    [leaseStepSeconds, maxLeaseSeconds, ...parameters],
  );
}

/**
 * Starts the delivery workflows of the given runs (or of every due one in scope); answers how many were started.
 * A run Temporal cannot take now keeps its lease and is tried again by the relay.
 */
export async function startDueDeliveries(
  dataSource: DataSource,
  temporal: TemporalTarget,
  retryScheduleMs: number[],
  only: { deliveryIds: string[] } | { scope: DispatchScope },
): Promise<number> {
  const due =
    'deliveryIds' in only
      ? await claimDueRuns(dataSource, `id = ANY ($3::uuid[])`, [only.deliveryIds])
      : only.scope
        ? await claimDueRuns(dataSource, `message_id IN (SELECT id FROM webhook_messages WHERE ${inScope(only.scope, '$3')})`, [only.scope()])
        : await claimDueRuns(dataSource, 'true', []);
  let started = 0;
  for (const { id, run } of due) {
    const input: WebhookDeliveryInput = { deliveryId: id, run, retryScheduleMs };
    try {
      await temporal.client.withDeadline(Date.now() + startDeadlineMs, () =>
        temporal.client.workflow.start('webhookDeliveryWorkflow', {
          // Their own queue and worker (src/worker-runtime.ts): slow receivers never hold signing's slots.
          taskQueue: webhookTaskQueueOf(temporal.taskQueue),
          workflowId: workflowIdForDelivery(id, run),
          workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
          workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
          args: [input],
        }),
      );
    } catch (error) {
      if (!(error instanceof WorkflowExecutionAlreadyStartedError)) {
        // Temporal is out: the rest would fail alike; their leases expire and they come back.
        if (unavailablePart(error) === 'temporal') break;
        throw error;
      }
    }
    await dataSource.query(`UPDATE webhook_deliveries SET started_run = greatest(started_run, $2), start_attempts = 0 WHERE id = $1`, [id, run]);
    started += 1;
  }
  return started;
}

/** Runs in every API process: two short statements per tick, cheap while nothing is due (partial indexes). */
export function startWebhookDispatcher(deps: {
  dataSource: DataSource;
  temporal: TemporalTarget;
  log: Logger;
  retryScheduleMs: number[];
  everyMs?: number;
  scope?: DispatchScope;
}) {
  return repeatUntilStopped(
    async () => {
      const dispatched = await dispatchDueMessages(deps.dataSource, deps.scope);
      const started = await startDueDeliveries(deps.dataSource, deps.temporal, deps.retryScheduleMs, { scope: deps.scope });
      if (dispatched + started > 0) deps.log.debug({ dispatched, started }, 'webhook messages dispatched');
    },
    { everyMs: deps.everyMs ?? 1000, log: deps.log, failure: 'could not dispatch webhook messages; will retry' },
  );
}
