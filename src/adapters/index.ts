/**
 * The one place where configuration picks an implementation for each external part. Callers receive the
 * interfaces and never know which implementation they got.
 */
import type { Config } from '../config';
import { FilesystemBlobStore, S3BlobStore, type BlobStore } from './blob-store';
import { EncryptedBlobStore } from './encrypted-blob-store';
import { KmsKeyService, LocalKeyService, type KeyService } from './key-service';
import { OutboxMailer, SmtpMailer, type Mailer } from './mailer';
import { HttpSmsSender, OutboxSmsSender, type SmsSender } from './sms-sender';

export interface Adapters {
  blobStore: BlobStore;
  keyService: KeyService;
  mailer: Mailer;
  smsSender: SmsSender;
  close(): void;
}

export function createAdapters(config: Config): Adapters {
  const rawBlobStore =
    config.blobStore.kind === 's3' ? new S3BlobStore(config.blobStore) : new FilesystemBlobStore(config.blobStore.root);
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
    close() {
      for (const adapter of [rawBlobStore, keyService, mailer] as Array<{ destroy?(): void; close?(): void }>) {
        adapter.destroy?.();
        adapter.close?.();
      }
    },
  };
}
