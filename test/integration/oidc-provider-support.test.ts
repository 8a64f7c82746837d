/**
 * The OIDC test support fits together: openid-client v6 signs in at the local provider through the
 * headless browser, gets an ID token with the account's claims, and refuses a response whose state is
 * not the one it sent.
 */
import * as client from 'openid-client';
import { startLocalOidcProvider, type LocalOidcProvider } from '../support/local-oidc-provider';
import { loginAtProvider } from '../support/oidc-browser';

const redirectUri = 'http://127.0.0.1:1/oidc/callback';
const clientId = 'sigill-test';
const clientSecret = 'sigill-test-secret';

let provider: LocalOidcProvider;
let config: client.Configuration;

beforeAll(async () => {
  provider = await startLocalOidcProvider({
    clients: [{ clientId, clientSecret, redirectUris: [redirectUri] }],
    accounts: [{ sub: 'alice-1', email: 'alice@example.com', email_verified: true, name: 'Alice Example' }],
  });
  // The issuer is plain http on loopback, which openid-client refuses unless told otherwise.
  config = await client.discovery(new URL(provider.issuer), clientId, clientSecret, undefined, {
    execute: [client.allowInsecureRequests],
  });
});

afterAll(async () => {
  await provider?.stop();
});

/** Starts a sign-in as a relying party would and logs in as `login`; returns the callback URL and the checks. */
async function signIn(login: string) {
  const pkceCodeVerifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const nonce = client.randomNonce();
  const authorizationUrl = client.buildAuthorizationUrl(config, {
    redirect_uri: redirectUri,
    scope: 'openid email profile',
    code_challenge: await client.calculatePKCECodeChallenge(pkceCodeVerifier),
    code_challenge_method: 'S256',
    state,
    nonce,
  });
  const callbackUrl = new URL(await loginAtProvider(authorizationUrl.href, login));
  return { callbackUrl, pkceCodeVerifier, state, nonce };
}

test('signs in with code flow and PKCE and gets an ID token with the account claims', async () => {
  const { callbackUrl, pkceCodeVerifier, state, nonce } = await signIn('alice-1');
  expect(`${callbackUrl.origin}${callbackUrl.pathname}`).toBe(redirectUri);
  expect(callbackUrl.searchParams.get('code')).toBeTruthy();

  const tokens = await client.authorizationCodeGrant(config, callbackUrl, {
    pkceCodeVerifier,
    expectedState: state,
    expectedNonce: nonce,
  });
  expect(tokens.claims()).toMatchObject({
    iss: provider.issuer,
    aud: clientId,
    sub: 'alice-1',
    email: 'alice@example.com',
    email_verified: true,
    name: 'Alice Example',
  });
});

test('refuses a callback whose state is not the one sent', async () => {
  const { callbackUrl, pkceCodeVerifier, nonce } = await signIn('alice-1');
  await expect(
    client.authorizationCodeGrant(config, callbackUrl, {
      pkceCodeVerifier,
      expectedState: client.randomState(),
      expectedNonce: nonce,
    }),
  ).rejects.toMatchObject({
    // openid-client's ClientError wraps oauth4webapi's reason.
    code: 'OAUTH_INVALID_RESPONSE',
    cause: expect.objectContaining({ message: 'unexpected "state" response parameter value' }),
  });
});
