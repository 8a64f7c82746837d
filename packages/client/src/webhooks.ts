/**
 * Verifying Sigill's webhooks. Deliveries follow the Standard Webhooks specification: headers `webhook-id`
 * (the message id, the same on every retry: deduplicate on it), `webhook-timestamp` and `webhook-signature`,
 * signed with the endpoint's secret (`whsec_…`). After a secret is rotated, both the old and the new secret
 * sign for a while, so a receiver given both accepts deliveries whichever it checks.
 */
import { Webhook } from 'standardwebhooks';

/** The event types Sigill sends (later processes add theirs, so a receiver should ignore types it does not know). */
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

/** A delivery's body: what happened, when (ISO 8601), and the ids and statuses concerned. */
export interface WebhookEvent {
  // `string & {}` keeps editor completion for the known types while accepting types added later.
  type: WebhookEventType | (string & {});
  timestamp: string;
  /**
   * Ids, times and statuses only (no names, emails, titles or documents: read those through the API). For a
   * signing round: `signingRequestId`, `occurredAt`, and as the type calls for them `status`, `signerId`,
   * `signerStatus`, `failureReason` (a step code) or `sealedDocumentSha256`.
   */
  data: Record<string, string | number | boolean | null>;
}

export type WebhookVerificationFailure =
  /** `webhook-id`, `webhook-timestamp` or `webhook-signature` is absent. */
  | 'missing_headers'
  /** `webhook-timestamp` is not a number of seconds. */
  | 'invalid_timestamp'
  /** Signed more than 5 minutes before or after now: a replay, or a clock far off. */
  | 'timestamp_out_of_tolerance'
  /** No signature matches any of the secrets: a forged or altered delivery, or the wrong secret. */
  | 'invalid_signature'
  /** Signed correctly, but not a Sigill event body (`{ type, timestamp, data }` as JSON). */
  | 'invalid_payload';

export class WebhookVerificationError extends Error {
  override readonly name = 'WebhookVerificationError';
  constructor(
    readonly reason: WebhookVerificationFailure,
    message: string,
  ) {
    super(message);
  }
}

/** Node's `IncomingHttpHeaders`, a plain record, or fetch's `Headers`. */
export type WebhookHeaders = Headers | Record<string, string | string[] | undefined>;

export interface VerifyWebhookInput {
  /** The endpoint's secret (`whsec_…`), or several during a rotation's overlap; surrounding whitespace is ignored. */
  secrets: string | readonly string[];
  headers: WebhookHeaders;
  /** The body exactly as received, before any JSON parsing: re-serialised JSON does not verify. */
  body: string | Uint8Array;
}

// The specification's (and the standardwebhooks library's) tolerance for the signing time.
const toleranceSeconds = 5 * 60;

function header(headers: WebhookHeaders, name: string): string | undefined {
  if (typeof (headers as Headers).get === 'function') return (headers as Headers).get(name) ?? undefined;
  const record = headers as Record<string, string | string[] | undefined>;
  const key = Object.keys(record).find((candidate) => candidate.toLowerCase() === name);
  const value = key === undefined ? undefined : record[key];
  return Array.isArray(value) ? value.join(' ') : value;
}

function isWebhookEvent(value: unknown): value is WebhookEvent {
  const event = value as Partial<WebhookEvent> | null;
  return typeof event === 'object' && event !== null && typeof event.type === 'string' && typeof event.timestamp === 'string' && typeof event.data === 'object' && event.data !== null;
}

/**
 * The event of a genuine delivery, or a thrown WebhookVerificationError saying why it is not one (answer
 * such a request with 400 and do not act on it). A secret that is not a Standard Webhooks secret throws a
 * TypeError: that is a configuration mistake, not a bad delivery.
 */
export function verifyWebhook(input: VerifyWebhookInput): WebhookEvent {
  const secrets = typeof input.secrets === 'string' ? [input.secrets] : [...input.secrets];
  if (secrets.length === 0) throw new TypeError('verifyWebhook needs at least one secret.');
  const verifiers = secrets.map((secret, index) => {
    try {
      // Secrets are read from files and env files: a line ending or padding around one is not part of it.
      return new Webhook(secret.trim());
    } catch {
      // Never echo the secret itself.
      throw new TypeError(`Webhook secret #${index + 1} is not a Standard Webhooks secret (whsec_ followed by base64).`);
    }
  });

  const id = header(input.headers, 'webhook-id');
  const timestamp = header(input.headers, 'webhook-timestamp');
  const signature = header(input.headers, 'webhook-signature');
  if (!id || !timestamp || !signature) {
    throw new WebhookVerificationError('missing_headers', 'The webhook-id, webhook-timestamp and webhook-signature headers are required.');
  }
  // Checked here, before the library (which checks them too), so the error can say which rule failed.
  if (!/^\d+$/.test(timestamp)) throw new WebhookVerificationError('invalid_timestamp', 'webhook-timestamp is not a number of seconds.');
  if (Math.abs(Date.now() / 1000 - Number(timestamp)) > toleranceSeconds) {
    throw new WebhookVerificationError('timestamp_out_of_tolerance', 'webhook-timestamp is more than 5 minutes away from now.');
  }

  const headers = { 'webhook-id': id, 'webhook-timestamp': timestamp, 'webhook-signature': signature };
  for (const verifier of verifiers) {
    try {
      verifier.verify(input.body, headers, { jsonParse: false });
    } catch {
      continue; // this secret did not sign it; the next one may have
    }
    return parseEvent(input.body);
  }
  throw new WebhookVerificationError('invalid_signature', 'No webhook-signature matches the secret(s).');
}

function parseEvent(body: string | Uint8Array): WebhookEvent {
  let event: unknown;
  try {
    event = JSON.parse(typeof body === 'string' ? body : new TextDecoder().decode(body));
  } catch {
    throw new WebhookVerificationError('invalid_payload', 'The body is not JSON.');
  }
  if (!isWebhookEvent(event)) throw new WebhookVerificationError('invalid_payload', 'The body is not a Sigill event ({ type, timestamp, data }).');
  return event;
}
