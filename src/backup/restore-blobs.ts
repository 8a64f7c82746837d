/**
 * Rebuilds the primary blob store from the backup provider (`npm run sigill -- backup restore`): every
 * object the primary lacks, or holds with other bytes, is copied back as it is in the backup — ciphertext,
 * readable again through the keys in the key service and the database. Replication still queued wins: an
 * object whose deletion is pending is not brought back, and one rewritten since its last copy is kept as
 * the primary has it, also when it happens while the restore runs (asked per key as it is reached, and after
 * each copy for deletions). Safe to run again: a second run finds nothing to do.
 */
import { Buffer } from 'node:buffer';
import type { ListableBlobStore } from '../adapters/blob-store';
import type { ReplicationOperation } from './backup-queue';

export interface RestoreCounts {
  /** Objects found in the backup. */
  examined: number;
  /** Missing from the primary, copied back. */
  restored: number;
  /** Present in the primary with other bytes, replaced by the backup's. */
  replaced: number;
  /** The same bytes in both, or rewritten in the primary since the last copy (the primary's is newer). */
  unchanged: number;
  /** Deleted in the primary with the deletion not yet replicated: left out. */
  skippedDeleted: number;
}

export async function restoreBlobsFromBackup(
  stores: { backup: ListableBlobStore; primary: ListableBlobStore },
  options: {
    /** The key's latest write or delete not replicated yet or recorded since the restore began (BlobBackupQueue.latestOperation). */
    latestOperation(key: string): Promise<ReplicationOperation | undefined>;
    progressEvery: number;
    onProgress(counts: RestoreCounts): void;
  },
): Promise<RestoreCounts> {
  const counts: RestoreCounts = { examined: 0, restored: 0, replaced: 0, unchanged: 0, skippedDeleted: 0 };
  for await (const key of stores.backup.keys()) {
    counts.examined += 1;
    // Asked as each key is reached, not once at the start: Sigill may be writing and shredding meanwhile.
    const operation = await options.latestOperation(key);
    if (operation === 'delete') {
      counts.skippedDeleted += 1;
    } else {
      const backedUp = await stores.backup.get(key);
      // Deleted from the backup since the listing (a replicated deletion): nothing to restore.
      if (backedUp !== undefined) {
        const current = await stores.primary.get(key);
        if (current !== undefined && (operation === 'put' || Buffer.from(current).equals(Buffer.from(backedUp)))) {
          counts.unchanged += 1;
        } else {
          await stores.primary.put(key, backedUp);
          // A deletion recorded while this copy was made (a record shredded; the store records it before
          // deleting) must not be undone by the copy: delete it again.
          if ((await options.latestOperation(key)) === 'delete') {
            await stores.primary.delete(key);
            counts.skippedDeleted += 1;
          } else if (current === undefined) counts.restored += 1;
          else counts.replaced += 1;
        }
      }
    }
    if (counts.examined % options.progressEvery === 0) options.onProgress({ ...counts });
  }
  return counts;
}
