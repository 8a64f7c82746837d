/**
 * The Temporal Schedule that runs archive renewal (src/workflows/archive-renewal.ts) once a day. Created
 * or brought up to date when an API process starts with a timestamp authority configured (renewal needs
 * one); several processes doing so at once converge on the same schedule. Overlapping runs are skipped:
 * a run still busy tomorrow is not joined by a second one.
 */
import { ScheduleAlreadyRunning, ScheduleNotFoundError, ScheduleOverlapPolicy, type Client, type ScheduleOptions } from '@temporalio/client';
import type { Logger } from 'pino';
import type { ArchiveRenewalInput } from '../workflows/archive-renewal';

export const archiveRenewalScheduleId = 'archive-renewal';

export async function ensureArchiveRenewalSchedule(client: Client, options: { taskQueue: string; horizonMs: number; log: Logger }): Promise<void> {
  const input: ArchiveRenewalInput = { horizonMs: options.horizonMs };
  const schedule: ScheduleOptions = {
    scheduleId: archiveRenewalScheduleId,
    spec: { intervals: [{ every: '1 day' }] },
    action: { type: 'startWorkflow', workflowType: 'archiveRenewalWorkflow', workflowId: archiveRenewalScheduleId, taskQueue: options.taskQueue, args: [input] },
    policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: '1 day' },
  };
  const handle = client.schedule.getHandle(archiveRenewalScheduleId);
  try {
    await handle.update((previous) => ({ ...previous, spec: schedule.spec, action: schedule.action, policies: { ...previous.policies, ...schedule.policies } }));
    return;
  } catch (error) {
    if (!(error instanceof ScheduleNotFoundError)) throw error;
  }
  try {
    await client.schedule.create(schedule);
    options.log.info({ scheduleId: archiveRenewalScheduleId, horizonMs: options.horizonMs }, 'archive renewal schedule created');
  } catch (error) {
    if (!(error instanceof ScheduleAlreadyRunning)) throw error; // another process created it first
  }
}

/** Deletes the schedule if it exists: without a timestamp authority no archive can be renewed. */
export async function removeArchiveRenewalSchedule(client: Client, log: Logger): Promise<void> {
  try {
    await client.schedule.getHandle(archiveRenewalScheduleId).delete();
    log.warn({ scheduleId: archiveRenewalScheduleId }, 'archive renewal schedule deleted: TSA_URL is not set, so B-LTA archives will not be renewed');
  } catch (error) {
    if (!(error instanceof ScheduleNotFoundError)) throw error;
  }
}
