/**
 * The webhook delivery workflow's activities (src/workflows/webhook-delivery.ts): each takes ids, loads the
 * rest (so no payload or secret passes through workflow history) and is safe to retry.
 */
import { whileHeartbeating } from './heartbeats';
import type { SigningContext } from '../signing/signing-context';
import { attemptDelivery, type AttemptInput, type AttemptResult } from '../webhooks/attempt-delivery';
import { notifyEndpointDisabled } from '../webhooks/notify-endpoint-disabled';

export function webhookActivities(context: SigningContext) {
  return {
    async attemptWebhookDelivery(input: AttemptInput): Promise<AttemptResult> {
      return whileHeartbeating(() =>
        attemptDelivery({ dataSource: context.dataSource, keyService: context.adapters.keyService, webhooks: context.webhooks }, input),
      );
    },

    async notifyWebhookEndpointDisabled(input: { endpointId: string }): Promise<void> {
      await notifyEndpointDisabled(
        { dataSource: context.dataSource, mailer: context.adapters.mailer, publicUrl: context.publicUrl },
        input.endpointId,
      );
    },
  };
}

export type WebhookActivities = ReturnType<typeof webhookActivities>;
