import { z } from 'zod';
import type { TemporalTarget } from '../../adapters/temporal-connection';
import { mayInFolder } from '../../accounts/access';
import type { CreatedKycCase, KycCaseView, ListedKycCase } from '../../contract/kyc-cases';
import { AppError } from '../../errors';
import { locales } from '../../i18n/locales';
import { createKycCase, createKycCaseInput } from '../../kyc/create-kyc-case';
import { readEvidencePackage } from '../../kyc/evidence-package';
import { getKycCase, readKycCaseAuditTrail } from '../../kyc/get-kyc-case';
import { readKycCaseHistory } from '../../kyc/kyc-history';
import { listKycCases } from '../../kyc/list-kyc-cases';
import { resetCustomerPin } from '../../kyc/reset-customer-pin';
import { approveKycCase, cancelKycCase, rejectKycCase, remindKycCustomer, requestKycChanges, type Reviewer } from '../../kyc/review-kyc-case';
import type { SigningContext } from '../../signing/signing-context';
import { multilineText } from '../../text-input';
import { actorOf, type Principal } from '../principal';
import { defineRoute } from '../route';
import type { Context } from 'koa';

export const kycCaseStatus = z.enum(['invited', 'in_progress', 'signing', 'in_review', 'changes_requested', 'approved', 'rejected', 'expired', 'cancelled', 'failed']);
const customerType = z.enum(['person', 'company']);

export const identificationEvidenceBody = z.object({
  scheme: z.string().nullable(),
  name: z.string().nullable(),
  birthdate: z.string().nullable(),
  country: z.string().nullable(),
  nationalIdMasked: z.string().nullable().describe('Never the number in clear: the birth-date part, the rest masked'),
  transactionId: z.string().nullable(),
  acr: z.string().nullable(),
  identifiedAt: z.string(),
});

const createdBody = z.object({
  id: z.uuid(),
  status: kycCaseStatus,
  createdAt: z.string(),
  expiresAt: z.string(),
  customer: z.object({ pin: z.string().optional().describe('The PIN for the sender to hand over (identification `pin` only), shown only here') }),
});

export const kycCaseBody = z.object({
  id: z.uuid(),
  status: kycCaseStatus,
  folderId: z.string(),
  createdAt: z.string(),
  expiresAt: z.string(),
  endedAt: z.string().optional(),
  customer: z.object({
    type: customerType,
    name: z.string(),
    email: z.string(),
    phone: z.string().nullable(),
    businessId: z.string().nullable(),
    locale: z.enum(locales),
    hasNationalId: z.boolean().describe('Whether a national id was given (it is never shown back)'),
  }),
  identification: z.enum(['pin', 'eid']),
  questionnaire: z.object({ id: z.string(), version: z.number().int(), title: z.string() }),
  identificationEvidence: identificationEvidenceBody.optional(),
  answers: z.record(z.string(), z.unknown()).optional(),
  submittedAt: z.string().optional(),
  secondReviewReasons: z.array(z.string()).describe('Why a second reviewer must approve (`pep`, or a risk rule id); empty when one approval suffices'),
  declaration: z.object({ requestId: z.string(), status: z.string(), sealedAt: z.string().optional(), sha256: z.string().optional() }).optional(),
  reviews: z.array(
    z.object({
      decision: z.enum(['approved', 'rejected', 'changes_requested']),
      reviewer: z.object({ id: z.string(), name: z.string().nullable() }),
      reason: z.string().nullable(),
      at: z.string(),
      round: z.union([z.literal(1), z.literal(2)]).nullable(),
    }),
  ),
  remindersSent: z.number().int(),
  evidencePackage: z.object({ sha256: z.string(), createdAt: z.string() }).optional(),
  legalHold: z
    .object({ placedAt: z.iso.datetime(), reason: z.string(), placedBy: z.string(), folderId: z.uuid().optional() })
    .optional()
    .describe("Set while a legal hold keeps it from deletion: its own, or (with folderId) its folder's or one above (PUT/DELETE /v1/kyc-cases/:id/legal-hold)"),
  deletedAt: z
    .string()
    .optional()
    .describe("Set when the case was deleted (shredded): this is its tombstone, the customer's name and email empty; its audit trail, history and evidence answer 410"),
  deletion: z
    .object({ receiptId: z.uuid(), rule: z.string(), reason: z.string() })
    .optional()
    .describe('The deletion: its receipt (GET /v1/deletion-receipts/:id), rule and reason'),
});

const listedBody = z.object({
  id: z.uuid(),
  status: kycCaseStatus,
  customer: z.object({ type: customerType, name: z.string(), email: z.string() }),
  folderId: z.string(),
  createdAt: z.string(),
  expiresAt: z.string(),
  needsSecondReview: z.boolean(),
  deletedAt: z.string().optional().describe("Set when the case was deleted: the customer's name and email empty"),
});

const auditTrailBody = z.object({
  events: z.array(
    z.object({
      sequence: z.number().int(),
      eventKey: z.string(),
      type: z.string(),
      at: z.string(),
      actor: z.string(),
      ip: z.string().optional(),
      userAgent: z.string().optional(),
      detail: z.record(z.string(), z.unknown()).optional(),
      prevHash: z.string().optional(),
      hash: z.string().describe("Keyed hash of prevHash and the event's canonical record, as for signing requests"),
    }),
  ),
  chainValid: z.boolean(),
  chainHead: z.string().optional(),
  firstBrokenEvent: z
    .object({ sequence: z.number().int(), type: z.string(), eventKey: z.string(), reason: z.enum(['hash_mismatch', 'missing_event', 'link_mismatch']) })
    .optional(),
});

// The answers are the pages' contract (src/contract/kyc-cases.ts): these fail to compile if they drift.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const contractChecks: [Same<z.infer<typeof kycCaseBody>, KycCaseView>, Same<z.infer<typeof listedBody>, ListedKycCase>, Same<z.infer<typeof createdBody>, CreatedKycCase>] = [
  true,
  true,
  true,
];
void contractChecks;

const caseParams = z.object({ id: z.uuid('must be a KYC case id') });
const reason = multilineText({ max: 2000 });
const tag = 'KYC cases';

const reviewerOf = (principal: Principal, ctx: Context): Reviewer => ({
  scope: principal,
  actor: actorOf(principal),
  ip: ctx.ip,
  userAgent: ctx.get('user-agent') || undefined,
});

/** Know-your-customer cases (issue 13): created and reviewed by members and API keys, folder-scoped like signing requests. */
export function kycCaseRoutes(context: SigningContext, temporal: TemporalTarget) {
  const action = (path: string, summary: string, body: z.ZodType, run: (reviewer: Reviewer, id: string, body: { note?: string; reason?: string }) => Promise<KycCaseView>) =>
    defineRoute({
      method: 'post',
      path: `/v1/kyc-cases/:id/${path}`,
      permission: 'send',
      summary,
      tag,
      auth: 'principal',
      params: caseParams,
      body,
      responses: { 200: { description: 'The case after the decision', schema: kycCaseBody } },
      errors: [404, 409, 410],
      handler: async ({ params, body: given, principal, ctx }) => ({ status: 200, body: await run(reviewerOf(principal!, ctx), params.id, given as { note?: string; reason?: string }) }),
    });

  return [
    defineRoute({
      method: 'post',
      path: '/v1/kyc-cases',
      permission: 'send',
      summary: 'Open a KYC case: the customer is invited to identify, answer the questionnaire and sign a declaration',
      tag,
      auth: 'principal',
      body: createKycCaseInput,
      responses: { 201: { description: 'Created; the invitation is on its way', schema: createdBody } },
      errors: [404, 409, 422, 503],
      handler: async ({ body, principal, ctx }) => {
        const idempotencyKey = ctx.get('idempotency-key') || undefined;
        if (idempotencyKey && !/^[\x21-\x7e]{1,255}$/.test(idempotencyKey)) {
          throw new AppError('invalid_request', 'Idempotency-Key must be 1-255 visible ASCII characters.');
        }
        const created = await createKycCase(context, temporal, { scope: principal!, request: body, actor: actorOf(principal!), idempotencyKey, now: new Date() });
        ctx.set('Location', `${context.publicUrl}/v1/kyc-cases/${created.id}`);
        return { status: 201, body: created };
      },
    }),
    defineRoute({
      method: 'get',
      path: '/v1/kyc-cases',
      permission: 'view',
      summary: 'The KYC cases the caller may see, newest first',
      tag,
      auth: 'principal',
      query: z.object({
        status: kycCaseStatus.optional(),
        cursor: z.string().max(500).optional().describe('`nextCursor` of the previous page'),
        limit: z.coerce.number().int().min(1).max(100).default(20),
      }),
      responses: { 200: { description: 'One page', schema: z.object({ items: z.array(listedBody), nextCursor: z.string().nullable() }) } },
      handler: async ({ query, principal }) => ({ status: 200, body: await listKycCases(context.dataSource, principal!, query) }),
    }),
    defineRoute({
      method: 'get',
      path: '/v1/kyc-cases/:id',
      permission: 'view',
      summary: 'A KYC case: status, customer, answers, declaration, reviews',
      tag,
      auth: 'principal',
      params: caseParams,
      responses: { 200: { description: 'The case', schema: kycCaseBody } },
      errors: [404],
      handler: async ({ params, principal }) => {
        const view = await getKycCase(context, principal!, params.id);
        // Support staff (no `documents`) follow the case without reading what the customer declared.
        return { status: 200, body: mayInFolder(principal!, 'documents', view.folderId) ? view : { ...view, answers: undefined } };
      },
    }),
    action('approve', 'Approve (a PEP answer or a risk rule needs a second approval by another reviewer)', z.strictObject({ note: reason.optional() }), (reviewer, id, body) =>
      approveKycCase(context, temporal, reviewer, id, body.note),
    ),
    action('reject', 'Reject, with the reason', z.strictObject({ reason }), (reviewer, id, body) => rejectKycCase(context, temporal, reviewer, id, body.reason!)),
    action('request-changes', 'Send back to the customer for changes (their answers are kept)', z.strictObject({ reason }), (reviewer, id, body) =>
      requestKycChanges(context, temporal, reviewer, id, body.reason!),
    ),
    action('cancel', 'Cancel the case; everyone concerned is told', z.strictObject({ reason }), (reviewer, id, body) => cancelKycCase(context, temporal, reviewer, id, body.reason!)),
    defineRoute({
      method: 'post',
      path: '/v1/kyc-cases/:id/remind',
      permission: 'send',
      summary: 'Remind the customer now (at most once an hour)',
      tag,
      auth: 'principal',
      params: caseParams,
      responses: { 200: { description: 'Reminder queued', schema: z.object({ reminded: z.number().int() }) } },
      errors: [404, 409, 429, 410],
      handler: async ({ params, principal }) => ({ status: 200, body: await remindKycCustomer(context, temporal, principal!, params.id) }),
    }),
    defineRoute({
      method: 'post',
      path: '/v1/kyc-cases/:id/reset-pin',
      permission: 'send',
      summary: "A new PIN for the customer: the old one and its sessions stop working, a locked link unlocks; answered once, for the sender to hand over",
      tag,
      auth: 'principal',
      params: caseParams,
      responses: { 200: { description: 'The new PIN', schema: z.object({ pin: z.string() }) } },
      errors: [404, 409, 410],
      handler: async ({ params, principal, ctx }) => ({
        status: 200,
        body: await resetCustomerPin(context, { scope: principal!, caseId: params.id, actor: actorOf(principal!), ip: ctx.ip, userAgent: ctx.get('user-agent') || undefined, now: new Date() }),
      }),
    }),
    defineRoute({
      method: 'get',
      path: '/v1/kyc-cases/:id/audit-trail',
      permission: 'view',
      summary: "Every step of the case, hash-chained and verified",
      tag,
      auth: 'principal',
      params: caseParams,
      responses: { 200: { description: 'The audit trail in chain order and whether its chain holds', schema: auditTrailBody } },
      errors: [404, 410],
      handler: async ({ params, principal }) => ({ status: 200, body: await readKycCaseAuditTrail(context, principal!, params.id) }),
    }),
    defineRoute({
      method: 'get',
      path: '/v1/kyc-cases/:id/history',
      permission: 'view',
      summary: "For support: the case's Temporal event history as a readable timeline (no payloads; the declaration's round is at its request's /history)",
      tag,
      auth: 'principal',
      params: caseParams,
      responses: {
        200: {
          description: 'Every step, oldest first, retries and failures included',
          schema: z.object({
            steps: z.array(
              z.object({
                eventId: z.number().int(),
                at: z.string(),
                event: z.string(),
                summary: z.string(),
                attempt: z.number().int().optional(),
                failure: z.string().optional(),
                activity: z.string().optional(),
                signerId: z.string().optional(),
                auditEvent: z.string().optional(),
                timer: z.object({ seconds: z.number().int(), firesAt: z.string() }).optional(),
                update: z.string().optional(),
                signal: z.string().optional(),
                outcome: z.string().optional(),
              }),
            ),
          }),
        },
      },
      errors: [404, 410],
      handler: async ({ params, principal }) => ({ status: 200, body: { steps: await readKycCaseHistory(context, temporal, principal!, params.id) } }),
    }),
    defineRoute({
      method: 'get',
      path: '/v1/kyc-cases/:id/evidence',
      permission: 'view',
      summary: 'The evidence package (ZIP: sealed declaration, answers, identification, uploads, reviews, audit trail) once the case is decided',
      tag,
      auth: 'principal',
      params: caseParams,
      responses: { 200: { description: 'application/zip' } },
      errors: [404, 409, 410],
      handler: async ({ params, principal, ctx }) => {
        const evidence = await readEvidencePackage(context, principal!, params.id);
        ctx.attachment(evidence.filename);
        ctx.type = 'application/zip';
        ctx.set('X-Content-SHA256', evidence.sha256);
        ctx.set('Cache-Control', 'no-store');
        return { status: 200, body: Buffer.from(evidence.bytes) };
      },
    }),
  ];
}
