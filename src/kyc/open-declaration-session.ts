/**
 * While the case is `signing`, the customer signs the declaration on the existing signer page: this hands
 * them a signer session for the declaration's signer link (they are already identified by the case's PIN
 * or eID, so no second PIN), recorded as the signer's `opened` event, through the same outbox the signer
 * API uses to tell the round (src/signing/round-signal-relay.ts).
 */
import { randomUUID } from 'node:crypto';
import type { TemporalTarget } from '../adapters/temporal-connection';
import { Signer } from '../database/entities';
import { AppError } from '../errors';
import { recordAuditEvent } from '../signing/audit-trail';
import { deliverRoundSignal } from '../signing/round-signal-relay';
import type { SigningContext } from '../signing/signing-context';
import type { KycCaseRow } from './get-kyc-case';

export async function openDeclarationSession(
  context: SigningContext,
  temporal: TemporalTarget,
  row: KycCaseRow,
  input: { actor: { ip?: string; userAgent?: string }; now: Date },
): Promise<{ signingUrl: string; sessionToken: string }> {
  if (row.status !== 'signing') throw new AppError('conflict', `There is no declaration to sign now: the case is ${row.status.replace('_', ' ')}.`);
  const [declaration]: Array<{ request_id: string; status: string }> = await context.dataSource.query(
    `SELECT d.request_id, r.status FROM kyc_declarations d JOIN signing_requests r ON r.id = d.request_id WHERE d.case_id = $1 ORDER BY d.attempt DESC LIMIT 1`,
    [row.id],
  );
  const signer = declaration?.status === 'pending' ? await context.dataSource.getRepository(Signer).findOneBy({ requestId: declaration.request_id }) : null;
  if (signer?.status === 'signed') throw new AppError('conflict', 'You have signed the declaration; it is being sealed.');
  // Recorded but its round not started yet: the signer is invited once the round runs.
  if (!declaration || !signer || (signer.status !== 'invited' && signer.status !== 'opened')) {
    throw new AppError('conflict', 'The declaration is being prepared; try again in a moment.');
  }
  const openingId = randomUUID();
  await context.dataSource.transaction(async (tx) => {
    await recordAuditEvent(tx, {
      requestId: declaration.request_id,
      eventKey: `opened:${signer.id}:${openingId}`,
      type: 'opened',
      signerId: signer.id,
      actor: 'signer',
      channel: 'kyc_case',
      ip: input.actor.ip,
      userAgent: input.actor.userAgent,
      occurredAt: input.now,
    });
    await tx.query(`INSERT INTO round_signal_outbox (id, request_id, signer_id, kind) VALUES ($1, $2, $3, 'opened')`, [openingId, declaration.request_id, signer.id]);
  });
  void deliverRoundSignal(context.dataSource, temporal, openingId).catch(() => undefined);
  return {
    signingUrl: `${context.publicUrl}/s/${context.credentials.linkToken({ signerId: signer.id, linkVersion: signer.linkVersion })}`,
    sessionToken: context.credentials.openSession(
      {
        signerId: signer.id,
        linkVersion: signer.linkVersion,
        pinVersion: signer.pinVersion,
        ...(row.identification_id ? { identificationId: row.identification_id } : {}),
      },
      input.now.getTime(),
    ),
  };
}
