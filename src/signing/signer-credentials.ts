/**
 * Signer credentials: the personal link token, the PIN, and the short-lived session a correct PIN opens.
 *
 * Tokens and PINs are never stored, not even hashed: each is an HMAC of the signer id and a version number
 * under the deployment secret, recomputed when an email or SMS is sent (so a retried send carries the same
 * value and nothing secret passes through workflow history) and when a signer presents it (compared in
 * constant time). Issuing a new PIN or link is bumping its version, which invalidates the old one.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export interface SignerCredentialVersions {
  signerId: string;
  linkVersion: number;
  pinVersion: number;
}

/** A session's claims: the versions it was opened with and, after eID, the identification that opened it. */
export interface SignerSessionClaims extends SignerCredentialVersions {
  identificationId?: string;
}

const sessionLifetimeMs = 30 * 60_000;

export class SignerCredentials {
  constructor(private readonly secret: Buffer) {}

  private mac(...parts: Array<string | number>): Buffer {
    return createHmac('sha256', this.secret).update(parts.join('\u0000')).digest();
  }

  /** `<signer uuid without dashes><32 hex mac>`: the signer is found from the token itself. */
  linkToken(signer: Pick<SignerCredentialVersions, 'signerId' | 'linkVersion'>): string {
    const mac = this.mac('link', signer.signerId, signer.linkVersion).subarray(0, 16).toString('hex');
    return `${signer.signerId.replaceAll('-', '')}${mac}`;
  }

  /** The signer id a token claims to be for; the caller must still check it with `linkTokenMatches`. */
  static signerIdOfToken(token: string): string | undefined {
    const match = /^([0-9a-f]{32})[0-9a-f]{32}$/.exec(token);
    if (!match) return undefined;
    const hex = match[1]!;
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  }

  linkTokenMatches(token: string, signer: Pick<SignerCredentialVersions, 'signerId' | 'linkVersion'>): boolean {
    return constantTimeEqual(token, this.linkToken(signer));
  }

  /** Six digits. */
  pin(signer: Pick<SignerCredentialVersions, 'signerId' | 'pinVersion'>): string {
    const value = this.mac('pin', signer.signerId, signer.pinVersion).readUInt32BE(0) % 1_000_000;
    return value.toString().padStart(6, '0');
  }

  pinMatches(pin: string, signer: Pick<SignerCredentialVersions, 'signerId' | 'pinVersion'>): boolean {
    return constantTimeEqual(pin, this.pin(signer));
  }

  /**
   * A stateless session token bound to the credential versions it was opened with: a new PIN or link
   * ends every session opened before.
   */
  openSession(signer: SignerSessionClaims, now: number): string {
    const body = Buffer.from(
      JSON.stringify({
        s: signer.signerId,
        l: signer.linkVersion,
        p: signer.pinVersion,
        ...(signer.identificationId ? { i: signer.identificationId } : {}),
        e: now + sessionLifetimeMs,
      }),
    ).toString('base64url');
    return `${body}.${this.mac('session', body).toString('base64url')}`;
  }

  /** The session's claims when its signature is right and it has not expired; versions are checked by the caller. */
  readSession(token: string, now: number): SignerSessionClaims | undefined {
    const [body, mac] = token.split('.');
    if (!body || !mac || !constantTimeEqual(mac, this.mac('session', body).toString('base64url'))) return undefined;
    try {
      const claims = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as { s: string; l: number; p: number; i?: string; e: number };
      if (typeof claims.e !== 'number' || claims.e < now) return undefined;
      return { signerId: claims.s, linkVersion: claims.l, pinVersion: claims.p, ...(typeof claims.i === 'string' ? { identificationId: claims.i } : {}) };
    } catch {
      return undefined;
    }
  }
}

function constantTimeEqual(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}
