/**
 * Rebuilds the primary blob store from the backup provider (`npm run sigill -- backup restore`): every
 * object the primary lacks, or holds with other bytes, is copied back as it is in the backup — ciphertext,
 * readable again through the keys in the key service and the database. Replication still queued wins: an
 * object whose deletion is pending is not brought back, and one rewritten since its last copy is kept as
 * the primary has it. Safe to run again: a second run finds nothing to do.
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
  options: { pending: Map<string, ReplicationOperation>; progressEvery: number; onProgress(counts: RestoreCounts): void },
): Promise<RestoreCounts> {
  const counts: RestoreCounts = { examined: 0, restored: 0, replaced: 0, unchanged: 0, skippedDeleted: 0 };
  for await (const key of stores.backup.keys()) {
    counts.examined += 1;
    if (options.pending.get(key) === 'delete') {
      counts.skippedDeleted += 1;
    } else {
      const backedUp = await stores.backup.get(key);
      // Deleted from the backup since the listing (a replicated deletion): nothing to restore.
      if (backedUp !== undefined) {
        const current = await stores.primary.get(key);
        if (current !== undefined && (options.pending.get(key) === 'put' || Buffer.from(current).equals(Buffer.from(backedUp)))) {
          counts.unchanged += 1;
        } else {
          await stores.primary.put(key, backedUp);
          if (current === undefined) counts.restored += 1;
          else counts.replaced += 1;
        }
      }
    }
    if (counts.examined % options.progressEvery === 0) options.onProgress({ ...counts });
  }
  return counts;
}
