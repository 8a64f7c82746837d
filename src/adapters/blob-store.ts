/**
 * Where document bytes live: a folder under DATA_DIR by default, an S3 bucket in production. Keys are
 * opaque paths chosen by callers (e.g. `orgs/<id>/requests/<id>/original`); writes are idempotent, so an
 * activity retried after a crash rewrites the same object instead of creating a second one.
 */
import type { Dirent } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import { S3 } from './aws-sdk';
import type { BlobStoreConfig } from '../config';

export interface BlobStore {
  readonly kind: BlobStoreConfig['kind'];
  put(key: string, bytes: Uint8Array): Promise<void>;
  /** The object's bytes, or undefined when there is none. */
  get(key: string): Promise<Uint8Array | undefined>;
  /** Removes the object; removing one that is not there is no error (deletes are retried too). */
  delete(key: string): Promise<void>;
  /** Throws when the store cannot be reached; used by /readyz. */
  checkReachable(): Promise<void>;
}

/** A store whose keys can be walked: both implementations; restores and backups need it. */
export interface ListableBlobStore extends BlobStore {
  keys(): AsyncIterable<string>;
  /**
   * Writes the object only if the key holds none, decided by the store in one step (no window between a check
   * and the write); answers whether it wrote. A restore uses it so it never overwrites a newer write.
   */
  putIfAbsent(key: string, bytes: Uint8Array): Promise<boolean>;
}

const safeKey = /^[A-Za-z0-9][A-Za-z0-9._/-]*$/;

function assertSafeKey(key: string): void {
  if (!safeKey.test(key) || key.split('/').some((part) => part === '..' || part === '')) {
    throw new Error(`invalid blob key: ${key}`);
  }
}

export class FilesystemBlobStore implements ListableBlobStore {
  readonly kind = 'filesystem' as const;
  constructor(private readonly root: string) {}

  async put(key: string, bytes: Uint8Array): Promise<void> {
    assertSafeKey(key);
    const target = path.join(this.root, key);
    await fs.mkdir(path.dirname(target), { recursive: true });
    // Write then rename: a crash mid-write never leaves a truncated object under the real name.
    const temporary = `${target}.${process.pid}.${Date.now()}.partial`;
    await fs.writeFile(temporary, bytes, { mode: 0o600 });
    await fs.rename(temporary, target);
  }

  async putIfAbsent(key: string, bytes: Uint8Array): Promise<boolean> {
    assertSafeKey(key);
    const target = path.join(this.root, key);
    await fs.mkdir(path.dirname(target), { recursive: true });
    const temporary = `${target}.${process.pid}.${Date.now()}.partial`;
    await fs.writeFile(temporary, bytes, { mode: 0o600 });
    try {
      // A hard link fails if the name exists (rename would replace it): complete object or nothing, never over one.
      await fs.link(temporary, target);
      return true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw error;
    } finally {
      await fs.rm(temporary, { force: true });
    }
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    assertSafeKey(key);
    try {
      return await fs.readFile(path.join(this.root, key));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
  }

  async delete(key: string): Promise<void> {
    assertSafeKey(key);
    await fs.rm(path.join(this.root, key), { force: true });
  }

  /** Every stored key, in no particular order (restores and backups walk the whole store). */
  async *keys(): AsyncIterable<string> {
    const walk = async function* (dir: string, prefix: string): AsyncIterable<string> {
      let entries: Dirent[];
      try {
        entries = await fs.readdir(dir, { withFileTypes: true });
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
        throw error;
      }
      for (const entry of entries) {
        const key = prefix === '' ? entry.name : `${prefix}/${entry.name}`;
        if (entry.isDirectory()) yield* walk(path.join(dir, entry.name), key);
        // A write interrupted before its rename leaves a .partial file that is no object.
        else if (entry.isFile() && !entry.name.endsWith('.partial')) yield key;
      }
    };
    yield* walk(this.root, '');
  }

  async checkReachable(): Promise<void> {
    await fs.mkdir(this.root, { recursive: true });
    await fs.access(this.root, fs.constants.W_OK);
  }
}

export class S3BlobStore implements ListableBlobStore {
  readonly kind = 's3' as const;
  private readonly client: S3Client;

  /** `credentials` for a bucket of another account (the backup provider); otherwise the SDK's default chain. */
  constructor(private readonly config: Omit<Extract<BlobStoreConfig, { kind: 's3' }>, 'kind'> & { kind?: 's3'; credentials?: { accessKeyId: string; secretAccessKey: string } }) {
    this.client = new S3.S3Client({
      region: config.region,
      endpoint: config.endpoint,
      forcePathStyle: config.forcePathStyle,
      credentials: config.credentials,
      // Some S3-compatible stores save the aws-chunked framing of checksummed uploads as object content.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    });
  }

  async put(key: string, bytes: Uint8Array): Promise<void> {
    assertSafeKey(key);
    await this.client.send(new S3.PutObjectCommand({ Bucket: this.config.bucket, Key: key, Body: bytes }));
  }

  /** S3 conditional write (`If-None-Match: *`): 412 when the key exists, 409 when a concurrent write to it wins. */
  async putIfAbsent(key: string, bytes: Uint8Array): Promise<boolean> {
    assertSafeKey(key);
    try {
      await this.client.send(new S3.PutObjectCommand({ Bucket: this.config.bucket, Key: key, Body: bytes, IfNoneMatch: '*' }));
      return true;
    } catch (error) {
      const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
      if (status === 412 || status === 409) return false;
      throw error;
    }
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    assertSafeKey(key);
    try {
      const object = await this.client.send(new S3.GetObjectCommand({ Bucket: this.config.bucket, Key: key }));
      return await object.Body!.transformToByteArray();
    } catch (error) {
      if (error instanceof S3.NoSuchKey) return undefined;
      throw error;
    }
  }

  async delete(key: string): Promise<void> {
    assertSafeKey(key);
    await this.client.send(new S3.DeleteObjectCommand({ Bucket: this.config.bucket, Key: key }));
  }

  /** Every stored key, page by page (restores and backups walk the whole bucket). */
  async *keys(): AsyncIterable<string> {
    let token: string | undefined;
    do {
      const page = await this.client.send(new S3.ListObjectsV2Command({ Bucket: this.config.bucket, ContinuationToken: token }));
      for (const object of page.Contents ?? []) if (object.Key) yield object.Key;
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  }

  async checkReachable(): Promise<void> {
    await this.client.send(new S3.HeadBucketCommand({ Bucket: this.config.bucket }));
  }

  destroy(): void {
    this.client.destroy();
  }
}
