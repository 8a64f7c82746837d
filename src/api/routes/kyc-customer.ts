import type { Context } from 'koa';
import { z } from 'zod';
import type { TemporalTarget } from '../../adapters/temporal-connection';
import { AppError } from '../../errors';
import { locales } from '../../i18n/locales';
import { eidCookieName } from '../../identity/eid-broker';
import { readEidResult } from '../../identity/eid-result-cookie';
import { KycCustomerCredentials } from '../../kyc/customer-credentials';
import {
  describeCustomerLink,
  openCustomerSession,
  openIdentifiedCustomerSession,
  requireCustomerSession,
  startCustomerIdentification,
} from '../../kyc/customer-access';
import { addUpload, describeCaseForCustomer, removeUpload, saveDraft } from '../../kyc/customer-case';
import { openDeclarationSession } from '../../kyc/open-declaration-session';
import { submitKycAnswers } from '../../kyc/submit-kyc-answers';
import type { SigningContext } from '../../signing/signing-context';
import { readMultipart } from '../multipart';
import { bearerToken, defineRoute } from '../route';
import { kycCaseStatus } from './kyc-cases';
import { pinRateLimit } from './signer';

const actorOf = (ctx: Context) => ({ ip: ctx.ip, userAgent: ctx.get('user-agent') || undefined });
const token = z.strictObject({ token: z.string().min(1).max(200) });
const answers = z.record(z.string().max(64), z.unknown()).describe('question key → answer (see the questionnaire)');
const uploadBody = z.object({ id: z.uuid(), questionKey: z.string(), filename: z.string(), bytes: z.number().int() });
const tag = 'KYC customer';

/**
 * The customer's side of a KYC case (public: the personal link and PIN, or eID, identify them), as the
 * signer's side is for signing rounds. Answers and uploads are checked again here whatever the page did.
 */
export function kycCustomerRoutes(context: SigningContext, temporal: TemporalTarget) {
  const session = (ctx: Context) => requireCustomerSession(context, bearerToken(ctx), new Date());
  return [
    defineRoute({
      method: 'post',
      path: '/v1/kyc/customer/link',
      summary: "A customer link's state before anything else (reveals nothing of an unknown link)",
      tag,
      auth: 'public',
      rateLimit: pinRateLimit,
      body: token,
      responses: {
        200: {
          description: 'The state of the link',
          schema: z.object({ state: z.enum(['unknown', 'ended', 'locked', 'open']), locale: z.enum(locales).optional(), identification: z.enum(['pin', 'eid']).optional() }),
        },
      },
      handler: async ({ body, ctx }) => ({ status: 200, body: await describeCustomerLink(context, body.token, actorOf(ctx), new Date()) }),
    }),
    defineRoute({
      method: 'post',
      path: '/v1/kyc/customer/session',
      summary: 'Open a customer link with its PIN',
      tag,
      auth: 'public',
      rateLimit: pinRateLimit,
      body: z.strictObject({ token: z.string().min(1).max(200), pin: z.string().regex(/^\d{6}$/, 'must be the 6-digit PIN') }),
      responses: {
        200: { description: 'A session token for the customer endpoints (60 minutes)', schema: z.object({ sessionToken: z.string() }) },
        401: { description: 'Wrong PIN; `attemptsLeft` says how many tries remain' },
        423: { description: 'Locked after 5 wrong PINs' },
      },
      errors: [403, 404, 409],
      handler: async ({ body, ctx }) => ({ status: 200, body: await openCustomerSession(context, { token: body.token, pin: body.pin, actor: actorOf(ctx), now: new Date() }) }),
    }),
    defineRoute({
      method: 'post',
      path: '/v1/kyc/customer/eid/start',
      summary: 'Start identifying with eID (a case created with `identification: "eid"`)',
      tag,
      auth: 'public',
      rateLimit: pinRateLimit,
      body: token,
      responses: { 200: { description: "Where to send the browser (the broker's page); sets a short-lived cookie for the callback", schema: z.object({ authorizationUrl: z.string() }) } },
      errors: [404, 409, 423],
      handler: async ({ body, ctx }) => {
        const started = await startCustomerIdentification(context, { token: body.token });
        ctx.cookies.set(eidCookieName, started.cookieValue, context.eid.cookieOptions);
        return { status: 200, body: { authorizationUrl: started.authorizationUrl } };
      },
    }),
    defineRoute({
      method: 'post',
      path: '/v1/kyc/customer/eid/session',
      summary: "After the broker's callback: a session for the identified customer (needs the cookie the callback set in this browser)",
      tag,
      auth: 'public',
      rateLimit: pinRateLimit,
      body: token,
      responses: {
        200: { description: 'A session token for the customer endpoints', schema: z.object({ sessionToken: z.string() }) },
        403: { description: 'No identification for this link in this browser (or it expired)' },
      },
      errors: [404, 409, 423],
      handler: async ({ body, ctx }) => {
        const caseId = KycCustomerCredentials.caseIdOfToken(body.token);
        const result = caseId ? readEidResult(context.eid, ctx, 'kyc', caseId) : undefined;
        const opened = await openIdentifiedCustomerSession(context, { token: body.token, result, now: new Date() });
        context.eid.results.clear(ctx, 'kyc');
        return { status: 200, body: opened };
      },
    }),
    defineRoute({
      method: 'get',
      path: '/v1/kyc/customer/case',
      summary: 'The case as the customer sees it: the questionnaire, their draft, their uploads',
      tag,
      auth: 'signer-session',
      responses: { 200: { description: 'The case', schema: z.object({ status: kycCaseStatus }).passthrough() } },
      handler: async ({ ctx }) => ({ status: 200, body: await describeCaseForCustomer(context, await session(ctx)) }),
    }),
    defineRoute({
      method: 'put',
      path: '/v1/kyc/customer/draft',
      summary: 'Save the answers so far (kept encrypted; a closed browser loses nothing)',
      tag,
      auth: 'signer-session',
      body: z.strictObject({ answers }),
      bodyLimit: '256kb',
      responses: { 200: { description: 'Saved', schema: z.object({ savedAt: z.string() }) } },
      errors: [409],
      handler: async ({ body, ctx }) => ({ status: 200, body: await saveDraft(context, await session(ctx), body.answers, new Date()) }),
    }),
    defineRoute({
      method: 'post',
      path: '/v1/kyc/customer/uploads',
      summary: 'Upload a file for an upload question (multipart: `questionKey`, `file`); PDF, JPEG or PNG, stored encrypted',
      tag,
      auth: 'signer-session',
      responses: { 201: { description: 'Uploaded', schema: uploadBody } },
      errors: [400, 409, 413, 415, 422],
      handler: async ({ ctx }) => {
        const row = await session(ctx);
        if (!ctx.is('multipart/form-data')) throw new AppError('unsupported_media_type', 'Send the file as multipart/form-data with the parts "questionKey" and "file".');
        const form = await readMultipart(ctx, { maxFileBytes: 20 * 1024 * 1024, maxFieldBytes: 1024 });
        const file = form.files.get('file');
        const questionKey = form.fields.get('questionKey');
        if (!file || !questionKey) throw new AppError('invalid_request', 'A multipart request needs a "questionKey" part and a "file" part.');
        const added = await addUpload(context, row, { questionKey, filename: file.filename, bytes: file.bytes, actor: actorOf(ctx), now: new Date() });
        return { status: 201, body: added };
      },
    }),
    defineRoute({
      method: 'delete',
      path: '/v1/kyc/customer/uploads/:id',
      summary: 'Remove an uploaded file',
      tag,
      auth: 'signer-session',
      params: z.object({ id: z.string().max(100) }),
      responses: { 204: { description: 'Removed' } },
      errors: [404, 409],
      handler: async ({ params, ctx }) => {
        await removeUpload(context, await session(ctx), params.id, actorOf(ctx), new Date());
        return { status: 204, body: null };
      },
    }),
    defineRoute({
      method: 'post',
      path: '/v1/kyc/customer/submit',
      summary: 'Submit the answers; the declaration made from them is then signed',
      tag,
      auth: 'signer-session',
      body: z.strictObject({ answers }),
      bodyLimit: '256kb',
      responses: {
        200: { description: "The case's status after the submission", schema: z.object({ status: kycCaseStatus }) },
        422: { description: 'Answers that need attention: `details.questionKeys` and `details.issues[].path` (`answers.<key>`) name each question' },
      },
      errors: [409],
      handler: async ({ body, ctx }) => ({
        status: 200,
        body: await submitKycAnswers(context, temporal, await session(ctx), { answers: body.answers, actor: actorOf(ctx), now: new Date() }),
      }),
    }),
    defineRoute({
      method: 'post',
      path: '/v1/kyc/customer/declaration-session',
      summary: 'While signing: a session for the declaration on the signer page (`signingUrl`; keep `sessionToken` as the signer page does)',
      tag,
      auth: 'signer-session',
      responses: { 200: { description: 'Where to sign and the session to do it with', schema: z.object({ signingUrl: z.string(), sessionToken: z.string() }) } },
      errors: [409],
      handler: async ({ ctx }) => ({ status: 200, body: await openDeclarationSession(context, temporal, await session(ctx), { actor: actorOf(ctx), now: new Date() }) }),
    }),
  ];
}
