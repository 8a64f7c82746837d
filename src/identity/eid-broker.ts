/**
 * National eIDs (BankID SE/NO, MitID, the Finnish Trust Network) through an OpenID Connect broker such as
 * Idura/Criipto Verify or Signicat (R6), with `openid-client`: authorization code flow with PKCE, state
 * and nonce. What the browser must bring back (state, nonce, verifier, and who is identifying) travels in
 * a short-lived signed cookie, so any API replica can finish the identification.
 *
 * One broker and one callback (`/v1/eid/callback`) serve every process that identifies someone: a signer
 * of a signing round, a KYC customer, a data-subject requester. `purpose` and `ref` in the cookie say whose identification it is;
 * `version` is that person's link version, so a link replaced meanwhile cannot be identified through.
 *
 * Brokers name claims differently (`ssn`, `hetu`, `nin`, …; `identityscheme` or `idp`): the names are
 * configured (EID_CLAIM_*), each a list tried in order.
 */
import { createPrivateKey, webcrypto } from 'node:crypto';
import fs from 'node:fs/promises';
import * as openid from 'openid-client';
import type { EidConfig } from '../config';
import { AppError } from '../errors';
import { readSignedValue, signValue } from '../accounts/secret-tokens';
import { EidResultCookie } from './eid-result-cookie';

export const eidCookieName = 'sigill_eid';
/** The path the broker's callback is on: the cookie goes nowhere else. */
export const eidCookiePath = '/v1/eid';
export const eidCookieLifetimeMs = 15 * 60_000;

export type EidPurpose = 'signer' | 'kyc' | 'dsr';

export interface EidFlow {
  purpose: EidPurpose;
  /** The signer id, KYC case id or data-subject request id. */
  ref: string;
  /** The link version the flow was started with. */
  version: number;
  /** The eID asked for (`acr_values`); must be one of the configured ones. */
  acr?: string;
  /** pin+eid: the PIN version of the session that started the flow (the PIN was already accepted). */
  pinVersion?: number;
}

interface PendingIdentification extends EidFlow {
  state: string;
  nonce: string;
  verifier: string;
  exp: number;
}

/** What the broker proved. `nationalId` and `idToken` are personal data: encrypt before storing, never log. */
export interface EidIdentity {
  issuer: string;
  subject: string;
  name: string | null;
  givenName: string | null;
  familyName: string | null;
  birthdate: string | null;
  country: string | null;
  scheme: string | null;
  nationalId: string | null;
  transactionId: string | null;
  acr: string | null;
  idToken: string;
  identifiedAt: Date;
}

/** An identification that could not finish; `reason` picks the page's words, never data. */
export class EidFailure extends Error {
  constructor(
    readonly reason: 'cancelled' | 'failed' | 'expired',
    message: string,
  ) {
    super(message);
    this.name = 'EidFailure';
  }
}

export class EidBroker {
  /** Discovery once per process; a failed one is forgotten so the next try repeats it. */
  private configuration?: Promise<openid.Configuration>;
  /** The callback's result, kept by the browser until the page trades it for a session. */
  readonly results: EidResultCookie;
  /** `Secure` on the cookies when the public URL is https. */
  readonly secureCookies: boolean;

  constructor(
    private readonly config: EidConfig | undefined,
    keys: { state: Buffer; result: Buffer },
    private readonly publicUrl: string,
  ) {
    this.stateKey = keys.state;
    this.secureCookies = publicUrl.startsWith('https:');
    this.results = new EidResultCookie(keys.result, this.secureCookies);
  }

  private readonly stateKey: Buffer;

  /** Options for the pending-identification cookie (`eidCookieName`), set by the route that starts a flow. */
  get cookieOptions() {
    return { httpOnly: true, sameSite: 'lax' as const, secure: this.secureCookies, path: eidCookiePath, maxAge: eidCookieLifetimeMs, overwrite: true };
  }

  get available(): boolean {
    return this.config !== undefined;
  }

  get acrValues(): readonly string[] {
    return this.config?.acrValues ?? [];
  }

  get redirectUri(): string {
    return `${this.publicUrl}/v1/eid/callback`;
  }

  private settings(): EidConfig {
    if (!this.config) throw new AppError('eid_unavailable', 'eID identification is not configured on this deployment (EID_ISSUER).');
    return this.config;
  }

  private discover(): Promise<openid.Configuration> {
    const settings = this.settings();
    this.configuration ??= (async () => {
      const issuer = new URL(settings.issuer);
      // Plain HTTP only for a broker on this machine (a local test provider); real brokers are https.
      const loopback = issuer.protocol === 'http:' && ['127.0.0.1', 'localhost', '[::1]'].includes(issuer.hostname);
      const clientAuth =
        settings.clientAuth.kind === 'secret'
          ? openid.ClientSecretPost(settings.clientAuth.secret)
          : openid.PrivateKeyJwt(await loadPrivateKey(settings.clientAuth.privateKeyPath, settings.clientAuth.keyId));
      return openid.discovery(issuer, settings.clientId, undefined, clientAuth, loopback ? { execute: [openid.allowInsecureRequests] } : undefined);
    })().catch((error: unknown) => {
      this.configuration = undefined;
      throw error;
    });
    return this.configuration;
  }

  /** Refuses an eID the deployment does not offer (a 422 for the API caller that asked for it). */
  checkAcr(acr: string | undefined): void {
    const settings = this.settings();
    if (acr !== undefined && settings.acrValues.length > 0 && !settings.acrValues.includes(acr)) {
      throw new AppError('unprocessable', `eid.acr: "${acr}" is not offered here; choose one of ${settings.acrValues.join(', ')}.`);
    }
  }

  /** Where to send the browser, and the cookie value it must bring back to the callback. */
  async begin(flow: EidFlow): Promise<{ authorizationUrl: string; cookieValue: string }> {
    const settings = this.settings();
    this.checkAcr(flow.acr);
    const configuration = await this.discover().catch((error: unknown) => {
      // The cause (an unreachable issuer, an unreadable key file) goes to the log with the 503, never to the person.
      throw Object.assign(new AppError('dependency_unavailable', 'The eID service cannot be reached right now; try again shortly.'), { cause: error });
    });
    const pending: PendingIdentification = {
      ...flow,
      state: openid.randomState(),
      nonce: openid.randomNonce(),
      verifier: openid.randomPKCECodeVerifier(),
      exp: Date.now() + eidCookieLifetimeMs,
    };
    const acr = flow.acr ?? (settings.acrValues.length > 0 ? settings.acrValues.join(' ') : undefined);
    const url = openid.buildAuthorizationUrl(configuration, {
      redirect_uri: this.redirectUri,
      scope: settings.scope,
      state: pending.state,
      nonce: pending.nonce,
      code_challenge: await openid.calculatePKCECodeChallenge(pending.verifier),
      code_challenge_method: 'S256',
      // Always a fresh identification: on a shared device, a sign-in still open at the broker must not
      // identify the next person as the previous one.
      prompt: 'login',
      ...(acr ? { acr_values: acr } : {}),
      // The broker shows its pages in the person's language where it can.
      ...(settings.uiLocales ? { ui_locales: settings.uiLocales } : {}),
    });
    return { authorizationUrl: url.href, cookieValue: signValue(this.stateKey, pending) };
  }

  /** The flow a callback belongs to, if its cookie is ours and fresh (read before anything is exchanged). */
  pendingFlow(cookie: string | undefined): EidFlow | undefined {
    const pending = readSignedValue<PendingIdentification>(this.stateKey, cookie);
    if (!pending || pending.exp <= Date.now()) return undefined;
    const { purpose, ref, version, acr, pinVersion } = pending;
    return { purpose, ref, version, ...(acr ? { acr } : {}), ...(pinVersion !== undefined ? { pinVersion } : {}) };
  }

  /** Whether a callback carries this flow's state: anything else is not the broker's answer to it. */
  answersFlow(cookie: string | undefined, callbackUrl: URL): boolean {
    const pending = readSignedValue<PendingIdentification>(this.stateKey, cookie);
    return Boolean(pending && callbackUrl.searchParams.get('state') === pending.state);
  }

  /** The broker sent the browser back: check state, nonce, PKCE, the ID token and the eID it names. */
  async finish(input: { callbackUrl: URL; cookie: string | undefined }): Promise<{ flow: EidFlow; identity: EidIdentity }> {
    const settings = this.settings();
    const pending = readSignedValue<PendingIdentification>(this.stateKey, input.cookie);
    if (!pending || pending.exp <= Date.now()) throw new EidFailure('expired', 'the identification took too long or was started in another browser');
    const flow = this.pendingFlow(input.cookie)!;
    const error = input.callbackUrl.searchParams.get('error');
    // An error answer counts only with this flow's state: a link to the callback cannot end someone's flow.
    if (error && input.callbackUrl.searchParams.get('state') === pending.state) {
      throw new EidFailure(error === 'access_denied' ? 'cancelled' : 'failed', `the broker answered ${error.slice(0, 60)}`);
    }
    let tokens: Awaited<ReturnType<typeof openid.authorizationCodeGrant>>;
    try {
      tokens = await openid.authorizationCodeGrant(await this.discover(), input.callbackUrl, {
        pkceCodeVerifier: pending.verifier,
        expectedState: pending.state,
        expectedNonce: pending.nonce,
        idTokenExpected: true,
      });
    } catch {
      throw new EidFailure('failed', 'the answer from the broker could not be verified');
    }
    const claims = tokens.claims();
    if (!claims?.sub || !tokens.id_token) throw new EidFailure('failed', 'the broker did not say who identified');
    const acr = typeof claims.acr === 'string' ? claims.acr : null;
    if (!acrSatisfies(pending.acr ?? settings.acrValues, acr)) throw new EidFailure('failed', 'the eID used is not the one asked for');
    const pick = (names: string[]): string | null => {
      for (const name of names) {
        const value = claims[name];
        if (typeof value === 'string' && value.trim() !== '') return value.trim();
        if (typeof value === 'number') return String(value);
      }
      return null;
    };
    const mapping = settings.claims;
    const givenName = pick(mapping.givenName);
    const familyName = pick(mapping.familyName);
    return {
      flow,
      identity: {
        issuer: String(claims.iss),
        subject: claims.sub,
        name: pick(mapping.name) ?? ([givenName, familyName].filter(Boolean).join(' ') || null),
        givenName,
        familyName,
        birthdate: pick(mapping.birthdate),
        country: pick(mapping.country),
        scheme: pick(mapping.scheme) ?? acr,
        nationalId: pick(mapping.nationalId),
        transactionId: pick(mapping.transactionId),
        acr,
        idToken: tokens.id_token,
        identifiedAt: new Date(),
      },
    };
  }
}

/**
 * Whether the eID the token names is one that was asked for. `…:all` asks for any eID under that prefix
 * (Criipto's `urn:grn:authn:fi:all`); nothing asked and nothing configured accepts any.
 */
export function acrSatisfies(asked: string | readonly string[], got: string | null): boolean {
  const wanted = typeof asked === 'string' ? [asked] : asked;
  if (wanted.length === 0) return true;
  if (!got) return false;
  return wanted.some((value) => value === got || (value.endsWith(':all') && got.startsWith(value.slice(0, -'all'.length))));
}

async function loadPrivateKey(path: string, keyId: string | undefined): Promise<{ key: webcrypto.CryptoKey; kid?: string }> {
  const keyObject = createPrivateKey(await fs.readFile(path));
  const der = keyObject.export({ format: 'der', type: 'pkcs8' });
  const curves: Record<string, string> = { prime256v1: 'P-256', secp384r1: 'P-384', secp521r1: 'P-521' };
  const algorithm =
    keyObject.asymmetricKeyType === 'rsa'
      ? { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' }
      : keyObject.asymmetricKeyType === 'ec' && curves[keyObject.asymmetricKeyDetails?.namedCurve ?? '']
        ? { name: 'ECDSA', namedCurve: curves[keyObject.asymmetricKeyDetails!.namedCurve!]! }
        : keyObject.asymmetricKeyType === 'ed25519'
          ? { name: 'Ed25519' }
          : undefined;
  if (!algorithm) throw new Error(`EID_PRIVATE_KEY_PATH: a ${keyObject.asymmetricKeyType} key cannot sign client assertions (use RSA, EC P-256/384/521 or Ed25519)`);
  const key = await webcrypto.subtle.importKey('pkcs8', der, algorithm, false, ['sign']);
  return { key, ...(keyId ? { kid: keyId } : {}) };
}
