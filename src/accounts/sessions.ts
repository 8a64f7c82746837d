/**
 * Signed-in people (R7, R8). A session is a random token in an httpOnly cookie, stored as its hash, bound
 * to one organisation; it ends after 12 hours, after 2 idle hours, at logout, or when the member is removed
 * or resets their password. Each session has a CSRF token that cookie-authenticated changes must echo in a
 * header (a cross-site form can send the cookie, never the header).
 */
import { randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import type { DataSource, EntityManager } from 'typeorm';
import { IsNull } from 'typeorm';
import { FolderGrant, Membership, UserSession, type GrantPermission, type MemberRole } from '../database/entities';
import { AppError } from '../errors';
import { everyPermission, folderSubtreePermissions, permissionsAnywhere, withDocuments, type AccessScope, type Permission } from './access';
import { newSecretToken, secretTokenHash } from './secret-tokens';

export interface UserPrincipal extends AccessScope {
  kind: 'user';
  userId: string;
  sessionId: string;
  role: MemberRole;
  csrfToken: string;
  sessionExpiresAt: Date;
}

export const sessionCookieName = 'sigill_session';
export const sessionLifetimeMs = 12 * 3600_000;
const idleTimeoutMs = 2 * 3600_000;
/** Recording every request would write on every request; a minute's precision keeps the idle timeout honest. */
const lastSeenPrecisionMs = 60_000;

export interface NewSession {
  sessionId: string;
  token: string;
  csrfToken: string;
  expiresAt: Date;
}

export async function createSession(
  db: DataSource | EntityManager,
  input: { userId: string; organizationId: string; method: string; now?: Date },
): Promise<NewSession> {
  const now = input.now ?? new Date();
  const { token, hash } = newSecretToken('sgs_');
  const session: UserSession = {
    id: randomUUID(),
    tokenHash: hash,
    userId: input.userId,
    organizationId: input.organizationId,
    csrfToken: randomBytes(24).toString('base64url'),
    method: input.method,
    createdAt: now,
    lastSeenAt: now,
    expiresAt: new Date(now.getTime() + sessionLifetimeMs),
    revokedAt: null,
  };
  await db.getRepository(UserSession).insert(session);
  return { sessionId: session.id, token, csrfToken: session.csrfToken, expiresAt: session.expiresAt };
}

const signedOut = () => new AppError('unauthenticated', 'Your session has ended; sign in again.');

/** The member behind a session cookie, with what they may see and do now (roles and grants are read each time). */
export async function authenticateSession(dataSource: DataSource, token: string): Promise<UserPrincipal> {
  const session = await dataSource.getRepository(UserSession).findOneBy({ tokenHash: secretTokenHash(token) });
  const now = Date.now();
  if (!session || session.revokedAt || session.expiresAt.getTime() <= now || now - session.lastSeenAt.getTime() > idleTimeoutMs) {
    throw signedOut();
  }
  const membership = await dataSource.getRepository(Membership).findOneBy({ organizationId: session.organizationId, userId: session.userId });
  if (!membership) throw signedOut();
  if (now - session.lastSeenAt.getTime() > lastSeenPrecisionMs) {
    await dataSource.getRepository(UserSession).update({ id: session.id }, { lastSeenAt: new Date(now) });
  }
  return {
    kind: 'user',
    userId: session.userId,
    sessionId: session.id,
    role: membership.role,
    csrfToken: session.csrfToken,
    sessionExpiresAt: session.expiresAt,
    ...(await memberScope(dataSource, session.organizationId, session.userId, membership.role)),
  };
}

export function csrfTokenMatches(principal: UserPrincipal, given: string | undefined): boolean {
  if (!given) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(principal.csrfToken);
  return a.length === b.length && timingSafeEqual(a, b);
}

export async function revokeSession(db: DataSource | EntityManager, sessionId: string): Promise<void> {
  await db.getRepository(UserSession).update({ id: sessionId, revokedAt: IsNull() }, { revokedAt: new Date() });
}

/** Every open session of the user (in one organisation, or everywhere). */
export async function revokeUserSessions(db: DataSource | EntityManager, userId: string, organizationId?: string): Promise<void> {
  await db
    .getRepository(UserSession)
    .update({ userId, revokedAt: IsNull(), ...(organizationId ? { organizationId } : {}) }, { revokedAt: new Date() });
}

const grantMeaning: Record<GrantPermission, Permission[]> = {
  view: withDocuments(['view']),
  send: withDocuments(['view', 'send']),
  manage: withDocuments(['view', 'send', 'admin']),
};

/**
 * What a member may see and do: owners and admins the whole organisation; members what their folder grants
 * give (inherited by subfolders); viewers the same folders, read-only whatever the grant says; support staff
 * every request of the organisation, read-only and without its documents (grants do not apply to them).
 */
export async function memberScope(db: DataSource | EntityManager, organizationId: string, userId: string, role: MemberRole): Promise<AccessScope> {
  if (role === 'owner' || role === 'admin') return { organizationId, permissions: new Set(everyPermission) };
  if (role === 'support') return { organizationId, permissions: new Set<Permission>(['view']) };
  const grants = await db.getRepository(FolderGrant).find({ where: { organizationId, userId }, order: { createdAt: 'ASC', folderId: 'ASC' } });
  const folders = await folderSubtreePermissions(
    db,
    organizationId,
    grants.map((grant) => ({
      folderId: grant.folderId,
      permissions: role === 'viewer' ? withDocuments(['view']) : grantMeaning[grant.permission],
    })),
  );
  // Every member may look (and find what they were granted, possibly nothing): listing is never a 403.
  return { organizationId, folders, permissions: new Set<Permission>(['view', ...permissionsAnywhere(folders)]) };
}
