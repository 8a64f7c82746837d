/**
 * Signals to rounds that must not depend on Temporal being up when a person acts: a signer opening their
 * link, or their link locking after too many wrong PINs, is recorded in PostgreSQL (audit event, read model
 * and an outbox row, in one transaction), and the round hears of it through this relay, at least once. The
 * handlers are idempotent (`signerOpened` only moves an invited signer to opened; `signerLocked` tells the
 * senders once per lock, the row's id naming the lock), so a repeated delivery changes nothing.
 *
 * Rows are leased (their next attempt pushed into the future) before delivery rather than locked across the
 * calls to Temporal, so API replicas share the work without holding transactions open during an outage.
 */
import { WorkflowNotFoundError } from '@temporalio/client';
import type { DataSource } from 'typeorm';
import type { TemporalTarget } from '../adapters/temporal-connection';
import { queryReturning } from '../database/data-source';
import { unavailablePart } from '../failure-kinds';
import { repeatUntilStopped } from '../lifecycle';
import type { Logger } from '../logger';
import { identityMismatchSignal, signerLockedSignal, signerOpenedSignal } from '../workflows/signing-round';
import { workflowIdForRequest } from './create-signing-request';

interface OutboxRow {
  id: string;
  request_id: string;
  signer_id: string;
  kind: 'opened' | 'locked' | 'identification_mismatch';
}

/**
 * How long a claimed row stays with its claimant before any relay may try it again: longer than one
 * delivery may take, and growing with each failed attempt (5 s, 10 s, … at most a minute).
 */
const leaseStepSeconds = 5;
const maxLeaseSeconds = 60;
const signalDeadlineMs = 5000;

async function deliver(temporal: TemporalTarget, row: OutboxRow): Promise<void> {
  try {
    await temporal.client.withDeadline(Date.now() + signalDeadlineMs, () =>
      row.kind === 'locked'
        ? temporal.client.workflow.getHandle(workflowIdForRequest(row.request_id)).signal(signerLockedSignal, { signerId: row.signer_id, lockId: row.id })
        : row.kind === 'identification_mismatch'
          ? temporal.client.workflow.getHandle(workflowIdForRequest(row.request_id)).signal(identityMismatchSignal, { signerId: row.signer_id, attemptId: row.id })
          : temporal.client.workflow.getHandle(workflowIdForRequest(row.request_id)).signal(signerOpenedSignal, { signerId: row.signer_id }),
    );
  } catch (error) {
    // The round has ended: there is nobody left to tell, and the opening is on record already.
    if (!(error instanceof WorkflowNotFoundError)) throw error;
  }
}

/** Delivers one row now and removes it; leaves it for the relay when Temporal cannot take it. */
export async function deliverRoundSignal(dataSource: DataSource, temporal: TemporalTarget, id: string): Promise<void> {
  await deliverClaimed(dataSource, temporal, await claim(dataSource, `id = $3`, [id]));
}

/** Delivers the rows that are due; answers how many were delivered. */
export async function deliverDueRoundSignals(dataSource: DataSource, temporal: TemporalTarget, limit = 50): Promise<number> {
  return deliverClaimed(dataSource, temporal, await claim(dataSource, `next_attempt_at <= now()`, [], limit));
}

async function claim(dataSource: DataSource, condition: string, parameters: unknown[], limit = 1): Promise<OutboxRow[]> {
  return queryReturning<OutboxRow>(
    dataSource,
    `UPDATE round_signal_outbox
        SET attempts = attempts + 1,
            next_attempt_at = now() + make_interval(secs => least($1 * (attempts + 1), $2))
      WHERE id IN (SELECT id FROM round_signal_outbox WHERE ${condition} AND next_attempt_at <= now()
                    ORDER BY next_attempt_at LIMIT ${Number(limit)} FOR UPDATE SKIP LOCKED)
      RETURNING id, request_id, signer_id, kind`,
    [leaseStepSeconds, maxLeaseSeconds, ...parameters],
  );
}

async function deliverClaimed(dataSource: DataSource, temporal: TemporalTarget, rows: OutboxRow[]): Promise<number> {
  let delivered = 0;
  for (const row of rows) {
    try {
      await deliver(temporal, row);
    } catch (error) {
      // Temporal is out: the rest of the batch would fail alike; their leases expire and they come back.
      if (unavailablePart(error) === 'temporal') break;
      throw error;
    }
    await dataSource.query(`DELETE FROM round_signal_outbox WHERE id = $1`, [row.id]);
    delivered += 1;
  }
  return delivered;
}

/** Runs in every API process: a short poll, cheap when the outbox is empty (an index on next_attempt_at). */
export function startRoundSignalRelay(deps: { dataSource: DataSource; temporal: TemporalTarget; log: Logger; everyMs?: number }) {
  return repeatUntilStopped(
    async () => {
      const delivered = await deliverDueRoundSignals(deps.dataSource, deps.temporal);
      if (delivered > 0) deps.log.info({ delivered }, 'delivered pending round signals');
    },
    { everyMs: deps.everyMs ?? 2000, log: deps.log, failure: 'could not deliver pending round signals; will retry' },
  );
}
