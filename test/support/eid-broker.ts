/**
 * A local eID broker for tests: the real oidc-provider (local-oidc-provider.ts, its own process) playing
 * Criipto/Idura Verify, with BankID-like people (`ssn`, `birthdate`, `identityscheme`, a `txn` per token)
 * and `acr_values`. `identifyWithEid` is the person's browser: from Sigill's authorization URL through the
 * broker's login (the person's `sub` typed as login) back to Sigill's callback, with Sigill's cookie.
 */
import { generateKeyPairSync } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { freePort } from './free-port';
import { startLocalOidcProvider, type LocalOidcClient, type LocalOidcProvider } from './local-oidc-provider';
import { loginAtProvider } from './oidc-browser';

export const swedishBankId = 'urn:grn:authn:se:bankid';
export const finnishTrustNetwork = 'urn:grn:authn:fi:all';

export interface EidPerson {
  sub: string;
  name: string;
  birthdate: string;
  nationalId: string;
  country?: string;
  scheme?: string;
  /** The eID this person uses whatever was asked for. */
  acr?: string;
}

export interface LocalEidBroker {
  provider: LocalOidcProvider;
  /** The EID_* variables that point Sigill at this broker. */
  env: Record<string, string>;
  stop(): Promise<void>;
}

/**
 * `port` is the Sigill API's, chosen beforehand: its callback is the redirect URI registered here.
 * `privateKeyJwt`: Sigill authenticates with a signed assertion (a fresh RSA key in `keyDir`) instead of a secret.
 */
export async function startLocalEidBroker(options: { port: number; people: EidPerson[]; privateKeyJwt?: { keyDir: string } }): Promise<LocalEidBroker> {
  const clientSecret = 'eid-secret-for-tests';
  const redirectUris = [`http://127.0.0.1:${options.port}/v1/eid/callback`];
  let keyEnv: Record<string, string> = { EID_CLIENT_SECRET: clientSecret };
  let client: LocalOidcClient = { clientId: 'sigill-eid', clientSecret, redirectUris };
  if (options.privateKeyJwt) {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const keyPath = path.join(options.privateKeyJwt.keyDir, 'eid-client.pem');
    fs.writeFileSync(keyPath, privateKey.export({ format: 'pem', type: 'pkcs8' }), { mode: 0o600 });
    client = { clientId: 'sigill-eid', redirectUris, tokenEndpointAuthMethod: 'private_key_jwt', jwks: { keys: [{ ...publicKey.export({ format: 'jwk' }), kid: 'sigill-1', use: 'sig', alg: 'RS256' }] } };
    keyEnv = { EID_PRIVATE_KEY_PATH: keyPath, EID_PRIVATE_KEY_ID: 'sigill-1' };
  }
  const provider = await startLocalOidcProvider({
    clients: [client],
    accounts: options.people.map((person) => ({
      sub: person.sub,
      name: person.name,
      ...(person.acr ? { acr: person.acr } : {}),
      claims: {
        ssn: person.nationalId,
        birthdate: person.birthdate,
        country: person.country ?? 'SE',
        identityscheme: person.scheme ?? 'sebankid',
      },
    })),
    acrValues: [swedishBankId, finnishTrustNetwork],
  });
  return {
    provider,
    env: {
      EID_ISSUER: provider.issuer,
      EID_CLIENT_ID: 'sigill-eid',
      ...keyEnv,
      EID_ACR_VALUES: `${swedishBankId},${finnishTrustNetwork}`,
      EID_SCOPE: 'openid profile',
    },
    stop: () => provider.stop(),
  };
}

export { freePort };

/** The `name=value` of a Set-Cookie header, or undefined. */
function cookieFrom(setCookies: string[], name: string): string | undefined {
  const header = setCookies.find((candidate) => candidate.startsWith(`${name}=`));
  return header?.split(';')[0];
}

/**
 * The person identifies as `sub`: `start` is Sigill's answer to a start endpoint (its authorization URL
 * and the `Set-Cookie` it sent). Answers where Sigill's callback sends the browser, and the result cookie
 * (`name=value`) that the page's session call must carry.
 */
export async function identifyWithEid(
  apiUrl: string,
  start: { authorizationUrl: string; setCookies: string[] },
  sub: string,
): Promise<{ location: string; resultCookie?: string }> {
  const flowCookie = cookieFrom(start.setCookies, 'sigill_eid');
  if (!flowCookie) throw new Error('the start endpoint set no sigill_eid cookie');
  const backAtSigill = await loginAtProvider(start.authorizationUrl, sub);
  const callback = new URL(backAtSigill);
  const response = await fetch(new URL(`${callback.pathname}${callback.search}`, apiUrl), { redirect: 'manual', headers: { cookie: flowCookie } });
  await response.body?.cancel();
  return { location: response.headers.get('location') ?? '', resultCookie: cookieFrom(response.headers.getSetCookie(), 'sigill_eid_result') };
}
