import type { AccessScope } from '../accounts/access';
import type { TemporalTarget } from '../adapters/temporal-connection';
import { cancelUpdate, type ActorContext, type RoundState } from '../workflows/signing-round';
import { findOwnRequest } from './get-signing-request';
import { updateRound } from './update-round';
import type { SigningContext } from './signing-context';

/** The sender cancels; the round records it, stops, and tells every signer. */
export async function cancelSigningRequest(
  context: SigningContext,
  temporal: TemporalTarget,
  scope: AccessScope,
  requestId: string,
  input: { reason: string } & ActorContext,
): Promise<RoundState> {
  await findOwnRequest(context, scope, requestId, 'send');
  return updateRound(temporal, requestId, cancelUpdate, input);
}
