/**
 * What a signer can do with their personal link (R1): open it with their PIN (wrong PINs counted, the link
 * locked after five), then read the document, sign or decline. Signatures and declines reach the round as
 * validated, idempotent Temporal Updates; every step is recorded with IP, user agent and time.
 */
import { randomUUID } from 'node:crypto';
import { queryReturning } from '../database/data-source';
import { Signer, SigningRequest } from '../database/entities';
import { recordDeletedError } from '../privacy/tombstones';
import type { TemporalTarget } from '../adapters/temporal-connection';
import { AppError } from '../errors';
import { declineUpdate, signUpdate, type ActorContext, type RoundState } from '../workflows/signing-round';
import { recordAuditEvent } from './audit-trail';
import { reflectConfirmedUpdate } from './round-read-model';
import { deliverRoundSignal } from './round-signal-relay';
import type { SigningContext } from './signing-context';
import { SignerCredentials } from './signer-credentials';
import { updateRound } from './update-round';
import { requiresEid } from '../contract/identification';

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
  // A deleted (shredded) request's links lead nowhere: its document and names are gone.
  if (request.deletedAt) throw recordDeletedError('signing request', request.deletedAt);
  if (request.status !== 'pending' && request.status !== 'completed') {
    throw new AppError('conflict', `This signing request has ended (${request.status}).`);
  }
  if (signer.lockedAt) throw lockedError();
  if (signer.identificationMethod === 'eid') {
    throw new AppError('identification_required', 'This link opens with eID, not a PIN: identify with your eID.');
  }

  if (!context.credentials.pinMatches(input.pin, { signerId: signer.id, pinVersion: signer.pinVersion })) {
    await recordFailedPin(context, signer, input);
  }

  // Everything about this opening is in PostgreSQL, in one transaction, so the link works while Temporal
  // is down: the reset of wrong PINs, one 'opened' event (and the read model with it), and the outbox row
  // through which the round hears of it (src/signing/round-signal-relay.ts).
  const openingId = randomUUID();
  await context.dataSource.transaction(async (tx) => {
    await tx.getRepository(Signer).update({ id: signer.id }, { failedPinAttempts: 0 });
    await recordAuditEvent(tx, {
      requestId: request.id,
      eventKey: `opened:${signer.id}:${openingId}`,
      type: 'opened',
      signerId: signer.id,
      actor: 'signer',
      channel: 'link',
      ip: input.actor.ip,
      userAgent: input.actor.userAgent,
      occurredAt: input.now,
    });
    if (request.status === 'pending') {
      await tx.query(`INSERT INTO round_signal_outbox (id, request_id, signer_id, kind) VALUES ($1, $2, $3, 'opened')`, [openingId, request.id, signer.id]);
    }
  });
  if (request.status === 'pending') {
    // Told at once when Temporal is up; otherwise the relay delivers it later. The signer does not wait.
    void deliverRoundSignal(context.dataSource, temporal, openingId).catch(() => undefined);
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

/**
 * Counts the failure atomically (two guesses at once both count) and locks at the limit. Always throws.
 * The count, its events and, at the limit, the lock and the outbox row through which the round tells the
 * senders (src/signing/round-signal-relay.ts) commit together: no lock goes unreported, and no report
 * names a lock that did not happen.
 */
async function recordFailedPin(context: SigningContext, signer: Signer, input: { actor: ActorContext; now: Date }): Promise<never> {
  const row = await context.dataSource.transaction(async (tx) => {
    const rows = await queryReturning<{ failed_pin_attempts: number; locked_at: Date | null }>(
      tx,
      `UPDATE signers
          SET failed_pin_attempts = failed_pin_attempts + 1,
              locked_at = CASE WHEN failed_pin_attempts + 1 >= $2 THEN now() ELSE NULL END
        WHERE id = $1 AND locked_at IS NULL
        RETURNING failed_pin_attempts, locked_at`,
      [signer.id, maxPinAttempts],
    );
    const counted = rows[0];
    if (!counted) return undefined; // locked by a concurrent attempt
    const base = { requestId: signer.requestId, signerId: signer.id, actor: 'signer', channel: 'link', ip: input.actor.ip, userAgent: input.actor.userAgent, occurredAt: input.now };
    await recordAuditEvent(tx, {
      ...base,
      eventKey: `pin_failed:${signer.id}:v${signer.pinVersion}:${counted.failed_pin_attempts}`,
      type: 'pin_failed',
    });
    if (counted.locked_at) {
      await recordAuditEvent(tx, { ...base, eventKey: `locked:${signer.id}:v${signer.pinVersion}`, type: 'locked' });
      await tx.query(`INSERT INTO round_signal_outbox (id, request_id, signer_id, kind) VALUES ($1, $2, $3, 'locked')`, [
        randomUUID(),
        signer.requestId,
        signer.id,
      ]);
    }
    return counted;
  });
  if (!row || row.locked_at) throw lockedError();
  throw new AppError('unauthenticated', 'Wrong PIN.', undefined, { attemptsLeft: maxPinAttempts - row.failed_pin_attempts });
}

/**
 * The signer and request behind a session token, if the session is still valid. A signer who must identify
 * with eID needs a session carrying their accepted identification (`allowUnidentified`: only to start that
 * identification after the PIN).
 */
export async function requireSignerSession(
  context: SigningContext,
  sessionToken: string | undefined,
  now: Date,
  options: { allowUnidentified?: boolean } = {},
) {
  const claims = sessionToken ? context.credentials.readSession(sessionToken, now.getTime()) : undefined;
  if (!claims) throw sessionRequired();
  const signer = await context.dataSource.getRepository(Signer).findOneBy({ id: claims.signerId });
  // A new PIN or link (a version bump) or a lock ends every session opened before it.
  if (!signer || signer.lockedAt || signer.pinVersion !== claims.pinVersion || signer.linkVersion !== claims.linkVersion) {
    throw sessionRequired();
  }
  if (requiresEid(signer.identificationMethod) && !options.allowUnidentified && (!claims.identificationId || claims.identificationId !== signer.identificationId)) {
    throw new AppError('identification_required', 'Identify with your eID to open this document.');
  }
  const request = await context.dataSource.getRepository(SigningRequest).findOneByOrFail({ id: signer.requestId });
  if (request.deletedAt) throw recordDeletedError('signing request', request.deletedAt);
  return { signer, request, identificationId: claims.identificationId };
}

/**
 * The document as it stands: the original while the round runs, the sealed one once it is completed.
 * Fetching is not reading: the page reports what it displayed (signer-view.ts, `recordReadingEvent`).
 */
export async function readDocumentAsSigner(
  context: SigningContext,
  session: { signer: Signer; request: SigningRequest },
): Promise<{ filename: string; bytes: Uint8Array }> {
  const request = await context.dataSource.getRepository(SigningRequest).findOneByOrFail({ id: session.request.id });
  // A session opened before the round was declined, cancelled or expired does not outlive the link.
  if (request.status !== 'pending' && request.status !== 'completed') throw new AppError('conflict', `This signing request has ended (${request.status}).`);
  const key = request.status === 'completed' && request.sealedBlobKey ? request.sealedBlobKey : request.originalBlobKey;
  const bytes = await context.adapters.blobStore.get(key);
  if (!bytes) throw new AppError('dependency_unavailable', 'The document is not available right now.');
  const filename = request.status === 'completed' ? request.documentFilename.replace(/(\.pdf)?$/i, '-sealed.pdf') : request.documentFilename;
  return { filename, bytes };
}

/** What the signer API answers after an action: the round's status and each signer's progress. */
export interface RoundSummary {
  status: RoundState['status'];
  signers: Array<{ id: string; status: string; signedAt?: string }>;
}

const summaryOf = (state: RoundState): RoundSummary => ({
  status: state.status,
  signers: state.signers.map(({ id, status, signedAt }) => ({ id, status, signedAt })),
});

async function summaryFromRecords(context: SigningContext, requestId: string): Promise<RoundSummary> {
  const request = await context.dataSource.getRepository(SigningRequest).findOneByOrFail({ id: requestId });
  const signers = await context.dataSource.getRepository(Signer).find({ where: { requestId }, order: { position: 'ASC' } });
  return {
    status: request.status,
    signers: signers.map((signer) => ({ id: signer.id, status: signer.status, signedAt: signer.signedAt?.toISOString() })),
  };
}

/**
 * Sends the signer's action to the round, idempotently end to end: a repeated sign (or decline) of a signer
 * whose action is on record answers with the round as it stands, whether the round is still pending or has
 * ended since (a retry after a lost response must not tell a person who signed that it failed). The
 * round's own handler makes a repeat inside the round a no-op too.
 */
async function actAsSigner(
  context: SigningContext,
  session: { signer: Signer; request: SigningRequest },
  done: 'signed' | 'declined',
  act: () => Promise<RoundState>,
): Promise<RoundSummary> {
  const recorded = async () => (await context.dataSource.getRepository(Signer).findOneBy({ id: session.signer.id }))?.status === done;
  if (session.signer.status === done) return summaryFromRecords(context, session.request.id);
  try {
    const state = await act();
    await reflectConfirmedUpdate(context.dataSource, state);
    return summaryOf(state);
  } catch (error) {
    if (error instanceof AppError && error.code === 'conflict' && (await recorded())) return summaryFromRecords(context, session.request.id);
    throw error;
  }
}

/**
 * Consent follows reading: a signature is accepted only after the signer's page reported the document
 * displayed (`viewed`), or, where this device could not display it, downloaded (`downloaded`). The evidence
 * then always says how the signer had the document before signing.
 */
async function requireDocumentShown(context: SigningContext, signer: Signer): Promise<void> {
  const rows: unknown[] = await context.dataSource.query(
    // By key, not type: `viewed` events recorded before display was reported (when the PDF was fetched) do not count.
    `SELECT 1 FROM audit_events WHERE request_id = $1 AND event_key IN ('viewed:' || $2, 'downloaded:' || $2) LIMIT 1`,
    [signer.requestId, signer.id],
  );
  if (rows.length === 0) {
    throw new AppError('document_not_displayed', 'Open the document before signing it: it has not been displayed to you yet.');
  }
}

export function signAsSigner(
  context: SigningContext,
  temporal: TemporalTarget,
  session: { signer: Signer; request: SigningRequest; identificationId?: string },
  input: { typedName: string; actor: ActorContext },
): Promise<RoundSummary> {
  return actAsSigner(context, session, 'signed', async () => {
    await requireDocumentShown(context, session.signer);
    return updateRound(temporal, session.request.id, signUpdate, {
      signerId: session.signer.id,
      typedName: input.typedName,
      // The eID identification behind this signature (an id, no personal data): the evidence names it.
      ...(session.identificationId ? { identificationId: session.identificationId } : {}),
      ...input.actor,
    });
  });
}

export function declineAsSigner(
  context: SigningContext,
  temporal: TemporalTarget,
  session: { signer: Signer; request: SigningRequest },
  input: { reason: string; actor: ActorContext },
): Promise<RoundSummary> {
  return actAsSigner(context, session, 'declined', () =>
    updateRound(temporal, session.request.id, declineUpdate, { signerId: session.signer.id, reason: input.reason, ...input.actor }),
  );
}
