/**
 * Encrypts every Temporal payload Sigill writes — workflow and activity inputs and results, Update
 * arguments, query answers, failure messages — so workflow history holds no readable personal data (R11).
 *
 * Payloads of a record's workflow (signing-request-<id>, kyc-case-<id>, data-subject-request-<id>,
 * organization-export-<id>; the SDK passes the workflow id as the serialization context, for activities the
 * id of the workflow that scheduled them) are encrypted under that record's key (src/privacy/record-keys.ts):
 * metadata names the record key id, never a wrapped key, so destroying the record key makes its history
 * unreadable wherever it is copied (R13). Decode finds the key by that id, with or without a context.
 *
 * Everything else — other workflows, calls without a context (the remote codec's encode), records from
 * before record keys — is encrypted as before: AES-256-GCM under a deployment data key from the key service
 * (KMS in production), rotated after an hour or 10,000 payloads; its wrapped form travels in each payload's
 * metadata, so any process with access to the key service can decode any payload, and unwrapped keys are
 * cached by their wrapped form. Payloads that are not ours (e.g. recorded before encryption) pass through
 * decode unchanged.
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import type { Payload, PayloadCodec, SerializationContext } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import type { KeyService } from './key-service';
import { RecordKeyDestroyedError, recordOfWorkflowId, type RecordKeyring, type UnwrappedRecordKey } from '../privacy/record-keys';

const ENCODING = 'binary/sigill-encrypted';
/** Encrypted under a record key; metadata `sigill-record-key` holds the key id (as text). */
export const RECORD_ENCODING = 'binary/sigill-record-encrypted';
export const RECORD_KEY_METADATA = 'sigill-record-key';
/**
 * Stands in for a payload of a deleted record: an activity of a shredded round that still finishes (an
 * abandoned attempt) has its result or failure encoded after the key is gone. Throwing would stop the whole
 * worker; writing it under another key would keep what was deleted. So nothing of it is sent.
 */
export const DELETED_RECORD_ENCODING = 'binary/sigill-record-deleted';
const encryptionContext = { purpose: 'sigill-temporal-payloads' };
const rotateAfterMs = 60 * 60_000;
const rotateAfterUses = 10_000;
const maxCachedKeys = 64;

interface ActiveKey {
  plaintext: Buffer;
  wrapped: Buffer;
  createdAt: number;
  uses: number;
}

export class EncryptionPayloadCodec implements PayloadCodec {
  private active: Promise<ActiveKey> | undefined;
  private readonly unwrapped = new Map<string, Promise<Buffer>>();

  constructor(
    private readonly keyService: KeyService,
    private readonly now: () => number = Date.now,
    /** Without it (tools that only read old histories), every payload goes under the deployment key. */
    private readonly recordKeys?: RecordKeyring,
  ) {}

  async encode(payloads: Payload[], context?: SerializationContext): Promise<Payload[]> {
    let recordKey: UnwrappedRecordKey | undefined;
    try {
      recordKey = await this.recordKeyFor(context);
    } catch (error) {
      if (!(error instanceof RecordKeyDestroyedError)) throw error;
      return payloads.map(() => ({ metadata: { encoding: Buffer.from(DELETED_RECORD_ENCODING) }, data: new Uint8Array() }));
    }
    return Promise.all(
      payloads.map(async (payload) => {
        if (recordKey) return encryptUnderRecordKey(recordKey, payload);
        const key = await this.currentKey();
        const iv = randomBytes(12);
        const cipher = createCipheriv('aes-256-gcm', key.plaintext, iv);
        const plaintext = temporal.api.common.v1.Payload.encode(payload).finish();
        const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
        return {
          metadata: { encoding: Buffer.from(ENCODING), 'sigill-data-key': key.wrapped },
          data: Buffer.concat([iv, cipher.getAuthTag(), ciphertext]),
        };
      }),
    );
  }

  /** The context is not needed: a record-encrypted payload names its key. */
  async decode(payloads: Payload[], _context?: SerializationContext): Promise<Payload[]> {
    return Promise.all(
      payloads.map(async (payload) => {
        const encoding = Buffer.from(payload.metadata?.encoding ?? []).toString();
        if (encoding === RECORD_ENCODING) return this.decryptUnderRecordKey(payload);
        if (encoding === DELETED_RECORD_ENCODING) throw new RecordKeyDestroyedError();
        if (encoding !== ENCODING) return payload;
        const wrapped = payload.metadata?.['sigill-data-key'];
        if (!wrapped || !payload.data || payload.data.length < 28) throw new Error('an encrypted payload is malformed');
        const key = await this.unwrap(Buffer.from(wrapped));
        const data = Buffer.from(payload.data);
        const decipher = createDecipheriv('aes-256-gcm', key, data.subarray(0, 12)).setAuthTag(data.subarray(12, 28));
        const plaintext = Buffer.concat([decipher.update(data.subarray(28)), decipher.final()]);
        return temporal.api.common.v1.Payload.decode(plaintext) as Payload;
      }),
    );
  }

  /** The record key for payloads of a record's workflow (or its activities); undefined: the deployment key. */
  private async recordKeyFor(context: SerializationContext | undefined): Promise<UnwrappedRecordKey | undefined> {
    const record = this.recordKeys && context?.workflowId ? recordOfWorkflowId(context.workflowId) : undefined;
    // A shredded record's key throws RecordKeyDestroyedError: nothing new is written for it (see encode).
    return record ? this.recordKeys!.keyOf(record) : undefined;
  }

  private async decryptUnderRecordKey(payload: Payload): Promise<Payload> {
    const keyId = payload.metadata?.[RECORD_KEY_METADATA];
    if (!this.recordKeys || !keyId || !payload.data || payload.data.length < 28) throw new Error('an encrypted payload is malformed');
    const key = await this.recordKeys.keyById(Buffer.from(keyId).toString());
    const data = Buffer.from(payload.data);
    const decipher = createDecipheriv('aes-256-gcm', key.key, data.subarray(0, 12))
      .setAAD(recordPayloadAad(key.keyId))
      .setAuthTag(data.subarray(12, 28));
    const plaintext = Buffer.concat([decipher.update(data.subarray(28)), decipher.final()]);
    return temporal.api.common.v1.Payload.decode(plaintext) as Payload;
  }

  private async currentKey(): Promise<ActiveKey> {
    const pending = this.active;
    let key = pending && (await pending);
    if (!key || key.uses >= rotateAfterUses || this.now() - key.createdAt >= rotateAfterMs) {
      // Encoders that found the same stale key share one replacement instead of each asking the key service.
      if (this.active === pending) {
        const replacement = this.keyService
          .generateDataKey(encryptionContext)
          .then((dataKey) => ({ ...dataKey, createdAt: this.now(), uses: 0 }));
        // A failed request to the key service must not poison every later encode.
        replacement.catch(() => {
          if (this.active === replacement) this.active = undefined;
        });
        this.active = replacement;
      }
      key = await this.active!;
    }
    key.uses += 1;
    return key;
  }

  private unwrap(wrapped: Buffer): Promise<Buffer> {
    const id = createHash('sha256').update(wrapped).digest('hex');
    let key = this.unwrapped.get(id);
    if (!key) {
      if (this.unwrapped.size >= maxCachedKeys) this.unwrapped.delete(this.unwrapped.keys().next().value!);
      key = this.keyService.unwrapDataKey(wrapped, encryptionContext);
      key.catch(() => this.unwrapped.delete(id));
      this.unwrapped.set(id, key);
    }
    return key;
  }
}

const recordPayloadAad = (keyId: string) => Buffer.from(`sigill-temporal-payload:${keyId}`);

function encryptUnderRecordKey(key: UnwrappedRecordKey, payload: Payload): Payload {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key.key, iv).setAAD(recordPayloadAad(key.keyId));
  const plaintext = temporal.api.common.v1.Payload.encode(payload).finish();
  const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return {
    metadata: { encoding: Buffer.from(RECORD_ENCODING), [RECORD_KEY_METADATA]: Buffer.from(key.keyId) },
    data: Buffer.concat([iv, cipher.getAuthTag(), ciphertext]),
  };
}
