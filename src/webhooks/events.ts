/**
 * Which recorded changes become webhook messages, and what they say. The one place a process declares its
 * events: the signing round maps its audit events here (and its completion, recorded with the outcome);
 * later processes (KYC cases, data-subject requests) add their event types to
 * `webhookEventTypes` (src/contract/webhooks.ts) and their mapping here, and enqueue with the same SQL, in
 * the same statement or transaction as their change.
 *
 * Payloads carry ids, types, times and statuses only: never names, emails, phones, IPs, titles, decline
 * reasons, PINs or document content. A subscriber that needs more reads it through the API with its key.
 */
import { randomInt } from 'node:crypto';
import type { WebhookEventType } from '../contract/webhooks';

export interface WebhookPayload {
  type: WebhookEventType;
  /** When the change happened (ISO 8601 UTC), as the specification's `timestamp`. */
  timestamp: string;
  data: Record<string, string | number | boolean | null>;
}

/** A message about to be written to the outbox; `folderId` is filled in by the SQL from the request. */
export interface WebhookMessageDraft {
  id: string;
  type: WebhookEventType;
  /** Names the change: recording it again makes no second message. */
  source_key: string;
  payload: WebhookPayload;
}

const base62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** `msg_` and 24 random base62 characters (143 bits): the `webhook-id` receivers deduplicate on. */
export function newWebhookMessageId(): string {
  let id = 'msg_';
  for (let i = 0; i < 24; i++) id += base62[randomInt(base62.length)];
  return id;
}

/** The audit event of a signing round as recorded (src/signing/audit-trail.ts). */
export interface RecordedRoundEvent {
  requestId: string;
  eventKey: string;
  type: string;
  signerId: string | null;
  occurredAt: Date;
  detail: unknown;
}

/** Audit event type → the webhook events it raises and the statuses they report. */
const roundEventMapping: Record<string, Array<{ type: WebhookEventType; status?: string; signerStatus?: string }>> = {
  created: [{ type: 'signing_request.created', status: 'pending' }],
  invited: [{ type: 'signer.invited', signerStatus: 'invited' }],
  viewed: [{ type: 'signer.viewed', signerStatus: 'opened' }],
  signed: [{ type: 'signer.signed', signerStatus: 'signed' }],
  declined: [
    { type: 'signer.declined', signerStatus: 'declined' },
    { type: 'signing_request.declined', status: 'declined' },
  ],
  locked: [{ type: 'signer.locked', signerStatus: 'locked' }],
  expired: [{ type: 'signing_request.expired', status: 'expired' }],
  cancelled: [{ type: 'signing_request.cancelled', status: 'cancelled' }],
  failed: [{ type: 'signing_request.failed', status: 'failed' }],
};

/** The messages an audit event raises (none for most: reminders, PIN failures, seals are not events). */
export function webhookMessagesForRoundEvent(event: RecordedRoundEvent): WebhookMessageDraft[] {
  const mapped = roundEventMapping[event.type] ?? [];
  return mapped.map(({ type, status, signerStatus }) => {
    const data: WebhookPayload['data'] = { signingRequestId: event.requestId, occurredAt: event.occurredAt.toISOString() };
    if (status) data.status = status;
    if (signerStatus && event.signerId) {
      data.signerId = event.signerId;
      data.signerStatus = signerStatus;
    }
    // The failing step's code (audit_event_rejected, seal_failed, …), never an error message.
    const reason = (event.detail as { reason?: unknown } | null)?.reason;
    if (type === 'signing_request.failed' && typeof reason === 'string' && /^[a-z_]{1,64}$/.test(reason)) data.failureReason = reason;
    return {
      id: newWebhookMessageId(),
      type,
      source_key: `signing-request:${event.requestId}:${event.eventKey}:${type}`,
      payload: { type, timestamp: event.occurredAt.toISOString(), data },
    };
  });
}

/** A round that completed: its sealed document is archived and the outcome recorded. */
export function completedMessage(requestId: string, completedAt: Date, sealedSha256: string | null): WebhookMessageDraft {
  const type = 'signing_request.completed';
  return {
    id: newWebhookMessageId(),
    type,
    source_key: `signing-request:${requestId}:completed:${type}`,
    payload: {
      type,
      timestamp: completedAt.toISOString(),
      data: {
        signingRequestId: requestId,
        status: 'completed',
        occurredAt: completedAt.toISOString(),
        ...(sealedSha256 ? { sealedDocumentSha256: sealedSha256 } : {}),
      },
    },
  };
}

/**
 * SQL that writes `drafts` (a jsonb array parameter) to the outbox for the signing request `requestId`
 * (a SQL expression), adding its organisation and folder, only if that organisation has an enabled
 * endpoint: organisations without webhooks pay one indexed lookup and store nothing. `condition` adds a
 * further SQL condition (e.g. that the audit event's row was inserted by the same statement).
 */
export function enqueueForRequestSql(draftsParameter: string, requestId: string, condition = 'true'): string {
  return `INSERT INTO webhook_messages (id, organization_id, type, payload, source_key)
          SELECT m.id, r.organization_id, m.type,
                 jsonb_set(m.payload, '{data,folderId}', coalesce(to_jsonb(r.folder_id), 'null'::jsonb)), m.source_key
            FROM signing_requests r
           CROSS JOIN jsonb_to_recordset(${draftsParameter}::jsonb) AS m(id text, type text, payload jsonb, source_key text)
           WHERE r.id = ${requestId} AND (${condition})
             AND EXISTS (SELECT 1 FROM webhook_endpoints w
                          WHERE w.organization_id = r.organization_id AND w.enabled AND w.deleted_at IS NULL)
          ON CONFLICT (source_key) DO NOTHING`;
}

/** A KYC case's audit event as recorded (src/kyc/kyc-audit-trail.ts) → the webhook event it raises, if any. */
const kycEventMapping: Record<string, { type: WebhookEventType; status: string } | undefined> = {
  created: { type: 'kyc_case.created', status: 'invited' },
  submitted: { type: 'kyc_case.submitted', status: 'signing' },
  declaration_signed: { type: 'kyc_case.signed', status: 'in_review' },
  approved: { type: 'kyc_case.approved', status: 'approved' },
  rejected: { type: 'kyc_case.rejected', status: 'rejected' },
  changes_requested: { type: 'kyc_case.changes_requested', status: 'changes_requested' },
  expired: { type: 'kyc_case.expired', status: 'expired' },
  cancelled: { type: 'kyc_case.cancelled', status: 'cancelled' },
};

/** The message a KYC event raises: ids and statuses only (never the customer, answers or reasons). */
export function webhookMessagesForKycEvent(event: { caseId: string; eventKey: string; type: string; occurredAt: Date; detail: unknown }): WebhookMessageDraft[] {
  const mapped = kycEventMapping[event.type];
  // A first approval that waits for a second reviewer is not the case's approval.
  if (!mapped || (event.type === 'approved' && (event.detail as { final?: unknown } | null)?.final !== true)) return [];
  const timestamp = event.occurredAt.toISOString();
  return [
    {
      id: newWebhookMessageId(),
      type: mapped.type,
      source_key: `kyc-case:${event.caseId}:${event.eventKey}:${mapped.type}`,
      payload: { type: mapped.type, timestamp, data: { kycCaseId: event.caseId, status: mapped.status, occurredAt: timestamp } },
    },
  ];
}

/** As `enqueueForRequestSql`, for a KYC case (`caseId` a SQL expression): its organisation and folder. */
export function enqueueForKycCaseSql(draftsParameter: string, caseId: string, condition = 'true'): string {
  return `INSERT INTO webhook_messages (id, organization_id, type, payload, source_key)
          SELECT m.id, c.organization_id, m.type,
                 jsonb_set(m.payload, '{data,folderId}', to_jsonb(c.folder_id)), m.source_key
            FROM kyc_cases c
           CROSS JOIN jsonb_to_recordset(${draftsParameter}::jsonb) AS m(id text, type text, payload jsonb, source_key text)
           WHERE c.id = ${caseId} AND (${condition})
             AND EXISTS (SELECT 1 FROM webhook_endpoints w
                          WHERE w.organization_id = c.organization_id AND w.enabled AND w.deleted_at IS NULL)
          ON CONFLICT (source_key) DO NOTHING`;
}

/** A data-subject request's audit event (src/dsr/dsr-audit-trail.ts) → the webhook event it raises, if any. */
const dsrEventMapping: Record<string, { type: WebhookEventType; status?: string } | undefined> = {
  created: { type: 'data_subject_request.received', status: 'awaiting_identity' },
  identity_confirmed: { type: 'data_subject_request.identity_confirmed', status: 'in_progress' },
  extended: { type: 'data_subject_request.extended' },
  completed: { type: 'data_subject_request.completed', status: 'completed' },
  rejected: { type: 'data_subject_request.rejected', status: 'rejected' },
  overdue: { type: 'data_subject_request.overdue' },
};

/**
 * The message a data-subject request's event raises: ids, type, status and times only (never the requester,
 * the details, reasons or the answer). `status` is the request's at the event (in SQL for events that do not
 * change it); `times` are the event's own (the new deadline of an extension, the deadline passed).
 */
export function webhookMessagesForDsrEvent(event: {
  dsrId: string;
  eventKey: string;
  type: string;
  occurredAt: Date;
  detail: Record<string, unknown> | null;
}): WebhookMessageDraft[] {
  const mapped = dsrEventMapping[event.type];
  if (!mapped) return [];
  const timestamp = event.occurredAt.toISOString();
  const times: Record<string, string> = {};
  for (const name of ['extendedUntil', 'deadline'] as const) {
    const value = event.detail?.[name];
    if (typeof value === 'string') times[name] = value;
  }
  return [
    {
      id: newWebhookMessageId(),
      type: mapped.type,
      source_key: `data-subject-request:${event.dsrId}:${event.eventKey}:${mapped.type}`,
      payload: {
        type: mapped.type,
        timestamp,
        data: { dataSubjectRequestId: event.dsrId, ...(mapped.status ? { status: mapped.status } : {}), occurredAt: timestamp, ...times },
      },
    },
  ];
}

/** As `enqueueForKycCaseSql`, for a data-subject request (`dsrId` a SQL expression); the request's type and status are added. */
export function enqueueForDsrSql(draftsParameter: string, dsrId: string, condition = 'true'): string {
  return `INSERT INTO webhook_messages (id, organization_id, type, payload, source_key)
          SELECT m.id, d.organization_id, m.type,
                 jsonb_set(jsonb_set(m.payload, '{data,requestType}', to_jsonb(d.type)),
                           '{data,status}', coalesce(m.payload->'data'->'status', to_jsonb(d.status))), m.source_key
            FROM data_subject_requests d
           CROSS JOIN jsonb_to_recordset(${draftsParameter}::jsonb) AS m(id text, type text, payload jsonb, source_key text)
           WHERE d.id = ${dsrId} AND (${condition})
             AND EXISTS (SELECT 1 FROM webhook_endpoints w
                          WHERE w.organization_id = d.organization_id AND w.enabled AND w.deleted_at IS NULL)
          ON CONFLICT (source_key) DO NOTHING`;
}
