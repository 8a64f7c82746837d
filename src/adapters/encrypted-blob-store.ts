/**
 * Encryption at rest for every stored document (R11), whichever store holds the bytes: each object gets a
 * data key of its own from the key service (envelope encryption), so the store alone — a copied bucket,
 * a backup of DATA_DIR — reveals nothing, and the master key (local file or KMS) never touches a document.
 *
 * One stored object, self-describing so it can be read back without any other record:
 *
 *   magic "SGB" · version 0x01 · wrapped-key length (uint16 BE) · wrapped data key · IV (12) · tag (16) · ciphertext
 *
 * Objects of a record (orgs/<org>/requests/<id>/..., /kyc/, /dsr/, /exports/) whose record has a key that can
 * be destroyed (src/privacy/record-keys.ts) have their data key wrapped under that record key instead:
 *
 *   magic "SGB" · version 0x02 · record key id (16) · wrapped-key length (uint16 BE) · wrapped data key
 *     (IV 12 · tag 16 · key 32, AES-256-GCM under the record key) · IV (12) · tag (16) · ciphertext
 *
 * Destroying the record key makes them unreadable in every copy (backups included). Version 1 objects — other
 * keys, records from before record keys — are still written and read as before.
 *
 * The magic deliberately does not start with `%PDF`: a plaintext document in the store is recognisable as
 * such, and an object of this format is never mistaken for a document.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { BlobStore } from './blob-store';
import type { EncryptionContext, KeyService } from './key-service';
import { bytesToUuid, RecordKeyDestroyedError, recordOfBlobKey, uuidToBytes, type RecordKeyring, type UnwrappedRecordKey } from '../privacy/record-keys';

const magic = Buffer.from('SGB', 'latin1');
const formatVersion = 1;
const recordKeyFormatVersion = 2;
const keyIdLength = 16;
const ivLength = 12; // the GCM nonce size that needs no extra hashing; random per object, never reused with its key
const tagLength = 16;
const headerFixedLength = magic.length + 1 + 2;

/**
 * The object key is part of the context, so a ciphertext copied or renamed to another key fails to
 * unwrap: nobody with write access to the store can make document A appear as document B.
 */
const contextFor = (blobKey: string): EncryptionContext => ({ purpose: 'sigill-blob', blobKey });

/** Thrown when a stored object cannot be turned back into its plaintext; never carries any of the bytes. */
export class BlobDecryptionError extends Error {
  /**
   * True when the stored bytes themselves are wrong (format, truncation, failed authentication): retrying
   * cannot help. False when the key service could not unwrap the data key, which may be an outage.
   */
  readonly permanent: boolean;

  constructor(blobKey: string, reason: string, options?: { cause?: unknown; permanent?: boolean }) {
    super(`the stored object ${blobKey} could not be decrypted: ${reason}`, { cause: options?.cause });
    this.name = 'BlobDecryptionError';
    this.permanent = options?.permanent ?? true;
  }
}

export class EncryptedBlobStore implements BlobStore {
  constructor(
    private readonly inner: BlobStore,
    private readonly keyService: KeyService,
    private recordKeys?: RecordKeyring,
  ) {}

  /** The keyring needs the database, which exists only after the adapters: attached by createSigningContext. */
  useRecordKeys(recordKeys: RecordKeyring): void {
    this.recordKeys = recordKeys;
  }

  get kind(): BlobStore['kind'] {
    return this.inner.kind;
  }

  async put(key: string, bytes: Uint8Array): Promise<void> {
    const record = this.recordKeys && recordOfBlobKey(key);
    // A shredded record's key throws RecordKeyDestroyedError: nothing new is stored for it.
    const recordKey = record ? await this.recordKeys!.keyOf(record) : undefined;
    if (recordKey) return this.putUnderRecordKey(key, bytes, recordKey);
    const dataKey = await this.keyService.generateDataKey(contextFor(key));
    try {
      if (dataKey.wrapped.length > 0xffff) throw new Error('the key service returned an oversized wrapped data key');
      const iv = randomBytes(ivLength);
      const header = Buffer.concat([magic, Buffer.from([formatVersion]), uint16(dataKey.wrapped.length), dataKey.wrapped, iv]);
      const cipher = createCipheriv('aes-256-gcm', dataKey.plaintext, iv).setAAD(additionalData(header, key));
      const ciphertext = Buffer.concat([cipher.update(bytes), cipher.final()]);
      await this.inner.put(key, Buffer.concat([header, cipher.getAuthTag(), ciphertext]));
    } finally {
      // Only our copy: OpenSSL's and the SDK's copies are out of reach, but this one would otherwise sit in
      // the heap until collected.
      dataKey.plaintext.fill(0);
    }
  }

  private async putUnderRecordKey(key: string, bytes: Uint8Array, recordKey: UnwrappedRecordKey): Promise<void> {
    const dataKey = randomBytes(32);
    try {
      const wrapIv = randomBytes(ivLength);
      const keyId = uuidToBytes(recordKey.keyId);
      const wrapper = createCipheriv('aes-256-gcm', recordKey.key, wrapIv).setAAD(dataKeyAad(keyId, key));
      const sealedKey = Buffer.concat([wrapper.update(dataKey), wrapper.final()]);
      const wrappedKey = Buffer.concat([wrapIv, wrapper.getAuthTag(), sealedKey]);
      const iv = randomBytes(ivLength);
      const header = Buffer.concat([magic, Buffer.from([recordKeyFormatVersion]), keyId, uint16(wrappedKey.length), wrappedKey, iv]);
      const cipher = createCipheriv('aes-256-gcm', dataKey, iv).setAAD(additionalData(header, key));
      const ciphertext = Buffer.concat([cipher.update(bytes), cipher.final()]);
      await this.inner.put(key, Buffer.concat([header, cipher.getAuthTag(), ciphertext]));
    } finally {
      dataKey.fill(0);
    }
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    const stored = await this.inner.get(key);
    if (stored === undefined) return undefined;
    const object = parse(Buffer.from(stored.buffer, stored.byteOffset, stored.byteLength), key);

    let dataKey: Buffer;
    try {
      dataKey = object.recordKeyId
        ? await this.unwrapUnderRecordKey(key, object.recordKeyId, object.wrappedKey)
        : await this.keyService.unwrapDataKey(object.wrappedKey, contextFor(key));
    } catch (error) {
      // A shredded record (callers answer 410), or bytes that are wrong for good: not worth retrying as an outage.
      if (error instanceof RecordKeyDestroyedError || error instanceof BlobDecryptionError) throw error;
      // The key service's own message tells a network or permission problem (worth retrying) from a refused
      // ciphertext (another master key or KMS key, or an object copied from another key); it holds no secret.
      throw new BlobDecryptionError(key, `its data key could not be unwrapped: ${(error as Error).message}`, {
        cause: error,
        permanent: false,
      });
    }
    try {
      const decipher = createDecipheriv('aes-256-gcm', dataKey, object.iv)
        .setAAD(additionalData(object.header, key))
        .setAuthTag(object.tag);
      return Buffer.concat([decipher.update(object.ciphertext), decipher.final()]);
    } catch {
      // GCM's own message ("unable to authenticate data") says nothing useful; the cause is always the same.
      throw new BlobDecryptionError(key, 'it failed authentication (modified or truncated)');
    } finally {
      dataKey.fill(0);
    }
  }

  private async unwrapUnderRecordKey(blobKey: string, keyId: Buffer, wrappedKey: Buffer): Promise<Buffer> {
    if (!this.recordKeys) throw new Error('the object is under a record key and this process has no record keyring');
    if (wrappedKey.length !== ivLength + tagLength + 32) throw new BlobDecryptionError(blobKey, 'its wrapped data key is malformed');
    const recordKey = await this.recordKeys.keyById(bytesToUuid(keyId));
    const decipher = createDecipheriv('aes-256-gcm', recordKey.key, wrappedKey.subarray(0, ivLength))
      .setAAD(dataKeyAad(keyId, blobKey))
      .setAuthTag(wrappedKey.subarray(ivLength, ivLength + tagLength));
    try {
      return Buffer.concat([decipher.update(wrappedKey.subarray(ivLength + tagLength)), decipher.final()]);
    } catch {
      throw new BlobDecryptionError(blobKey, 'its data key failed authentication under its record key (modified, or copied from another object)');
    }
  }

  /**
   * Rewrites an object stored before its record had a key under that key (src/privacy/move-to-record-keys.ts).
   * True when it was rewritten; false when it is missing, already under a record key, or not a record's.
   */
  async moveUnderRecordKey(key: string): Promise<boolean> {
    const record = this.recordKeys && recordOfBlobKey(key);
    if (!record || !(await this.recordKeys!.keyOf(record))) return false;
    const stored = await this.inner.get(key);
    if (stored === undefined || stored[magic.length] === recordKeyFormatVersion) return false;
    const plaintext = await this.get(key);
    if (plaintext === undefined) return false;
    await this.put(key, plaintext);
    return true;
  }

  /** Nothing to decrypt: the stored object goes (its data key went with it, wrapped inside it). */
  delete(key: string): Promise<void> {
    return this.inner.delete(key);
  }

  checkReachable(): Promise<void> {
    return this.inner.checkReachable();
  }
}

/**
 * The header (version, wrapped key, IV) and the object key are authenticated with the content: a changed
 * header byte or a renamed object fails even with a key service that ignored the context.
 */
function additionalData(header: Buffer, blobKey: string): Buffer {
  return Buffer.concat([header, Buffer.from(blobKey, 'utf8')]);
}

/** The data key is bound to its record key and object key: a wrapped key copied to another object fails. */
function dataKeyAad(keyId: Buffer, blobKey: string): Buffer {
  return Buffer.concat([Buffer.from('sigill-blob-data-key:', 'utf8'), keyId, Buffer.from(blobKey, 'utf8')]);
}

function uint16(value: number): Buffer {
  const buffer = Buffer.alloc(2);
  buffer.writeUInt16BE(value);
  return buffer;
}

function parse(stored: Buffer, key: string) {
  if (stored.length < headerFixedLength || !stored.subarray(0, magic.length).equals(magic)) {
    // Also what a plaintext object written before encryption was switched on looks like.
    throw new BlobDecryptionError(key, 'it is not an encrypted Sigill object');
  }
  const version = stored[magic.length];
  if (version !== formatVersion && version !== recordKeyFormatVersion) throw new BlobDecryptionError(key, `its format version ${version} is unknown`);
  // Version 2 names its record key between the version and the wrapped-key length.
  const keyIdEnd = magic.length + 1 + (version === recordKeyFormatVersion ? keyIdLength : 0);
  const wrappedStart = keyIdEnd + 2;
  if (stored.length < wrappedStart) throw new BlobDecryptionError(key, 'it is truncated');
  const wrappedLength = stored.readUInt16BE(keyIdEnd);
  const ivStart = wrappedStart + wrappedLength;
  const tagStart = ivStart + ivLength;
  const ciphertextStart = tagStart + tagLength;
  if (wrappedLength === 0 || stored.length < ciphertextStart) throw new BlobDecryptionError(key, 'it is truncated');
  return {
    recordKeyId: version === recordKeyFormatVersion ? stored.subarray(magic.length + 1, keyIdEnd) : undefined,
    header: stored.subarray(0, tagStart),
    wrappedKey: stored.subarray(wrappedStart, ivStart),
    iv: stored.subarray(ivStart, tagStart),
    tag: stored.subarray(tagStart, ciphertextStart),
    ciphertext: stored.subarray(ciphertextStart),
  };
}
