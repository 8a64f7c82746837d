/**
 * One attempt at delivering a webhook message to one endpoint, as the delivery workflow's activity makes
 * it (src/workflows/webhook-delivery.ts). Takes ids only and loads the rest: the message, the endpoint as
 * it is now (a disabled or deleted endpoint stops the delivery), and the secrets that sign now.
 *
 * Signed per Standard Webhooks with the `standardwebhooks` package: `webhook-id` is the message id (the
 * same on every attempt and redelivery), `webhook-timestamp` this attempt's time, `webhook-signature` one
 * `v1,` entry per valid secret (two during a rotation's overlap), so any official library verifies it.
 *
 * Safe to retry: the attempt's row is keyed by (delivery, run, attempt), and an attempt already recorded
 * as delivered answers so without sending again. A worker that dies between sending and recording makes
 * the retry send the same message id again; receivers deduplicate on it.
 */
import { Webhook } from 'standardwebhooks';
import type { DataSource } from 'typeorm';
import type { KeyService } from '../adapters/key-service';
import type { WebhookConfig } from '../config';
import { queryReturning } from '../database/data-source';
import { metrics } from '../observability/metrics';
import { postJson, type DeliveryResponse } from './outbound-request';
import { signingSecrets, UnreadableSecretError } from './secrets';

export interface AttemptInput {
  deliveryId: string;
  run: number;
  attempt: number;
  /** The scheduled wait before the next attempt; undefined for the last one. */
  nextWaitMs?: number;
  /** The longest wait in the schedule: a receiver's Retry-After is honoured up to it. */
  longestWaitMs: number;
}

export interface AttemptResult {
  /** `retry`: wait `waitMs`, then attempt again. `stopped`: superseded, or the endpoint is disabled or deleted. */
  outcome: 'delivered' | 'failed' | 'gone' | 'stopped' | 'retry';
  waitMs: number;
  endpointId: string;
  /** The endpoint is disabled for failing too long: its admins are to be told (once; the notice is keyed). */
  endpointDisabledForFailing: boolean;
}

interface DeliveryRow {
  status: string;
  run: number;
  message_id: string;
  payload: unknown;
  endpoint_id: string;
  organization_id: string;
  url: string;
  enabled: boolean;
  disabled_reason: string | null;
  deleted_at: Date | null;
}

export interface AttemptContext {
  dataSource: DataSource;
  keyService: KeyService;
  webhooks: WebhookConfig;
}

export async function attemptDelivery(ctx: AttemptContext, input: AttemptInput): Promise<AttemptResult> {
  const { dataSource } = ctx;
  const [row]: DeliveryRow[] = await dataSource.query(
    `SELECT d.status, d.run, d.message_id, m.payload, e.id AS endpoint_id, e.organization_id, e.url, e.enabled, e.disabled_reason, e.deleted_at
       FROM webhook_deliveries d
       JOIN webhook_messages m ON m.id = d.message_id
       JOIN webhook_endpoints e ON e.id = d.endpoint_id
      WHERE d.id = $1`,
    [input.deliveryId],
  );
  const result = (outcome: AttemptResult['outcome'], extra: Partial<AttemptResult> = {}): AttemptResult => ({
    outcome,
    waitMs: 0,
    endpointId: row?.endpoint_id ?? '',
    endpointDisabledForFailing: false,
    ...extra,
  });
  // Gone with its organisation, or a newer run (a redelivery) owns it now.
  if (!row || row.run !== input.run) return result('stopped');
  if (row.status === 'delivered') return result('delivered');
  if (row.deleted_at) {
    await setDeliveryStatus(dataSource, input, 'cancelled');
    return result('stopped');
  }
  if (!row.enabled) {
    // Not delivered: it shows as failed, and can be redelivered once the endpoint is enabled again. The
    // admins' notice is asked for by the attempt that disabled the endpoint only, also when this is its
    // retry (its worker died after recording), so no two deliveries send it at once.
    await setDeliveryStatus(dataSource, input, 'failed');
    const disabledItHere =
      row.disabled_reason === 'failing' &&
      (
        await dataSource.query(`SELECT 1 FROM webhook_delivery_attempts WHERE delivery_id = $1 AND run = $2 AND attempt = $3 AND disabled_endpoint`, [
          input.deliveryId,
          input.run,
          input.attempt,
        ])
      ).length > 0;
    return result('stopped', { endpointDisabledForFailing: disabledItHere });
  }

  const body = JSON.stringify(row.payload);
  const attemptedAt = new Date();
  const response = await signAndPost(ctx, row, body, attemptedAt);
  const status = response.httpStatus;
  const delivered = status !== undefined && status >= 200 && status < 300;
  const gone = status === 410;
  const label = delivered ? 'delivered' : gone ? 'gone' : response.refused ? 'refused' : 'failed';
  metrics.webhookDeliveryAttempts.inc({ outcome: label });
  metrics.webhookDeliveryAttemptDuration.observe({ outcome: label }, response.latencyMs / 1000);

  const willRetry = !delivered && !gone && input.nextWaitMs !== undefined;
  const waitMs = willRetry ? retryWait(input.nextWaitMs!, response.retryAfterMs, input.longestWaitMs) : 0;
  let disabledForFailing = false;
  await dataSource.transaction(async (tx) => {
    await tx.query(
      `INSERT INTO webhook_delivery_attempts (delivery_id, run, attempt, attempted_at, http_status, latency_ms, error)
       VALUES ($1, $2, $3, $4, $5, $6, $7)
       ON CONFLICT (delivery_id, run, attempt) DO UPDATE SET
         attempted_at = EXCLUDED.attempted_at, http_status = EXCLUDED.http_status, latency_ms = EXCLUDED.latency_ms, error = EXCLUDED.error`,
      [input.deliveryId, input.run, input.attempt, attemptedAt, status ?? null, response.latencyMs, delivered ? null : (response.error ?? 'failed')],
    );
    if (delivered) {
      await tx.query(`UPDATE webhook_endpoints SET failing_since = NULL WHERE id = $1`, [row.endpoint_id]);
    } else if (gone) {
      await tx.query(
        `UPDATE webhook_endpoints SET enabled = false, disabled_reason = 'gone', disabled_at = now(), updated_at = now() WHERE id = $1 AND enabled`,
        [row.endpoint_id],
      );
    } else {
      // The first failure since the last success starts the clock; past the limit the endpoint is disabled.
      await tx.query(`UPDATE webhook_endpoints SET failing_since = coalesce(failing_since, $2) WHERE id = $1`, [row.endpoint_id, attemptedAt]);
      const disabled = await queryReturning(
        tx,
        `UPDATE webhook_endpoints SET enabled = false, disabled_reason = 'failing', disabled_at = now(), updated_at = now()
          WHERE id = $1 AND enabled AND failing_since <= now() - make_interval(secs => $2)
         RETURNING id`,
        [row.endpoint_id, ctx.webhooks.disableAfterFailingMs / 1000],
      );
      disabledForFailing = disabled.length > 0;
      if (disabledForFailing) {
        await tx.query(`UPDATE webhook_delivery_attempts SET disabled_endpoint = true WHERE delivery_id = $1 AND run = $2 AND attempt = $3`, [
          input.deliveryId,
          input.run,
          input.attempt,
        ]);
      }
    }
    const finalStatus = delivered ? 'delivered' : willRetry && !disabledForFailing ? 'pending' : 'failed';
    await tx.query(
      `UPDATE webhook_deliveries SET status = $3, last_attempt_at = $4, next_attempt_at = $5 WHERE id = $1 AND run = $2`,
      [input.deliveryId, input.run, finalStatus, attemptedAt, finalStatus === 'pending' ? new Date(attemptedAt.getTime() + waitMs) : null],
    );
  });
  if (delivered) return result('delivered');
  if (gone) return result('gone');
  if (disabledForFailing) return result('failed', { endpointDisabledForFailing: true });
  return willRetry ? result('retry', { waitMs }) : result('failed');
}

/**
 * Signs with the endpoint's current secrets and POSTs. A secret that can never be decrypted makes this a
 * failed attempt like any other (in the delivery log, on the schedule, towards disabling the endpoint),
 * not an activity retried for ever; nothing is sent unsigned.
 */
async function signAndPost(ctx: AttemptContext, row: DeliveryRow, body: string, attemptedAt: Date): Promise<DeliveryResponse> {
  let secrets: string[];
  try {
    secrets = await signingSecrets(ctx.dataSource, ctx.keyService, row.organization_id, row.endpoint_id);
  } catch (error) {
    if (error instanceof UnreadableSecretError) return { error: error.message, latencyMs: 0 };
    throw error;
  }
  const signature = secrets.map((secret) => new Webhook(secret).sign(row.message_id, attemptedAt, body)).join(' ');
  return postJson(
    row.url,
    { 'webhook-id': row.message_id, 'webhook-timestamp': String(Math.floor(attemptedAt.getTime() / 1000)), 'webhook-signature': signature },
    body,
    ctx.webhooks,
  );
}

/** The scheduled wait, or longer when the receiver asked (Retry-After), never past the schedule's longest. */
export function retryWait(scheduledMs: number, retryAfterMs: number | undefined, longestWaitMs: number): number {
  if (retryAfterMs === undefined) return scheduledMs;
  return Math.min(Math.max(retryAfterMs, scheduledMs), Math.max(longestWaitMs, scheduledMs));
}

async function setDeliveryStatus(dataSource: DataSource, input: AttemptInput, status: 'cancelled' | 'failed'): Promise<void> {
  await dataSource.query(`UPDATE webhook_deliveries SET status = $3, next_attempt_at = NULL WHERE id = $1 AND run = $2 AND status = 'pending'`, [
    input.deliveryId,
    input.run,
    status,
  ]);
}
