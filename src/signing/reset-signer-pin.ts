/**
 * Issuing a new PIN (R1): the old PIN and every session opened with it stop working, failed attempts are
 * forgotten and the link unlocks. The new PIN goes back to the sender (pinDelivery "sender") or out by SMS.
 */
import type { AccessScope } from '../accounts/access';
import { queryReturning } from '../database/data-source';
import type { TemporalTarget } from '../adapters/temporal-connection';
import { AppError } from '../errors';
import { resendPinUpdate } from '../workflows/signing-round';
import { recordAuditEvent } from './audit-trail';
import { findOwnRequest } from './get-signing-request';
import { updateRound } from './update-round';
import type { SigningContext } from './signing-context';

export async function resetSignerPin(
  context: SigningContext,
  temporal: TemporalTarget,
  input: { scope: AccessScope; requestId: string; signerId: string; ip?: string; userAgent?: string },
): Promise<{ delivery: 'sender'; pin: string } | { delivery: 'sms' }> {
  const request = await findOwnRequest(context, input.scope, input.requestId, 'send');
  if (request.status !== 'pending') throw new AppError('conflict', `The signing request is ${request.status}.`);
  const method: Array<{ identification_method: string }> = await context.dataSource.query(
    `SELECT identification_method FROM signers WHERE id = $1 AND request_id = $2`,
    [input.signerId, input.requestId],
  );
  if (!method[0]) throw new AppError('not_found', 'No such signer in this signing request.');
  // A PIN would open nothing for them; a wrong identity bound to them is undone with reset-identification.
  if (method[0].identification_method === 'eid') throw new AppError('conflict', 'This signer identifies with eID and has no PIN.');
  const [signer] = await queryReturning<{ id: string; pin_version: number; pin_delivery: 'sms' | 'sender' }>(
    context.dataSource,
    `UPDATE signers SET pin_version = pin_version + 1, failed_pin_attempts = 0, locked_at = NULL
      WHERE id = $1 AND request_id = $2
      RETURNING id, pin_version, pin_delivery`,
    [input.signerId, input.requestId],
  );
  if (!signer) throw new AppError('not_found', 'No such signer in this signing request.');
  await recordAuditEvent(context.dataSource, {
    requestId: input.requestId,
    eventKey: `pin_reset:${signer.id}:v${signer.pin_version}`,
    type: 'pin_reset',
    signerId: signer.id,
    actor: 'sender',
    channel: signer.pin_delivery,
    ip: input.ip,
    userAgent: input.userAgent,
    occurredAt: new Date(),
  });
  if (signer.pin_delivery === 'sender') {
    return { delivery: 'sender', pin: context.credentials.pin({ signerId: signer.id, pinVersion: signer.pin_version }) };
  }
  // The SMS is a side effect of the round, so a crash cannot lose or duplicate it.
  await updateRound(temporal, input.requestId, resendPinUpdate, { signerId: signer.id, pinVersion: signer.pin_version });
  return { delivery: 'sms' };
}

/**
 * Undoes a signer's eID binding (someone else identified on their link first): the next identification
 * is accepted afresh, and every session carrying the old one ends. Only before the signer has signed: a
 * signature stays with the identity that gave it.
 */
export async function resetSignerIdentification(
  context: SigningContext,
  input: { scope: AccessScope; requestId: string; signerId: string; ip?: string; userAgent?: string },
): Promise<{ reset: boolean }> {
  const request = await findOwnRequest(context, input.scope, input.requestId, 'send');
  if (request.status !== 'pending') throw new AppError('conflict', `The signing request is ${request.status}.`);
  const rows: Array<{ identification_method: string; identification_id: string | null; status: string }> = await context.dataSource.query(
    `SELECT identification_method, identification_id, status FROM signers WHERE id = $1 AND request_id = $2`,
    [input.signerId, input.requestId],
  );
  const signer = rows[0];
  if (!signer) throw new AppError('not_found', 'No such signer in this signing request.');
  if (signer.identification_method === 'pin') throw new AppError('conflict', 'This signer identifies with a PIN, not eID.');
  if (signer.status === 'signed' || signer.status === 'declined') throw new AppError('conflict', `The signer has ${signer.status}.`);
  if (!signer.identification_id) return { reset: false };
  await context.dataSource.transaction(async (tx) => {
    await tx.query(`UPDATE signers SET identification_id = NULL WHERE id = $1 AND identification_id = $2`, [input.signerId, signer.identification_id]);
    await recordAuditEvent(tx, {
      requestId: input.requestId,
      eventKey: `identification_reset:${input.signerId}:${signer.identification_id}`,
      type: 'identification_reset',
      signerId: input.signerId,
      actor: 'sender',
      ip: input.ip,
      userAgent: input.userAgent,
      occurredAt: new Date(),
    });
  });
  return { reset: true };
}
