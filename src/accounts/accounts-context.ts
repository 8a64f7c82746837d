/**
 * What the account use cases (login, invitations, members) need: the database, mail and SMS, and keys
 * derived from the deployment secret. Built once per API process from configuration.
 */
import { createHmac } from 'node:crypto';
import type { DataSource } from 'typeorm';
import type { Adapters } from '../adapters';
import type { AuthConfig } from '../config';
import type { RateLimitStore } from '../database/rate-limit-store';
import { loadDeploymentSecret } from '../signing/deployment-secret';
import { LoginThrottle } from './login-throttle';

export interface AccountsContext {
  dataSource: DataSource;
  mailer: Adapters['mailer'];
  sms: Adapters['smsSender'];
  publicUrl: string;
  auth: AuthConfig;
  throttle: LoginThrottle;
  /** Independent keys per purpose, so no value made for one purpose is accepted for another. */
  keys: {
    /** HMAC of new-device codes at rest. */
    deviceCode: Buffer;
    /** Signs the remembered-device cookie. */
    deviceCookie: Buffer;
    /** Signs the short-lived cookie that carries an OpenID Connect login's state, nonce and PKCE verifier. */
    oidcState: Buffer;
  };
}

export function deriveKey(secret: Buffer, purpose: string): Buffer {
  return createHmac('sha256', secret).update(`sigill-accounts:${purpose}`).digest();
}

export async function createAccountsContext(
  options: { publicUrl: string; auth: AuthConfig },
  dataSource: DataSource,
  adapters: Pick<Adapters, 'mailer' | 'smsSender' | 'keyService'>,
  rateLimits: RateLimitStore,
): Promise<AccountsContext> {
  const secret = await loadDeploymentSecret(dataSource, adapters.keyService);
  return {
    dataSource,
    mailer: adapters.mailer,
    sms: adapters.smsSender,
    publicUrl: options.publicUrl,
    auth: options.auth,
    // Keys the failed-login counter per email without storing the email.
    throttle: new LoginThrottle(dataSource, deriveKey(secret, 'login-throttle'), rateLimits),
    keys: {
      deviceCode: deriveKey(secret, 'device-code'),
      deviceCookie: deriveKey(secret, 'device-cookie'),
      oidcState: deriveKey(secret, 'oidc-state'),
    },
  };
}
