import { z } from 'zod';
import { multilineText, singleLineText } from '../../text-input';
import type { TemporalTarget } from '../../adapters/temporal-connection';
import type { SigningContext } from '../../signing/signing-context';
import {
  declineAsSigner,
  openSignerSession,
  readDocumentAsSigner,
  requireSignerSession,
  signAsSigner,
} from '../../signing/signer-access';
import { describeRoundForSigner, recordLinkOpened, recordReadingEvent } from '../../signing/signer-view';
import { locales } from '../../i18n/locales';
import type { Context } from 'koa';
import { eidCookieName } from '../../identity/eid-broker';
import { readEidResult } from '../../identity/eid-result-cookie';
import { openIdentifiedSession, startSignerIdentification } from '../../signing/identify-signer';
import { SignerCredentials } from '../../signing/signer-credentials';
import { identificationEvidenceBody } from './identification';
import { bearerToken, defineRoute } from '../route';

const roundBody = z.object({
  status: z.enum(['pending', 'completed', 'declined', 'expired', 'cancelled', 'failed']),
  signers: z.array(z.object({ id: z.uuid(), status: z.string(), signedAt: z.string().optional() })),
});

const signerStatus = z.enum(['waiting', 'invited', 'opened', 'signed', 'declined']);
const identificationMethod = z.enum(['pin', 'eid', 'pin+eid']);
const signerRoundView = z.object({
  title: z.string(),
  message: z.string().nullable(),
  organization: z.object({ name: z.string(), timeZone: z.string() }),
  sender: z.string().nullable(),
  status: roundBody.shape.status,
  expiresAt: z.iso.datetime(),
  document: z.object({ filename: z.string(), pageCount: z.number().int(), sealed: z.boolean() }),
  locale: z.enum(locales),
  you: z.object({
    id: z.uuid(),
    name: z.string(),
    status: signerStatus,
    displayedAt: z.iso.datetime().optional(),
    lastPageReachedAt: z.iso.datetime().optional(),
    signedAt: z.iso.datetime().optional(),
    identification: z
      .object({ method: identificationMethod, evidence: identificationEvidenceBody.optional() })
      .describe('How this signer identifies and, once identified with eID, the evidence (the national id masked)'),
  }),
  signers: z.array(z.object({ name: z.string(), status: signerStatus, you: z.boolean() })),
  declinedBy: z.string().optional(),
});

const actorOf = (ctx: Context) => ({ ip: ctx.ip, userAgent: ctx.get('user-agent') || undefined });

/** PIN entries per client IP per 15 minutes (generous: a whole office may sign from one address). */
export const pinRateLimit = { points: 60, windowSeconds: 15 * 60 };

/** The signer side (R1): no API key, the personal link and PIN identify the signer. */
export function signerRoutes(context: SigningContext, temporal: TemporalTarget) {
  return [
    // Reveals nothing of the request: `unknown` (not a link Sigill issued, or replaced by a newer one), `ended`
    // (declined, expired, cancelled or failed), `locked` or `open`, and the language the signer reads. An open
    // link records `link_opened` in the audit trail, once an hour at most.
    defineRoute({
      method: 'post',
      path: '/v1/signer/link',
      summary: "A personal link's state before any PIN; records that the link was opened",
      tag: 'Signer',
      auth: 'public',
      rateLimit: pinRateLimit,
      body: z.strictObject({ token: z.string().min(1).max(200) }),
      responses: {
        200: {
          description: 'The state of the link',
          schema: z.object({
            state: z.enum(['unknown', 'ended', 'locked', 'open']),
            locale: z.enum(locales).optional(),
            identification: identificationMethod.optional().describe('How an open link is opened: PIN, eID, or PIN then eID'),
          }),
        },
      },
      handler: async ({ body, ctx }) => ({ status: 200, body: await recordLinkOpened(context, body.token, actorOf(ctx), new Date()) }),
    }),
    defineRoute({
      method: 'post',
      path: '/v1/signer/session',
      summary: 'Open a personal signing link with its PIN',
      tag: 'Signer',
      auth: 'public',
      // Each link locks itself after 5 wrong PINs; this bounds one address trying PINs across many links.
      rateLimit: pinRateLimit,
      body: z.strictObject({
        token: z.string().min(1).max(200),
        pin: z.string().regex(/^\d{6}$/, 'must be the 6-digit PIN'),
      }),
      responses: {
        200: { description: 'A session token for the signer endpoints (30 minutes)', schema: z.object({ sessionToken: z.string() }) },
        401: { description: 'Wrong PIN; `attemptsLeft` says how many tries remain' },
        423: { description: 'Locked after 5 wrong PINs; the sender must issue a new PIN' },
      },
      errors: [404, 409, 410],
      handler: async ({ body, ctx }) => ({
        status: 200,
        body: await openSignerSession(context, temporal, { token: body.token, pin: body.pin, actor: actorOf(ctx), now: new Date() }),
      }),
    }),
    defineRoute({
      method: 'get',
      path: '/v1/signer/document',
      summary: 'The document to sign (the sealed one once everyone has signed)',
      tag: 'Signer',
      auth: 'signer-session',
      responses: { 200: { description: 'application/pdf' } },
      // 409: the round was declined, cancelled, expired or failed (a session opened before does not outlive it).
      errors: [409, 410],
      handler: async ({ ctx }) => {
        const now = new Date();
        const session = await requireSignerSession(context, bearerToken(ctx), now);
        const document = await readDocumentAsSigner(context, session);
        ctx.type = 'application/pdf';
        ctx.set('Content-Disposition', `inline; filename="${document.filename.replace(/[^\w.-]/g, '_')}"`);
        return { status: 200, body: Buffer.from(document.bytes) };
      },
    }),
    defineRoute({
      method: 'get',
      path: '/v1/signer/round',
      summary: 'The request as its signer sees it: title, sender, message, deadline, progress',
      tag: 'Signer',
      auth: 'signer-session',
      responses: { 200: { description: 'The request and its signers (names and statuses only)', schema: signerRoundView } },
      errors: [410],
      handler: async ({ ctx }) => {
        const session = await requireSignerSession(context, bearerToken(ctx), new Date());
        return { status: 200, body: await describeRoundForSigner(context, session) };
      },
    }),
    // Sent by the signing page after it has rendered a page on screen, never on download. Each is recorded once
    // per signer (a repeat changes nothing), and only while the signer can still act (`recorded: false` after).
    defineRoute({
      method: 'post',
      path: '/v1/signer/reading-events',
      summary: 'What the page showed the signer: the first page (`viewed`), the last (`last_page_reached`), or a download where it cannot display (`downloaded`)',
      tag: 'Signer',
      auth: 'signer-session',
      body: z.strictObject({
        event: z.enum(['document_displayed', 'last_page_reached', 'document_downloaded']),
        page: z.number().int().min(1).max(100_000),
        pageCount: z.number().int().min(1).max(100_000),
      }),
      responses: { 200: { description: 'Whether the event belongs to the evidence', schema: z.object({ recorded: z.boolean() }) } },
      errors: [410],
      handler: async ({ body, ctx }) => {
        const now = new Date();
        const session = await requireSignerSession(context, bearerToken(ctx), now);
        return { status: 200, body: await recordReadingEvent(context, session, { ...body, actor: actorOf(ctx), now }) };
      },
    }),
    defineRoute({
      method: 'post',
      path: '/v1/signer/sign',
      summary: 'Sign: typed name and explicit consent, once the document was displayed (repeating it records one signature)',
      tag: 'Signer',
      auth: 'signer-session',
      body: z.strictObject({
        typedName: singleLineText({ max: 200 }),
        consent: z.literal(true, { error: 'must be true: the signer agrees to sign electronically' }),
      }),
      responses: { 200: { description: "The round's status after the signature", schema: roundBody } },
      errors: [409, 410],
      handler: async ({ body, ctx }) => {
        const session = await requireSignerSession(context, bearerToken(ctx), new Date());
        return { status: 200, body: await signAsSigner(context, temporal, session, { typedName: body.typedName, actor: actorOf(ctx) }) };
      },
    }),
    defineRoute({
      method: 'post',
      path: '/v1/signer/decline',
      summary: 'Decline with a reason; the round ends as declined',
      tag: 'Signer',
      auth: 'signer-session',
      body: z.strictObject({ reason: multilineText({ max: 1000 }) }),
      responses: { 200: { description: "The round's status after the decline", schema: roundBody } },
      errors: [409, 410],
      handler: async ({ body, ctx }) => {
        const session = await requireSignerSession(context, bearerToken(ctx), new Date());
        return { status: 200, body: await declineAsSigner(context, temporal, session, { reason: body.reason, actor: actorOf(ctx) }) };
      },
    }),
    // eID (R6): the page sends the browser to `authorizationUrl`; the broker returns it to /v1/eid/callback,
    // which sends it back to the signer's page with `?eid=ok|mismatch|cancelled|failed`.
    defineRoute({
      method: 'post',
      path: '/v1/signer/eid/start',
      summary: 'Start identifying with eID (for `pin+eid`, with the session the PIN opened as Bearer)',
      tag: 'Signer',
      auth: 'public',
      rateLimit: pinRateLimit,
      body: z.strictObject({ token: z.string().min(1).max(200) }),
      responses: {
        200: { description: "Where to send the browser (the broker's page); sets a short-lived cookie for the callback", schema: z.object({ authorizationUrl: z.string() }) },
        401: { description: '`pin+eid`: enter the PIN first' },
        423: { description: 'The link is locked' },
      },
      errors: [404, 409, 422, 410],
      handler: async ({ body, ctx }) => {
        const started = await startSignerIdentification(context, { token: body.token, sessionToken: bearerToken(ctx), now: new Date() });
        ctx.cookies.set(eidCookieName, started.cookieValue, context.eid.cookieOptions);
        return { status: 200, body: { authorizationUrl: started.authorizationUrl } };
      },
    }),
    defineRoute({
      method: 'post',
      path: '/v1/signer/eid/session',
      summary: "After the broker's callback: a session carrying the identification (needs the cookie the callback set in this browser)",
      tag: 'Signer',
      auth: 'public',
      rateLimit: pinRateLimit,
      body: z.strictObject({ token: z.string().min(1).max(200) }),
      responses: {
        200: { description: 'A session token for the signer endpoints (30 minutes)', schema: z.object({ sessionToken: z.string() }) },
        401: { description: '`pin+eid`: the PIN changed since the identification started' },
        403: { description: '`identification_required`: no identification for this link in this browser (or it expired)' },
        423: { description: 'The link is locked' },
      },
      errors: [404, 409, 410],
      handler: async ({ body, ctx }) => {
        const signerId = SignerCredentials.signerIdOfToken(body.token);
        const result = signerId ? readEidResult(context.eid, ctx, 'signer', signerId) : undefined;
        const opened = await openIdentifiedSession(context, { token: body.token, result, now: new Date() });
        context.eid.results.clear(ctx, 'signer');
        return { status: 200, body: opened };
      },
    }),
  ];
}
