/**
 * Archive renewal, started daily by the Temporal Schedule `archive-renewal` (src/archive/schedule.ts):
 * every sealed B-LTA archive whose last document timestamp expires within the horizon gets a new one
 * (src/archive/renew-archive.ts). Archives are renewed one at a time, in batches; a batch that was full
 * continues as a new run so the history stays small however many archives are due. One archive that
 * fails (after its retries) is counted and left for the next day's run; it does not stop the others.
 */
import { ActivityFailure, continueAsNew, proxyActivities } from '@temporalio/workflow';
import type { ArchiveActivities } from '../activities/archive-activities';

export interface ArchiveRenewalInput {
  horizonMs: number;
  /** Totals carried over from earlier batches of the same run. */
  renewed?: number;
  failed?: number;
}

export interface ArchiveRenewalResult {
  renewed: number;
  failed: number;
}

const batchSize = 50;

const archive = proxyActivities<ArchiveActivities>({
  startToCloseTimeout: '5 minutes',
  heartbeatTimeout: '2 minutes',
  retry: { initialInterval: '10 seconds', backoffCoefficient: 2, maximumInterval: '10 minutes', maximumAttempts: 5 },
});

export async function archiveRenewalWorkflow(input: ArchiveRenewalInput): Promise<ArchiveRenewalResult> {
  let renewed = input.renewed ?? 0;
  let failed = input.failed ?? 0;
  const due = await archive.findArchivesDueForRenewal({ horizonMs: input.horizonMs, limit: batchSize });
  let renewedThisBatch = 0;
  for (const item of due) {
    try {
      const outcome = await archive.renewArchiveTimestamp(item);
      if (outcome.renewed) {
        renewed += 1;
        renewedThisBatch += 1;
      }
    } catch (error) {
      if (!(error instanceof ActivityFailure)) throw error;
      failed += 1;
    }
  }
  // A full batch in which something moved may have more behind it; one where nothing could be renewed
  // would only find the same archives again.
  if (due.length === batchSize && renewedThisBatch > 0) {
    return continueAsNew<typeof archiveRenewalWorkflow>({ horizonMs: input.horizonMs, renewed, failed });
  }
  return { renewed, failed };
}
