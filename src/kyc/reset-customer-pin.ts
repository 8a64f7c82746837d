/**
 * A new PIN for a KYC customer (a locked link, or a PIN lost): the PIN version moves on, so the old PIN and
 * every session opened with it stop working and the link unlocks; the new PIN is for the sender to hand
 * over, answered once, as at creation. Cases opened with eID have no PIN.
 */
import type { AccessScope } from '../accounts/access';
import { kycEndStatuses } from '../contract/kyc-cases';
import { queryReturning } from '../database/data-source';
import { AppError } from '../errors';
import type { SigningContext } from '../signing/signing-context';
import { kycCredentials } from './customer-credentials';
import { loadKycCaseInScope } from './get-kyc-case';
import { recordKycEvent } from './kyc-audit-trail';

export async function resetCustomerPin(
  context: SigningContext,
  input: { scope: AccessScope; caseId: string; actor: string; ip?: string; userAgent?: string; now: Date },
): Promise<{ pin: string }> {
  const row = await loadKycCaseInScope(context.dataSource, input.scope, input.caseId, 'send');
  if (row.identification !== 'pin') throw new AppError('conflict', 'This case is opened with eID: there is no PIN.');
  const [reset] = await queryReturning<{ pin_version: number }>(
    context.dataSource,
    `UPDATE kyc_cases SET pin_version = pin_version + 1, failed_pin_attempts = 0, locked_at = NULL
      WHERE id = $1 AND NOT (status = ANY($2::text[])) RETURNING pin_version`,
    [row.id, kycEndStatuses],
  );
  if (!reset) throw new AppError('conflict', `This case has ended (${row.status}).`);
  await recordKycEvent(context.dataSource, {
    caseId: row.id,
    eventKey: `pin_reset:v${reset.pin_version}`,
    type: 'pin_reset',
    actor: input.actor,
    ip: input.ip,
    userAgent: input.userAgent,
    occurredAt: input.now,
  });
  return { pin: (await kycCredentials(context)).pin({ caseId: row.id, pinVersion: reset.pin_version }) };
}
