/**
 * Creating a signing request: validate everything first (nothing is created for bad input), store the
 * original, record the request and its signers in one transaction, then start its workflow. The workflow
 * id is derived from the request id, and a retried create with the same Idempotency-Key finds the same
 * request, so one request never has two rounds.
 */
import { searchTokensOf, storedRequestText, storedSignerContact } from './round-personal-data';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { WorkflowExecutionAlreadyStartedError, WorkflowIdConflictPolicy, WorkflowIdReusePolicy } from '@temporalio/client';
import { z } from 'zod';
import { Signer, SigningRequest } from '../database/entities';
import { inspectPdf } from '../documents/inspect-pdf';
import { isoDuration } from '../durations';
import { AppError, unavailableError } from '../errors';
import { multilineText, singleLineText } from '../text-input';
import type { TemporalTarget } from '../adapters/temporal-connection';
import { lacksPermission, requireInFolder, type AccessScope } from '../accounts/access';
import { Folder, Organization } from '../database/entities';
import { locales, type Locale } from '../i18n/locales';
import { organizationIdAttribute, processStatusAttribute } from '../workflows/search-attributes';
import type { SigningRoundInput } from '../workflows/signing-round';
import { deleteSigningRequestWithAuditTrail, recordAuditEvent } from './audit-trail';
import type { SigningContext } from './signing-context';
import { countRoundStarted } from '../observability/round-metrics';
import { isNationalIdFormat } from '../identity/national-id';

const day = 86_400_000;

export const signerInput = z.strictObject({
  name: singleLineText({ max: 200 }),
  email: z.email('must be an email address').max(254),
  phone: z
    .string()
    .regex(/^\+[1-9]\d{6,14}$/, 'must be an international phone number such as +358401234567')
    .optional(),
  pinDelivery: z.enum(['sms', 'sender']).optional(),
  locale: z
    .enum(locales)
    .optional()
    .describe("The language of the signer's emails, SMS and signing page; default: the organisation's default language"),
  identification: z
    .strictObject({
      method: z.enum(['pin', 'eid', 'pin+eid']),
      eid: z
        .strictObject({
          acr: z.string().min(1).max(200).regex(/^[\x21-\x7e]+$/, 'must be an acr value such as urn:grn:authn:se:bankid').optional(),
          expectedNationalId: singleLineText({ max: 40 })
            .refine(isNationalIdFormat, 'must be a Swedish, Finnish, Danish or Norwegian national identity number, e.g. 19800101-1234 or 010180-123A')
            .optional()
            .describe('The national identity number the eID must carry; stored encrypted, never shown back'),
        })
        .optional(),
    })
    .optional()
    .describe('How the signer proves who they are: the PIN (default), a national eID instead, or both; eID needs EID_ISSUER'),
});

export const createSigningRequestInput = z
  .strictObject({
    title: singleLineText({ max: 200 }),
    folderId: z.uuid('must be a folder id').optional().describe("Where the request is filed; default: the key's folder, else the organisation's default folder"),
    document: z.strictObject({
      filename: singleLineText({ max: 255 }),
      contentBase64: z.string().min(1, 'must not be empty').regex(/^[A-Za-z0-9+/]+={0,2}$/, 'must be base64'),
    }),
    signers: z.array(signerInput).min(1, 'must name at least one signer').max(50),
    routing: z.enum(['parallel', 'sequential']).default('parallel'),
    reminders: z
      .strictObject({
        firstAfter: isoDuration({ minMs: 1000, maxMs: 365 * day }),
        every: isoDuration({ minMs: 1000, maxMs: 365 * day }),
        max: z.number().int().min(0).max(20),
      })
      .optional(),
    expiresIn: isoDuration({ minMs: 60_000, maxMs: 365 * day }).optional(),
    expiresAt: z.iso.datetime({ offset: true, error: 'must be an ISO 8601 date-time' }).optional(),
    message: multilineText({ min: 0, max: 2000 }).optional(),
  })
  .refine((input) => !(input.expiresIn !== undefined && input.expiresAt !== undefined), {
    message: 'give expiresIn or expiresAt, not both',
    path: ['expiresAt'],
  });

export type CreateSigningRequestInput = z.output<typeof createSigningRequestInput>;

export interface CreatedSigner {
  id: string;
  name: string;
  email: string;
  status: 'waiting' | 'invited';
  locale: Locale;
  /** Only for PIN delivery by the sender, and only in the create response. */
  pin?: string;
}

export interface CreatedSigningRequest {
  id: string;
  status: 'pending';
  createdAt: string;
  expiresAt: string;
  signers: CreatedSigner[];
}

export const workflowIdForRequest = (requestId: string) => `signing-request-${requestId}`;

const codeAlphabet = '0123456789ABCDEFGHJKMNPQRSTVWXYZ'; // Crockford: no I, L, O, U
function newDocumentCode(): string {
  const bytes = randomBytes(12);
  const chars = [...bytes].map((byte) => codeAlphabet[byte % 32]).join('');
  return `SGL-${chars.slice(0, 4)}-${chars.slice(4, 8)}-${chars.slice(8, 12)}`;
}

/**
 * The folder a new request is filed in: the one asked for if the scope reaches it (else 404, as for any
 * object outside the scope), otherwise the scope's own folder, otherwise the organisation's default folder.
 */
export async function resolveFolder(context: SigningContext, scope: AccessScope, requested: string | undefined): Promise<string> {
  const folders = context.dataSource.getRepository(Folder);
  if (requested) {
    const folder = await folders.findOneBy({ id: requested, organizationId: scope.organizationId });
    if (!folder) throw new AppError('not_found', 'No such folder.');
    requireInFolder(scope, 'send', folder.id, () => new AppError('not_found', 'No such folder.'));
    return folder.id;
  }
  if (scope.folders) {
    const sendable = [...scope.folders].find(([, held]) => held.has('send'));
    if (!sendable) throw lacksPermission('send', ' in any folder');
    return sendable[0];
  }
  const fallback = await folders.findOneByOrFail({ organizationId: scope.organizationId, isDefault: true });
  return fallback.id;
}

/** Idempotency-Keys the service keeps for itself (a KYC declaration's request, src/kyc/prepare-declaration.ts). */
export const reservedIdempotencyKeyPrefix = 'kyc-declaration:';

export async function createSigningRequest(
  context: SigningContext,
  temporal: TemporalTarget,
  input: { scope: AccessScope; request: CreateSigningRequestInput; idempotencyKey?: string; now: Date },
): Promise<CreatedSigningRequest> {
  // A caller's key in that namespace could take a declaration's request before the case makes it.
  if (input.idempotencyKey?.toLowerCase().startsWith(reservedIdempotencyKeyPrefix)) {
    throw new AppError('invalid_request', `Idempotency-Key: keys starting with "${reservedIdempotencyKeyPrefix}" are reserved.`);
  }
  const recorded = await recordSigningRequest(context, input);
  return startRound(context, temporal, recorded.requestId, input.scope.organizationId, recorded);
}

/**
 * Records the request (validated, its original stored) without starting its round: `createSigningRequest`
 * starts it next, a KYC case starts it as its child workflow (src/kyc/prepare-declaration.ts). With an
 * Idempotency-Key a repeated call finds the request recorded first (`isNew: false`); `fingerprint` replaces
 * the hash of the request that must match then (a caller whose document is regenerated on a retry).
 */
export async function recordSigningRequest(
  context: SigningContext,
  input: { scope: AccessScope; request: CreateSigningRequestInput; idempotencyKey?: string; fingerprint?: string; now: Date },
): Promise<{ requestId: string; isNew: boolean }> {
  const { request, scope, now } = input;
  const { organizationId } = scope;
  const fingerprint = input.fingerprint ?? createHash('sha256').update(JSON.stringify(request)).digest('hex');
  if (input.idempotencyKey) {
    const replay = await findByIdempotencyKey(context, organizationId, input.idempotencyKey, fingerprint);
    if (replay) return { requestId: replay, isNew: false };
  }

  const folderId = await resolveFolder(context, scope, request.folderId);
  const { pdf, pageCount, sha256 } = await readDocument(context, request.document.contentBase64);
  const organization = await context.dataSource.getRepository(Organization).findOneByOrFail({ id: organizationId });
  const planned = planSigners(context, request, organization.defaultLocale);
  const expiresAt = resolveExpiry(request, now);

  const requestId = randomUUID();
  // The request's key that can be destroyed (R13) exists before anything of it is encrypted: its original,
  // its signers' national ids, its workflow's payloads. A create that fails after this leaves an unused key.
  await context.recordKeys.ensureKey(context.dataSource, organizationId, { kind: 'signing_request', id: requestId });
  const signers = await withExpectedNationalIds(context, requestId, planned);
  const originalBlobKey = `orgs/${organizationId}/requests/${requestId}/original.pdf`;
  await context.adapters.blobStore.put(originalBlobKey, pdf);

  const reminders = request.reminders ?? { firstAfter: 2 * day, every: 2 * day, max: 3 };
  try {
    await context.dataSource.transaction(async (tx) => {
      // Title, message, file name and the signers' contacts under the request's key, with the blind indexes and
      // search tokens that find them (src/signing/round-personal-data.ts).
      const text = await storedRequestText(tx, requestId, { title: request.title, message: request.message ?? null, document_filename: request.document.filename });
      const contacts = await Promise.all(
        signers.map((signer) => storedSignerContact(tx, organizationId, requestId, { name: signer.name, email: signer.email, phone: signer.phone ?? null })),
      );
      const searchTokens = await searchTokensOf(tx, organizationId, [request.title, ...signers.flatMap((signer) => [signer.name, signer.email])]);
      await tx.insert(SigningRequest, {
        id: requestId,
        organizationId,
        folderId,
        title: text.title as string,
        message: text.message,
        documentFilename: text.document_filename as string,
        textSealed: text.text_sealed,
        documentCode: newDocumentCode(),
        originalBlobKey,
        originalSha256: sha256,
        originalByteLength: pdf.byteLength,
        pageCount,
        routing: request.routing,
        reminderFirstAfterMs: reminders.firstAfter,
        reminderEveryMs: reminders.every,
        reminderMax: reminders.max,
        status: 'pending',
        createdAt: now,
        expiresAt,
        completedAt: null,
        sealedAt: null,
        sealedBlobKey: null,
        sealedSha256: null,
        createdByUserId: creatorOf(scope),
      });
      await tx.insert(
        Signer,
        signers.map((signer, position) => ({
          ...signer,
          name: contacts[position]!.name as string,
          email: contacts[position]!.email as string,
          phone: contacts[position]!.phone,
          contactSealed: contacts[position]!.contact_sealed,
          requestId,
          position,
          linkVersion: 1,
          pinVersion: 1,
          failedPinAttempts: 0,
          lockedAt: null,
        })),
      );
      // Not entity columns: kept out of every entity read.
      await tx.query(`UPDATE signing_requests SET search_tokens = $2 WHERE id = $1`, [requestId, searchTokens]);
      for (const [position, contact] of contacts.entries()) {
        await tx.query(`UPDATE signers SET email_index = $3, phone_index = $4 WHERE request_id = $1 AND position = $2`, [
          requestId,
          position,
          contact.email_index,
          contact.phone_index,
        ]);
      }
      if (input.idempotencyKey) {
        await tx.query(
          `INSERT INTO idempotency_keys (organization_id, key, request_fingerprint, signing_request_id) VALUES ($1, $2, $3, $4)`,
          [organizationId, input.idempotencyKey, fingerprint, requestId],
        );
      }
      await recordAuditEvent(tx, { requestId, eventKey: 'created', type: 'created', actor: 'sender', occurredAt: now });
    });
  } catch (error) {
    // Two creates with one key at the same moment: the first transaction won; answer with its request.
    if (input.idempotencyKey && (error as { code?: string }).code === '23505') {
      const replay = await findByIdempotencyKey(context, organizationId, input.idempotencyKey, fingerprint);
      if (replay) return { requestId: replay, isNew: false };
    }
    throw error;
  }
  return { requestId, isNew: true };
}

async function readDocument(context: SigningContext, contentBase64: string) {
  // Base64 is 4 characters per 3 bytes: refuse an oversized document before decoding it.
  if (Math.floor((contentBase64.length * 3) / 4) > context.maxDocumentBytes + 2) throw documentTooLarge(context);
  const upload = Buffer.from(contentBase64, 'base64');
  if (upload.length > context.maxDocumentBytes) throw documentTooLarge(context);
  // What is stored is what inspection accepted (the upload, or it without bytes before its header).
  const { pdf, pageCount, sha256 } = await inspectPdf(upload);
  return { pdf, pageCount, sha256 };
}

const documentTooLarge = (context: SigningContext) =>
  new AppError('payload_too_large', `The document is larger than the limit of ${Math.round(context.maxDocumentBytes / 1024 / 1024)} MB.`);

/** The member behind a session creates as a person; an API key creates as the organisation (null). */
function creatorOf(scope: AccessScope): string | null {
  const principal = scope as AccessScope & { kind?: string; userId?: string };
  return principal.kind === 'user' && principal.userId ? principal.userId : null;
}

function planSigners(context: SigningContext, request: CreateSigningRequestInput, defaultLocale: Locale) {
  const seen = new Set<string>();
  return request.signers.map((signer, index) => {
    const identification = signer.identification ?? { method: 'pin' as const };
    if (identification.method !== 'pin' && !context.eid.available) {
      throw new AppError('eid_unavailable', `signers[${index}].identification.method: eID identification is not configured on this deployment; use "pin".`);
    }
    if (identification.method === 'pin' && identification.eid) {
      throw new AppError('unprocessable', `signers[${index}].identification.eid: only for the methods "eid" and "pin+eid".`);
    }
    if (identification.eid?.acr) context.eid.checkAcr(identification.eid.acr);
    const email = signer.email.toLowerCase();
    if (seen.has(email)) throw new AppError('unprocessable', `signers[${index}].email: ${email} appears more than once.`);
    seen.add(email);
    const pinDelivery = signer.pinDelivery ?? (signer.phone ? 'sms' : 'sender');
    if (pinDelivery === 'sms' && !signer.phone) {
      throw new AppError('unprocessable', `signers[${index}].phone: a phone number is needed to send the PIN by SMS.`);
    }
    return {
      id: randomUUID(),
      name: signer.name,
      email,
      phone: signer.phone ?? null,
      pinDelivery,
      locale: signer.locale ?? defaultLocale,
      identificationMethod: identification.method,
      eidAcr: identification.eid?.acr ?? null,
      expectedNationalIdInClear: identification.eid?.expectedNationalId,
      identificationId: null,
    } as const;
  });
}

/** The expected national id leaves planning only encrypted under the request's key, bound to its signer (src/privacy/record-keys.ts). */
async function withExpectedNationalIds(context: SigningContext, requestId: string, planned: ReturnType<typeof planSigners>) {
  return Promise.all(
    planned.map(async ({ expectedNationalIdInClear, ...signer }) => ({
      ...signer,
      expectedNationalId: expectedNationalIdInClear
        ? await context.recordKeys.encryptField({ kind: 'signing_request', id: requestId }, expectedNationalIdContext(signer.id), expectedNationalIdInClear)
        : null,
    })),
  );
}

export const expectedNationalIdContext = (signerId: string) => ({ purpose: 'signer-expected-national-id', signer: signerId });

function resolveExpiry(request: CreateSigningRequestInput, now: Date): Date {
  if (request.expiresAt) {
    const expiresAt = new Date(request.expiresAt);
    if (expiresAt.getTime() <= now.getTime() + 60_000) {
      throw new AppError('unprocessable', 'expiresAt: must be in the future (at least a minute from now).');
    }
    return expiresAt;
  }
  return new Date(now.getTime() + (request.expiresIn ?? 30 * day));
}

async function findByIdempotencyKey(
  context: SigningContext,
  organizationId: string,
  key: string,
  fingerprint: string,
): Promise<string | undefined> {
  const rows: Array<{ signing_request_id: string; request_fingerprint: string }> = await context.dataSource.query(
    `SELECT signing_request_id, request_fingerprint FROM idempotency_keys WHERE organization_id = $1 AND key = $2`,
    [organizationId, key],
  );
  const row = rows[0];
  if (!row) return undefined;
  if (row.request_fingerprint !== fingerprint) {
    throw new AppError('conflict', 'This Idempotency-Key was already used for a different request.');
  }
  return row.signing_request_id;
}

/** The input of a recorded request's round, from its records. */
export async function roundInputFor(context: SigningContext, requestId: string, organizationId: string) {
  const request = await context.dataSource.getRepository(SigningRequest).findOneByOrFail({ id: requestId, organizationId });
  const signers = await context.dataSource.getRepository(Signer).find({ where: { requestId }, order: { position: 'ASC' } });
  const roundInput: SigningRoundInput = {
    requestId,
    routing: request.routing,
    signerIds: signers.map((signer) => signer.id),
    reminders: { firstAfterMs: request.reminderFirstAfterMs, everyMs: request.reminderEveryMs, max: request.reminderMax },
    expiresAt: request.expiresAt.toISOString(),
  };
  return { request, signers, roundInput };
}

/**
 * Starts the request's workflow, or finds it already started (a retried create), and answers with the
 * request as created. If Temporal cannot be reached for a brand-new request, the request is removed again:
 * nothing is left half-created (a retry with the same Idempotency-Key starts over cleanly).
 */
async function startRound(
  context: SigningContext,
  temporal: TemporalTarget,
  requestId: string,
  organizationId: string,
  options: { isNew: boolean },
): Promise<CreatedSigningRequest> {
  const { request, signers, roundInput } = await roundInputFor(context, requestId, organizationId);
  try {
    await temporal.client.workflow.start('signingRoundWorkflow', {
      taskQueue: temporal.taskQueue,
      workflowId: workflowIdForRequest(requestId),
      workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
      // A retried create of one that has finished must not run it again: its closed run counts as started.
      workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
      args: [roundInput],
      typedSearchAttributes: [
        { key: organizationIdAttribute, value: organizationId },
        { key: processStatusAttribute, value: 'pending' },
      ],
    });
  } catch (error) {
    // A replayed create whose workflow has already finished: it started nothing, and the answer stands.
    if (options.isNew || !(error instanceof WorkflowExecutionAlreadyStartedError)) {
      // Only a request created by this call is removed: a replayed one may have a round running already.
      if (options.isNew) await deleteSigningRequestWithAuditTrail(context.dataSource, requestId);
      throw unavailableError('temporal', 'The signing request could not be started; nothing was created.');
    }
  }
  // A replayed create (same Idempotency-Key) found its round already running: it started nothing.
  if (options.isNew) countRoundStarted();

  return {
    id: request.id,
    status: 'pending',
    createdAt: request.createdAt.toISOString(),
    expiresAt: request.expiresAt.toISOString(),
    signers: signers.map((signer, index) => ({
      id: signer.id,
      name: signer.name,
      email: signer.email,
      status: request.routing === 'parallel' || index === 0 ? 'invited' : 'waiting',
      locale: signer.locale,
      ...(signer.pinDelivery === 'sender' && signer.identificationMethod !== 'eid'
        ? { pin: context.credentials.pin({ signerId: signer.id, pinVersion: signer.pinVersion }) }
        : {}),
    })),
  };
}
