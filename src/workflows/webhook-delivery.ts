/**
 * One webhook message to one endpoint (src/webhooks/): attempt, wait, attempt again, on the Standard
 * Webhooks schedule (or longer when the receiver's `Retry-After` asks), until the receiver takes it, answers
 * 410 Gone (the endpoint is disabled), the endpoint is disabled or deleted, a redelivery takes over, or the
 * last attempt fails. The schedule comes in the input, so a running delivery keeps it whatever the
 * configuration becomes. Every attempt is an activity keyed by (delivery, run, attempt): a worker killed
 * mid-attempt is replaced and the same message id is sent again, which receivers deduplicate.
 */
import { proxyActivities, sleep } from '@temporalio/workflow';
import type { WebhookActivities } from '../activities/webhook-activities';

export interface WebhookDeliveryInput {
  deliveryId: string;
  /** Which run of the delivery this is: a redelivery is a new run, and an older run stops when it sees one. */
  run: number;
  /** The wait before each retry; one attempt more than there are entries. */
  retryScheduleMs: number[];
}

export type WebhookDeliveryOutcome = 'delivered' | 'failed' | 'gone' | 'stopped';

// The HTTP timeout is at most a minute; a heartbeat lets a dead worker's attempt move elsewhere in seconds.
const webhooks = proxyActivities<WebhookActivities>({
  startToCloseTimeout: '2 minutes',
  heartbeatTimeout: '15 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' },
});

export async function webhookDeliveryWorkflow(input: WebhookDeliveryInput): Promise<WebhookDeliveryOutcome> {
  const longestWaitMs = Math.max(0, ...input.retryScheduleMs);
  for (let attempt = 1; ; attempt++) {
    const result = await webhooks.attemptWebhookDelivery({
      deliveryId: input.deliveryId,
      run: input.run,
      attempt,
      nextWaitMs: input.retryScheduleMs[attempt - 1],
      longestWaitMs,
    });
    if (result.endpointDisabledForFailing) await webhooks.notifyWebhookEndpointDisabled({ endpointId: result.endpointId });
    if (result.outcome !== 'retry') return result.outcome;
    await sleep(result.waitMs);
  }
}
