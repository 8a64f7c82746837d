/**
 * Replication to the backup provider (src/backup/backup-queue.ts): drains the queue of written and deleted
 * blobs in batches until it is empty, then ends. Started or woken by a signal after writes (`blob-backup`,
 * signalWithStart from the writing process, best-effort) and by the Temporal Schedule `blob-backup` every
 * few minutes, which catches whatever a lost signal left behind. A signal that arrives while a batch runs
 * makes the run look again before it ends. While the provider is down the batch's activity retries with
 * backoff; nothing is marked done before it is copied.
 */
import { continueAsNew, defineSignal, proxyActivities, setHandler } from '@temporalio/workflow';
import type { BackupActivities } from '../activities/backup-activities';

export const blobBackupWorkflowId = 'blob-backup';
export const blobsWrittenSignal = defineSignal('blobsWritten');

export interface BlobBackupResult {
  replicated: number;
}

const batchSize = 100;
/** Batches per run before continuing as a new run, so the history stays small however long the queue. */
const batchesPerRun = 50;

const backup = proxyActivities<BackupActivities>({
  startToCloseTimeout: '10 minutes',
  heartbeatTimeout: '1 minute',
  // No attempt limit: a provider outage is waited out, and the queue keeps every pending copy meanwhile.
  retry: { initialInterval: '2 seconds', backoffCoefficient: 2, maximumInterval: '1 minute' },
});

export async function blobBackupWorkflow(input: { replicated?: number } = {}): Promise<BlobBackupResult> {
  let woken = false;
  setHandler(blobsWrittenSignal, () => {
    woken = true;
  });
  let replicated = input.replicated ?? 0;
  for (let batch = 0; batch < batchesPerRun; batch += 1) {
    woken = false;
    const outcome = await backup.replicateQueuedBlobs({ limit: batchSize });
    replicated += outcome.replicated;
    if (outcome.remaining === 0 && !woken) return { replicated };
  }
  return continueAsNew<typeof blobBackupWorkflow>({ replicated });
}
