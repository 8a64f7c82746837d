/**
 * Receiving a data-subject request (R14), from a back-office system (`POST /v1/data-subject-requests`) or the
 * organisation's public privacy page: validate, record the request in one transaction (its record key made
 * first, the requester's data encrypted under it, blind indexes of email and phone, an idempotency key, a
 * `created` event), then start workflow `data-subject-request-<id>`, which sends the confirmation code. The
 * legal clock starts at receipt: `dueAt` is one month on (src/dsr/legal-deadline.ts). As for KYC cases, a
 * retried create with the same Idempotency-Key converges on one request, and one whose workflow cannot start
 * is removed again (503, nothing half-created).
 */
import { createHash, randomUUID } from 'node:crypto';
import { WorkflowExecutionAlreadyStartedError, WorkflowIdConflictPolicy, WorkflowIdReusePolicy } from '@temporalio/client';
import { z } from 'zod';
import type { TemporalTarget } from '../adapters/temporal-connection';
import { dataSubjectRequestTypes, type CreatedDataSubjectRequest, type DataSubjectRequestStatus, type DataSubjectRequestType } from '../contract/data-subject-requests';
import { Organization } from '../database/entities';
import { AppError, unavailableError } from '../errors';
import { locales, type Locale } from '../i18n/locales';
import type { RecordRef } from '../privacy/record-keys';
import type { SigningContext } from '../signing/signing-context';
import { multilineText, singleLineText } from '../text-input';
import type { DataSubjectRequestInput } from '../workflows/data-subject-request';
import { organizationIdAttribute, processStatusAttribute } from '../workflows/search-attributes';
import { recordDsrEvent } from './dsr-audit-trail';
import { legalDueDate } from './legal-deadline';
import { requesterCredentials } from './requester-credentials';

export const workflowIdForDataSubjectRequest = (dsrId: string) => `data-subject-request-${dsrId}`;
export const dsrRecord = (dsrId: string): RecordRef => ({ kind: 'data_subject_request', id: dsrId });
/** The encryption context (AAD) of each personal field of a request. */
export const dsrFieldContext = (dsrId: string, field: 'name' | 'email' | 'phone' | 'details' | 'extension_reason' | 'answer' | 'rejection_reason' | 'national_id') => ({
  purpose: `dsr-${field}`,
  dsr: dsrId,
});

/** Accepted clock skew of a caller's `receivedAt`. */
const futureSkewMs = 60_000;
/** The earliest `receivedAt`: no request under the GDPR can predate it (it also keeps typos such as year 0031 out). */
const gdprInForce = new Date('2018-05-25T00:00:00Z');

export const requesterInput = z.strictObject({
  name: singleLineText({ max: 200 }),
  email: z.email('must be an email address').max(254),
  phone: z
    .string()
    .regex(/^\+[1-9]\d{6,14}$/, 'must be an international phone number such as +358401234567')
    .optional()
    .describe('The confirmation code also goes here by SMS'),
  locale: z.enum(locales).optional().describe("The requester's language; default: the organisation's"),
});

const requestFields = {
  type: z.enum(dataSubjectRequestTypes),
  requester: requesterInput,
  details: multilineText({ max: 5000 }).optional().describe('What the requester asks, in their words; stored encrypted'),
};

export const createDataSubjectRequestInput = z.strictObject({
  ...requestFields,
  receivedAt: z.iso
    .datetime({ offset: true, message: 'must be an ISO 8601 date-time, e.g. 2026-01-31T09:00:00Z' })
    .optional()
    .describe('When the organisation received the request (the legal clock starts here); default now; not in the future, nor before 2018-05-25 (the GDPR)'),
});
export const publicDataSubjectRequestInput = z.strictObject(requestFields);

export type CreateDataSubjectRequestInput = z.output<typeof createDataSubjectRequestInput>;

export async function createDataSubjectRequest(
  context: SigningContext,
  temporal: TemporalTarget,
  input: {
    organizationId: string;
    request: CreateDataSubjectRequestInput;
    channel: 'api' | 'public';
    actor: string;
    ip?: string;
    userAgent?: string;
    idempotencyKey?: string;
    now: Date;
  },
): Promise<CreatedDataSubjectRequest> {
  const { request, organizationId, now } = input;
  const fingerprint = createHash('sha256').update(JSON.stringify(request)).digest('hex');
  if (input.idempotencyKey) {
    const replay = await findByIdempotencyKey(context, organizationId, input.idempotencyKey, fingerprint);
    if (replay) return startRequest(context, temporal, replay, organizationId, { isNew: false });
  }
  const receivedAt = request.receivedAt ? new Date(request.receivedAt) : now;
  if (receivedAt.getTime() > now.getTime() + futureSkewMs) throw new AppError('unprocessable', 'receivedAt: must not be in the future.');
  if (receivedAt.getTime() < gdprInForce.getTime()) {
    throw new AppError('unprocessable', 'receivedAt: must not be before 2018-05-25, when the GDPR took effect.');
  }
  const organization = await context.dataSource.getRepository(Organization).findOneByOrFail({ id: organizationId });
  const dsrId = randomUUID();
  const record = dsrRecord(dsrId);
  const credentials = await requesterCredentials(context);
  const locale: Locale = request.requester.locale ?? organization.defaultLocale;
  try {
    await context.dataSource.transaction(async (tx) => {
      await context.recordKeys.ensureKey(tx, organizationId, record);
      const seal = (field: Parameters<typeof dsrFieldContext>[1], value: string) => context.recordKeys.encryptField(record, dsrFieldContext(dsrId, field), value, tx);
      await tx.query(
        `INSERT INTO data_subject_requests (id, organization_id, type, status, channel, requester_name, requester_email, requester_phone, requester_locale,
                                            email_index, phone_index, details, received_at, due_at, created_by, created_at)
         VALUES ($1, $2, $3, 'awaiting_identity', $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)`,
        [
          dsrId,
          organizationId,
          request.type,
          input.channel,
          await seal('name', request.requester.name),
          await seal('email', request.requester.email),
          request.requester.phone ? await seal('phone', request.requester.phone) : null,
          locale,
          credentials.emailIndex(organizationId, request.requester.email),
          request.requester.phone ? credentials.phoneIndex(organizationId, request.requester.phone) : null,
          request.details ? await seal('details', request.details) : null,
          receivedAt,
          legalDueDate(receivedAt),
          input.actor,
          now,
        ],
      );
      if (input.idempotencyKey) {
        await tx.query(`INSERT INTO dsr_idempotency_keys (organization_id, key, request_fingerprint, dsr_id) VALUES ($1, $2, $3, $4)`, [
          organizationId,
          input.idempotencyKey,
          fingerprint,
          dsrId,
        ]);
      }
      await recordDsrEvent(tx, {
        dsrId,
        eventKey: 'created',
        type: 'created',
        actor: input.actor,
        ip: input.ip,
        userAgent: input.userAgent,
        detail: { type: request.type, channel: input.channel, receivedAt: receivedAt.toISOString(), dueAt: legalDueDate(receivedAt).toISOString() },
        occurredAt: now,
      });
    });
  } catch (error) {
    if (input.idempotencyKey && (error as { code?: string }).code === '23505') {
      const replay = await findByIdempotencyKey(context, organizationId, input.idempotencyKey, fingerprint);
      if (replay) return startRequest(context, temporal, replay, organizationId, { isNew: false });
    }
    throw error;
  }
  return startRequest(context, temporal, dsrId, organizationId, { isNew: true });
}

async function findByIdempotencyKey(context: SigningContext, organizationId: string, key: string, fingerprint: string): Promise<string | undefined> {
  const [row]: Array<{ dsr_id: string; request_fingerprint: string }> = await context.dataSource.query(
    `SELECT dsr_id, request_fingerprint FROM dsr_idempotency_keys WHERE organization_id = $1 AND key = $2`,
    [organizationId, key],
  );
  if (!row) return undefined;
  if (row.request_fingerprint !== fingerprint) throw new AppError('conflict', 'This Idempotency-Key was already used for a different request.');
  return row.dsr_id;
}

async function startRequest(
  context: SigningContext,
  temporal: TemporalTarget,
  dsrId: string,
  organizationId: string,
  options: { isNew: boolean },
): Promise<CreatedDataSubjectRequest> {
  const [row]: Array<{ id: string; type: DataSubjectRequestType; status: DataSubjectRequestStatus; received_at: Date; due_at: Date }> =
    await context.dataSource.query(`SELECT id, type, status, received_at, due_at FROM data_subject_requests WHERE id = $1 AND organization_id = $2`, [
      dsrId,
      organizationId,
    ]);
  if (!row) throw new AppError('not_found', 'No such data-subject request.');
  const workflowInput: DataSubjectRequestInput = { dsrId, organizationId, dueAt: row.due_at.toISOString() };
  try {
    await temporal.client.workflow.start('dataSubjectRequestWorkflow', {
      taskQueue: temporal.taskQueue,
      workflowId: workflowIdForDataSubjectRequest(dsrId),
      workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
      workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
      args: [workflowInput],
      typedSearchAttributes: [
        { key: organizationIdAttribute, value: organizationId },
        { key: processStatusAttribute, value: 'awaiting_identity' },
      ],
    });
  } catch (error) {
    if (options.isNew || !(error instanceof WorkflowExecutionAlreadyStartedError)) {
      if (options.isNew) await deleteRequestWithAuditTrail(context, dsrId);
      throw unavailableError('temporal', 'The data-subject request could not be started; nothing was created.');
    }
  }
  return { id: row.id, type: row.type, status: row.status, receivedAt: row.received_at.toISOString(), dueAt: row.due_at.toISOString() };
}

/** The one deletion of a request's audit rows: a request just created whose workflow could not be started. */
async function deleteRequestWithAuditTrail(context: SigningContext, dsrId: string): Promise<void> {
  await context.dataSource.transaction(async (tx) => {
    await tx.query(`SELECT set_config('sigill.allow_audit_delete', 'on', true)`);
    await tx.query(`DELETE FROM data_subject_requests WHERE id = $1`, [dsrId]);
  });
}
