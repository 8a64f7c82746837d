/**
 * Idempotent creates. `POST /v1/signing-requests` honours an `Idempotency-Key` header: a retry with the same
 * key and the same body answers with the round the first call created (never a second round); the same key
 * with a different body is refused with 409 `conflict`. Keep the key with whatever you are retrying (a job,
 * an outbox row) so a retry after a timeout or a crash sends the same one.
 */

export const idempotencyKeyHeader = 'Idempotency-Key';

/** What the API accepts as a key: 1-255 visible ASCII characters. */
const acceptedKey = /^[\x21-\x7e]{1,255}$/;

/** A new random key (a UUID). */
export function idempotencyKey(): string {
  return globalThis.crypto.randomUUID();
}

/**
 * Request options carrying the key, to spread into a call:
 *
 *     await sigill.POST('/v1/signing-requests', { body, ...idempotent(key) });
 *
 * Refuses a key the API would refuse, before anything is sent.
 */
export function idempotent(key: string = idempotencyKey()): { headers: Record<typeof idempotencyKeyHeader, string> } {
  if (!acceptedKey.test(key)) throw new TypeError('An Idempotency-Key must be 1-255 visible ASCII characters.');
  return { headers: { [idempotencyKeyHeader]: key } };
}
