/**
 * Google and Microsoft sign-in through OpenID Connect (R7), with `openid-client`: authorization code flow
 * with PKCE, state and nonce. What the browser must keep between leaving and coming back (state, nonce,
 * PKCE verifier) travels in a short-lived signed cookie, so any API replica can finish the login.
 *
 * An identity provider proves an email address, not a Sigill account: a first sign-in links the provider's
 * subject to the user invited with that address, and only when the provider says the address is verified.
 * Nobody gets an account by signing in: strangers are turned away. The new-device code applies as it does
 * after a password.
 */
import * as openid from 'openid-client';
import type { OidcProviderConfig, OidcProviderName } from '../config';
import { queryReturning } from '../database/data-source';
import { User, UserIdentity } from '../database/entities';
import { AppError } from '../errors';
import type { AccountsContext } from './accounts-context';
import { beginSignIn, chooseMembership, membershipsOf, type LoginOutcome, type RequestOrigin } from './login';
import { recordOrganizationEvent } from './organization-audit-log';
import { readSignedValue, signValue } from './secret-tokens';

export const oidcCookieName = 'sigill_oidc';
export const oidcCookieLifetimeMs = 10 * 60_000;

interface PendingLogin {
  provider: OidcProviderName;
  state: string;
  nonce: string;
  verifier: string;
  exp: number;
  /** Where to land after signing in (a same-site path, checked by the caller), kept across the provider's pages. */
  next?: string;
}

const providerLabel: Record<OidcProviderName, string> = { google: 'Google', microsoft: 'Microsoft' };

/** A sign-in that could not finish; the message is for the person at the browser. */
export class OidcLoginError extends AppError {}

export class OidcLogin {
  /** Discovery once per provider and process; a failed discovery is forgotten so the next try repeats it. */
  private readonly configurations = new Map<OidcProviderName, Promise<openid.Configuration>>();

  constructor(private readonly ctx: AccountsContext) {}

  enabled(provider: OidcProviderName): boolean {
    return Boolean(this.ctx.auth.oidc[provider]);
  }

  private settings(provider: OidcProviderName): OidcProviderConfig {
    const settings = this.ctx.auth.oidc[provider];
    if (!settings) throw new AppError('not_found', `Sign-in with ${providerLabel[provider]} is not configured here.`);
    return settings;
  }

  private configuration(provider: OidcProviderName): Promise<openid.Configuration> {
    const settings = this.settings(provider);
    let configuration = this.configurations.get(provider);
    if (!configuration) {
      const issuer = new URL(settings.issuer);
      // Plain HTTP only for an issuer on this machine (a local test provider); real providers are https.
      const loopback = issuer.protocol === 'http:' && ['127.0.0.1', 'localhost', '[::1]'].includes(issuer.hostname);
      configuration = openid
        .discovery(issuer, settings.clientId, settings.clientSecret, undefined, loopback ? { execute: [openid.allowInsecureRequests] } : undefined)
        .catch((error: unknown) => {
          this.configurations.delete(provider);
          throw error;
        });
      this.configurations.set(provider, configuration);
    }
    return configuration;
  }

  redirectUri(provider: OidcProviderName): string {
    return `${this.ctx.publicUrl}/v1/auth/oidc/${provider}/callback`;
  }

  /** Where to send the browser, and the signed cookie it must bring back (holding `next`, the landing path). */
  async start(provider: OidcProviderName, next = '/'): Promise<{ authorizationUrl: string; cookie: string }> {
    const configuration = await this.configuration(provider).catch(() => {
      throw new AppError('dependency_unavailable', `${providerLabel[provider]} cannot be reached right now; try again shortly.`);
    });
    const pending: PendingLogin = {
      provider,
      state: openid.randomState(),
      nonce: openid.randomNonce(),
      verifier: openid.randomPKCECodeVerifier(),
      exp: Date.now() + oidcCookieLifetimeMs,
      ...(next === '/' ? {} : { next }),
    };
    const url = openid.buildAuthorizationUrl(configuration, {
      redirect_uri: this.redirectUri(provider),
      scope: 'openid email profile',
      state: pending.state,
      nonce: pending.nonce,
      code_challenge: await openid.calculatePKCECodeChallenge(pending.verifier),
      code_challenge_method: 'S256',
    });
    return { authorizationUrl: url.href, cookie: signValue(this.ctx.keys.oidcState, pending) };
  }

  /**
   * The provider sent the browser back: check everything, find the invited user, then sign in as after a
   * password. `next` is the landing path the sign-in started with, from the signed cookie.
   */
  async finish(
    provider: OidcProviderName,
    input: { callbackUrl: URL; cookie: string | undefined; deviceCookie: string | undefined; origin: RequestOrigin },
  ): Promise<{ outcome: LoginOutcome; next: string }> {
    const label = providerLabel[provider];
    const pending = readSignedValue<PendingLogin>(this.ctx.keys.oidcState, input.cookie);
    if (!pending || pending.provider !== provider || pending.exp <= Date.now()) {
      throw new OidcLoginError('invalid_request', `The sign-in with ${label} took too long or was started elsewhere; start again.`);
    }
    const providerError = input.callbackUrl.searchParams.get('error');
    if (providerError) throw new OidcLoginError('unauthenticated', `${label} did not sign you in (${providerError.slice(0, 60)}).`);
    let claims: openid.IDToken | undefined;
    try {
      const tokens = await openid.authorizationCodeGrant(await this.configuration(provider), input.callbackUrl, {
        pkceCodeVerifier: pending.verifier,
        expectedState: pending.state,
        expectedNonce: pending.nonce,
        idTokenExpected: true,
      });
      claims = tokens.claims();
    } catch {
      throw new OidcLoginError('unauthenticated', `The answer from ${label} could not be verified; start again.`);
    }
    if (!claims?.sub) throw new OidcLoginError('unauthenticated', `${label} did not say who you are; start again.`);

    const user = await this.linkedUser(provider, claims, input.origin);
    const membership = chooseMembership(await membershipsOf(this.ctx, user.id), undefined);
    return { outcome: await beginSignIn(this.ctx, user, membership, `oidc:${provider}`, input.deviceCookie, input.origin), next: pending.next ?? '/' };
  }

  /** The user already linked to this provider account, or the invited user with its verified email (then linked). */
  private async linkedUser(provider: OidcProviderName, claims: openid.IDToken, origin: RequestOrigin): Promise<User> {
    const users = this.ctx.dataSource.getRepository(User);
    const identity = await this.ctx.dataSource.getRepository(UserIdentity).findOneBy({ provider, subject: claims.sub });
    if (identity) return users.findOneByOrFail({ id: identity.userId });

    const email = typeof claims.email === 'string' ? claims.email.trim().toLowerCase() : undefined;
    // Google says email_verified; Microsoft Entra says xms_edov (email domain owner verified) when asked for it.
    const verified = claims.email_verified === true || (provider === 'microsoft' && claims.xms_edov === true);
    const noAccount = () =>
      new OidcLoginError('forbidden', `There is no Sigill account for this ${providerLabel[provider]} account. Ask your administrator to invite you with its email address.`);
    if (!email || !verified) throw noAccount();
    const user = await users.findOneBy({ email });
    if (!user) throw noAccount();
    const memberships = await membershipsOf(this.ctx, user.id);
    if (memberships.length === 0) throw noAccount();

    await this.ctx.dataSource.transaction(async (tx) => {
      // One identity per provider per user: a second Google account for the same person is refused.
      const inserted = await queryReturning<{ provider: string }>(
        tx,
        `INSERT INTO user_identities (provider, subject, user_id) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING RETURNING provider`,
        [provider, claims.sub, user.id],
      );
      if (inserted.length === 0) {
        const existing = await tx.getRepository(UserIdentity).findOneBy({ provider, subject: claims.sub });
        if (existing?.userId !== user.id) throw noAccount();
        return;
      }
      for (const membership of memberships) {
        await recordOrganizationEvent(tx, {
          organizationId: membership.organizationId,
          type: 'login.identity_linked',
          actor: `user:${user.id}`,
          ip: origin.ip,
          userAgent: origin.userAgent,
          detail: { provider },
        });
      }
    });
    return user;
  }
}
