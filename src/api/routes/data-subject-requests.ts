import type { Context } from 'koa';
import { z } from 'zod';
import type { TemporalTarget } from '../../adapters/temporal-connection';
import {
  dataSubjectRequestStatuses,
  dataSubjectRequestTypes,
  type CreatedDataSubjectRequest,
  type DataSubjectRequestView,
  type ListedDataSubjectRequest,
  type PrivacyOrganizationView,
  type PublicDataSubjectRequestReceipt,
  type RequesterStatusView,
  type SubjectRecordView,
} from '../../contract/data-subject-requests';
import { createDataSubjectRequest, createDataSubjectRequestInput, publicDataSubjectRequestInput } from '../../dsr/create-data-subject-request';
import { rectificationRefusalCodes } from '../../dsr/fulfilment/rectify-subject-contact';
import { getDataSubjectRequest, listDataSubjectRequests, readDataSubjectRequestAuditTrail, requireOrganizationWide } from '../../dsr/get-data-subject-request';
import {
  assignDataSubjectRequest,
  completeDataSubjectRequest,
  discoverRecordsOfRequest,
  extendDataSubjectRequest,
  fulfilDataSubjectRequest,
  rejectDataSubjectRequest,
  type Handler,
} from '../../dsr/handle-data-subject-request';
import {
  confirmRequester,
  describePrivacyOrganization,
  downloadAccessPackage,
  organizationBySlug,
  requesterCookieName,
  requesterStatus,
  resendRequesterCode,
} from '../../dsr/requester-access';
import { RequesterCredentials, sessionLifetimeMs } from '../../dsr/requester-credentials';
import { openIdentifiedRequesterSession, startRequesterIdentification } from '../../dsr/requester-eid';
import { eidCookieName } from '../../identity/eid-broker';
import { readEidResult } from '../../identity/eid-result-cookie';
import { AppError } from '../../errors';
import { locales } from '../../i18n/locales';
import type { SigningContext } from '../../signing/signing-context';
import { multilineText, singleLineText } from '../../text-input';
import { actorOf, type Principal } from '../principal';
import { defineRoute } from '../route';
import { pinRateLimit } from './signer';

const requestType = z.enum(dataSubjectRequestTypes);
const requestStatus = z.enum(dataSubjectRequestStatuses);
const identityMethod = z.enum(['email_code', 'sms_code', 'eid']);
const recordKind = z.enum(['signing_request', 'kyc_case', 'audit_entry']);

const createdBody = z.object({
  id: z.uuid(),
  type: requestType,
  status: requestStatus,
  receivedAt: z.string(),
  dueAt: z.string().describe('One month from receipt (GDPR Art. 12(3)): the same date next month, or its last day'),
});

const handledRecordBody = z.object({
  kind: recordKind,
  id: z.string(),
  action: z.enum(['exported', 'erased', 'kept', 'rectified', 'restricted']),
  legalBasis: z.string().optional(),
  explanation: z.string().optional(),
  keepUntil: z.string().nullable().optional(),
});

const legalBasisBody = z.object({
  recordKind: z.string(),
  recordId: z.string(),
  legalBasis: z.string(),
  explanation: z.string(),
  keepUntil: z.string().nullable().optional(),
});

const requestBody = createdBody.extend({
  identityConfirmedAt: z.string().optional(),
  identityMethod: identityMethod.optional(),
  extendedUntil: z.string().optional().describe('The extended deadline (one extension of 1 or 2 months)'),
  extensionReason: z.string().optional(),
  extensionNotifiedAt: z.string().optional().describe('When the requester was told of the extension'),
  deadline: z.string().describe('The deadline that applies: extendedUntil, else dueAt'),
  overdue: z.boolean().describe('Open past its deadline'),
  overdueAt: z.string().optional(),
  channel: z.enum(['api', 'public']),
  requester: z
    .object({ name: z.string(), email: z.string(), phone: z.string().nullable(), locale: z.enum(locales) })
    .optional()
    .describe("Not shown to support staff (who lack the 'documents' permission)"),
  details: z.string().nullable().optional(),
  assignee: z.object({ id: z.string(), name: z.string().nullable(), email: z.string() }).nullable(),
  fulfilledAt: z.string().optional(),
  fulfilmentRefusal: z
    .object({ code: z.enum(rectificationRefusalCodes), message: z.string(), at: z.string() })
    .optional()
    .describe('Why the last fulfilment could not be applied (e.g. a rectification with nothing open to correct); absent once one succeeds'),
  handledRecords: z.array(handledRecordBody),
  legalBases: z.array(legalBasisBody).describe('Why records were kept (erasure), as told to the requester'),
  accessPackage: z.object({ sha256: z.string(), size: z.number(), recordCount: z.number().int(), expiresAt: z.string() }).optional(),
  completedAt: z.string().optional(),
  answer: z.string().nullable().optional(),
  rejectionReason: z.string().nullable().optional(),
  createdAt: z.string(),
});

const listedBody = z.object({
  id: z.uuid(),
  type: requestType,
  status: requestStatus,
  receivedAt: z.string(),
  dueAt: z.string(),
  extendedUntil: z.string().optional(),
  deadline: z.string(),
  overdue: z.boolean(),
  identityConfirmedAt: z.string().optional(),
  assignee: z.object({ id: z.string(), name: z.string().nullable() }).nullable(),
  requesterName: z.string().optional(),
});

const subjectRecordBody = z.object({
  kind: recordKind,
  id: z.string(),
  role: z.string(),
  status: z.string(),
  title: z.string().optional(),
  createdAt: z.string(),
  endedAt: z.string().nullable().optional(),
  matchedBy: z.array(z.enum(['email', 'phone', 'national_id'])),
  erasure: z.union([
    z.object({ action: z.literal('erase') }),
    z.object({ action: z.literal('keep'), legalBasis: z.string(), explanation: z.string(), keepUntil: z.string().nullable().optional() }),
  ]),
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

const privacyOrganizationBody = z.object({
  name: z.string(),
  slug: z.string(),
  defaultLocale: z.enum(locales),
  eidAvailable: z.boolean().describe('Whether the requester can confirm their identity with eID (POST /v1/privacy/requests/eid/start)'),
});
const receiptBody = z.object({ type: requestType, status: requestStatus, receivedAt: z.string(), dueAt: z.string() });
const requesterStatusBody = z.object({
  type: requestType,
  status: requestStatus,
  organization: z.object({ name: z.string(), slug: z.string() }),
  locale: z.enum(locales),
  receivedAt: z.string(),
  dueAt: z.string(),
  extendedUntil: z.string().optional(),
  extensionReason: z.string().optional(),
  identityConfirmedAt: z.string().optional(),
  completedAt: z.string().optional(),
  answer: z.string().nullable().optional(),
  rejectionReason: z.string().nullable().optional(),
  handledRecords: z.array(handledRecordBody),
  accessPackage: z.object({ expiresAt: z.string(), expired: z.boolean(), size: z.number() }).optional(),
});

// The answers are the pages' contract (src/contract/data-subject-requests.ts): these fail to compile if they drift.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const contractChecks: [
  Same<z.infer<typeof createdBody>, CreatedDataSubjectRequest>,
  Same<z.infer<typeof requestBody>, DataSubjectRequestView>,
  Same<z.infer<typeof listedBody>, ListedDataSubjectRequest>,
  Same<z.infer<typeof subjectRecordBody>, SubjectRecordView>,
  Same<z.infer<typeof privacyOrganizationBody>, PrivacyOrganizationView>,
  Same<z.infer<typeof receiptBody>, PublicDataSubjectRequestReceipt>,
  Same<z.infer<typeof requesterStatusBody>, RequesterStatusView>,
] = [true, true, true, true, true, true, true];
void contractChecks;

const requestParams = z.object({ id: z.uuid('must be a data-subject request id') });
const tag = 'Data-subject requests';
const publicTag = 'Data-subject requests (requester)';
/** Intake of the public page: a form anyone can send, so a tighter budget than the code entry. */
const intakeRateLimit = { points: 10, windowSeconds: 15 * 60 };
const token = z.string().min(1).max(200);
const code = z.string().regex(/^\d{8}$/, 'must be the 8-digit code from the email or text message');

const handlerOf = (principal: Principal, ctx: Context): Handler => ({ scope: principal, actor: actorOf(principal), ip: ctx.ip, userAgent: ctx.get('user-agent') || undefined });
const requesterOf = (ctx: Context) => ({ ip: ctx.ip, userAgent: ctx.get('user-agent') || undefined });

/** GDPR data-subject requests (issue 14 part 4): the organisation's handlers and back-office systems. */
export function dataSubjectRequestRoutes(context: SigningContext, temporal: TemporalTarget) {
  const action = <B extends z.ZodType>(path: string, summary: string, body: B, run: (handler: Handler, id: string, body: z.output<B>) => Promise<DataSubjectRequestView>) =>
    defineRoute({
      method: 'post',
      path: `/v1/data-subject-requests/:id/${path}`,
      permission: 'send',
      summary,
      tag,
      auth: 'principal',
      params: requestParams,
      body,
      responses: { 200: { description: 'The request after the step', schema: requestBody } },
      errors: [404, 409, 410, 422],
      handler: async ({ params, body: given, principal, ctx }) => ({ status: 200, body: await run(handlerOf(principal!, ctx), params.id, given as z.output<B>) }),
    });

  return [
    defineRoute({
      method: 'post',
      path: '/v1/data-subject-requests',
      permission: 'send',
      summary: 'Receive a data-subject request (GDPR): the requester is sent a confirmation code; the legal clock starts at receivedAt',
      tag,
      auth: 'principal',
      body: createDataSubjectRequestInput,
      responses: { 201: { description: 'Received; the confirmation code is on its way to the requester', schema: createdBody } },
      errors: [409, 422, 503],
      handler: async ({ body, principal, ctx }) => {
        requireOrganizationWide(principal!);
        const idempotencyKey = ctx.get('idempotency-key') || undefined;
        if (idempotencyKey && !/^[\x21-\x7e]{1,255}$/.test(idempotencyKey)) {
          throw new AppError('invalid_request', 'Idempotency-Key must be 1-255 visible ASCII characters.');
        }
        const created = await createDataSubjectRequest(context, temporal, {
          organizationId: principal!.organizationId,
          request: body,
          channel: 'api',
          actor: actorOf(principal!),
          ip: ctx.ip,
          userAgent: ctx.get('user-agent') || undefined,
          idempotencyKey,
          now: new Date(),
        });
        ctx.set('Location', `${context.publicUrl}/v1/data-subject-requests/${created.id}`);
        return { status: 201, body: created };
      },
    }),
    defineRoute({
      method: 'get',
      path: '/v1/data-subject-requests',
      permission: 'view',
      summary: 'The organisation\'s data-subject requests, newest receipt first; `overdue=true` for those past their deadline (the attention list)',
      tag,
      auth: 'principal',
      query: z.object({
        status: requestStatus.optional(),
        overdue: z.enum(['true', 'false']).transform((value) => value === 'true').optional().describe('true: only open requests past their deadline'),
        cursor: z.string().max(500).optional().describe('`nextCursor` of the previous page'),
        limit: z.coerce.number().int().min(1).max(100).default(20),
      }),
      responses: { 200: { description: 'One page', schema: z.object({ items: z.array(listedBody), nextCursor: z.string().nullable() }) } },
      errors: [410],
      handler: async ({ query, principal }) => ({ status: 200, body: await listDataSubjectRequests(context, principal!, query) }),
    }),
    defineRoute({
      method: 'get',
      path: '/v1/data-subject-requests/:id',
      permission: 'view',
      summary: 'A data-subject request: deadline, identity, assignee, what was done (the requester only for members who may read documents)',
      tag,
      auth: 'principal',
      params: requestParams,
      responses: { 200: { description: 'The request', schema: requestBody } },
      errors: [404, 410],
      handler: async ({ params, principal }) => ({ status: 200, body: await getDataSubjectRequest(context, principal!, params.id) }),
    }),
    defineRoute({
      method: 'get',
      path: '/v1/data-subject-requests/:id/records',
      permission: 'documents',
      summary: 'Discovery: every record of the organisation about the verified person, with what erasure would do and why',
      tag,
      auth: 'principal',
      params: requestParams,
      responses: { 200: { description: 'The records', schema: z.object({ items: z.array(subjectRecordBody) }) } },
      errors: [404, 409, 410],
      handler: async ({ params, principal }) => ({ status: 200, body: { items: await discoverRecordsOfRequest(context, principal!, params.id) } }),
    }),
    defineRoute({
      method: 'get',
      path: '/v1/data-subject-requests/:id/audit-trail',
      permission: 'view',
      summary: "The request's hash-chained audit trail, verified",
      tag,
      auth: 'principal',
      params: requestParams,
      responses: { 200: { description: 'The trail', schema: auditTrailBody } },
      errors: [404],
      handler: async ({ params, principal }) => ({ status: 200, body: await readDataSubjectRequestAuditTrail(context, principal!, params.id) }),
    }),
    action(
      'extend',
      'Extend the deadline once by 1 or 2 months (GDPR Art. 12(3)), with a reason, before the original deadline; the requester is told',
      z.strictObject({ months: z.union([z.literal(1), z.literal(2)]), reason: multilineText({ max: 2000 }) }),
      (handler, id, body) => extendDataSubjectRequest(context, temporal, handler, id, body),
    ),
    action('assign', 'Assign a handler (a member); reminders before the deadline go to them', z.strictObject({ memberId: z.uuid('must be a member id') }), (handler, id, body) =>
      assignDataSubjectRequest(context, temporal, handler, id, body.memberId),
    ),
    action(
      'fulfil',
      "Run the type's fulfilment on the verified person: access package, erasure (what the law keeps stays, with its basis), rectification, restriction or objection",
      z.strictObject({
        change: z
          .strictObject({
            email: z.email('must be an email address').max(254).optional(),
            phone: z.string().regex(/^\+[1-9]\d{6,14}$/, 'must be an international phone number such as +358401234567').optional(),
            name: singleLineText({ max: 200 }).optional(),
          })
          .optional()
          .describe('Rectification only: the corrected contact data'),
      }),
      (handler, id, body) => fulfilDataSubjectRequest(context, temporal, handler, id, body),
    ),
    action('complete', 'Complete: the requester is emailed the answer (what was done; for erasure what was kept and why)', z.strictObject({ answer: multilineText({ max: 5000 }).optional() }), (handler, id, body) =>
      completeDataSubjectRequest(context, temporal, handler, id, body),
    ),
    action('reject', 'Reject (e.g. manifestly unfounded); the requester is emailed the reason', z.strictObject({ reason: multilineText({ max: 2000 }) }), (handler, id, body) =>
      rejectDataSubjectRequest(context, temporal, handler, id, body),
    ),
  ];
}

/** The requester's side: the organisation's public intake, and their link + code. No credentials; rate-limited. */
export function privacyRequestRoutes(context: SigningContext, temporal: TemporalTarget) {
  const secure = context.publicUrl.startsWith('https:');
  const cookieOptions = { httpOnly: true, sameSite: 'strict' as const, secure, path: '/v1/privacy/requests', overwrite: true };
  const slugParams = z.object({ orgSlug: z.string().regex(/^[a-z0-9]+(-[a-z0-9]+)*$/, 'must be an organisation slug').max(64) });
  return [
    defineRoute({
      method: 'get',
      path: '/v1/privacy/:orgSlug',
      summary: 'The organisation behind a public privacy page',
      tag: publicTag,
      auth: 'public',
      rateLimit: pinRateLimit,
      params: slugParams,
      responses: { 200: { description: 'The organisation', schema: privacyOrganizationBody } },
      errors: [404],
      handler: async ({ params }) => ({ status: 200, body: await describePrivacyOrganization(context, params.orgSlug) }),
    }),
    defineRoute({
      method: 'post',
      path: '/v1/privacy/:orgSlug/requests',
      summary: 'Send a data-subject request to the organisation; the confirmation code and the personal link go to the email given',
      tag: publicTag,
      auth: 'public',
      rateLimit: intakeRateLimit,
      params: slugParams,
      body: publicDataSubjectRequestInput,
      responses: { 201: { description: 'Received', schema: receiptBody } },
      errors: [404, 422, 503],
      handler: async ({ params, body, ctx }) => {
        const organization = await organizationBySlug(context, params.orgSlug);
        const created = await createDataSubjectRequest(context, temporal, {
          organizationId: organization.id,
          request: body,
          channel: 'public',
          actor: 'requester',
          ...requesterOf(ctx),
          now: new Date(),
        });
        return { status: 201, body: { type: created.type, status: created.status, receivedAt: created.receivedAt, dueAt: created.dueAt } };
      },
    }),
    defineRoute({
      method: 'post',
      path: '/v1/privacy/requests/confirm',
      summary: 'Confirm with the code from the email (or SMS): records the identity and opens a 30-minute session (cookie) for the status',
      tag: publicTag,
      auth: 'public',
      rateLimit: pinRateLimit,
      body: z.strictObject({ token, code }),
      responses: {
        200: { description: 'The request as the requester sees it; sets the session cookie', schema: requesterStatusBody },
        401: { description: 'Wrong code; `attemptsLeft` says how many tries remain' },
        423: { description: 'Locked for 15 minutes after 5 wrong codes' },
      },
      errors: [404, 409, 410],
      handler: async ({ body, ctx }) => {
        const confirmed = await confirmRequester(context, temporal, { token: body.token, code: body.code, actor: requesterOf(ctx), now: new Date() });
        ctx.cookies.set(requesterCookieName, confirmed.sessionToken, { ...cookieOptions, maxAge: sessionLifetimeMs });
        ctx.set('Cache-Control', 'no-store');
        return { status: 200, body: confirmed.status };
      },
    }),
    defineRoute({
      method: 'post',
      path: '/v1/privacy/requests/eid/start',
      summary: 'Confirm identity with eID instead of the code (when the deployment has an eID broker): where to send the browser',
      tag: publicTag,
      auth: 'public',
      rateLimit: pinRateLimit,
      body: z.strictObject({ token }),
      responses: { 200: { description: "The broker's page; sets a short-lived cookie for the callback (/v1/eid/callback)", schema: z.object({ authorizationUrl: z.string() }) } },
      errors: [404, 409, 422, 503],
      handler: async ({ body, ctx }) => {
        const started = await startRequesterIdentification(context, { token: body.token });
        ctx.cookies.set(eidCookieName, started.cookieValue, context.eid.cookieOptions);
        return { status: 200, body: { authorizationUrl: started.authorizationUrl } };
      },
    }),
    defineRoute({
      method: 'post',
      path: '/v1/privacy/requests/eid/session',
      summary: "After the broker's callback (`?eid=ok` on the page): the status session for the identified requester (needs the cookie the callback set in this browser)",
      tag: publicTag,
      auth: 'public',
      rateLimit: pinRateLimit,
      body: z.strictObject({ token }),
      responses: {
        200: { description: 'The request as the requester sees it; sets the session cookie', schema: requesterStatusBody },
        403: { description: 'No eID identification for this link in this browser (or it expired)' },
      },
      errors: [404, 410],
      handler: async ({ body, ctx }) => {
        const dsrId = RequesterCredentials.dsrIdOfToken(body.token);
        const result = dsrId ? readEidResult(context.eid, ctx, 'dsr', dsrId) : undefined;
        const opened = await openIdentifiedRequesterSession(context, { token: body.token, result, now: new Date() });
        context.eid.results.clear(ctx, 'dsr');
        ctx.cookies.set(requesterCookieName, opened.sessionToken, { ...cookieOptions, maxAge: sessionLifetimeMs });
        ctx.set('Cache-Control', 'no-store');
        return { status: 200, body: opened.status };
      },
    }),
    defineRoute({
      method: 'post',
      path: '/v1/privacy/requests/resend-code',
      summary: 'Send a new code (the previous one stops working); also the re-confirmation before downloading the access package',
      tag: publicTag,
      auth: 'public',
      rateLimit: intakeRateLimit,
      body: z.strictObject({ token }),
      responses: { 200: { description: 'Sent', schema: z.object({ sent: z.literal(true) }) } },
      errors: [404, 409, 410, 423],
      handler: async ({ body }) => ({ status: 200, body: await resendRequesterCode(context, { token: body.token, now: new Date() }) }),
    }),
    defineRoute({
      method: 'get',
      path: '/v1/privacy/requests/status',
      summary: "The request's status, for its requester (session cookie from confirm)",
      tag: publicTag,
      auth: 'public',
      rateLimit: pinRateLimit,
      responses: { 200: { description: 'The request as the requester sees it', schema: requesterStatusBody } },
      errors: [401, 410, 503],
      handler: async ({ ctx }) => {
        ctx.set('Cache-Control', 'no-store');
        return { status: 200, body: await requesterStatus(context, ctx.cookies.get(requesterCookieName), new Date()) };
      },
    }),
    defineRoute({
      method: 'post',
      path: '/v1/privacy/requests/access-package',
      summary: 'Download the access package (ZIP): needs the session cookie and a fresh code (resend-code after the session opened); until it expires (30 days)',
      tag: publicTag,
      auth: 'public',
      rateLimit: pinRateLimit,
      body: z.strictObject({ code }),
      responses: { 200: { description: 'application/zip' } },
      errors: [401, 404, 409, 410, 423],
      handler: async ({ body, ctx }) => {
        const downloaded = await downloadAccessPackage(context, { sessionToken: ctx.cookies.get(requesterCookieName), code: body.code, actor: requesterOf(ctx), now: new Date() });
        ctx.attachment(downloaded.filename);
        ctx.type = 'application/zip';
        ctx.set('X-Content-SHA256', downloaded.sha256);
        ctx.set('Cache-Control', 'no-store');
        return { status: 200, body: Buffer.from(downloaded.bytes) };
      },
    }),
  ];
}
