import { WorkflowNotFoundError, WorkflowUpdateFailedError } from '@temporalio/client';
import type { UpdateDefinition } from '@temporalio/common';
import type { TemporalTarget } from '../adapters/temporal-connection';
import { AppError } from '../errors';
import { workflowIdForRequest } from './create-signing-request';

/**
 * Sends an Update to a request's round and waits for its result. An Update its validator refused is the
 * caller's conflict (409, or 429 for a reminder too soon), not our error; a round that is gone has ended.
 */
export async function updateRound<Ret, Args extends unknown[]>(
  temporal: TemporalTarget,
  requestId: string,
  update: UpdateDefinition<Ret, Args>,
  ...args: Args
): Promise<Ret> {
  const handle = temporal.client.workflow.getHandle(workflowIdForRequest(requestId));
  try {
    return await (handle.executeUpdate as (def: UpdateDefinition<Ret, Args>, options: { args: Args }) => Promise<Ret>)(update, { args });
  } catch (error) {
    if (error instanceof WorkflowUpdateFailedError) {
      const reason = error.cause?.message ?? 'the request does not allow this now';
      if (reason === 'rate_limited') throw new AppError('rate_limited', 'A reminder was sent less than an hour ago.');
      throw new AppError('conflict', `Not possible: ${reason}.`);
    }
    if (error instanceof WorkflowNotFoundError) throw new AppError('conflict', 'This signing request has ended.');
    throw error;
  }
}
