/**
 * Random bearer secrets for people (session cookies, password links): 256 bits, shown once, stored only as
 * SHA-256 (enough for a value with that much entropy; a slow hash is for guessable secrets like passwords).
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export function newSecretToken(prefix: string): { token: string; hash: Buffer } {
  const token = `${prefix}${randomBytes(32).toString('base64url')}`;
  return { token, hash: secretTokenHash(token) };
}

export function secretTokenHash(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest();
}

/** `<base64url JSON>.<base64url HMAC>`: a value the browser keeps and the server can trust without a table. */
export function signValue(key: Buffer, value: object): string {
  const payload = Buffer.from(JSON.stringify(value), 'utf8').toString('base64url');
  return `${payload}.${createHmac('sha256', key).update(payload).digest('base64url')}`;
}

export function readSignedValue<T>(key: Buffer, signed: string | undefined): T | undefined {
  if (!signed) return undefined;
  const [payload, mac, ...rest] = signed.split('.');
  if (!payload || !mac || rest.length > 0) return undefined;
  const expected = createHmac('sha256', key).update(payload).digest();
  const given = Buffer.from(mac, 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
  try {
    return JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as T;
  } catch {
    return undefined;
  }
}
