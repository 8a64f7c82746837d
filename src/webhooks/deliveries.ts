/**
 * An endpoint's delivery log (every message sent to it, with its attempts) and redelivery: one message
 * again, always (its same id: receivers deduplicate on it), or every delivery not delivered with an attempt
 * that failed since a time (also one still waiting to retry). A redelivery is a new run of the delivery, a
 * workflow of its own; a run still waiting on its schedule sees the newer one at its next attempt and
 * stops, so beyond an attempt already in flight one delivery never has two runs sending.
 */
import type { DataSource } from 'typeorm';
import { requireOrganizationAdmin } from '../accounts/access';
import type { AdminCaller } from '../accounts/members';
import { recordOrganizationEvent } from '../accounts/organization-audit-log';
import type { TemporalTarget } from '../adapters/temporal-connection';
import type { RedeliveryResult, WebhookDeliveryAttemptView, WebhookDeliveryPage, WebhookDeliveryView, WebhookEventType } from '../contract/webhooks';
import { queryReturning } from '../database/data-source';
import { AppError } from '../errors';
import { unavailablePart } from '../failure-kinds';
import { startDueDeliveries } from './dispatcher';

export interface DeliveriesContext {
  dataSource: DataSource;
  temporal: TemporalTarget;
  retryScheduleMs: number[];
}

/** Most deliveries one `since` redelivery resends; a caller with more asks again from a later time. */
export const maxRedeliveries = 1000;

const notFound = () => new AppError('not_found', 'No such webhook endpoint.');
const uuidShape = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

async function requireEndpoint(dataSource: DataSource, caller: AdminCaller, endpointId: string) {
  requireOrganizationAdmin(caller.scope);
  if (!uuidShape.test(endpointId)) throw notFound();
  const [endpoint]: Array<{ id: string; url: string; enabled: boolean }> = await dataSource.query(
    `SELECT id, url, enabled FROM webhook_endpoints WHERE id = $1 AND organization_id = $2 AND deleted_at IS NULL`,
    [endpointId, caller.scope.organizationId],
  );
  if (!endpoint) throw notFound();
  return endpoint;
}

/**
 * A page ends at a delivery; the next starts after it. The cursor names only that delivery: its time is
 * read back from the row, at PostgreSQL's precision (microseconds), which a time in the cursor would lose.
 */
const encodeCursor = (deliveryId: string) => Buffer.from(deliveryId.replace(/-/g, ''), 'hex').toString('base64url');

function decodeCursor(cursor: string): string {
  const hex = Buffer.from(cursor, 'base64url').toString('hex');
  if (!/^[A-Za-z0-9_-]{22}$/.test(cursor) || hex.length !== 32) throw new AppError('invalid_request', 'cursor: not a cursor this API returned.');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** Newest first, with each delivery's attempts (newest first, numbered across redeliveries). */
export async function listWebhookDeliveries(
  dataSource: DataSource,
  caller: AdminCaller,
  endpointId: string,
  query: { cursor?: string; limit: number; status?: WebhookDeliveryView['status'] },
): Promise<WebhookDeliveryPage> {
  await requireEndpoint(dataSource, caller, endpointId);
  const after = query.cursor ? decodeCursor(query.cursor) : undefined;
  const rows: Array<{
    id: string;
    message_id: string;
    type: WebhookEventType;
    signing_request_id: string | null;
    status: WebhookDeliveryView['status'];
    created_at: Date;
    last_attempt_at: Date | null;
    next_attempt_at: Date | null;
  }> = await dataSource.query(
    `SELECT d.id, d.message_id, m.type, m.payload #>> '{data,signingRequestId}' AS signing_request_id,
            d.status, d.created_at, d.last_attempt_at, d.next_attempt_at
       FROM webhook_deliveries d JOIN webhook_messages m ON m.id = d.message_id
      WHERE d.endpoint_id = $1
        AND ($2::text IS NULL OR d.status = $2)
        AND ($3::uuid IS NULL OR (d.created_at, d.id) < (SELECT c.created_at, c.id FROM webhook_deliveries c WHERE c.id = $3::uuid))
      ORDER BY d.created_at DESC, d.id DESC
      LIMIT $4`,
    [endpointId, query.status ?? null, after ?? null, query.limit + 1],
  );
  const page = rows.slice(0, query.limit);
  const attempts: Array<{
    delivery_id: string;
    number: number;
    attempted_at: Date;
    http_status: number | null;
    latency_ms: number | null;
    error: string | null;
  }> = page.length
    ? await dataSource.query(
        `SELECT delivery_id, row_number() OVER (PARTITION BY delivery_id ORDER BY run, attempt)::int AS number,
                attempted_at, http_status, latency_ms, error
           FROM webhook_delivery_attempts WHERE delivery_id = ANY ($1::uuid[])
          ORDER BY delivery_id, run DESC, attempt DESC`,
        [page.map((row) => row.id)],
      )
    : [];
  const attemptsOf = new Map<string, WebhookDeliveryAttemptView[]>();
  for (const attempt of attempts) {
    const list = attemptsOf.get(attempt.delivery_id) ?? [];
    list.push({
      attempt: attempt.number,
      attemptedAt: new Date(attempt.attempted_at).toISOString(),
      httpStatus: attempt.http_status,
      latencyMs: attempt.latency_ms,
      error: attempt.error,
    });
    attemptsOf.set(attempt.delivery_id, list);
  }
  const last = page.at(-1);
  return {
    items: page.map((row) => ({
      messageId: row.message_id,
      eventType: row.type,
      signingRequestId: row.signing_request_id,
      status: row.status,
      createdAt: new Date(row.created_at).toISOString(),
      lastAttemptAt: row.last_attempt_at ? new Date(row.last_attempt_at).toISOString() : null,
      nextAttemptAt: row.next_attempt_at ? new Date(row.next_attempt_at).toISOString() : null,
      attempts: attemptsOf.get(row.id) ?? [],
    })),
    nextCursor: rows.length > query.limit && last ? encodeCursor(last.id) : null,
  };
}

/**
 * Sends one message again (`messageId`, also one delivered already, or one sent before this endpoint
 * subscribed to its type) or every delivery to this endpoint not delivered with an attempt that failed
 * since `since` (failed, or pending and waiting to retry: a receiver that recovered need not wait for the
 * schedule). Each becomes a new
 * run, recorded with the audit entry in one transaction; the workflows are started at once when Temporal
 * answers, else by the relay.
 */
export async function redeliverWebhookMessages(
  ctx: DeliveriesContext,
  caller: AdminCaller,
  endpointId: string,
  input: { messageId: string } | { since: Date },
): Promise<RedeliveryResult> {
  const endpoint = await requireEndpoint(ctx.dataSource, caller, endpointId);
  if (!endpoint.enabled) {
    throw new AppError('conflict', 'The endpoint is disabled: enable it (PATCH enabled: true) before redelivering.');
  }
  const organizationId = caller.scope.organizationId;
  const redelivered = await ctx.dataSource.transaction(async (tx) => {
    let rows: Array<{ id: string; message_id: string }>;
    if ('messageId' in input) {
      const [message]: Array<{ id: string }> = await tx.query(`SELECT id FROM webhook_messages WHERE id = $1 AND organization_id = $2`, [
        input.messageId,
        organizationId,
      ]);
      if (!message) throw new AppError('not_found', 'No such webhook message in this organisation.');
      rows = await queryReturning(
        tx,
        `INSERT INTO webhook_deliveries (id, message_id, endpoint_id) VALUES (gen_random_uuid(), $1, $2)
         ON CONFLICT (message_id, endpoint_id) DO UPDATE
           SET run = webhook_deliveries.run + 1, status = 'pending', next_attempt_at = now(), next_start_at = now(), start_attempts = 0
         RETURNING id, message_id`,
        [message.id, endpointId],
      );
    } else {
      // Not delivered, with a failed attempt since then: failed ones (any run's attempt; also one that ended
      // with no attempt, created since then, when its endpoint was turned off while it waited), and pending
      // ones whose current run failed and waits to retry. The current run of those sees the new one at its
      // next attempt and stops (attemptDelivery), so the receiver is not made to wait for the schedule.
      rows = await queryReturning(
        tx,
        `UPDATE webhook_deliveries SET run = run + 1, status = 'pending', next_attempt_at = now(), next_start_at = now(), start_attempts = 0
          WHERE id IN (SELECT d.id FROM webhook_deliveries d
                        WHERE d.endpoint_id = $1 AND d.status IN ('failed', 'pending')
                          AND (EXISTS (SELECT 1 FROM webhook_delivery_attempts a
                                        WHERE a.delivery_id = d.id AND a.attempted_at >= $2 AND a.error IS NOT NULL
                                          AND (d.status = 'failed' OR a.run = d.run))
                               OR (d.status = 'failed' AND d.created_at >= $2))
                        ORDER BY d.created_at LIMIT ${maxRedeliveries} FOR UPDATE OF d)
         RETURNING id, message_id`,
        [endpointId, input.since],
      );
    }
    await recordOrganizationEvent(tx, {
      organizationId,
      type: 'webhook_endpoint.redelivery_requested',
      ...caller.actor,
      detail: {
        endpointId,
        ...('messageId' in input ? { messageId: input.messageId } : { since: input.since.toISOString() }),
        messages: rows.length,
      },
    });
    return rows;
  });
  if (redelivered.length > 0) {
    await startDueDeliveries(ctx.dataSource, ctx.temporal, ctx.retryScheduleMs, { deliveryIds: redelivered.map((row) => row.id) }).catch((error: unknown) => {
      // Recorded already: the relay starts them when Temporal is back.
      if (unavailablePart(error) === undefined) throw error;
    });
  }
  return { messageIds: redelivered.map((row) => row.message_id) };
}
