import type { Context } from 'koa';
import type { AdminCaller } from '../accounts/members';
import type { Actor } from '../accounts/organization-audit-log';
import type { ApiKeyPrincipal } from '../accounts/authenticate-api-key';
import type { UserPrincipal } from '../accounts/sessions';

/** Who is calling: a back-office system with an API key, or a signed-in member with a session cookie. */
export type Principal = ApiKeyPrincipal | UserPrincipal;

/** How the caller is named in audit logs: by id, never by email. */
export function actorOf(principal: Principal): string {
  return principal.kind === 'user' ? `user:${principal.userId}` : `api-key:${principal.apiKeyId}`;
}

/** The caller as the organisation's audit log records it. */
export function actorContext(principal: Principal, ctx: Context): Actor {
  return { actor: actorOf(principal), ip: ctx.ip, userAgent: ctx.get('user-agent') || undefined };
}

/** The caller of an administrative use case. */
export function adminCaller(principal: Principal, ctx: Context): AdminCaller {
  return { scope: principal, actor: actorContext(principal, ctx), isOwner: principal.kind === 'user' && principal.role === 'owner' };
}
