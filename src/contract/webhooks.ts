/**
 * The shapes /v1 answers about webhook endpoints and their deliveries, written once for the server and the
 * console (types only; the browser code type-checks them too). Times are ISO 8601 UTC strings.
 */

/** Event types a subscriber can choose; later processes (KYC, data-subject requests) add theirs here. */
export const webhookEventTypes = [
  'signing_request.created',
  'signer.invited',
  'signer.viewed',
  'signer.signed',
  'signer.declined',
  'signer.locked',
  'signing_request.completed',
  'signing_request.declined',
  'signing_request.expired',
  'signing_request.cancelled',
  'signing_request.failed',
  'kyc_case.created',
  'kyc_case.submitted',
  'kyc_case.signed',
  'kyc_case.approved',
  'kyc_case.rejected',
  'kyc_case.changes_requested',
  'kyc_case.expired',
  'kyc_case.cancelled',
  'data_subject_request.received',
  'data_subject_request.identity_confirmed',
  'data_subject_request.extended',
  'data_subject_request.completed',
  'data_subject_request.rejected',
  'data_subject_request.overdue',
] as const;
export type WebhookEventType = (typeof webhookEventTypes)[number];

/** Why an endpoint stopped receiving: turned off by a person, answered 410 Gone, or failed for too long. */
export type WebhookDisabledReason = 'manual' | 'gone' | 'failing';

export interface WebhookEndpointView {
  id: string;
  url: string;
  description: string | null;
  events: WebhookEventType[];
  enabled: boolean;
  disabledReason: WebhookDisabledReason | null;
  disabledAt: string | null;
  /** First failed attempt since the last success; null while deliveries succeed. */
  failingSince: string | null;
  /** Until when the previous secret still signs (after a rotation), else null. */
  previousSecretExpiresAt: string | null;
  createdAt: string;
  updatedAt: string;
}

/** Only in the answers to create and rotate-secret: the signing secret (`whsec_…`), shown once. */
export interface WebhookEndpointWithSecret extends WebhookEndpointView {
  secret: string;
}

export interface WebhookDeliveryAttemptView {
  attempt: number;
  attemptedAt: string;
  /** The receiver's HTTP status, null when no answer came (timeout, refused connection, refused destination). */
  httpStatus: number | null;
  latencyMs: number | null;
  /** Why the attempt failed, in words safe to show (never a secret, never the receiver's body). */
  error: string | null;
}

/** One message to one endpoint, with its attempts (newest first in the list). */
export interface WebhookDeliveryView {
  messageId: string;
  eventType: WebhookEventType;
  /** What the message is about: the signing request in its payload's `data`, null for an event about none. */
  signingRequestId: string | null;
  /** `pending` also while waiting to retry after a failed attempt (its attempts say so). */
  status: 'pending' | 'delivered' | 'failed' | 'cancelled';
  createdAt: string;
  lastAttemptAt: string | null;
  nextAttemptAt: string | null;
  attempts: WebhookDeliveryAttemptView[];
}

export interface WebhookDeliveryPage {
  items: WebhookDeliveryView[];
  nextCursor: string | null;
}

export interface RedeliveryResult {
  /** Message ids sent again (the same ids: receivers deduplicate on them). */
  messageIds: string[];
}
