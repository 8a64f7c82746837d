/** Use cases for diagnostics probes: start one, acknowledge it, read its state. */
import { randomUUID } from 'node:crypto';
import { WorkflowNotFoundError, WorkflowUpdateFailedError } from '@temporalio/client';
import type { TemporalTarget } from '../adapters/temporal-connection';
import { AppError } from '../errors';
import { acknowledgeProbeUpdate, probeStateQuery, type ProbeState } from '../workflows/probe';
import { organizationIdAttribute, processStatusAttribute } from '../workflows/search-attributes';

const workflowIdFor = (probeId: string) => `probe-${probeId}`;

export async function startProbe(
  temporal: TemporalTarget,
  input: { organizationId: string; timeoutMs: number },
): Promise<ProbeState> {
  const probeId = randomUUID();
  await temporal.client.workflow.start('probeWorkflow', {
    taskQueue: temporal.taskQueue,
    workflowId: workflowIdFor(probeId),
    args: [{ probeId, organizationId: input.organizationId, timeoutMs: input.timeoutMs }],
    typedSearchAttributes: [
      { key: organizationIdAttribute, value: input.organizationId },
      { key: processStatusAttribute, value: 'waiting' },
    ],
  });
  // The state as the workflow will report it; computed here so the caller need not wait for a worker.
  const now = Date.now();
  return {
    probeId,
    organizationId: input.organizationId,
    status: 'waiting',
    startedAt: new Date(now).toISOString(),
    expiresAt: new Date(now + input.timeoutMs).toISOString(),
  };
}

/** A probe of another organisation is reported exactly like a missing one. */
export async function getProbe(temporal: TemporalTarget, organizationId: string, probeId: string): Promise<ProbeState> {
  const handle = temporal.client.workflow.getHandle(workflowIdFor(probeId));
  try {
    const state = await handle.query(probeStateQuery);
    if (state.organizationId !== organizationId) throw probeNotFound();
    return state;
  } catch (error) {
    if (error instanceof WorkflowNotFoundError) throw probeNotFound();
    throw error;
  }
}

export async function acknowledgeProbe(temporal: TemporalTarget, organizationId: string, probeId: string): Promise<ProbeState> {
  const state = await getProbe(temporal, organizationId, probeId);
  // Idempotent, even after the workflow has finished: a second click gets the same answer.
  if (state.status === 'acknowledged') return state;
  if (state.status === 'timed_out') throw probeNoLongerWaiting();
  try {
    return await temporal.client.workflow.getHandle(workflowIdFor(probeId)).executeUpdate(acknowledgeProbeUpdate);
  } catch (error) {
    // The deadline may have passed between the read above and the update: answer from the state it reached.
    if (error instanceof WorkflowUpdateFailedError || error instanceof WorkflowNotFoundError) {
      const latest = await getProbe(temporal, organizationId, probeId);
      if (latest.status === 'acknowledged') return latest;
      throw probeNoLongerWaiting();
    }
    throw error;
  }
}

const probeNotFound = () => new AppError('not_found', 'No such probe.');
const probeNoLongerWaiting = () => new AppError('conflict', 'The probe timed out before it was acknowledged.');
