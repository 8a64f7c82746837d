/** The backup provider's replication (src/backup/backup-queue.ts): one idempotent batch per call. */
import { Context } from '@temporalio/activity';
import type { SigningContext } from '../signing/signing-context';

export function backupActivities(context: SigningContext) {
  return {
    async replicateQueuedBlobs(input: { limit: number }): Promise<{ replicated: number; remaining: number }> {
      const backup = context.adapters.blobBackup;
      // A worker without the backup configured has nothing to copy to; the rows wait for one that has.
      if (!backup) return { replicated: 0, remaining: 0 };
      const activity = Context.current();
      activity.heartbeat();
      return backup.queue.replicate(backup, { limit: input.limit, onProgress: () => activity.heartbeat() });
    },
  };
}

export type BackupActivities = ReturnType<typeof backupActivities>;
