/**
 * Rebuilds the primary blob store from the backup provider (`npm run sigill -- backup restore`): every
 * object the primary lacks is copied back as it is in the backup — ciphertext, readable again through the
 * keys in the key service and the database. The restore never overwrites an object the primary holds: one
 * there with other bytes (written or rewritten since its last copy, also while the restore runs) is newer
 * than the backup's and is kept. The copy itself is a put-if-absent decided by the store (S3 `If-None-Match:
 * *`, a hard link on the filesystem), so a write landing between the look and the copy is not lost either.
 * Replication still queued wins: an object whose deletion is pending is not brought back (asked per key as it
 * is reached, and again after each copy). Safe to run again: a second run finds nothing to do.
 */
import { Buffer } from 'node:buffer';
import type { ListableBlobStore } from '../adapters/blob-store';
import type { ReplicationOperation } from './backup-queue';

export interface RestoreCounts {
  /** Objects found in the backup. */
  examined: number;
  /** Missing from the primary, copied back. */
  restored: number;
  /** The same bytes in both. */
  unchanged: number;
  /** Present in the primary with other bytes (a newer write, possibly made while the restore ran): left as they are. */
  kept: number;
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
  const counts: RestoreCounts = { examined: 0, restored: 0, unchanged: 0, kept: 0, skippedDeleted: 0 };
  const present = (current: Uint8Array, backedUp: Uint8Array) => {
    if (Buffer.from(current).equals(Buffer.from(backedUp))) counts.unchanged += 1;
    else counts.kept += 1;
  };
  for await (const key of stores.backup.keys()) {
    counts.examined += 1;
    // Asked as each key is reached, not once at the start: Sigill may be writing and shredding meanwhile.
    if ((await options.latestOperation(key)) === 'delete') {
      counts.skippedDeleted += 1;
    } else {
      const backedUp = await stores.backup.get(key);
      // Deleted from the backup since the listing (a replicated deletion): nothing to restore.
      if (backedUp !== undefined) {
        const current = await stores.primary.get(key);
        if (current !== undefined) present(current, backedUp);
        else if (!(await stores.primary.putIfAbsent(key, backedUp))) {
          // Written since the look above: the primary's is newer.
          counts.kept += 1;
        } else if ((await options.latestOperation(key)) === 'delete') {
          // A deletion recorded while this copy was made (a record shredded; the store records it before
          // deleting) must not be undone by the copy: delete it again.
          await stores.primary.delete(key);
          counts.skippedDeleted += 1;
        } else counts.restored += 1;
      }
    }
    if (counts.examined % options.progressEvery === 0) options.onProgress({ ...counts });
  }
  return counts;
}
