/**
 * The primary blob store when a backup provider is configured (BACKUP_S3_*): every write or delete that
 * succeeded is recorded for replication (src/backup/backup-queue.ts). It sits below the encryption
 * (src/adapters/index.ts), so what is replicated is the stored ciphertext. A failed write records nothing;
 * a crash between the write and the record is retried by the caller (activities, API clients) like any
 * failed write, and that retry records it.
 */
import type { BlobStore, ListableBlobStore } from './blob-store';

export interface ReplicationJournal {
  record(key: string, operation: 'put' | 'delete'): Promise<void>;
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
    await this.primary.put(key, bytes);
    await this.journal.record(key, 'put');
  }

  get(key: string): Promise<Uint8Array | undefined> {
    return this.primary.get(key);
  }

  async delete(key: string): Promise<void> {
    await this.primary.delete(key);
    await this.journal.record(key, 'delete');
  }

  checkReachable(): Promise<void> {
    return this.primary.checkReachable();
  }
}
