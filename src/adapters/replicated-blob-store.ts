/**
 * The primary blob store when a backup provider is configured (BACKUP_S3_*): every write or delete that
 * succeeded is recorded for replication (src/backup/backup-queue.ts). It sits below the encryption
 * (src/adapters/index.ts), so what is replicated is the stored ciphertext. A write is recorded before it
 * starts too: a process killed between its write and the record after it leaves a row all the same (its
 * retried activity may find the object stored and not write it again). A delete is recorded after it: a
 * retried delete deletes again and records it then.
 */
import type { BlobStore, ListableBlobStore } from './blob-store';

export interface ReplicationJournal {
  /** `intent`: before the write or delete, without waking the drain (the record after it does). */
  record(key: string, operation: 'put' | 'delete', options?: { intent?: boolean }): Promise<void>;
}

export class ReplicatedBlobStore implements BlobStore {
  constructor(
    private readonly primary: ListableBlobStore,
    private readonly journal: ReplicationJournal,
  ) {}

  get kind(): BlobStore['kind'] {
    return this.primary.kind;
  }

  async put(key: string, bytes: Uint8Array): Promise<void> {
    await this.journal.record(key, 'put', { intent: true });
    await this.primary.put(key, bytes);
    await this.journal.record(key, 'put');
  }

  get(key: string): Promise<Uint8Array | undefined> {
    return this.primary.get(key);
  }

  async delete(key: string): Promise<void> {
    // Recorded before too: a restore running meanwhile (src/backup/restore-blobs.ts) that finds the object gone
    // sees the deletion recorded and does not bring it back.
    await this.journal.record(key, 'delete', { intent: true });
    await this.primary.delete(key);
    await this.journal.record(key, 'delete');
  }

  checkReachable(): Promise<void> {
    return this.primary.checkReachable();
  }
}
