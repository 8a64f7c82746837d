/**
 * The operator's backup commands (src/cli.ts): `backup restore` rebuilds the primary blob store from the
 * backup provider, printing progress every `progressEvery` objects and a summary; `backup status` prints
 * the replication backlog and when the last object was replicated. Output is one JSON object per line on
 * stdout, so scripts can follow it.
 */
import type { Adapters } from '../adapters';
import { restoreBlobsFromBackup, type RestoreCounts } from './restore-blobs';

type Backup = NonNullable<Adapters['blobBackup']>;

export async function restoreFromBackup(
  backup: Backup,
  options: { progressEvery: number; write(line: string): void },
): Promise<RestoreCounts> {
  options.write(JSON.stringify({ event: 'restore_started' }));
  const startedAt = await backup.queue.position();
  const counts = await restoreBlobsFromBackup(
    { backup: backup.backup, primary: backup.stored },
    {
      latestOperation: (key) => backup.queue.latestOperation(key, startedAt),
      progressEvery: options.progressEvery,
      onProgress: (progress) => options.write(JSON.stringify({ event: 'restore_progress', ...progress })),
    },
  );
  options.write(JSON.stringify({ event: 'restore_finished', ...counts }));
  return counts;
}

export async function printBackupStatus(backup: Backup, write: (line: string) => void): Promise<void> {
  const status = await backup.queue.status();
  write(
    JSON.stringify({
      backlog: status.backlog,
      oldestPendingAt: status.oldestPendingAt?.toISOString() ?? null,
      lastReplicatedAt: status.lastReplicatedAt?.toISOString() ?? null,
      maxPendingAttempts: status.maxPendingAttempts,
    }),
  );
}
