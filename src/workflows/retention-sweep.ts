/**
 * The retention sweep, started daily by the Temporal Schedule `retention-sweep` (src/retention/schedule.ts).
 * A run is one batch, named by its workflow id (the schedule appends the scheduled time, so each day's is
 * its own). First it gives notice: records newly past their retention period get a notice row and each
 * organisation concerned gets one summary email for the batch. Then it deletes: records whose notice period
 * has passed are shredded one activity each (or skipped and their notice cleared if held or no longer
 * due). Access packages of data-subject requests whose download window has passed are deleted too. Full
 * batches continue as a new run so the history stays small. Ids only in history.
 */
import { ActivityFailure, continueAsNew, patched, proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { RetentionActivities } from '../activities/retention-activities';

export interface RetentionSweepInput {
  /** Only these organisations (tests that share a database); absent: all. */
  organizationIds?: string[];
  /** Set by continueAsNew: the batch started earlier, and which step it had reached. */
  batchId?: string;
  phase?: 'notice' | 'delete';
  noticed?: number;
  deleted?: number;
  skipped?: number;
  failed?: number;
}

export interface RetentionSweepResult {
  batchId: string;
  noticed: number;
  deleted: number;
  skipped: number;
  failed: number;
}

const noticeBatch = 200;
const noticeCallsPerRun = 20;
const deleteBatch = 50;

const retention = proxyActivities<RetentionActivities>({
  startToCloseTimeout: '5 minutes',
  heartbeatTimeout: '2 minutes',
  retry: { initialInterval: '10 seconds', backoffCoefficient: 2, maximumInterval: '10 minutes', maximumAttempts: 5 },
});

export async function retentionSweepWorkflow(input: RetentionSweepInput = {}): Promise<RetentionSweepResult> {
  const batchId = input.batchId ?? workflowInfo().workflowId;
  const scope = input.organizationIds ? { organizationIds: input.organizationIds } : {};
  const totals = { noticed: input.noticed ?? 0, deleted: input.deleted ?? 0, skipped: input.skipped ?? 0, failed: input.failed ?? 0 };

  if ((input.phase ?? 'notice') === 'notice') {
    for (let call = 0; ; call++) {
      const noticed = await retention.giveRetentionNotices({ ...scope, batchId, limit: noticeBatch });
      totals.noticed += noticed;
      if (noticed < noticeBatch) break;
      if (call + 1 >= noticeCallsPerRun) return continueAsNew<typeof retentionSweepWorkflow>({ ...scope, ...totals, batchId, phase: 'notice' });
    }
    for (const organizationId of await retention.organizationsNoticedInBatch({ batchId })) {
      try {
        await retention.emailRetentionNotice({ batchId, organizationId });
      } catch (error) {
        if (!(error instanceof ActivityFailure)) throw error;
        // Nobody may have been told: the notices are withdrawn, and tomorrow's run gives (and emails) them again.
        totals.noticed -= await retention.withdrawRetentionNotices({ batchId, organizationId });
        totals.failed += 1;
      }
    }
  }

  // Added after runs were recorded: a run started before replays without this step.
  if (patched('delete-expired-access-packages')) {
    for (let call = 0; call < noticeCallsPerRun; call++) {
      try {
        if ((await retention.deleteExpiredAccessPackages({ ...scope, limit: deleteBatch })) < deleteBatch) break;
      } catch (error) {
        // Tried again tomorrow; the records' deletions go on.
        if (!(error instanceof ActivityFailure)) throw error;
        totals.failed += 1;
        break;
      }
    }
  }

  const due = await retention.findRetentionNoticesDue({ ...scope, limit: deleteBatch });
  let moved = 0;
  for (const noticeId of due) {
    try {
      const result = await retention.deleteNoticedRecord({ noticeId });
      if (result.outcome === 'deleted') totals.deleted += 1;
      else totals.skipped += 1;
      moved += 1;
    } catch (error) {
      // Left pending for tomorrow's run; one record that cannot be shredded does not hold up the rest.
      if (!(error instanceof ActivityFailure)) throw error;
      totals.failed += 1;
    }
  }
  if (due.length === deleteBatch && moved > 0) return continueAsNew<typeof retentionSweepWorkflow>({ ...scope, ...totals, batchId, phase: 'delete' });
  return { batchId, ...totals };
}
