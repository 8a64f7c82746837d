/**
 * @sigill/client: the Sigill e-signature API, typed from its OpenAPI document.
 *
 *     const sigill = createSigillClient({ baseUrl: 'https://sign.example.com', apiKey: process.env.SIGILL_API_KEY });
 *     const round = unwrap(await sigill.POST('/v1/signing-requests', { body, ...idempotent(key) }));
 */
export { createSigillClient, type SigillClient, type SigillClientOptions } from './client';
export { isSigillErrorBody, SigillApiError, unwrap, type SigillErrorBody } from './errors';
export { idempotencyKey, idempotencyKeyHeader, idempotent } from './idempotency';
export { paginate, type PagedPath, type PageItem, type PaginateOptions } from './paging';
export {
  verifyWebhook,
  webhookEventTypes,
  WebhookVerificationError,
  type VerifyWebhookInput,
  type WebhookEvent,
  type WebhookEventType,
  type WebhookHeaders,
  type WebhookVerificationFailure,
} from './webhooks';
export type { components, paths } from './schema';
