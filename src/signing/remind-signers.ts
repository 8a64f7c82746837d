import type { AccessScope } from '../accounts/access';
import type { TemporalTarget } from '../adapters/temporal-connection';
import { remindNowUpdate } from '../workflows/signing-round';
import { findOwnRequest } from './get-signing-request';
import { updateRound } from './update-round';
import type { SigningContext } from './signing-context';

/** Reminds every pending signer now; the round allows this at most once an hour (else 429). */
export async function remindSigners(
  context: SigningContext,
  temporal: TemporalTarget,
  scope: AccessScope,
  requestId: string,
): Promise<{ reminded: number }> {
  await findOwnRequest(context, scope, requestId, 'send');
  return updateRound(temporal, requestId, remindNowUpdate);
}
