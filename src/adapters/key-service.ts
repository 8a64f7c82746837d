/**
 * The key service behind envelope encryption: it hands out data keys and unwraps them again, and the
 * master key never leaves it. AWS KMS in production; by default a local master key file created on first
 * start (0600), for development and single-machine installs.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { KMSClient } from '@aws-sdk/client-kms';
import { KMS } from './aws-sdk';
import type { KeyServiceConfig } from '../config';

export interface DataKey {
  /** Use for one object, then drop; never store it. */
  plaintext: Buffer;
  /** Store this beside the object; only the key service can turn it back into the plaintext key. */
  wrapped: Buffer;
}

/** Bound to the wrapped key: unwrapping with another context fails (e.g. a key copied to another object). */
export type EncryptionContext = Record<string, string>;

export interface KeyService {
  readonly kind: KeyServiceConfig['kind'];
  generateDataKey(context: EncryptionContext): Promise<DataKey>;
  unwrapDataKey(wrapped: Buffer, context: EncryptionContext): Promise<Buffer>;
  checkReachable(): Promise<void>;
}

const wrapFormatVersion = 1;

function contextAsAad(context: EncryptionContext): Buffer {
  const sorted = Object.keys(context)
    .sort()
    .map((key) => [key, context[key]]);
  return Buffer.from(JSON.stringify(sorted));
}

export class LocalKeyService implements KeyService {
  readonly kind = 'local' as const;
  private readonly masterKey: Buffer;

  constructor(masterKeyPath: string) {
    this.masterKey = loadOrCreateMasterKey(masterKeyPath);
  }

  async generateDataKey(context: EncryptionContext): Promise<DataKey> {
    const plaintext = randomBytes(32);
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.masterKey, iv).setAAD(contextAsAad(context));
    const sealed = Buffer.concat([cipher.update(plaintext), cipher.final()]);
    const wrapped = Buffer.concat([Buffer.from([wrapFormatVersion]), iv, cipher.getAuthTag(), sealed]);
    return { plaintext, wrapped };
  }

  async unwrapDataKey(wrapped: Buffer, context: EncryptionContext): Promise<Buffer> {
    if (wrapped[0] !== wrapFormatVersion || wrapped.length !== 1 + 12 + 16 + 32) {
      throw new Error('wrapped data key has an unknown format');
    }
    const decipher = createDecipheriv('aes-256-gcm', this.masterKey, wrapped.subarray(1, 13))
      .setAAD(contextAsAad(context))
      .setAuthTag(wrapped.subarray(13, 29));
    try {
      return Buffer.concat([decipher.update(wrapped.subarray(29)), decipher.final()]);
    } catch {
      throw new Error(
        'a data key could not be unwrapped: it was wrapped under another master key (was DATA_DIR/keys/master.key ' +
          'replaced, or do processes sharing this database use different master keys?) or for another purpose',
      );
    }
  }

  async checkReachable(): Promise<void> {}
}

function loadOrCreateMasterKey(file: string): Buffer {
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  try {
    // 'wx' fails if the file exists, so two processes starting together never overwrite each other's key.
    fs.writeFileSync(file, randomBytes(32).toString('base64'), { flag: 'wx', mode: 0o600 });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  const key = Buffer.from(fs.readFileSync(file, 'utf8').trim(), 'base64');
  if (key.length !== 32) throw new Error(`the master key file ${file} does not hold a 256-bit key`);
  return key;
}

export class KmsKeyService implements KeyService {
  readonly kind = 'kms' as const;
  private readonly client: KMSClient;

  constructor(private readonly config: Extract<KeyServiceConfig, { kind: 'kms' }>) {
    this.client = new KMS.KMSClient({ region: config.region, endpoint: config.endpoint });
  }

  async generateDataKey(context: EncryptionContext): Promise<DataKey> {
    const result = await this.client.send(
      new KMS.GenerateDataKeyCommand({ KeyId: this.config.keyId, KeySpec: 'AES_256', EncryptionContext: context }),
    );
    return { plaintext: Buffer.from(result.Plaintext!), wrapped: Buffer.from(result.CiphertextBlob!) };
  }

  async unwrapDataKey(wrapped: Buffer, context: EncryptionContext): Promise<Buffer> {
    const result = await this.client.send(
      new KMS.DecryptCommand({ KeyId: this.config.keyId, CiphertextBlob: wrapped, EncryptionContext: context }),
    );
    return Buffer.from(result.Plaintext!);
  }

  async checkReachable(): Promise<void> {
    await this.client.send(new KMS.DescribeKeyCommand({ KeyId: this.config.keyId }));
  }

  destroy(): void {
    this.client.destroy();
  }
}
