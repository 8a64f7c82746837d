/**
 * Personal fields encrypted at rest (R11): a national identity number, an ID token, questionnaire answers.
 * Envelope encryption like the blob store's: a data key from the key service per value, AES-256-GCM, the
 * wrapped key stored beside the ciphertext. The encryption context names what the value is and whose it
 * is; it is bound to the wrapped key and used as the cipher's additional data, so a value copied onto
 * another row does not decrypt there.
 *
 * Layout: version byte (1) | wrapped key length (2, big-endian) | wrapped key | iv (12) | tag (16) | ciphertext.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { EncryptionContext, KeyService } from '../adapters/key-service';

const formatVersion = 1;
const ivLength = 12;
const tagLength = 16;

/**
 * Stored ciphertext that will never decrypt, whatever is retried: malformed, bound to another record, row or key
 * (its additional data or key id), or edited (its tag fails). Unlike a key service or database that cannot be
 * reached, this is the data itself: readers that can say so (an audit trail names the event as broken) catch it.
 */
export class UnreadableCiphertextError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UnreadableCiphertextError';
  }
}

/** decipher.final(), with a failed authentication said as what it is. */
export function finalOrUnreadable(decipher: { final(): Buffer }): Buffer {
  try {
    return decipher.final();
  } catch {
    throw new UnreadableCiphertextError('an encrypted value does not authenticate: it was edited, or belongs elsewhere');
  }
}

const additionalData = (context: EncryptionContext) =>
  Buffer.from(JSON.stringify(Object.keys(context).sort().map((key) => [key, context[key]])));

export async function encryptField(keyService: KeyService, context: EncryptionContext, plaintext: string): Promise<Buffer> {
  const dataKey = await keyService.generateDataKey(context);
  try {
    const iv = randomBytes(ivLength);
    const cipher = createCipheriv('aes-256-gcm', dataKey.plaintext, iv).setAAD(additionalData(context));
    const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    const header = Buffer.alloc(3);
    header.writeUInt8(formatVersion, 0);
    header.writeUInt16BE(dataKey.wrapped.length, 1);
    return Buffer.concat([header, dataKey.wrapped, iv, cipher.getAuthTag(), ciphertext]);
  } finally {
    dataKey.plaintext.fill(0);
  }
}

export async function decryptField(keyService: KeyService, context: EncryptionContext, sealed: Buffer): Promise<string> {
  if (sealed.length < 3 || sealed.readUInt8(0) !== formatVersion) throw new UnreadableCiphertextError('unknown encrypted field format');
  const wrappedLength = sealed.readUInt16BE(1);
  const wrapped = sealed.subarray(3, 3 + wrappedLength);
  const iv = sealed.subarray(3 + wrappedLength, 3 + wrappedLength + ivLength);
  const tag = sealed.subarray(3 + wrappedLength + ivLength, 3 + wrappedLength + ivLength + tagLength);
  const ciphertext = sealed.subarray(3 + wrappedLength + ivLength + tagLength);
  const key = await keyService.unwrapDataKey(Buffer.from(wrapped), context);
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, iv).setAAD(additionalData(context));
    decipher.setAuthTag(tag);
    return Buffer.concat([decipher.update(ciphertext), finalOrUnreadable(decipher)]).toString('utf8');
  } finally {
    key.fill(0);
  }
}
