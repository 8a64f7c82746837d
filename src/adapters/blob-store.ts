/**
 * Where document bytes live: a folder under DATA_DIR by default, an S3 bucket in production. Keys are
 * opaque paths chosen by callers (e.g. `orgs/<id>/requests/<id>/original`); writes are idempotent, so an
 * activity retried after a crash rewrites the same object instead of creating a second one.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import {
  GetObjectCommand,
  HeadBucketCommand,
  NoSuchKey,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import type { BlobStoreConfig } from '../config';

export interface BlobStore {
  readonly kind: BlobStoreConfig['kind'];
  put(key: string, bytes: Uint8Array): Promise<void>;
  /** The object's bytes, or undefined when there is none. */
  get(key: string): Promise<Uint8Array | undefined>;
  /** Throws when the store cannot be reached; used by /readyz. */
  checkReachable(): Promise<void>;
}

const safeKey = /^[A-Za-z0-9][A-Za-z0-9._/-]*$/;

function assertSafeKey(key: string): void {
  if (!safeKey.test(key) || key.split('/').some((part) => part === '..' || part === '')) {
    throw new Error(`invalid blob key: ${key}`);
  }
}

export class FilesystemBlobStore implements BlobStore {
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

  async get(key: string): Promise<Uint8Array | undefined> {
    assertSafeKey(key);
    try {
      return await fs.readFile(path.join(this.root, key));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
  }

  async checkReachable(): Promise<void> {
    await fs.mkdir(this.root, { recursive: true });
    await fs.access(this.root, fs.constants.W_OK);
  }
}

export class S3BlobStore implements BlobStore {
  readonly kind = 's3' as const;
  private readonly client: S3Client;

  constructor(private readonly config: Extract<BlobStoreConfig, { kind: 's3' }>) {
    this.client = new S3Client({
      region: config.region,
      endpoint: config.endpoint,
      forcePathStyle: config.forcePathStyle,
      // Some S3-compatible stores save the aws-chunked framing of checksummed uploads as object content.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    });
  }

  async put(key: string, bytes: Uint8Array): Promise<void> {
    assertSafeKey(key);
    await this.client.send(new PutObjectCommand({ Bucket: this.config.bucket, Key: key, Body: bytes }));
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    assertSafeKey(key);
    try {
      const object = await this.client.send(new GetObjectCommand({ Bucket: this.config.bucket, Key: key }));
      return await object.Body!.transformToByteArray();
    } catch (error) {
      if (error instanceof NoSuchKey) return undefined;
      throw error;
    }
  }

  async checkReachable(): Promise<void> {
    await this.client.send(new HeadBucketCommand({ Bucket: this.config.bucket }));
  }

  destroy(): void {
    this.client.destroy();
  }
}
