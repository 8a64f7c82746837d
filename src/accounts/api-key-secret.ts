/**
 * API key format: `sgl_<prefix>_<secret>`. The prefix finds the row and is safe to display; the key as a
 * whole is stored only as its SHA-256. A slow hash adds nothing here: the secret is 256 random bits, not a
 * password a person chose, and a fast hash keeps every authenticated request cheap.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

const keyPattern = /^sgl_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$/;

export interface NewApiKeySecret {
  /** Shown to its owner once, never stored. */
  key: string;
  prefix: string;
  hash: Buffer;
}

export function hashApiKey(key: string): Buffer {
  return createHash('sha256').update(key).digest();
}

export function generateApiKeySecret(): NewApiKeySecret {
  const prefix = randomBytes(8).toString('hex');
  const key = `sgl_${prefix}_${randomBytes(32).toString('base64url')}`;
  return { key, prefix, hash: hashApiKey(key) };
}

/** The prefix of a well-formed key, or undefined: malformed keys are rejected before any database read. */
export function apiKeyPrefix(key: string): string | undefined {
  return keyPattern.exec(key)?.[1];
}

export function apiKeyMatches(key: string, storedHash: Buffer): boolean {
  const hash = hashApiKey(key);
  return hash.length === storedHash.length && timingSafeEqual(hash, storedHash);
}
