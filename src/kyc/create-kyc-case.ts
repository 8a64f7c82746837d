/**
 * Opening a KYC case: validate the body, record the case (its national id encrypted, an idempotency key,
 * a `created` event) in one transaction, then start workflow `kyc-case-<id>`. As for signing requests, a
 * retried create with the same Idempotency-Key converges on the same case, and a case whose workflow cannot
 * be started is removed again (503, nothing half-created).
 */
import { storedKycCustomerContact, withKycCustomerContact, type KycCustomerContact } from './kyc-customer-contact';
import { isNationalIdFormat } from '../identity/national-id';
import { createHash, randomUUID } from 'node:crypto';
import { WorkflowExecutionAlreadyStartedError, WorkflowIdConflictPolicy, WorkflowIdReusePolicy } from '@temporalio/client';
import { z } from 'zod';
import type { TemporalTarget } from '../adapters/temporal-connection';
import type { AccessScope } from '../accounts/access';
import type { CreatedKycCase } from '../contract/kyc-cases';
import { Organization } from '../database/entities';
import { isoDuration } from '../durations';
import { AppError, unavailableError } from '../errors';
import { locales } from '../i18n/locales';
import { resolveFolder } from '../signing/create-signing-request';
import type { SigningContext } from '../signing/signing-context';
import { singleLineText } from '../text-input';
import type { KycCaseInput } from '../workflows/kyc-case';
import { organizationIdAttribute, processStatusAttribute } from '../workflows/search-attributes';
import { kycCredentials } from './customer-credentials';
import { recordKycEvent } from './kyc-audit-trail';
import { builtInQuestionnaireId, getQuestionnaire } from './questionnaires';

const day = 86_400_000;

export const workflowIdForKycCase = (caseId: string) => `kyc-case-${caseId}`;

export const nationalIdContext = (caseId: string) => ({ purpose: 'kyc-customer-national-id', kycCase: caseId });

export const createKycCaseInput = z.strictObject({
  customer: z.strictObject({
    type: z.enum(['person', 'company']),
    name: singleLineText({ max: 200 }),
    email: z.email('must be an email address').max(254),
    phone: z
      .string()
      .regex(/^\+[1-9]\d{6,14}$/, 'must be an international phone number such as +358401234567')
      .optional(),
    nationalId: z
      .string()
      .max(40)
      .refine(isNationalIdFormat, 'must be a Swedish, Finnish, Danish or Norwegian national identity number, e.g. 19800101-1234 or 010180-123A')
      .optional()
      .describe('The person identified with eID must have this number; stored encrypted, never shown back'),
    businessId: singleLineText({ max: 50 }).optional(),
    locale: z.enum(locales).optional().describe("The customer's language; default: the organisation's"),
  }),
  questionnaireId: z.uuid('must be a questionnaire id').optional().describe('Default: the built-in AML questionnaire'),
  identification: z.enum(['pin', 'eid']).default('pin'),
  expiresIn: isoDuration({ minMs: 60_000, maxMs: 365 * day }).optional().describe('ISO 8601 duration; default P30D'),
  reminders: z
    .strictObject({
      firstAfter: isoDuration({ minMs: 1000, maxMs: 365 * day }),
      every: isoDuration({ minMs: 1000, maxMs: 365 * day }),
      max: z.number().int().min(0).max(20),
    })
    .optional(),
  folderId: z.uuid('must be a folder id').optional(),
});

export type CreateKycCaseInput = z.output<typeof createKycCaseInput>;

/** As for signers: a PIN case with a phone gets its PIN by SMS; otherwise the sender hands it over. */
export const pinGoesBySms = (row: { identification: 'pin' | 'eid'; customer_phone: string | null }) => row.identification === 'pin' && row.customer_phone !== null;

export function creatorOf(scope: AccessScope): string | null {
  const principal = scope as AccessScope & { kind?: string; userId?: string };
  return principal.kind === 'user' && principal.userId ? principal.userId : null;
}

export async function createKycCase(
  context: SigningContext,
  temporal: TemporalTarget,
  input: { scope: AccessScope; request: CreateKycCaseInput; actor: string; idempotencyKey?: string; now: Date },
): Promise<CreatedKycCase> {
  const { request, scope, now } = input;
  const { organizationId } = scope;
  const fingerprint = createHash('sha256').update(JSON.stringify(request)).digest('hex');
  if (input.idempotencyKey) {
    const replay = await findByIdempotencyKey(context, organizationId, input.idempotencyKey, fingerprint);
    if (replay) return startCase(context, temporal, replay, organizationId, { isNew: false });
  }
  if (request.identification === 'eid' && !context.eid.available) {
    throw new AppError('eid_unavailable', 'identification: eID identification is not configured on this deployment; use "pin".');
  }
  if (request.customer.type === 'person' && request.customer.businessId) {
    throw new AppError('unprocessable', 'customer.businessId: only for a company.');
  }
  if (request.customer.type === 'company' && request.customer.nationalId) {
    throw new AppError('unprocessable', 'customer.nationalId: only for a person (a company has a businessId).');
  }
  const folderId = await resolveFolder(context, scope, request.folderId);
  const questionnaire = await getQuestionnaire(context.dataSource, organizationId, request.questionnaireId ?? builtInQuestionnaireId).catch((error: unknown) => {
    if (error instanceof AppError && error.code === 'not_found') throw new AppError('unprocessable', 'questionnaireId: no such questionnaire in this organisation.');
    throw error;
  });
  const organization = await context.dataSource.getRepository(Organization).findOneByOrFail({ id: organizationId });
  const caseId = randomUUID();
  const reminders = request.reminders ?? { firstAfter: 3 * day, every: 3 * day, max: 3 };
  const expiresAt = new Date(now.getTime() + (request.expiresIn ?? 30 * day));
  try {
    await context.dataSource.transaction(async (tx) => {
      // The case's key that can be destroyed (R13): its national id, answers, uploads and workflow payloads go under it.
      const record = { kind: 'kyc_case', id: caseId } as const;
      await context.recordKeys.ensureKey(tx, organizationId, record);
      const nationalId = request.customer.nationalId
        ? await context.recordKeys.encryptField(record, nationalIdContext(caseId), request.customer.nationalId, tx)
        : null;
      // The customer's contact under the same key, with blind indexes to find their cases by (a data-subject request).
      const contact = await storedKycCustomerContact(tx, organizationId, caseId, {
        customer_name: request.customer.name,
        customer_email: request.customer.email.toLowerCase(),
        customer_phone: request.customer.phone ?? null,
        customer_business_id: request.customer.businessId ?? null,
      });
      await tx.query(
        `INSERT INTO kyc_cases (id, organization_id, folder_id, status, customer_type, customer_name, customer_email, customer_phone,
                                customer_business_id, customer_locale, customer_national_id, identification, questionnaire_id,
                                questionnaire_version, reminder_first_after_ms, reminder_every_ms, reminder_max, created_by_user_id,
                                created_at, expires_at, customer_sealed, customer_email_index, customer_phone_index)
         VALUES ($1, $2, $3, 'invited', $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22)`,
        [
          caseId,
          organizationId,
          folderId,
          request.customer.type,
          contact.customer_name,
          contact.customer_email,
          contact.customer_phone,
          contact.customer_business_id,
          request.customer.locale ?? organization.defaultLocale,
          nationalId,
          request.identification,
          questionnaire.id,
          questionnaire.version,
          reminders.firstAfter,
          reminders.every,
          reminders.max,
          creatorOf(scope),
          now,
          expiresAt,
          contact.customer_sealed,
          contact.customer_email_index,
          contact.customer_phone_index,
        ],
      );
      if (input.idempotencyKey) {
        await tx.query(`INSERT INTO kyc_idempotency_keys (organization_id, key, request_fingerprint, case_id) VALUES ($1, $2, $3, $4)`, [
          organizationId,
          input.idempotencyKey,
          fingerprint,
          caseId,
        ]);
      }
      await recordKycEvent(tx, {
        caseId,
        eventKey: 'created',
        type: 'created',
        actor: input.actor,
        detail: { questionnaireId: questionnaire.id, questionnaireVersion: questionnaire.version, identification: request.identification },
        occurredAt: now,
      });
    });
  } catch (error) {
    if (input.idempotencyKey && (error as { code?: string }).code === '23505') {
      const replay = await findByIdempotencyKey(context, organizationId, input.idempotencyKey, fingerprint);
      if (replay) return startCase(context, temporal, replay, organizationId, { isNew: false });
    }
    throw error;
  }
  return startCase(context, temporal, caseId, organizationId, { isNew: true });
}

async function findByIdempotencyKey(context: SigningContext, organizationId: string, key: string, fingerprint: string): Promise<string | undefined> {
  const [row]: Array<{ case_id: string; request_fingerprint: string }> = await context.dataSource.query(
    `SELECT case_id, request_fingerprint FROM kyc_idempotency_keys WHERE organization_id = $1 AND key = $2`,
    [organizationId, key],
  );
  if (!row) return undefined;
  if (row.request_fingerprint !== fingerprint) throw new AppError('conflict', 'This Idempotency-Key was already used for a different request.');
  return row.case_id;
}

interface CaseStartRow extends KycCustomerContact {
  id: string;
  customer_sealed: Buffer | null;
  status: CreatedKycCase['status'];
  created_at: Date;
  expires_at: Date;
  identification: 'pin' | 'eid';
  pin_version: number;
  reminder_first_after_ms: string;
  reminder_every_ms: string;
  reminder_max: number;
}

async function startCase(
  context: SigningContext,
  temporal: TemporalTarget,
  caseId: string,
  organizationId: string,
  options: { isNew: boolean },
): Promise<CreatedKycCase> {
  const [stored]: CaseStartRow[] = await context.dataSource.query(`SELECT * FROM kyc_cases WHERE id = $1 AND organization_id = $2`, [caseId, organizationId]);
  if (!stored) throw new AppError('not_found', 'No such KYC case.');
  const row = await withKycCustomerContact(context.dataSource, stored);
  const workflowInput: KycCaseInput = {
    caseId,
    organizationId,
    expiresAt: row.expires_at.toISOString(),
    reminders: { firstAfterMs: Number(row.reminder_first_after_ms), everyMs: Number(row.reminder_every_ms), max: row.reminder_max },
  };
  try {
    await temporal.client.workflow.start('kycCaseWorkflow', {
      taskQueue: temporal.taskQueue,
      workflowId: workflowIdForKycCase(caseId),
      workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
      // A retried create of one that has finished must not run it again: its closed run counts as started.
      workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
      args: [workflowInput],
      typedSearchAttributes: [
        { key: organizationIdAttribute, value: organizationId },
        { key: processStatusAttribute, value: 'invited' },
      ],
    });
  } catch (error) {
    // A replayed create whose workflow has already finished: it started nothing, and the answer stands.
    if (options.isNew || !(error instanceof WorkflowExecutionAlreadyStartedError)) {
      if (options.isNew) await deleteKycCaseWithAuditTrail(context, caseId);
      throw unavailableError('temporal', 'The KYC case could not be started; nothing was created.');
    }
  }
  const credentials = await kycCredentials(context);
  return {
    id: row.id,
    status: row.status,
    createdAt: row.created_at.toISOString(),
    expiresAt: row.expires_at.toISOString(),
    // Only a PIN for the sender to hand over is answered, as for signers: one by SMS is not; an eID case has none.
    customer: row.identification === 'pin' && !pinGoesBySms(row) ? { pin: credentials.pin({ caseId, pinVersion: row.pin_version }) } : {},
  };
}

/** The one deletion of KYC audit rows: a case just created whose workflow could not be started. */
async function deleteKycCaseWithAuditTrail(context: SigningContext, caseId: string): Promise<void> {
  await context.dataSource.transaction(async (tx) => {
    await tx.query(`SELECT set_config('sigill.allow_audit_delete', 'on', true)`);
    await tx.query(`DELETE FROM kyc_cases WHERE id = $1`, [caseId]);
  });
}
