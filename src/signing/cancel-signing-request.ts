import type { AccessScope } from '../accounts/access';
import type { TemporalTarget } from '../adapters/temporal-connection';
import { cancelUpdate, type ActorContext, type RoundState } from '../workflows/signing-round';
import { findOwnRequest } from './get-signing-request';
import { reflectConfirmedUpdate } from './round-read-model';
import { updateRound } from './update-round';
import type { SigningContext } from './signing-context';

/** The sender cancels; the round records it, stops, and tells every signer. The status view shows it at once. */
export async function cancelSigningRequest(
  context: SigningContext,
  temporal: TemporalTarget,
  scope: AccessScope,
  requestId: string,
  input: { reason: string } & ActorContext,
): Promise<RoundState> {
  await findOwnRequest(context, scope, requestId, 'send');
  const state = await updateRound(temporal, requestId, cancelUpdate, input);
  await reflectConfirmedUpdate(context.dataSource, state);
  return state;
}
