/**
 * A signer's eID identification (R6). A signer whose method is `eid` identifies instead of a PIN; `pin+eid`
 * identifies after the PIN. The page starts the flow, the broker's callback finishes it here, and the page
 * trades the result (a cookie only this browser holds) for a session that carries the identification: the
 * signer endpoints refuse a session without one (`requireSignerSession`), so the document is never shown
 * before the signer has identified.
 *
 * If the sender named the national id the eID must carry, another person's identity is refused: the
 * attempt is recorded (`identification_mismatch`, masked) and reaches the round through the outbox, which
 * emails the senders. Once identified, the signer is that person: a later identification (a new session)
 * must be the same identity.
 */
import { randomUUID } from 'node:crypto';
import type { TemporalTarget } from '../adapters/temporal-connection';
import { requiresEid } from '../contract/identification';
import { Signer, SigningRequest } from '../database/entities';
import { AppError } from '../errors';
import { EidFailure, type EidFlow, type EidIdentity } from '../identity/eid-broker';
import { queryReturning } from '../database/data-source';
import { auditDetailOf, isSamePerson, nationalIdsMatch, storeIdentification } from '../identity/identification-evidence';
import type { ActorContext } from '../workflows/signing-round';
import { recordAuditEvent } from './audit-trail';
import { expectedNationalIdContext } from './create-signing-request';
import { deliverRoundSignal } from './round-signal-relay';
import { requireSignerSession } from './signer-access';
import { signerOfToken } from './signer-view';
import type { SigningContext } from './signing-context';

const invalidLink = () => new AppError('not_found', 'This signing link is not valid. Ask the sender for a new one.');

async function signerOfLink(context: SigningContext, token: string): Promise<Signer> {
  const signer = await signerOfToken(context, token);
  if (!signer) throw invalidLink();
  return signer;
}

async function requireOpenRound(context: SigningContext, signer: Signer): Promise<SigningRequest> {
  const request = await context.dataSource.getRepository(SigningRequest).findOneByOrFail({ id: signer.requestId });
  if (request.status !== 'pending' && request.status !== 'completed') throw new AppError('conflict', `This signing request has ended (${request.status}).`);
  if (signer.lockedAt) throw new AppError('locked', 'This link is locked. Ask the sender for a new PIN.');
  return request;
}

/**
 * Where to send the signer's browser. `eid` needs only the link; `pin+eid` needs the session the PIN
 * opened (its PIN version goes into the flow, so the identified session is as fresh as that PIN).
 */
export async function startSignerIdentification(
  context: SigningContext,
  input: { token: string; sessionToken?: string; now: Date },
): Promise<{ authorizationUrl: string; cookieValue: string }> {
  const signer = await signerOfLink(context, input.token);
  await requireOpenRound(context, signer);
  if (!requiresEid(signer.identificationMethod)) throw new AppError('conflict', 'This link opens with its PIN; no eID is needed.');
  let pinVersion: number | undefined;
  if (signer.identificationMethod === 'pin+eid') {
    const session = await requireSignerSession(context, input.sessionToken, input.now, { allowUnidentified: true }).catch(() => {
      throw new AppError('unauthenticated', 'Enter your PIN first; then identify with eID.');
    });
    if (session.signer.id !== signer.id) throw invalidLink();
    pinVersion = session.signer.pinVersion;
  }
  return context.eid.begin({
    purpose: 'signer',
    ref: signer.id,
    version: signer.linkVersion,
    ...(signer.eidAcr ? { acr: signer.eidAcr } : {}),
    ...(pinVersion !== undefined ? { pinVersion } : {}),
  });
}

/**
 * The broker answered for this signer: accept the identity (and tell the round the link was opened, for
 * `eid`), or refuse it as not the expected person. Answers where the browser goes next. The identification,
 * its audit event, the binding and the outbox row commit together: a crash leaves all or nothing.
 */
export async function completeSignerIdentification(
  context: SigningContext,
  temporal: TemporalTarget,
  input: { flow: EidFlow; identity: EidIdentity; actor: ActorContext; now: Date },
): Promise<{ redirectTo: string; identificationId?: string }> {
  const signer = await context.dataSource.getRepository(Signer).findOneBy({ id: input.flow.ref });
  if (!signer) throw invalidLink();
  const token = context.credentials.linkToken({ signerId: signer.id, linkVersion: input.flow.version });
  const back = (outcome: string) => `/s/${token}?eid=${outcome}`;
  // A link replaced, locked or ended meanwhile: its page says so.
  if (signer.linkVersion !== input.flow.version) return { redirectTo: `/s/${token}` };
  const request = await context.dataSource.getRepository(SigningRequest).findOneByOrFail({ id: signer.requestId });
  if ((request.status !== 'pending' && request.status !== 'completed') || signer.lockedAt) return { redirectTo: `/s/${token}` };
  // pin+eid: a PIN renewed while the person was at the broker ends what the old one began; nothing is bound.
  if (signer.identificationMethod === 'pin+eid' && input.flow.pinVersion !== signer.pinVersion) return { redirectTo: `/s/${token}` };
  if (signer.expectedNationalId && !input.identity.nationalId) {
    // Not the person's fault, and not fraud: the broker is not sending the claim we read (EID_CLAIM_NATIONAL_ID).
    throw new EidFailure('failed', 'the broker sent no national identity number: check EID_CLAIM_NATIONAL_ID');
  }

  const mismatch = await mismatchOf(context, signer, input.identity);
  const base = {
    requestId: request.id,
    signerId: signer.id,
    actor: 'signer',
    channel: 'eid',
    ip: input.actor.ip,
    userAgent: input.actor.userAgent,
    occurredAt: input.now,
  };
  const outcome = await context.dataSource.transaction(async (tx) => {
    const stored = await storeIdentification(tx, context.adapters.keyService, {
      organizationId: request.organizationId,
      subjectKind: 'signer',
      subjectId: signer.id,
      identity: input.identity,
      outcome: mismatch ? 'mismatch' : 'identified',
    });
    if (mismatch) {
      // The senders hear of the first refused attempt in an hour, not of every one (a link can be tried at will).
      const recent: unknown[] = await tx.query(
        `SELECT 1 FROM audit_events WHERE request_id = $1 AND signer_id = $2 AND type = 'identification_mismatch' AND occurred_at > $3 LIMIT 1`,
        [request.id, signer.id, new Date(input.now.getTime() - mismatchNoticeIntervalMs)],
      );
      await recordAuditEvent(tx, {
        ...base,
        eventKey: `identification_mismatch:${signer.id}:${stored.id}`,
        type: 'identification_mismatch',
        detail: { ...auditDetailOf(stored.evidence), reason: mismatch },
      });
      const notify = request.status === 'pending' && recent.length === 0;
      if (notify) {
        // The outbox row carries the identification's id: the notice names this attempt.
        await tx.query(`INSERT INTO round_signal_outbox (id, request_id, signer_id, kind) VALUES ($1, $2, $3, 'identification_mismatch')`, [
          stored.id,
          request.id,
          signer.id,
        ]);
      }
      return { kind: 'mismatch' as const, outboxId: notify ? stored.id : undefined };
    }
    // Bound only if no other identification was bound since this one was checked (two at once: one wins).
    const bound = await queryReturning<{ id: string }>(
      tx,
      `UPDATE signers SET identification_id = $2 WHERE id = $1 AND identification_id IS NOT DISTINCT FROM $3 RETURNING id`,
      [signer.id, stored.id, signer.identificationId],
    );
    if (bound.length === 0) throw new EidFailure('failed', 'another identification of this signer finished at the same moment');
    await recordAuditEvent(tx, { ...base, eventKey: `identified:${signer.id}:${stored.id}`, type: 'identified', detail: auditDetailOf(stored.evidence) });
    // For an eID-only signer the identification is the opening (the PIN's part in the other methods).
    let openingId: string | undefined;
    if (signer.identificationMethod === 'eid') {
      openingId = randomUUID();
      await recordAuditEvent(tx, { ...base, eventKey: `opened:${signer.id}:${openingId}`, type: 'opened' });
      if (request.status === 'pending') {
        await tx.query(`INSERT INTO round_signal_outbox (id, request_id, signer_id, kind) VALUES ($1, $2, $3, 'opened')`, [openingId, request.id, signer.id]);
      } else {
        openingId = undefined;
      }
    }
    return { kind: 'identified' as const, identificationId: stored.id, outboxId: openingId };
  });
  // Told at once when Temporal is up; otherwise the relay delivers it later.
  if (outcome.outboxId) void deliverRoundSignal(context.dataSource, temporal, outcome.outboxId).catch(() => undefined);
  return outcome.kind === 'mismatch' ? { redirectTo: back('mismatch') } : { redirectTo: back('ok'), identificationId: outcome.identificationId };
}

/** At most one email to the senders per signer and hour about refused identities. */
const mismatchNoticeIntervalMs = 60 * 60_000;

/**
 * Why this identity is not the signer, if it is not: another number than the sender expected, or — once
 * the signer has identified — another person than the one who did.
 */
async function mismatchOf(context: SigningContext, signer: Signer, identity: EidIdentity): Promise<'expected_national_id' | 'earlier_identity' | undefined> {
  if (signer.expectedNationalId) {
    const expected = await context.recordKeys.decryptField({ kind: 'signing_request', id: signer.requestId }, expectedNationalIdContext(signer.id), signer.expectedNationalId);
    if (!nationalIdsMatch(expected, identity.nationalId, identity.country)) return 'expected_national_id';
  }
  if (signer.identificationId && !(await isSamePerson(context.dataSource, context.adapters.keyService, signer.identificationId, identity))) {
    return 'earlier_identity';
  }
  return undefined;
}

/**
 * The page came back from the broker: a session carrying the identification, if this browser holds the
 * result for this signer and it is the signer's accepted identification. For `pin+eid` the PIN must still
 * be the one the flow started with.
 */
export async function openIdentifiedSession(
  context: SigningContext,
  input: { token: string; result: { identificationId: string; pinVersion?: number } | undefined; now: Date },
): Promise<{ sessionToken: string }> {
  const signer = await signerOfLink(context, input.token);
  await requireOpenRound(context, signer);
  const noResult = () => new AppError('identification_required', 'Identify with your eID first (the identification is missing or has expired).');
  if (!input.result || !requiresEid(signer.identificationMethod) || signer.identificationId !== input.result.identificationId) throw noResult();
  if (signer.identificationMethod === 'pin+eid' && input.result.pinVersion !== signer.pinVersion) {
    throw new AppError('unauthenticated', 'Your PIN has changed since: enter the new PIN, then identify again.');
  }
  return {
    sessionToken: context.credentials.openSession(
      { signerId: signer.id, linkVersion: signer.linkVersion, pinVersion: signer.pinVersion, identificationId: input.result.identificationId },
      input.now.getTime(),
    ),
  };
}
