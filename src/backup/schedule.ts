/**
 * What starts the `blob-backup` workflow (src/workflows/blob-backup.ts): a signal from the process that
 * wrote a blob, and the Temporal Schedule `blob-backup` every few minutes as the safety net for signals
 * that were lost (Temporal unreachable at the time, a process killed right after its write). The schedule
 * is created or brought up to date by every process with the backup configured (they converge on one) and
 * deleted by processes without it.
 */
import { ScheduleAlreadyRunning, ScheduleNotFoundError, ScheduleOverlapPolicy, type Client, type ScheduleOptions } from '@temporalio/client';
import type { Logger } from '../logger';
import type { BlobBackupQueue } from './backup-queue';
import { blobBackupWorkflowId, blobsWrittenSignal } from '../workflows/blob-backup';

export const blobBackupScheduleId = 'blob-backup';
const scheduleEvery = '5 minutes';
const signalDeadlineMs = 5000;

export async function ensureBlobBackupSchedule(client: Client, options: { taskQueue: string; log: Logger }): Promise<void> {
  const schedule: ScheduleOptions = {
    scheduleId: blobBackupScheduleId,
    spec: { intervals: [{ every: scheduleEvery }] },
    action: { type: 'startWorkflow', workflowType: 'blobBackupWorkflow', workflowId: blobBackupWorkflowId, taskQueue: options.taskQueue, args: [{}] },
    policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: '10 minutes' },
  };
  const handle = client.schedule.getHandle(blobBackupScheduleId);
  try {
    await handle.update((previous) => ({ ...previous, spec: schedule.spec, action: schedule.action, policies: { ...previous.policies, ...schedule.policies } }));
    return;
  } catch (error) {
    if (!(error instanceof ScheduleNotFoundError)) throw error;
  }
  try {
    await client.schedule.create(schedule);
    options.log.info({ scheduleId: blobBackupScheduleId }, 'blob backup schedule created');
  } catch (error) {
    if (!(error instanceof ScheduleAlreadyRunning)) throw error; // another process created it first
  }
}

/** Deletes the schedule if it exists: without a backup provider there is nothing to replicate to. */
export async function removeBlobBackupSchedule(client: Client, log: Logger): Promise<void> {
  try {
    await client.schedule.getHandle(blobBackupScheduleId).delete();
    log.warn({ scheduleId: blobBackupScheduleId }, 'blob backup schedule deleted: BACKUP_S3_BUCKET is not set');
  } catch (error) {
    if (!(error instanceof ScheduleNotFoundError)) throw error;
  }
}

/**
 * A wake-up for the drain after writes: signalWithStart of `blob-backup`, at most one call in flight and
 * one more queued behind it however many blobs are written meanwhile (a seal writes several). A failure is
 * logged and forgotten: the rows are in the queue and the schedule's next run takes them.
 */
export function blobBackupWaker(client: Client, options: { taskQueue: string; log: Logger }): () => void {
  let inFlight = false;
  let again = false;
  const send = async (): Promise<void> => {
    inFlight = true;
    try {
      do {
        again = false;
        await client.withDeadline(Date.now() + signalDeadlineMs, () =>
          client.workflow.signalWithStart('blobBackupWorkflow', {
            workflowId: blobBackupWorkflowId,
            taskQueue: options.taskQueue,
            args: [{}],
            signal: blobsWrittenSignal,
          }),
        );
      } while (again);
    } catch (error) {
      options.log.warn({ err: error }, 'the blob backup could not be woken; its schedule will take the queued blobs');
    } finally {
      inFlight = false;
    }
  };
  return () => {
    if (inFlight) {
      again = true;
      return;
    }
    void send();
  };
}

/**
 * For a process with a Temporal client: its blob writes wake the drain, and the schedule is brought up to
 * date (created with the backup configured, deleted without it).
 */
export async function startBlobBackupReplication(deps: { queue?: BlobBackupQueue; client: Client; taskQueue: string; log: Logger }): Promise<void> {
  if (!deps.queue) return removeBlobBackupSchedule(deps.client, deps.log);
  deps.queue.onRecorded(blobBackupWaker(deps.client, { taskQueue: deps.taskQueue, log: deps.log }));
  await ensureBlobBackupSchedule(deps.client, { taskQueue: deps.taskQueue, log: deps.log });
}
