/**
 * Endpoint signing secrets: Standard Webhooks' `whsec_` + base64 of 32 random bytes, shown to the caller
 * once and stored only encrypted (AES-256-GCM) under a data key of the key service, as organisation seals
 * are (src/signing/organization-seal-key.ts). The data key's encryption context, and the cipher's
 * additional data, name the organisation, endpoint and secret, so a row copied onto another endpoint
 * does not decrypt.
 */
import { createCipheriv, createDecipheriv, randomBytes, randomUUID } from 'node:crypto';
import type { DataSource, EntityManager } from 'typeorm';
import type { EncryptionContext, KeyService } from '../adapters/key-service';

const ivLength = 12;
const tagLength = 16;

export interface SecretIds {
  organizationId: string;
  endpointId: string;
  secretId: string;
}

export function newWebhookSecret(): string {
  return `whsec_${randomBytes(32).toString('base64')}`;
}

const contextFor = (ids: SecretIds): EncryptionContext => ({
  purpose: 'webhook-endpoint-secret',
  organization: ids.organizationId,
  endpoint: ids.endpointId,
  secret: ids.secretId,
});
const additionalData = (ids: SecretIds) => Buffer.from(`webhook-endpoint-secret:${ids.organizationId}:${ids.endpointId}:${ids.secretId}`);

/** Stores a new secret for the endpoint (inside the caller's transaction); answers the secret to show once. */
export async function storeNewSecret(
  db: DataSource | EntityManager,
  keyService: KeyService,
  ids: Omit<SecretIds, 'secretId'>,
): Promise<string> {
  const secret = newWebhookSecret();
  const full = { ...ids, secretId: randomUUID() };
  const dataKey = await keyService.generateDataKey(contextFor(full));
  try {
    const iv = randomBytes(ivLength);
    const cipher = createCipheriv('aes-256-gcm', dataKey.plaintext, iv).setAAD(additionalData(full));
    const ciphertext = Buffer.concat([cipher.update(secret, 'utf8'), cipher.final()]);
    await db.query(
      `INSERT INTO webhook_endpoint_secrets (id, endpoint_id, wrapped_key, encrypted_secret) VALUES ($1, $2, $3, $4)`,
      [full.secretId, ids.endpointId, dataKey.wrapped, Buffer.concat([iv, cipher.getAuthTag(), ciphertext])],
    );
  } finally {
    dataKey.plaintext.fill(0);
  }
  return secret;
}

/**
 * A stored secret that will never decrypt: its data key refused by the key service (another master key,
 * or a ciphertext KMS rejects) or its ciphertext failing authentication. Trying again cannot help, so a
 * delivery records a failed attempt instead of retrying it for ever. The message names no secret.
 */
export class UnreadableSecretError extends Error {
  constructor(options?: { cause?: unknown }) {
    super("the endpoint's secret cannot be read", options);
    this.name = 'UnreadableSecretError';
  }
}

/** KMS's answers for a ciphertext it will never decrypt (others, e.g. throttling or a network error, may pass). */
const kmsRefusals = new Set(['InvalidCiphertextException', 'IncorrectKeyException']);

async function unwrap(keyService: KeyService, wrapped: Buffer, context: EncryptionContext): Promise<Buffer> {
  try {
    return await keyService.unwrapDataKey(wrapped, context);
  } catch (error) {
    // The local key service has no outage: its refusal is the key's. KMS's is only for some answers.
    if (keyService.kind === 'local' || kmsRefusals.has((error as Error).name)) throw new UnreadableSecretError({ cause: error });
    throw error;
  }
}

/**
 * The secrets that sign now: the current one and, during a rotation's overlap, the previous one. Throws
 * `UnreadableSecretError` when one of them can never be decrypted.
 */
export async function signingSecrets(db: DataSource, keyService: KeyService, organizationId: string, endpointId: string): Promise<string[]> {
  const rows: Array<{ id: string; wrapped_key: Buffer; encrypted_secret: Buffer }> = await db.query(
    `SELECT id, wrapped_key, encrypted_secret FROM webhook_endpoint_secrets
      WHERE endpoint_id = $1 AND (expires_at IS NULL OR expires_at > now()) ORDER BY created_at DESC, id`,
    [endpointId],
  );
  const secrets: string[] = [];
  for (const row of rows) {
    const ids = { organizationId, endpointId, secretId: row.id };
    const key = await unwrap(keyService, row.wrapped_key, contextFor(ids));
    try {
      const sealed = row.encrypted_secret;
      const decipher = createDecipheriv('aes-256-gcm', key, sealed.subarray(0, ivLength))
        .setAAD(additionalData(ids))
        .setAuthTag(sealed.subarray(ivLength, ivLength + tagLength));
      secrets.push(Buffer.concat([decipher.update(sealed.subarray(ivLength + tagLength)), decipher.final()]).toString('utf8'));
    } catch (error) {
      // Modified, truncated or moved from another endpoint (the additional data names it).
      throw new UnreadableSecretError({ cause: error });
    } finally {
      key.fill(0);
    }
  }
  return secrets;
}
