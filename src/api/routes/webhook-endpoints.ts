import { z } from 'zod';
import type { TemporalTarget } from '../../adapters/temporal-connection';
import {
  webhookEventTypes,
  type RedeliveryResult,
  type WebhookDeliveryPage,
  type WebhookEndpointView,
  type WebhookEndpointWithSecret,
} from '../../contract/webhooks';
import { isoDuration } from '../../durations';
import type { SigningContext } from '../../signing/signing-context';
import { singleLineText } from '../../text-input';
import { listWebhookDeliveries, redeliverWebhookMessages } from '../../webhooks/deliveries';
import {
  createWebhookEndpoint,
  deleteWebhookEndpoint,
  getWebhookEndpoint,
  listWebhookEndpoints,
  maxOverlapMs,
  rotateWebhookEndpointSecret,
  updateWebhookEndpoint,
  type EndpointsContext,
} from '../../webhooks/endpoints';
import { adminCaller } from '../principal';
import { defineRoute } from '../route';

const eventType = z.enum(webhookEventTypes);

const endpointBody = z.object({
  id: z.uuid(),
  url: z.string(),
  description: z.string().nullable(),
  events: z.array(eventType),
  enabled: z.boolean(),
  disabledReason: z.enum(['manual', 'gone', 'failing']).nullable().describe('manual: turned off; gone: the receiver answered 410; failing: every delivery failed for too long'),
  disabledAt: z.iso.datetime().nullable(),
  failingSince: z.iso.datetime().nullable().describe('First failed attempt since the last success; null while deliveries succeed'),
  previousSecretExpiresAt: z.iso.datetime().nullable().describe('After a rotation: until when the previous secret still signs'),
  createdAt: z.iso.datetime(),
  updatedAt: z.iso.datetime(),
});

const endpointWithSecretBody = endpointBody.extend({
  secret: z.string().describe('The signing secret (`whsec_…`), shown only in this answer: store it now'),
});

const deliveryPageBody = z.object({
  items: z.array(
    z.object({
      messageId: z.string().describe('The `webhook-id` header: the same on every attempt and redelivery'),
      eventType,
      signingRequestId: z
        .string()
        .nullable()
        .describe("The signing request the message is about (its payload's `data.signingRequestId`); null for an event about none"),
      status: z
        .enum(['pending', 'delivered', 'failed', 'cancelled'])
        .describe('pending: not delivered yet, also while waiting to retry after a failed attempt (`attempts` say so)'),
      createdAt: z.iso.datetime(),
      lastAttemptAt: z.iso.datetime().nullable(),
      nextAttemptAt: z.iso.datetime().nullable(),
      attempts: z.array(
        z.object({
          attempt: z.number().int(),
          attemptedAt: z.iso.datetime(),
          httpStatus: z.number().int().nullable().describe("The receiver's status; null when no answer came"),
          latencyMs: z.number().int().nullable(),
          error: z.string().nullable(),
        }),
      ),
    }),
  ),
  nextCursor: z.string().nullable(),
});

const redeliveryBody = z.object({ messageIds: z.array(z.string()).describe('Message ids sent again (the same ids)') });

// The answers are the console's contract (src/contract/webhooks.ts): these fail to compile if they drift.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const contractChecks: [
  Same<z.infer<typeof endpointBody>, WebhookEndpointView>,
  Same<z.infer<typeof endpointWithSecretBody>, WebhookEndpointWithSecret>,
  Same<z.infer<typeof deliveryPageBody>, WebhookDeliveryPage>,
  Same<z.infer<typeof redeliveryBody>, RedeliveryResult>,
] = [true, true, true, true];
void contractChecks;

const endpointParams = z.object({ id: z.string().max(100) });
const url = z.string().max(2048).describe('Where deliveries are POSTed: https (http and loopback only in development)');
const events = z.array(z.string().max(100)).max(webhookEventTypes.length * 2).describe('Event types to receive (GET /v1/webhook-event-types)');
const description = singleLineText({ max: 500 }).nullable();

const tag = 'Webhooks';

/**
 * Webhook endpoints (issue 12 §1): organisation-wide administration, so owners, admins and
 * organisation-wide admin keys; a folder-scoped key is refused (403), another organisation's endpoint is
 * not found (404).
 */
export function webhookEndpointRoutes(signing: SigningContext, temporal: TemporalTarget) {
  const endpoints: EndpointsContext = { dataSource: signing.dataSource, keyService: signing.adapters.keyService, webhooks: signing.webhooks };
  const deliveries = { dataSource: signing.dataSource, temporal, retryScheduleMs: signing.webhooks.retryScheduleMs };
  return [
    defineRoute({
      method: 'get',
      path: '/v1/webhook-event-types',
      summary: 'The event types an endpoint can subscribe to',
      tag,
      auth: 'principal',
      responses: { 200: { description: 'Event types', schema: z.object({ items: z.array(eventType) }) } },
      handler: async () => ({ status: 200, body: { items: [...webhookEventTypes] } }),
    }),
    defineRoute({
      method: 'post',
      path: '/v1/webhook-endpoints',
      summary: 'Add a webhook endpoint; the answer carries its signing secret, shown this once (audited)',
      tag,
      auth: 'principal',
      permission: 'admin',
      body: z.strictObject({ url, events, description: description.optional() }),
      responses: { 201: { description: 'Created', schema: endpointWithSecretBody } },
      handler: async ({ body, principal, ctx }) => ({
        status: 201,
        body: await createWebhookEndpoint(endpoints, adminCaller(principal!, ctx), body),
      }),
    }),
    defineRoute({
      method: 'get',
      path: '/v1/webhook-endpoints',
      summary: "The organisation's webhook endpoints (never their secrets)",
      tag,
      auth: 'principal',
      permission: 'admin',
      responses: { 200: { description: 'Endpoints', schema: z.object({ items: z.array(endpointBody) }) } },
      handler: async ({ principal, ctx }) => ({ status: 200, body: { items: await listWebhookEndpoints(endpoints, adminCaller(principal!, ctx)) } }),
    }),
    defineRoute({
      method: 'get',
      path: '/v1/webhook-endpoints/:id',
      summary: 'One webhook endpoint',
      tag,
      auth: 'principal',
      permission: 'admin',
      params: endpointParams,
      responses: { 200: { description: 'The endpoint', schema: endpointBody } },
      errors: [404],
      handler: async ({ params, principal, ctx }) => ({ status: 200, body: await getWebhookEndpoint(endpoints, adminCaller(principal!, ctx), params.id) }),
    }),
    defineRoute({
      method: 'patch',
      path: '/v1/webhook-endpoints/:id',
      summary: 'Change an endpoint: URL, events, description, enabled (enabling clears why it was disabled) (audited)',
      tag,
      auth: 'principal',
      permission: 'admin',
      params: endpointParams,
      body: z.strictObject({ url: url.optional(), events: events.optional(), description: description.optional(), enabled: z.boolean().optional() }),
      responses: { 200: { description: 'The endpoint now', schema: endpointBody } },
      errors: [404],
      handler: async ({ params, body, principal, ctx }) => ({
        status: 200,
        body: await updateWebhookEndpoint(endpoints, adminCaller(principal!, ctx), params.id, body),
      }),
    }),
    defineRoute({
      method: 'delete',
      path: '/v1/webhook-endpoints/:id',
      summary: 'Delete an endpoint: nothing more is sent to it (audited)',
      tag,
      auth: 'principal',
      permission: 'admin',
      params: endpointParams,
      responses: { 204: { description: 'Deleted' } },
      errors: [404],
      handler: async ({ params, principal, ctx }) => {
        await deleteWebhookEndpoint(endpoints, adminCaller(principal!, ctx), params.id);
        return { status: 204, body: undefined };
      },
    }),
    defineRoute({
      method: 'post',
      path: '/v1/webhook-endpoints/:id/rotate-secret',
      summary: 'A new signing secret, shown this once; the previous one keeps signing during the overlap (audited)',
      tag,
      auth: 'principal',
      permission: 'admin',
      params: endpointParams,
      body: z
        .strictObject({
          overlap: isoDuration({ minMs: 0, maxMs: maxOverlapMs })
            .optional()
            .describe('How long the previous secret keeps signing beside the new one: ISO 8601, default PT24H, at most P7D'),
        })
        .optional(),
      responses: { 200: { description: 'The endpoint with its new secret', schema: endpointWithSecretBody } },
      errors: [404],
      handler: async ({ params, body, principal, ctx }) => ({
        status: 200,
        body: await rotateWebhookEndpointSecret(endpoints, adminCaller(principal!, ctx), params.id, body?.overlap),
      }),
    }),
    defineRoute({
      method: 'get',
      path: '/v1/webhook-endpoints/:id/deliveries',
      summary: "The endpoint's delivery log, newest first: each message with its attempts (status, latency, error)",
      tag,
      auth: 'principal',
      permission: 'admin',
      params: endpointParams,
      query: z.object({
        cursor: z.string().max(500).optional().describe('`nextCursor` of the previous page'),
        limit: z.coerce.number().int().min(1).max(100).default(20),
        status: z.enum(['pending', 'delivered', 'failed', 'cancelled']).optional(),
      }),
      responses: { 200: { description: 'One page', schema: deliveryPageBody } },
      errors: [404],
      handler: async ({ params, query, principal, ctx }) => ({
        status: 200,
        body: await listWebhookDeliveries(signing.dataSource, adminCaller(principal!, ctx), params.id, query),
      }),
    }),
    defineRoute({
      method: 'post',
      path: '/v1/webhook-endpoints/:id/redeliver',
      summary:
        'Send again one message (`messageId`) or every delivery with an attempt that failed since a time and not delivered (`since`: failed, or waiting to retry), with the same message ids (audited)',
      tag,
      auth: 'principal',
      permission: 'admin',
      params: endpointParams,
      body: z.union(
        [
          z.strictObject({ messageId: z.string().max(100).describe('A message id (`msg_…`) of this organisation') }),
          z.strictObject({
            since: z.iso
              .datetime({ offset: true, error: 'must be an ISO 8601 date-time' })
              .describe('Every delivery not delivered with an attempt that failed at or after this time: failed, or pending and waiting to retry'),
          }),
        ],
        { error: '`messageId` or `since` is required, not both: `messageId` to send one message again, `since` (an ISO 8601 date-time) for every delivery that failed since then' },
      ),
      responses: { 202: { description: 'Accepted: the deliveries are on their way', schema: redeliveryBody } },
      errors: [404, 409],
      handler: async ({ params, body, principal, ctx }) => ({
        status: 202,
        body: await redeliverWebhookMessages(
          deliveries,
          adminCaller(principal!, ctx),
          params.id,
          'messageId' in body ? { messageId: body.messageId } : { since: new Date(body.since) },
        ),
      }),
    }),
  ];
}
