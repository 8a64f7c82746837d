/**
 * What a signer can do with their personal link (R1): open it with their PIN (wrong PINs counted, the link
 * locked after five), then read the document, sign or decline. Signatures and declines reach the round as
 * validated, idempotent Temporal Updates; every step is recorded with IP, user agent and time.
 */
import { randomUUID } from 'node:crypto';
import { WorkflowNotFoundError } from '@temporalio/client';
import { queryReturning } from '../database/data-source';
import { Signer, SigningRequest } from '../database/entities';
import type { TemporalTarget } from '../adapters/temporal-connection';
import { AppError } from '../errors';
import { declineUpdate, signerOpenedSignal, signUpdate, type ActorContext, type RoundState } from '../workflows/signing-round';
import { recordAuditEvent } from './audit-trail';
import { workflowIdForRequest } from './create-signing-request';
import type { SigningContext } from './signing-context';
import { SignerCredentials } from './signer-credentials';
import { updateRound } from './update-round';

export const maxPinAttempts = 5;

const invalidLink = () => new AppError('not_found', 'This signing link is not valid. Ask the sender for a new one.');
const sessionRequired = () => new AppError('unauthenticated', 'Open your signing link with your PIN first (session missing or expired).');

export async function openSignerSession(
  context: SigningContext,
  temporal: TemporalTarget,
  input: { token: string; pin: string; actor: ActorContext; now: Date },
): Promise<{ sessionToken: string }> {
  const signerId = SignerCredentials.signerIdOfToken(input.token);
  const signer = signerId ? await context.dataSource.getRepository(Signer).findOneBy({ id: signerId }) : null;
  if (!signer || !context.credentials.linkTokenMatches(input.token, { signerId: signer.id, linkVersion: signer.linkVersion })) {
    throw invalidLink();
  }
  const request = await context.dataSource.getRepository(SigningRequest).findOneByOrFail({ id: signer.requestId });
  if (request.status !== 'pending' && request.status !== 'completed') {
    throw new AppError('conflict', `This signing request has ended (${request.status}).`);
  }
  if (signer.lockedAt) throw lockedError();

  if (!context.credentials.pinMatches(input.pin, { signerId: signer.id, pinVersion: signer.pinVersion })) {
    await recordFailedPin(context, signer, input);
  }

  await context.dataSource.getRepository(Signer).update({ id: signer.id }, { failedPinAttempts: 0 });
  await recordAuditEvent(context.dataSource, {
    requestId: request.id,
    eventKey: `opened:${signer.id}:${randomUUID()}`,
    type: 'opened',
    signerId: signer.id,
    actor: 'signer',
    channel: 'link',
    ip: input.actor.ip,
    userAgent: input.actor.userAgent,
    occurredAt: input.now,
  });
  if (request.status === 'pending') {
    await temporal.client.workflow
      .getHandle(workflowIdForRequest(request.id))
      .signal(signerOpenedSignal, { signerId: signer.id, ...input.actor })
      .catch((error) => {
        // The round may have ended a moment ago; opening the link is still recorded above.
        if (!(error instanceof WorkflowNotFoundError)) throw error;
      });
  }
  return {
    sessionToken: context.credentials.openSession(
      { signerId: signer.id, linkVersion: signer.linkVersion, pinVersion: signer.pinVersion },
      input.now.getTime(),
    ),
  };
}

const lockedError = () =>
  new AppError('locked', `This link is locked after ${maxPinAttempts} wrong PINs. Ask the sender for a new PIN.`, undefined, {
    attemptsLeft: 0,
  });

/** Counts the failure atomically (two guesses at once both count) and locks at the limit. Always throws. */
async function recordFailedPin(context: SigningContext, signer: Signer, input: { actor: ActorContext; now: Date }): Promise<never> {
  const rows = await queryReturning<{ failed_pin_attempts: number; locked_at: Date | null }>(
    context.dataSource,
    `UPDATE signers
        SET failed_pin_attempts = failed_pin_attempts + 1,
            locked_at = CASE WHEN failed_pin_attempts + 1 >= $2 THEN now() ELSE NULL END
      WHERE id = $1 AND locked_at IS NULL
      RETURNING failed_pin_attempts, locked_at`,
    [signer.id, maxPinAttempts],
  );
  const row = rows[0];
  if (!row) throw lockedError(); // locked by a concurrent attempt
  const base = { requestId: signer.requestId, signerId: signer.id, actor: 'signer', channel: 'link', ip: input.actor.ip, userAgent: input.actor.userAgent, occurredAt: input.now };
  await recordAuditEvent(context.dataSource, {
    ...base,
    eventKey: `pin_failed:${signer.id}:v${signer.pinVersion}:${row.failed_pin_attempts}`,
    type: 'pin_failed',
  });
  if (row.locked_at) {
    await recordAuditEvent(context.dataSource, { ...base, eventKey: `locked:${signer.id}:v${signer.pinVersion}`, type: 'locked' });
    throw lockedError();
  }
  throw new AppError('unauthenticated', 'Wrong PIN.', undefined, { attemptsLeft: maxPinAttempts - row.failed_pin_attempts });
}

/** The signer and request behind a session token, if the session is still valid. */
export async function requireSignerSession(context: SigningContext, sessionToken: string | undefined, now: Date) {
  const claims = sessionToken ? context.credentials.readSession(sessionToken, now.getTime()) : undefined;
  if (!claims) throw sessionRequired();
  const signer = await context.dataSource.getRepository(Signer).findOneBy({ id: claims.signerId });
  // A new PIN or link (a version bump) or a lock ends every session opened before it.
  if (!signer || signer.lockedAt || signer.pinVersion !== claims.pinVersion || signer.linkVersion !== claims.linkVersion) {
    throw sessionRequired();
  }
  const request = await context.dataSource.getRepository(SigningRequest).findOneByOrFail({ id: signer.requestId });
  return { signer, request };
}

/** The document as it stands: the original while the round runs, the sealed one once it is completed. */
export async function readDocumentAsSigner(
  context: SigningContext,
  session: { signer: Signer; request: SigningRequest },
  actor: ActorContext,
  now: Date,
): Promise<{ filename: string; bytes: Uint8Array }> {
  const { request, signer } = session;
  const key = request.status === 'completed' && request.sealedBlobKey ? request.sealedBlobKey : request.originalBlobKey;
  const bytes = await context.adapters.blobStore.get(key);
  if (!bytes) throw new AppError('dependency_unavailable', 'The document is not available right now.');
  await recordAuditEvent(context.dataSource, {
    requestId: request.id,
    eventKey: `viewed:${signer.id}:${randomUUID()}`,
    type: 'viewed',
    signerId: signer.id,
    actor: 'signer',
    channel: 'link',
    ip: actor.ip,
    userAgent: actor.userAgent,
    occurredAt: now,
  });
  const filename = request.status === 'completed' ? request.documentFilename.replace(/(\.pdf)?$/i, '-sealed.pdf') : request.documentFilename;
  return { filename, bytes };
}

export function signAsSigner(
  temporal: TemporalTarget,
  session: { signer: Signer; request: SigningRequest },
  input: { typedName: string; actor: ActorContext },
): Promise<RoundState> {
  return updateRound(temporal, session.request.id, signUpdate, { signerId: session.signer.id, typedName: input.typedName, ...input.actor });
}

export function declineAsSigner(
  temporal: TemporalTarget,
  session: { signer: Signer; request: SigningRequest },
  input: { reason: string; actor: ActorContext },
): Promise<RoundState> {
  return updateRound(temporal, session.request.id, declineUpdate, { signerId: session.signer.id, reason: input.reason, ...input.actor });
}
