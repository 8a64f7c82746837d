/**
 * The cookies of a signed-in browser: the session (httpOnly, SameSite=Lax, ending with the session) and the
 * remembered device (httpOnly, 30 days, signed). `Secure` when PUBLIC_URL is https: behind a TLS-terminating
 * proxy the app itself may see plain HTTP, and the cookie must still never travel without TLS.
 */
import type { Context } from 'koa';
import type { AccountsContext } from '../accounts/accounts-context';
import { deviceCookieName, type SignedIn } from '../accounts/login';
import { sessionCookieName } from '../accounts/sessions';

function cookieOptions(ctx: Context, accounts: AccountsContext, maxAgeMs?: number) {
  if (accounts.auth.secureCookies) ctx.cookies.secure = true;
  return { httpOnly: true, sameSite: 'lax' as const, secure: accounts.auth.secureCookies, path: '/', overwrite: true, maxAge: maxAgeMs };
}

export function setSignInCookies(ctx: Context, accounts: AccountsContext, signedIn: SignedIn): void {
  ctx.cookies.set(sessionCookieName, signedIn.session.token, cookieOptions(ctx, accounts, signedIn.session.expiresAt.getTime() - Date.now()));
  if (signedIn.rememberDevice) {
    ctx.cookies.set(deviceCookieName, signedIn.rememberDevice.value, cookieOptions(ctx, accounts, signedIn.rememberDevice.maxAgeMs));
  }
}

/** Signing out forgets the session, not the device: the next sign-in on this browser needs no code. */
export function clearSessionCookie(ctx: Context, accounts: AccountsContext): void {
  ctx.cookies.set(sessionCookieName, '', { ...cookieOptions(ctx, accounts), maxAge: 0 });
}

export const deviceCookie = (ctx: Context) => ctx.cookies.get(deviceCookieName);
export const sessionToken = (ctx: Context) => ctx.cookies.get(sessionCookieName);
