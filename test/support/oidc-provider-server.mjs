/**
 * A local OpenID Connect provider for tests, standing in for Google and Microsoft: oidc-provider on
 * 127.0.0.1, authorization code flow with PKCE (S256), scopes `openid email profile`.
 *
 * Run with plain node (test/support/local-oidc-provider.ts does): oidc-provider is ESM-only and is kept
 * out of jest's module system altogether.
 *
 *   OIDC_PROVIDER_CLIENTS='[{"clientId":"…","clientSecret":"…","redirectUris":["…"]}]' \
 *   OIDC_PROVIDER_ACCOUNTS='[{"sub":"alice","email":"alice@example.com","email_verified":true,"name":"Alice"}]' \
 *   node test/support/oidc-provider-server.mjs <port>      (or OIDC_PROVIDER_PORT=<port>)
 *
 * Prints `READY <issuer>` once listening. Logging in is one form, GET/POST /interaction/<uid>, where the
 * account's `sub` is typed as the login (no password); consent is granted implicitly.
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import http from 'node:http';
import Provider from 'oidc-provider';

function jsonEnv(name) {
  const raw = process.env[name];
  if (!raw) throw new Error(`${name} is not set`);
  return JSON.parse(raw);
}

const port = Number(process.argv[2] ?? process.env.OIDC_PROVIDER_PORT);
if (!Number.isInteger(port) || port <= 0) throw new Error('give the port as the first argument or OIDC_PROVIDER_PORT');
const issuer = `http://127.0.0.1:${port}`;

/** @type {{ clientId: string; clientSecret?: string; redirectUris: string[]; tokenEndpointAuthMethod?: string; jwks?: { keys: object[] } }[]} */
const clients = jsonEnv('OIDC_PROVIDER_CLIENTS');
/** @type {{ sub: string; email?: string; email_verified?: boolean; name?: string; claims?: Record<string, unknown> }[]} */
const accounts = jsonEnv('OIDC_PROVIDER_ACCOUNTS');
const accountsBySub = new Map(accounts.map((account) => [account.sub, account]));
// As an eID broker (Criipto/Idura, Signicat): the eIDs it offers as `acr_values`, and per-person claims
// (national id, birth date, scheme …) in the ID token, with a transaction id (`txn`) per identification.
/** @type {string[]} */
const acrValues = process.env.OIDC_PROVIDER_ACR_VALUES ? JSON.parse(process.env.OIDC_PROVIDER_ACR_VALUES) : [];
const brokerClaimNames = [...new Set(accounts.flatMap((account) => Object.keys(account.claims ?? {})))].filter((name) => !['sub', 'email', 'email_verified', 'name'].includes(name));
if (brokerClaimNames.length > 0) brokerClaimNames.push('txn');

// Fresh keys every run: nothing outlives the process, and oidc-provider's built-in development keys
// would only add warnings.
const signingKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' });

const provider = new Provider(issuer, {
  clients: clients.map((client) => ({
    client_id: client.clientId,
    ...(client.clientSecret ? { client_secret: client.clientSecret } : {}),
    redirect_uris: client.redirectUris,
    grant_types: ['authorization_code'],
    response_types: ['code'],
    // openid-client v6 authenticates with client_secret_post when given a secret; oidc-provider
    // defaults to client_secret_basic and accepts exactly one method per client.
    token_endpoint_auth_method: client.tokenEndpointAuthMethod ?? 'client_secret_post',
    // private_key_jwt: the client's public keys, to check its signed assertions.
    ...(client.jwks ? { jwks: client.jwks } : {}),
  })),
  jwks: { keys: [{ ...signingKey, use: 'sig', alg: 'RS256' }] },
  cookies: { keys: [randomBytes(32).toString('base64url')] },
  scopes: ['openid', 'email', 'profile'],
  claims: { openid: ['sub', ...brokerClaimNames], email: ['email', 'email_verified'], profile: ['name'] },
  ...(acrValues.length > 0 ? { acrValues } : {}),
  // Google and Microsoft put the scope-requested claims into the ID token itself; oidc-provider by
  // default keeps them for userinfo whenever an access token is issued too.
  conformIdTokenClaims: false,
  // Sigill must always send a PKCE challenge (oidc-provider only insists for public clients).
  pkce: { required: () => true },
  // Our own login form below instead: the development one takes any login, and a login naming no
  // account then ends in a server_error rather than the form again.
  features: { devInteractions: { enabled: false } },
  async findAccount(_ctx, sub) {
    const account = accountsBySub.get(sub);
    if (!account) return undefined;
    return {
      accountId: sub,
      // oidc-provider filters these down to what the grant's scopes and claims allow. An account
      // without `email_verified` (like many of Microsoft's tokens) simply lacks the claim.
      async claims() {
        return {
          sub,
          email: account.email,
          email_verified: account.email_verified,
          name: account.name,
          ...(account.claims ?? {}),
          ...(account.claims ? { txn: randomBytes(12).toString('hex') } : {}),
        };
      },
    };
  },
  // Consent is implied, as for a first-party client: the grant always covers what was asked, so logging
  // in is the only interaction.
  async loadExistingGrant(ctx) {
    const { Grant } = ctx.oidc.provider;
    const grantId = ctx.oidc.result?.consent?.grantId || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
    const grant = (grantId && (await Grant.find(grantId)))
      || new Grant({ accountId: ctx.oidc.session.accountId, clientId: ctx.oidc.client.clientId });
    grant.addOIDCScope([...ctx.oidc.requestParamOIDCScopes].join(' '));
    grant.addOIDCClaims([...ctx.oidc.requestParamClaims]);
    await grant.save();
    return grant;
  },
});

// oidc-provider answers these with a bare "server_error" page; the cause belongs in the log (stderr).
provider.on('server_error', (_ctx, error) => console.error('oidc-provider server_error:', error));

const escapeHtml = (text) =>
  text.replace(/[&<>"']/g, (character) => `&#${character.codePointAt(0)};`);

function loginPage(uid, problem) {
  return `<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>Sign in</title></head><body>
${problem ? `<p class="error">${escapeHtml(problem)}</p>` : ''}
<form method="post" action="/interaction/${encodeURIComponent(uid)}">
  <input type="text" name="login" placeholder="account id (sub)" required autofocus>
  <button type="submit">Sign in</button>
</form>
</body></html>`;
}

async function formBody(request) {
  let body = '';
  for await (const chunk of request) body += chunk;
  return new URLSearchParams(body);
}

// The interaction pages (oidc-provider's default interactions.url is /interaction/<uid>). Only login is
// ever asked for: loadExistingGrant above answers consent.
provider.use(async (ctx, next) => {
  if (!/^\/interaction\/[^/]+$/.test(ctx.path) || !['GET', 'POST'].includes(ctx.method)) return next();
  const interaction = await provider.interactionDetails(ctx.req, ctx.res);
  if (interaction.prompt.name !== 'login') ctx.throw(501, `no page for the ${interaction.prompt.name} prompt`);
  ctx.set('cache-control', 'no-store');
  ctx.type = 'html';
  if (ctx.method === 'GET') {
    ctx.body = loginPage(interaction.uid);
    return;
  }
  const login = (await formBody(ctx.req)).get('login') ?? '';
  if (!accountsBySub.has(login)) {
    // As a real provider does: the form again, with a complaint.
    ctx.body = loginPage(interaction.uid, `No account ${login}`);
    return;
  }
  // The eID asked for is the one used (a real broker lets the person pick among several), unless the account
// always uses one of its own (`acr`: a person who picks another eID than the one asked for).
  const askedAcr = accountsBySub.get(login).acr ?? String(interaction.params.acr_values ?? '').split(' ').find((value) => acrValues.includes(value));
  const returnTo = await provider.interactionResult(
    ctx.req,
    ctx.res,
    { login: { accountId: login, ...(askedAcr ? { acr: askedAcr } : {}) } },
    { mergeWithLastSubmission: false },
  );
  ctx.redirect(returnTo);
  ctx.status = 303;
});

// oidc-provider validates static clients on first use; a bad client should fail the start instead.
for (const client of clients) await provider.Client.find(client.clientId);

const server = http.createServer(provider.callback());
server.listen(port, '127.0.0.1', () => {
  process.stdout.write(`READY ${issuer}\n`);
});

function stop() {
  server.close(() => process.exit(0));
  // Keep-alive connections from the test's fetch would otherwise hold close() open.
  server.closeAllConnections();
}
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
