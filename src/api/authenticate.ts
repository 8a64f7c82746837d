/**
 * Who is calling a `principal` route: an API key when the request has an Authorization header, else the
 * member behind the session cookie. Cookies ride along on cross-site requests, so a change made with one
 * must also carry the session's CSRF token in a header, which another site cannot read or set.
 */
import type { Context } from 'koa';
import type { DataSource } from 'typeorm';
import { authenticateApiKey } from '../accounts/authenticate-api-key';
import { authenticateSession, csrfTokenMatches, sessionCookieName } from '../accounts/sessions';
import { AppError } from '../errors';
import { organizationWorkStopped } from '../organization-export/close-organization';
import type { Principal } from './principal';
import { bearerToken } from './route';

const safeMethods = new Set(['GET', 'HEAD', 'OPTIONS']);
export const csrfHeader = 'x-csrf-token';

export function principalAuthenticator(dataSource: DataSource): (ctx: Context) => Promise<Principal> {
  const authenticate = credentialsAuthenticator(dataSource);
  return async (ctx) => {
    const principal = await authenticate(ctx);
    // A closing organisation past its grace (or closed) does nothing more; its owners and admins may still
    // read the closing's state and final receipt.
    // An API key's lookup read it already (a status read is one round trip shorter for it).
    const workStopped = principal.kind === 'api-key' ? principal.organizationWorkStopped : await organizationWorkStopped(dataSource, principal.organizationId);
    if (workStopped) {
      if (!(ctx.method === 'GET' && ctx.path === '/v1/organization/closing')) {
        throw new AppError('organization_closed', 'This organisation is closed: its API keys and sign-ins no longer work.');
      }
    }
    return principal;
  };
}

function credentialsAuthenticator(dataSource: DataSource): (ctx: Context) => Promise<Principal> {
  return async (ctx) => {
    if (ctx.get('authorization')) return authenticateApiKey(dataSource, bearerToken(ctx));
    const token = ctx.cookies.get(sessionCookieName);
    if (!token) throw new AppError('unauthenticated', 'Sign in, or send an API key (Authorization: Bearer <key>).');
    const principal = await authenticateSession(dataSource, token);
    if (!safeMethods.has(ctx.method) && !csrfTokenMatches(principal, ctx.get(csrfHeader) || undefined)) {
      throw new AppError('csrf_token_invalid', `Send the session's CSRF token in the ${csrfHeader} header (GET /v1/auth/session gives it).`);
    }
    return principal;
  };
}
