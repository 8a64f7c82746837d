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
