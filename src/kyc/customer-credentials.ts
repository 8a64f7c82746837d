/**
 * A KYC customer's personal link, PIN and session: derived like a signer's (src/signing/signer-credentials.ts,
 * HMACs of the case id and a version under the deployment secret, never stored), under purpose labels of
 * their own, so a signer's token, PIN or session can never open a case and the other way round.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { loadDeploymentSecret } from '../signing/deployment-secret';
import type { SigningContext } from '../signing/signing-context';

export interface CustomerCredentialVersions {
  caseId: string;
  linkVersion: number;
  pinVersion: number;
}

/** As long as a signer's: the questionnaire is saved as a draft, so a session ending costs nothing. */
const sessionLifetimeMs = 60 * 60_000;

export class KycCustomerCredentials {
  constructor(private readonly secret: Buffer) {}

  private mac(...parts: Array<string | number>): Buffer {
    return createHmac('sha256', this.secret).update(['kyc', ...parts].join('\u0000')).digest();
  }

  /** `<case uuid without dashes><32 hex mac>`: the case is found from the token itself. */
  linkToken(customer: Pick<CustomerCredentialVersions, 'caseId' | 'linkVersion'>): string {
    return `${customer.caseId.replaceAll('-', '')}${this.mac('customer-link', customer.caseId, customer.linkVersion).subarray(0, 16).toString('hex')}`;
  }

  static caseIdOfToken(token: string): string | undefined {
    const match = /^([0-9a-f]{32})[0-9a-f]{32}$/.exec(token);
    if (!match) return undefined;
    const hex = match[1]!;
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  }

  linkTokenMatches(token: string, customer: Pick<CustomerCredentialVersions, 'caseId' | 'linkVersion'>): boolean {
    return constantTimeEqual(token, this.linkToken(customer));
  }

  pin(customer: Pick<CustomerCredentialVersions, 'caseId' | 'pinVersion'>): string {
    return (this.mac('customer-pin', customer.caseId, customer.pinVersion).readUInt32BE(0) % 1_000_000).toString().padStart(6, '0');
  }

  pinMatches(pin: string, customer: Pick<CustomerCredentialVersions, 'caseId' | 'pinVersion'>): boolean {
    return constantTimeEqual(pin, this.pin(customer));
  }

  /** Bound to the versions it was opened with; `via` says how the customer identified (kept in evidence). */
  openSession(customer: CustomerCredentialVersions & { via: 'pin' | 'eid' }, now: number): string {
    const body = Buffer.from(
      JSON.stringify({ c: customer.caseId, l: customer.linkVersion, p: customer.pinVersion, v: customer.via, e: now + sessionLifetimeMs }),
    ).toString('base64url');
    return `${body}.${this.mac('customer-session', body).toString('base64url')}`;
  }

  readSession(token: string, now: number): (CustomerCredentialVersions & { via: 'pin' | 'eid' }) | undefined {
    const [body, mac] = token.split('.');
    if (!body || !mac || !constantTimeEqual(mac, this.mac('customer-session', body).toString('base64url'))) return undefined;
    try {
      const claims = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as { c: string; l: number; p: number; v: 'pin' | 'eid'; e: number };
      if (typeof claims.e !== 'number' || claims.e < now) return undefined;
      return { caseId: claims.c, linkVersion: claims.l, pinVersion: claims.p, via: claims.v };
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

// One per signing context (per process): the deployment secret is unwrapped once.
const loaded = new WeakMap<SigningContext, Promise<KycCustomerCredentials>>();

export function kycCredentials(context: SigningContext): Promise<KycCustomerCredentials> {
  let credentials = loaded.get(context);
  if (!credentials) {
    credentials = loadDeploymentSecret(context.dataSource, context.adapters.keyService).then((secret) => new KycCustomerCredentials(secret));
    credentials.catch(() => loaded.delete(context));
    loaded.set(context, credentials);
  }
  return credentials;
}
