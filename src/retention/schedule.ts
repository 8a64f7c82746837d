/**
 * The Temporal Schedule that runs the retention sweep (src/workflows/retention-sweep.ts) once a day. Created
 * or brought up to date when an API process starts; several processes doing so at once converge on the same
 * schedule. Overlapping runs are skipped: a sweep still busy tomorrow is not joined by a second one.
 */
import { ScheduleAlreadyRunning, ScheduleNotFoundError, ScheduleOverlapPolicy, type Client, type ScheduleOptions } from '@temporalio/client';
import type { Logger } from 'pino';
import type { RetentionSweepInput } from '../workflows/retention-sweep';

export const retentionSweepScheduleId = 'retention-sweep';

export async function ensureRetentionSweepSchedule(
  client: Client,
  options: { taskQueue: string; log: Logger; /** Tests sharing a database: sweep only these. */ organizationIds?: string[] },
): Promise<void> {
  const input: RetentionSweepInput = options.organizationIds ? { organizationIds: options.organizationIds } : {};
  const schedule: ScheduleOptions = {
    scheduleId: retentionSweepScheduleId,
    spec: { intervals: [{ every: '1 day' }] },
    // The schedule appends the scheduled time to this id: each run's id names its batch.
    action: { type: 'startWorkflow', workflowType: 'retentionSweepWorkflow', workflowId: retentionSweepScheduleId, taskQueue: options.taskQueue, args: [input] },
    policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: '1 day' },
  };
  const handle = client.schedule.getHandle(retentionSweepScheduleId);
  try {
    await handle.update((previous) => ({ ...previous, spec: schedule.spec, action: schedule.action, policies: { ...previous.policies, ...schedule.policies } }));
    return;
  } catch (error) {
    if (!(error instanceof ScheduleNotFoundError)) throw error;
  }
  try {
    await client.schedule.create(schedule);
    options.log.info({ scheduleId: retentionSweepScheduleId }, 'retention sweep schedule created');
  } catch (error) {
    if (!(error instanceof ScheduleAlreadyRunning)) throw error; // another process created it first
  }
}
