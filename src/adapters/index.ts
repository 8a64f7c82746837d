/**
 * The one place where configuration picks an implementation for each external part. Callers receive the
 * interfaces and never know which implementation they got.
 */
import type { DataSource } from 'typeorm';
import type { Config } from '../config';
import { BlobBackupQueue } from '../backup/backup-queue';
import { FilesystemBlobStore, S3BlobStore, type BlobStore, type ListableBlobStore } from './blob-store';
import { EncryptedBlobStore } from './encrypted-blob-store';
import { ReplicatedBlobStore } from './replicated-blob-store';
import { KmsKeyService, LocalKeyService, type KeyService } from './key-service';
import { OutboxMailer, SmtpMailer, type Mailer } from './mailer';
import { HttpSmsSender, OutboxSmsSender, type SmsSender } from './sms-sender';

export interface Adapters {
  blobStore: BlobStore;
  keyService: KeyService;
  mailer: Mailer;
  smsSender: SmsSender;
  /**
   * Present when a backup provider is configured (BACKUP_S3_*): the primary store's stored bytes
   * (ciphertext, below the encryption), the backup store, and the queue of writes to replicate.
   */
  blobBackup?: { stored: ListableBlobStore; backup: ListableBlobStore; queue: BlobBackupQueue };
  close(): void;
}

/** `dataSource` is needed when a backup provider is configured: the replication queue is in the database. */
export function createAdapters(config: Config, deps: { dataSource?: DataSource } = {}): Adapters {
  const storedBlobs: ListableBlobStore =
    config.blobStore.kind === 's3' ? new S3BlobStore(config.blobStore) : new FilesystemBlobStore(config.blobStore.root);
  let rawBlobStore: BlobStore = storedBlobs;
  let blobBackup: Adapters['blobBackup'];
  if (config.blobBackup) {
    if (!deps.dataSource) throw new Error('the blob backup needs the database for its replication queue');
    const queue = new BlobBackupQueue(deps.dataSource);
    blobBackup = { stored: storedBlobs, backup: new S3BlobStore(config.blobBackup), queue };
    // Below the encryption: the backup receives exactly the ciphertext the primary stores.
    rawBlobStore = new ReplicatedBlobStore(storedBlobs, queue);
  }
  const keyService =
    config.keys.kind === 'kms' ? new KmsKeyService(config.keys) : new LocalKeyService(config.keys.masterKeyPath);
  // Every stored document is encrypted at rest (R11), in either store; callers never see the ciphertext.
  const blobStore = new EncryptedBlobStore(rawBlobStore, keyService);
  const mailer =
    config.mail.kind === 'smtp'
      ? new SmtpMailer(config.mail.url, config.mail.from)
      : new OutboxMailer(config.mail.dir, config.mail.from);
  const smsSender =
    config.sms.kind === 'http' ? new HttpSmsSender(config.sms) : new OutboxSmsSender(config.sms.dir, config.sms.sender);

  return {
    blobStore,
    keyService,
    mailer,
    smsSender,
    blobBackup,
    close() {
      for (const adapter of [storedBlobs, blobBackup?.backup, keyService, mailer] as Array<{ destroy?(): void; close?(): void } | undefined>) {
        adapter?.destroy?.();
        adapter?.close?.();
      }
    },
  };
}
