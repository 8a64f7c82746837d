/**
 * A diagnostics probe: one round trip through every moving part of Sigill (API, Temporal, worker, activity,
 * database), shaped like a tiny signing round. It waits for an acknowledgement (an Update, as a signature
 * will be) until a deadline (a durable timer, as expiry will be), then records its outcome.
 *
 * Operators use it to check a deployment end to end; the test suite uses it to prove the harness.
 */
import { condition, defineQuery, defineUpdate, proxyActivities, setHandler, upsertSearchAttributes } from '@temporalio/workflow';
import type { ProbeActivities } from '../activities/probe-activities';
import { processStatusAttribute } from './search-attributes';

export interface ProbeInput {
  probeId: string;
  organizationId: string;
  /** How long to wait for the acknowledgement, in milliseconds. */
  timeoutMs: number;
}

export type ProbeStatus = 'waiting' | 'acknowledged' | 'timed_out';

export interface ProbeState {
  probeId: string;
  organizationId: string;
  status: ProbeStatus;
  startedAt: string;
  expiresAt: string;
  acknowledgedAt?: string;
  /** Set once the outcome is stored in the database. */
  recordedAt?: string;
}

export const probeStateQuery = defineQuery<ProbeState>('probeState');
export const acknowledgeProbeUpdate = defineUpdate<ProbeState>('acknowledgeProbe');

const { recordProbeOutcome } = proxyActivities<ProbeActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' },
});

export async function probeWorkflow(input: ProbeInput): Promise<ProbeState> {
  // Date.now() in a workflow is Temporal's deterministic workflow time, not the machine clock.
  const startedAt = Date.now();
  const state: ProbeState = {
    probeId: input.probeId,
    organizationId: input.organizationId,
    status: 'waiting',
    startedAt: new Date(startedAt).toISOString(),
    expiresAt: new Date(startedAt + input.timeoutMs).toISOString(),
  };

  setHandler(probeStateQuery, () => state);
  setHandler(
    acknowledgeProbeUpdate,
    () => {
      // Idempotent: a second acknowledgement changes nothing and returns the same state.
      if (state.status === 'waiting') {
        state.status = 'acknowledged';
        state.acknowledgedAt = new Date(Date.now()).toISOString();
      }
      return state;
    },
    {
      validator: () => {
        if (state.status === 'timed_out') throw new Error('the probe has timed out');
      },
    },
  );

  const acknowledged = await condition(() => state.status === 'acknowledged', input.timeoutMs);
  if (!acknowledged) state.status = 'timed_out';
  upsertSearchAttributes([{ key: processStatusAttribute, value: state.status }]);

  const { recordedAt } = await recordProbeOutcome({
    probeId: input.probeId,
    organizationId: input.organizationId,
    outcome: acknowledged ? 'acknowledged' : 'timed_out',
  });
  state.recordedAt = recordedAt;
  return state;
}
