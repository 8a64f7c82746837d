/**
 * A data-subject requester's link, confirmation code and session, derived like a KYC customer's
 * (src/kyc/customer-credentials.ts): HMACs of the request id and a version under the deployment secret,
 * never stored, under purpose labels of their own (`dsr`), so no signer's or customer's credential opens a
 * request. A new code is a new version: the old one stops working.
 *
 * The same secret keys the blind indexes of the requester's email and phone (`email_index`, `phone_index`):
 * a keyed hash of the normalised value lets a request be found by the person's address without the address
 * in clear, and a copy of the database alone cannot test guesses against it.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { loadDeploymentSecret } from '../signing/deployment-secret';
import type { SigningContext } from '../signing/signing-context';

/** A code is typed in soon after it arrives. */
export const codeLifetimeMs = 24 * 60 * 60_000;
/** The requester's status session: short, the code opens a new one. */
export const sessionLifetimeMs = 30 * 60_000;
export const maxCodeAttempts = 5;

export interface RequesterSession {
  dsrId: string;
  linkVersion: number;
  /** The code version the session was opened with; a download needs a newer one. */
  codeVersion: number;
}

export class RequesterCredentials {
  constructor(private readonly secret: Buffer) {}

  private mac(...parts: Array<string | number>): Buffer {
    return createHmac('sha256', this.secret).update(['dsr', ...parts].join('\u0000')).digest();
  }

  /** `<request uuid without dashes><32 hex mac>`: the request is found from the token itself. */
  linkToken(dsrId: string, linkVersion: number): string {
    return `${dsrId.replaceAll('-', '')}${this.mac('requester-link', dsrId, linkVersion).subarray(0, 16).toString('hex')}`;
  }

  static dsrIdOfToken(token: string): string | undefined {
    const match = /^([0-9a-f]{32})[0-9a-f]{32}$/.exec(token);
    if (!match) return undefined;
    const hex = match[1]!;
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  }

  linkTokenMatches(token: string, dsrId: string, linkVersion: number): boolean {
    return constantTimeEqual(token, this.linkToken(dsrId, linkVersion));
  }

  /** One code per channel, so the request knows which of the requester's contacts they proved. */
  code(dsrId: string, codeVersion: number, channel: 'email' | 'sms'): string {
    return (this.mac('confirmation-code', channel, dsrId, codeVersion).readUInt32BE(0) % 100_000_000).toString().padStart(8, '0');
  }

  /** The channel whose code this is, if any. */
  codeChannel(code: string, dsrId: string, codeVersion: number): 'email' | 'sms' | undefined {
    if (constantTimeEqual(code, this.code(dsrId, codeVersion, 'email'))) return 'email';
    if (constantTimeEqual(code, this.code(dsrId, codeVersion, 'sms'))) return 'sms';
    return undefined;
  }

  openSession(session: RequesterSession, now: number): string {
    const body = Buffer.from(JSON.stringify({ d: session.dsrId, l: session.linkVersion, c: session.codeVersion, e: now + sessionLifetimeMs })).toString('base64url');
    return `${body}.${this.mac('requester-session', body).toString('base64url')}`;
  }

  readSession(token: string, now: number): RequesterSession | undefined {
    const [body, mac] = token.split('.');
    if (!body || !mac || !constantTimeEqual(mac, this.mac('requester-session', body).toString('base64url'))) return undefined;
    try {
      const claims = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as { d: string; l: number; c: number; e: number };
      if (typeof claims.e !== 'number' || claims.e < now || typeof claims.d !== 'string') return undefined;
      return { dsrId: claims.d, linkVersion: claims.l, codeVersion: claims.c };
    } catch {
      return undefined;
    }
  }

  emailIndex(organizationId: string, email: string): string {
    return this.mac('email-index', organizationId, normalizedEmail(email)).toString('hex');
  }

  phoneIndex(organizationId: string, phone: string): string | null {
    const normalized = normalizedPhone(phone);
    return normalized ? this.mac('phone-index', organizationId, normalized).toString('hex') : null;
  }
}

// As discovery compares them (src/dsr/fulfilment/subject-identifiers.ts): one address, one index.
const normalizedEmail = (email: string) => email.normalize('NFC').trim().toLowerCase();
function normalizedPhone(phone: string): string | undefined {
  const compact = phone.replace(/[\s().-]/g, '');
  const international = compact.startsWith('+') ? compact.slice(1) : compact.startsWith('00') ? compact.slice(2) : undefined;
  return international !== undefined && /^[1-9]\d{6,14}$/.test(international) ? international : undefined;
}

function constantTimeEqual(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

const loaded = new WeakMap<SigningContext, Promise<RequesterCredentials>>();

export function requesterCredentials(context: SigningContext): Promise<RequesterCredentials> {
  let credentials = loaded.get(context);
  if (!credentials) {
    credentials = loadDeploymentSecret(context.dataSource, context.adapters.keyService).then((secret) => new RequesterCredentials(secret));
    credentials.catch(() => loaded.delete(context));
    loaded.set(context, credentials);
  }
  return credentials;
}
