/**
 * After the broker's callback, the browser holds the result for a few minutes in a signed, HttpOnly cookie
 * scoped to the session-opening endpoints: the identification id and whose it is. The page then trades it
 * for a session (`POST /v1/signer/eid/session`, `/v1/kyc/customer/eid/session`, `/v1/privacy/requests/eid/session`). The link token alone
 * cannot open that session: it needs this browser's cookie. Reach it as `context.eid.results`.
 */
import type { Context } from 'koa';
import { readSignedValue, signValue } from '../accounts/secret-tokens';
import type { EidPurpose } from './eid-broker';

export const eidResultCookieName = 'sigill_eid_result';
const resultLifetimeMs = 10 * 60_000;
const cookiePathOf: Record<EidPurpose, string> = { signer: '/v1/signer/eid', kyc: '/v1/kyc/customer/eid', dsr: '/v1/privacy/requests/eid' };

interface EidResult {
  purpose: EidPurpose;
  ref: string;
  identificationId: string;
  pinVersion?: number;
  exp: number;
}

export class EidResultCookie {
  constructor(
    private readonly key: Buffer,
    /** `Secure` when the public URL is https. */
    private readonly secure: boolean,
  ) {}

  set(ctx: Context, result: { purpose: EidPurpose; ref: string; identificationId: string; pinVersion?: number }): void {
    const value = signValue(this.key, { ...result, exp: Date.now() + resultLifetimeMs } satisfies EidResult);
    ctx.cookies.set(eidResultCookieName, value, this.options(result.purpose, resultLifetimeMs));
  }

  /** The identification this browser just made for `ref`, if any (and not expired). */
  read(ctx: Context, purpose: EidPurpose, ref: string): { identificationId: string; pinVersion?: number } | undefined {
    const result = readSignedValue<EidResult>(this.key, ctx.cookies.get(eidResultCookieName));
    if (!result || result.purpose !== purpose || result.ref !== ref || result.exp <= Date.now()) return undefined;
    return { identificationId: result.identificationId, ...(result.pinVersion !== undefined ? { pinVersion: result.pinVersion } : {}) };
  }

  /** Once traded for a session, the result is spent. */
  clear(ctx: Context, purpose: EidPurpose): void {
    ctx.cookies.set(eidResultCookieName, '', this.options(purpose, 0));
  }

  private options(purpose: EidPurpose, maxAge: number) {
    return { httpOnly: true, sameSite: 'lax' as const, secure: this.secure, path: cookiePathOf[purpose], maxAge, overwrite: true };
  }
}

/** For routes: `readEidResult(context.eid, ctx, 'kyc', caseId)`. */
export function readEidResult(broker: { results: EidResultCookie }, ctx: Context, purpose: EidPurpose, ref: string) {
  return broker.results.read(ctx, purpose, ref);
}
