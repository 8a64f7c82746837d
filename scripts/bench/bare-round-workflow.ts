/**
 * The benchmark's anchor: a workflow with the signing round's shape and none of its work. It makes the same
 * activity round trips as a measured signing round (the same batches, in the same order, around the same
 * Updates), with activities that do nothing, so what it costs is Temporal's floor for that shape on this
 * server and machine: scheduling, dispatch, history, Updates. `segments[k]` are the activity batches the
 * round ran after its k-th accepted Update (segment 0: before the first); a batch runs in parallel.
 */
import { condition, defineUpdate, proxyActivities, setHandler } from '@temporalio/workflow';

export interface BareRoundShape {
  segments: number[][];
}

export interface BareActivities {
  nothing(step: number): Promise<void>;
}

export const bareSignUpdate = defineUpdate<number, [string]>('sign');

const { nothing } = proxyActivities<BareActivities>({ startToCloseTimeout: '30 seconds' });

export async function bareRoundWorkflow(shape: BareRoundShape): Promise<void> {
  let updates = 0;
  setHandler(bareSignUpdate, () => ++updates);
  let step = 0;
  for (const [index, batches] of shape.segments.entries()) {
    if (index > 0) await condition(() => updates >= index);
    for (const size of batches) await Promise.all(Array.from({ length: size }, () => nothing(step++)));
  }
}
