import type { Context } from 'koa';
import { signerIdentificationBody } from './identification';
import { z } from 'zod';
import { multilineText, singleLineText } from '../../text-input';
import { cancelSigningRequest } from '../../signing/cancel-signing-request';
import { createSigningRequest, createSigningRequestInput } from '../../signing/create-signing-request';
import { findOwnRequest, getSigningRequest, queryRound } from '../../signing/get-signing-request';
import { readRequestAuditTrail } from '../../signing/read-request-audit-trail';
import { listSigningRequests } from '../../signing/list-signing-requests';
import { exportSigningRequests } from '../../signing/export-signing-requests';
import { readOriginalDocument, readSealedDocument, readSealedEvidence, type RequestDocument } from '../../signing/read-request-document';
import { remindSigners } from '../../signing/remind-signers';
import { resetSignerIdentification, resetSignerPin } from '../../signing/reset-signer-pin';
import { readRoundHistory } from '../../signing/workflow-history';
import type { SigningContext } from '../../signing/signing-context';
import type { TemporalTarget } from '../../adapters/temporal-connection';
import { AppError } from '../../errors';
import { locales } from '../../i18n/locales';
import { readMultipart } from '../multipart';
import { defineRoute } from '../route';

const requestParams = z.object({ id: z.uuid('must be a signing request id') });
const signerStatus = z.enum(['waiting', 'invited', 'opened', 'signed', 'declined', 'locked']);
const requestStatus = z.enum(['pending', 'completed', 'declined', 'expired', 'cancelled', 'failed']);

/** The list's filters, shared by the paged list and the CSV export. */
const listQuery = z.strictObject({
  status: requestStatus.optional(),
  folderId: z.uuid('must be a folder id').optional().describe('Only this folder (not its subfolders)'),
  q: singleLineText({ min: 0, max: 200 })
    .optional()
    .describe("Part of the document code, or the beginnings of words of the title or of a signer's name or email: every word must begin one (case-insensitive)"),
  createdFrom: z.iso.datetime({ offset: true, error: 'must be an ISO 8601 date-time' }).optional().describe('Created at or after this instant'),
  createdTo: z.iso.datetime({ offset: true, error: 'must be an ISO 8601 date-time' }).optional().describe('Created before this instant'),
});

const listedRequestBody = z.object({
  id: z.uuid(),
  title: z.string(),
  status: requestStatus,
  documentCode: z.string(),
  folderId: z.uuid(),
  createdAt: z.iso.datetime(),
  expiresAt: z.iso.datetime(),
  deletedAt: z.iso.datetime().optional().describe('Set when the request was deleted: a tombstone, its title, names and emails empty'),
  signers: z
    .array(z.object({ name: z.string(), email: z.string(), status: signerStatus }))
    .describe('In signing order; `locked` while a signer who still has to act is locked out by wrong PINs'),
});

const linksBody = z.object({ self: z.string(), document: z.string(), auditTrail: z.string(), history: z.string() });

const createdBody = z.object({
  id: z.uuid(),
  status: z.literal('pending'),
  createdAt: z.iso.datetime(),
  expiresAt: z.iso.datetime(),
  signers: z.array(
    z.object({
      id: z.uuid(),
      name: z.string(),
      email: z.string(),
      locale: z.enum(locales).describe("The language of the signer's emails, SMS and signing page"),
      status: signerStatus,
      pin: z.string().optional().describe('Only when pinDelivery is "sender", and only in this response'),
    }),
  ),
  links: linksBody,
});

const requestBody = z.object({
  id: z.uuid(),
  title: z.string(),
  status: requestStatus,
  routing: z.enum(['parallel', 'sequential']),
  documentCode: z.string(),
  createdAt: z.iso.datetime(),
  expiresAt: z.iso.datetime(),
  remindersSent: z.number().int(),
  nextReminderAt: z.iso.datetime().optional(),
  sealedAt: z.iso.datetime().optional(),
  sha256: z.string().optional(),
  deletedAt: z.iso
    .datetime()
    .optional()
    .describe('Set when the request was deleted (shredded): this is its tombstone, title, names and emails empty; its documents, audit trail and history answer 410'),
  deletion: z
    .object({ receiptId: z.uuid(), rule: z.string(), reason: z.string() })
    .optional()
    .describe('The deletion: its receipt (GET /v1/deletion-receipts/:id), rule and reason'),
  legalHold: z
    .object({ placedAt: z.iso.datetime(), reason: z.string(), placedBy: z.string(), folderId: z.uuid().optional() })
    .optional()
    .describe("Set while a legal hold keeps it from deletion: its own, or (with folderId) its folder's or one above (PUT/DELETE …/legal-hold)"),
  signers: z.array(
    z.object({
      id: z.uuid(),
      name: z.string(),
      email: z.string(),
      locale: z.enum(locales).describe("The language of the signer's emails, SMS and signing page"),
      status: signerStatus,
      invitedAt: z.iso.datetime().optional(),
      openedAt: z.iso.datetime().optional(),
      signedAt: z.iso.datetime().optional(),
      declinedAt: z.iso.datetime().optional(),
      identification: signerIdentificationBody,
    }),
  ),
  links: linksBody,
});

const auditEventBody = z.object({
  sequence: z.number().int().min(1).describe("Position in the request's hash chain, from 1"),
  eventKey: z.string().describe('Unique within the request; part of what is hashed'),
  type: z.string(),
  at: z.iso.datetime(),
  actor: z.string(),
  signerId: z.uuid().optional(),
  channel: z.string().optional(),
  ip: z.string().optional(),
  userAgent: z.string().optional(),
  detail: z.record(z.string(), z.unknown()).optional(),
  prevHash: z.string().optional().describe("The previous event's hash; absent on the first event"),
  hash: z
    .string()
    .describe(
      'Hex HMAC-SHA-256, under a key of the service that is never stored in the clear, of prevHash (empty for ' +
        'the first event) followed by the canonical JSON (keys sorted, no whitespace) of request_id, sequence, ' +
        'event_key, type, signer_id, actor, channel, ip, user_agent, detail and occurred_at (= at, ISO 8601 with ' +
        'milliseconds), absent values as null. Only the service can recompute it: chainValid is its verdict',
    ),
  legacyHash: z
    .string()
    .optional()
    .describe(
      'On events recorded before audit hashes were keyed: the plain SHA-256 hash the event had then (the same ' +
        'text, unkeyed), still verified; a document sealed then printed one of these as its audit chain head',
    ),
});

const auditTrailBody = z.object({
  events: z.array(auditEventBody),
  chainValid: z.boolean().describe('Every event links to the one before it and its fields still give its hash'),
  chainHead: z.string().optional().describe("The last event's hash, when the chain is valid"),
  firstBrokenEvent: z
    .object({
      sequence: z.number().int(),
      type: z.string(),
      eventKey: z.string().optional(),
      reason: z
        .enum(['hash_mismatch', 'missing_event', 'link_mismatch'])
        .describe(
          'hash_mismatch: the event was changed; missing_event: an event before it was removed; ' +
            "link_mismatch: its prevHash (or the sealed head it names) does not match the chain",
        ),
    })
    .optional()
    .describe('When chainValid is false: the first event where the chain breaks'),
});

/** A document read answers the PDF itself, as a download. */
function pdfDownload(ctx: Context, document: RequestDocument) {
  ctx.attachment(document.filename); // encodes any name safely (RFC 6266)
  ctx.type = 'application/pdf';
  ctx.set('X-Content-SHA256', document.sha256);
  return { status: 200, body: document.bytes };
}

export function signingRequestRoutes(context: SigningContext, temporal: TemporalTarget) {
  const links = (id: string) => {
    const self = `${context.publicUrl}/v1/signing-requests/${id}`;
    return { self, document: `${self}/document`, auditTrail: `${self}/audit-trail`, history: `${self}/history` };
  };
  // A document of N bytes is 4N/3 characters of base64; allow for the rest of the JSON around it.
  const createBodyLimit = Math.ceil((context.maxDocumentBytes * 4) / 3) + 1024 * 1024;

  return [
    defineRoute({
      method: 'get',
      path: '/v1/signing-requests',
      permission: 'view',
      summary: 'The signing requests the key may see (its organisation, its folders), newest first, with each signer\'s progress',
      tag: 'Signing requests',
      auth: 'principal',
      query: listQuery.extend({
        cursor: z.string().max(500).optional().describe('`nextCursor` of the previous page'),
        limit: z.coerce.number().int().min(1).max(100).default(20),
      }),
      responses: {
        200: {
          description: 'One page',
          schema: z.object({
            items: z.array(listedRequestBody),
            nextCursor: z.string().optional().describe('Absent on the last page'),
          }),
        },
      },
      handler: async ({ query, principal }) => ({
        status: 200,
        body: await listSigningRequests(context.dataSource, principal!, query),
      }),
    }),
    defineRoute({
      method: 'get',
      path: '/v1/signing-requests/export.csv',
      permission: 'view',
      summary:
        'The filtered list as CSV (same filters and scope as the list; at most 10,000 rows, newest first; ' +
        '`X-Sigill-Truncated: true` when more requests match and the file holds only the newest 10,000)',
      tag: 'Signing requests',
      auth: 'principal',
      query: listQuery,
      responses: {
        200: {
          description:
            'text/csv (UTF-8 with BOM, CRLF): id, title, status, documentCode, folderId, createdAt, expiresAt, signersSigned, ' +
            'signersTotal, signers ("Name <email>: status; …"). Cells starting with = + - @ are prefixed with an apostrophe',
        },
      },
      handler: async ({ query, principal, ctx }) => {
        const { csv, truncated } = await exportSigningRequests(context.dataSource, principal!, query);
        ctx.type = 'text/csv; charset=utf-8';
        ctx.attachment(`signing-requests-${new Date().toISOString().slice(0, 10)}.csv`);
        ctx.set('Cache-Control', 'no-store');
        if (truncated) ctx.set('X-Sigill-Truncated', 'true');
        return { status: 200, body: csv };
      },
    }),
    defineRoute({
      method: 'post',
      path: '/v1/signing-requests',
      permission: 'send',
      summary: 'Create a signing request and start its round',
      tag: 'Signing requests',
      auth: 'principal',
      bodyLimit: createBodyLimit,
      body: createSigningRequestInput,
      multipart: {
        description: 'The request as JSON, without `document.contentBase64` (the `document` part carries the PDF)',
        toBody: async (ctx) => {
          const form = await readMultipart(ctx, { maxFileBytes: context.maxDocumentBytes, maxFieldBytes: 256 * 1024 });
          const file = form.files.get('document');
          const json = form.fields.get('request');
          if (!file || json === undefined) {
            throw new AppError('invalid_request', 'A multipart request needs a "request" JSON part and a "document" file part.');
          }
          let request: unknown;
          try {
            request = JSON.parse(json);
          } catch {
            throw new AppError('invalid_request', 'The "request" part is not valid JSON.');
          }
          if (typeof request !== 'object' || request === null || Array.isArray(request)) {
            throw new AppError('invalid_request', 'The "request" part must be a JSON object.');
          }
          const { document, ...rest } = request as { document?: { filename?: unknown } };
          const filename = typeof document?.filename === 'string' ? document.filename : file.filename || 'document.pdf';
          return { ...rest, document: { filename, contentBase64: file.bytes.toString('base64') } };
        },
      },
      responses: { 201: { description: 'Created; invitations are on their way', schema: createdBody } },
      errors: [409, 413, 415, 422, 503],
      handler: async ({ body, principal, ctx }) => {
        const idempotencyKey = ctx.get('idempotency-key') || undefined;
        if (idempotencyKey && !/^[\x21-\x7e]{1,255}$/.test(idempotencyKey)) {
          throw new AppError('invalid_request', 'Idempotency-Key must be 1-255 visible ASCII characters.');
        }
        const created = await createSigningRequest(context, temporal, {
          scope: principal!,
          request: body,
          idempotencyKey,
          now: new Date(),
        });
        ctx.set('Location', links(created.id).self);
        return { status: 201, body: { ...created, links: links(created.id) } };
      },
    }),
    defineRoute({
      method: 'get',
      path: '/v1/signing-requests/:id',
      permission: 'view',
      summary: 'Live status of a signing request and each signer',
      tag: 'Signing requests',
      auth: 'principal',
      params: requestParams,
      responses: { 200: { description: 'The signing request', schema: requestBody } },
      errors: [404],
      handler: async ({ params, principal }) => {
        const view = await getSigningRequest(context, principal!, params.id);
        return { status: 200, body: { ...view, links: links(view.id) } };
      },
    }),
    defineRoute({
      method: 'post',
      path: '/v1/signing-requests/:id/cancel',
      permission: 'send',
      summary: 'Cancel a pending signing request; everyone concerned is told',
      tag: 'Signing requests',
      auth: 'principal',
      params: requestParams,
      body: z.strictObject({ reason: multilineText({ max: 1000 }) }),
      responses: { 200: { description: 'Cancelled', schema: z.object({ id: z.uuid(), status: requestStatus }) } },
      errors: [404, 409, 410],
      handler: async ({ params, body, principal, ctx }) => {
        const state = await cancelSigningRequest(context, temporal, principal!, params.id, {
          reason: body.reason,
          ip: ctx.ip,
          userAgent: ctx.get('user-agent') || undefined,
        });
        return { status: 200, body: { id: params.id, status: state.status } };
      },
    }),
    defineRoute({
      method: 'get',
      path: '/v1/signing-requests/:id/document',
      permission: 'view',
      summary: 'The sealed PDF, once the request is completed (not for support staff: they see no documents)',
      tag: 'Signing requests',
      auth: 'principal',
      params: requestParams,
      responses: { 200: { description: 'application/pdf: the sealed document' } },
      errors: [404, 409, 410],
      handler: async ({ params, principal, ctx }) => pdfDownload(ctx, await readSealedDocument(context, principal!, params.id)),
    }),
    defineRoute({
      method: 'get',
      path: '/v1/signing-requests/:id/evidence',
      permission: 'view',
      summary: 'The separately sealed audit trail of a document that could take only a signature (already signed, certified, or restricted by its permissions; not for support staff)',
      tag: 'Signing requests',
      auth: 'principal',
      params: requestParams,
      responses: { 200: { description: 'application/pdf: the audit trail, sealed on its own' } },
      errors: [404, 409, 410],
      handler: async ({ params, principal, ctx }) => pdfDownload(ctx, await readSealedEvidence(context, principal!, params.id)),
    }),
    defineRoute({
      method: 'get',
      path: '/v1/signing-requests/:id/original',
      permission: 'view',
      summary: 'The PDF as it was sent for signing (not for support staff: they see no documents)',
      tag: 'Signing requests',
      auth: 'principal',
      params: requestParams,
      responses: { 200: { description: 'application/pdf: the original document' } },
      errors: [404, 410],
      handler: async ({ params, principal, ctx }) => pdfDownload(ctx, await readOriginalDocument(context, principal!, params.id)),
    }),
    defineRoute({
      method: 'get',
      path: '/v1/signing-requests/:id/audit-trail',
      permission: 'view',
      summary: 'Every event of the request: who, what, when (and, for those who may send in its folder, from which IP and user agent); hash-chained and verified',
      tag: 'Signing requests',
      auth: 'principal',
      params: requestParams,
      responses: { 200: { description: 'The audit trail in chain order (the order of recording), and whether its hash chain holds', schema: auditTrailBody } },
      errors: [404, 410],
      handler: async ({ params, principal }) => ({ status: 200, body: await readRequestAuditTrail(context, principal!, params.id) }),
    }),
      defineRoute({
      method: 'post',
      path: '/v1/signing-requests/:id/remind',
      permission: 'send',
      summary: 'Remind every pending signer now (at most once an hour)',
      tag: 'Signing requests',
      auth: 'principal',
      params: requestParams,
      responses: { 200: { description: 'Reminders queued', schema: z.object({ reminded: z.number().int() }) } },
      errors: [404, 409, 429, 410],
      handler: async ({ params, principal }) => ({
        status: 200,
        body: await remindSigners(context, temporal, principal!, params.id),
      }),
    }),
    defineRoute({
      method: 'post',
      path: '/v1/signing-requests/:id/signers/:signerId/reset-pin',
      permission: 'send',
      summary: 'Issue a new PIN: unlocks the link; returned here for sender delivery, else sent by SMS',
      tag: 'Signing requests',
      auth: 'principal',
      params: z.object({ id: z.uuid('must be a signing request id'), signerId: z.uuid('must be a signer id') }),
      responses: {
        200: {
          description: 'The new PIN (sender delivery) or confirmation that it is on its way by SMS',
          schema: z.object({ delivery: z.enum(['sender', 'sms']), pin: z.string().optional() }),
        },
      },
      errors: [404, 409, 410],
      handler: async ({ params, principal, ctx }) => ({
        status: 200,
        body: await resetSignerPin(context, temporal, {
          scope: principal!,
          requestId: params.id,
          signerId: params.signerId,
          ip: ctx.ip,
          userAgent: ctx.get('user-agent') || undefined,
        }),
      }),
    }),
    defineRoute({
      method: 'post',
      path: '/v1/signing-requests/:id/signers/:signerId/reset-identification',
      permission: 'send',
      summary: "Undo an eID signer's identification (someone else identified on their link): the next identification is accepted afresh",
      tag: 'Signing requests',
      auth: 'principal',
      params: z.object({ id: z.uuid('must be a signing request id'), signerId: z.uuid('must be a signer id') }),
      responses: {
        200: { description: '`reset: false` when the signer had not identified yet', schema: z.object({ reset: z.boolean() }) },
      },
      errors: [404, 409, 410],
      handler: async ({ params, principal, ctx }) => ({
        status: 200,
        body: await resetSignerIdentification(context, {
          scope: principal!,
          requestId: params.id,
          signerId: params.signerId,
          ip: ctx.ip,
          userAgent: ctx.get('user-agent') || undefined,
        }),
      }),
    }),
    defineRoute({
      method: 'get',
      path: '/v1/signing-requests/:id/history',
      permission: 'view',
      summary: "For support: the round's Temporal event history as a readable timeline (no document contents)",
      tag: 'Signing requests',
      auth: 'principal',
      params: requestParams,
      responses: {
        200: {
          description: 'Every step, oldest first, retries and failures included',
          schema: z.object({
            live: z
              .object({
                status: requestStatus,
                signers: z.array(z.object({ id: z.uuid(), status: z.enum(['waiting', 'invited', 'opened', 'signed', 'declined']) })),
              })
              .optional()
              .describe("The workflow's own view (its Query), to compare with the status view; absent when no worker answers"),
            steps: z.array(
              z.object({
                eventId: z.number().int(),
                at: z.iso.datetime(),
                event: z.string(),
                summary: z.string().describe('The step in English words (for logs and back-office tools; pages build their own from the fields below)'),
                attempt: z.number().int().optional(),
                failure: z.string().optional(),
                activity: z.string().optional().describe('Activity steps: the activity, e.g. `sendInvitation`, `sendReminder`, `sealSignedDocument`'),
                signerId: z.uuid().optional().describe('The signer an activity, Update or Signal was for'),
                auditEvent: z.string().optional().describe('`recordAuditEvent` steps: the audit event type recorded'),
                timer: z
                  .object({ seconds: z.number().int(), firesAt: z.iso.datetime() })
                  .optional()
                  .describe('Timer steps: the wait for the next reminder or the deadline, and when it ends'),
                update: z.string().optional().describe('Update steps: `sign`, `decline`, `cancel`, `remindNow`, `resendPin`'),
                signal: z.string().optional().describe('Signal steps: `signerOpened`, `signerLocked`'),
                outcome: requestStatus.optional().describe('The round\'s end: its final status'),
              }),
            ),
          }),
        },
      },
      errors: [404, 410],
      handler: async ({ params, principal }) => {
        await findOwnRequest(context, principal!, params.id);
        const [steps, live] = await Promise.all([readRoundHistory(temporal, context.payloadCodec, params.id), queryRound(temporal, params.id)]);
        const liveView = live && { status: live.status, signers: live.signers.map(({ id, status }) => ({ id, status })) };
        return { status: 200, body: { ...(liveView ? { live: liveView } : {}), steps } };
      },
    }),
  ];
}
