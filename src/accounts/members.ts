/**
 * Who belongs to an organisation and with which role (R8), and which folders members are granted.
 *
 * Roles: `owner` and `admin` see and do everything in the organisation (owners alone make or unmake
 * owners, and the last owner stays); `member` works in the folders granted to them; `viewer` reads the
 * folders granted to them; `support` follows every request of the organisation (status, signers' progress,
 * audit trail, workflow history) but reads no document and acts on nothing (see `documents` in access.ts).
 * Grants give `view`, `send` or `manage` (which includes managing the folder's
 * subfolders, grants and keys) on a folder and everything below it.
 *
 * Every change commits together with its entry in the organisation's audit log.
 */
import { randomUUID } from 'node:crypto';
import type { EntityManager } from 'typeorm';
import { Folder, FolderGrant, Membership, Organization, User, type GrantPermission, type MemberRole } from '../database/entities';
import { AppError } from '../errors';
import { requireInFolder, requireOrganizationAdmin, type AccessScope } from './access';
import { memberInvitationEmail, voiceOf } from './account-messages';
import type { AccountsContext } from './accounts-context';
import { recordOrganizationEvent, type Actor } from './organization-audit-log';
import { issuePasswordLink } from './password-links';
import { revokeUserSessions } from './sessions';
import type { MemberView } from '../contract/members';

export const memberRoles = ['owner', 'admin', 'member', 'viewer', 'support'] as const satisfies readonly MemberRole[];
export const grantPermissions = ['view', 'send', 'manage'] as const satisfies readonly GrantPermission[];

export interface AdminCaller {
  scope: AccessScope;
  actor: Actor;
  /** Only owners make, change or remove owners. */
  isOwner: boolean;
}

export type { MemberView };

const memberNotFound = () => new AppError('not_found', 'No such member.');

export async function listMembers(ctx: AccountsContext, caller: AdminCaller): Promise<MemberView[]> {
  requireOrganizationAdmin(caller.scope);
  const rows: Array<{ user_id: string; email: string; name: string | null; phone: string | null; role: MemberRole; password_set: boolean; joined_at: Date }> =
    await ctx.dataSource.query(
      `SELECT m.user_id, u.email, u.name, u.phone, m.role, u.password_hash IS NOT NULL AS password_set, m.created_at AS joined_at
         FROM memberships m JOIN users u ON u.id = m.user_id
        WHERE m.organization_id = $1
        ORDER BY m.created_at, u.email`,
      [caller.scope.organizationId],
    );
  return rows.map((row) => ({
    userId: row.user_id,
    email: row.email,
    name: row.name,
    phone: row.phone,
    role: row.role,
    passwordSet: row.password_set,
    joinedAt: new Date(row.joined_at).toISOString(),
  }));
}

function assertMayAssign(caller: AdminCaller, role: MemberRole): void {
  if (role === 'owner' && !caller.isOwner) throw new AppError('forbidden', 'Only an owner can make someone an owner.');
}

/**
 * Adds a person to the organisation and emails them: a link to choose a password when they have none yet,
 * otherwise a note that they can sign in. A new address becomes a user here (and only here: signing in
 * with Google or Microsoft never creates one).
 */
export async function inviteMember(
  ctx: AccountsContext,
  caller: AdminCaller,
  input: { email: string; name?: string; phone?: string; role: MemberRole },
): Promise<MemberView> {
  requireOrganizationAdmin(caller.scope);
  assertMayAssign(caller, input.role);
  const organizationId = caller.scope.organizationId;
  const email = input.email.trim().toLowerCase();
  // The invitation is sent before the transaction commits: an address the mail server refuses leaves no
  // member behind (the caller gets 422 and may correct it), instead of a member nobody could ever invite.
  const user = await ctx.dataSource.transaction(async (tx) => {
    const users = tx.getRepository(User);
    await users
      .createQueryBuilder()
      .insert()
      .values({ id: randomUUID(), email, name: input.name ?? null, phone: input.phone ?? null, createdAt: new Date() })
      .orIgnore()
      .execute();
    const user = await users.findOneByOrFail({ email });
    const existing = await tx.getRepository(Membership).findOneBy({ organizationId, userId: user.id });
    if (existing) throw new AppError('conflict', 'This person is already a member.');
    await tx.getRepository(Membership).insert({ organizationId, userId: user.id, role: input.role, createdAt: new Date() });
    const passwordLink = user.passwordHash ? undefined : await issuePasswordLink(tx, ctx.publicUrl, { userId: user.id, organizationId, purpose: 'invitation' });
    await recordOrganizationEvent(tx, { ...caller.actor, organizationId, type: 'member.invited', detail: { userId: user.id, role: input.role } });
    const organization = await tx.getRepository(Organization).findOneByOrFail({ id: organizationId });
    const invitation = memberInvitationEmail(
      { organization: voiceOf(organization), inviterName: await inviterName(tx, caller), inviteeName: user.name },
      passwordLink ? { kind: 'choose-password', link: passwordLink.link, expiresAt: passwordLink.expiresAt } : { kind: 'sign-in', link: `${ctx.publicUrl}/login` },
    );
    await ctx.mailer.send({ messageId: `member-invitation-${organizationId}-${user.id}-${randomUUID()}`, to: user.email, ...invitation });
    return user;
  });
  return (await listMembers(ctx, caller)).find((member) => member.userId === user.id)!;
}

/** The member who invites, named in the invitation (their name, else their address); null for an API key. */
async function inviterName(tx: EntityManager, caller: AdminCaller): Promise<string | null> {
  const userId = /^user:(.+)$/.exec(caller.actor.actor)?.[1];
  if (!userId) return null;
  const inviter = await tx.getRepository(User).findOneBy({ id: userId });
  return inviter ? (inviter.name ?? inviter.email) : null;
}

export async function changeMemberRole(ctx: AccountsContext, caller: AdminCaller, userId: string, role: MemberRole): Promise<MemberView> {
  requireOrganizationAdmin(caller.scope);
  const organizationId = caller.scope.organizationId;
  await ctx.dataSource.transaction(async (tx) => {
    const membership = await lockedMembership(tx, organizationId, userId);
    if (membership.role === role) return;
    if (membership.role === 'owner' || role === 'owner') assertMayAssign(caller, 'owner');
    if (membership.role === 'owner') await assertAnotherOwner(tx, organizationId, userId);
    await tx.getRepository(Membership).update({ organizationId, userId }, { role });
    await recordOrganizationEvent(tx, { ...caller.actor, organizationId, type: 'member.role_changed', detail: { userId, from: membership.role, to: role } });
  });
  return (await listMembers(ctx, caller)).find((member) => member.userId === userId)!;
}

/** Ends the membership: its grants go, its sessions in this organisation end at once. */
export async function removeMember(ctx: AccountsContext, caller: AdminCaller, userId: string): Promise<void> {
  requireOrganizationAdmin(caller.scope);
  const organizationId = caller.scope.organizationId;
  await ctx.dataSource.transaction(async (tx) => {
    const membership = await lockedMembership(tx, organizationId, userId);
    if (membership.role === 'owner') {
      assertMayAssign(caller, 'owner');
      await assertAnotherOwner(tx, organizationId, userId);
    }
    await tx.getRepository(FolderGrant).delete({ organizationId, userId });
    await tx.getRepository(Membership).delete({ organizationId, userId });
    await revokeUserSessions(tx, userId, organizationId);
    await recordOrganizationEvent(tx, { ...caller.actor, organizationId, type: 'member.removed', detail: { userId, role: membership.role } });
  });
}

/** The membership row, locked so that two concurrent demotions cannot both leave no owner. */
async function lockedMembership(tx: EntityManager, organizationId: string, userId: string): Promise<Membership> {
  // Owners are counted under a lock on the organisation row: changes to one organisation's owners queue up.
  await tx.query(`SELECT 1 FROM organizations WHERE id = $1 FOR UPDATE`, [organizationId]);
  const membership = await tx.getRepository(Membership).findOneBy({ organizationId, userId });
  if (!membership) throw memberNotFound();
  return membership;
}

async function assertAnotherOwner(tx: EntityManager, organizationId: string, userId: string): Promise<void> {
  const [{ count }] = await tx.query(`SELECT count(*)::int AS count FROM memberships WHERE organization_id = $1 AND role = 'owner' AND user_id <> $2`, [
    organizationId,
    userId,
  ]);
  if (count === 0) throw new AppError('conflict', 'An organisation keeps at least one owner: make someone else owner first.');
}

export interface GrantView {
  folderId: string;
  userId: string;
  email: string;
  permission: GrantPermission;
  createdAt: string;
}

async function grantableFolder(ctx: AccountsContext, scope: AccessScope, folderId: string): Promise<Folder> {
  const notFound = () => new AppError('not_found', 'No such folder.');
  const folder = await ctx.dataSource.getRepository(Folder).findOneBy({ id: folderId, organizationId: scope.organizationId });
  if (!folder) throw notFound();
  requireInFolder(scope, 'admin', folder.id, notFound);
  return folder;
}

/** The grants on one folder (not those inherited from above it). */
export async function listGrants(ctx: AccountsContext, caller: AdminCaller, folderId: string): Promise<GrantView[]> {
  await grantableFolder(ctx, caller.scope, folderId);
  const rows: Array<{ folder_id: string; user_id: string; email: string; permission: GrantPermission; created_at: Date }> = await ctx.dataSource.query(
    `SELECT g.folder_id, g.user_id, u.email, g.permission, g.created_at
       FROM folder_grants g JOIN users u ON u.id = g.user_id
      WHERE g.folder_id = $1 ORDER BY g.created_at, u.email`,
    [folderId],
  );
  return rows.map((row) => ({
    folderId: row.folder_id,
    userId: row.user_id,
    email: row.email,
    permission: row.permission,
    createdAt: new Date(row.created_at).toISOString(),
  }));
}

/** Grants (or changes) a member's permission on a folder and its subfolders. */
export async function setGrant(ctx: AccountsContext, caller: AdminCaller, folderId: string, userId: string, permission: GrantPermission): Promise<GrantView> {
  const organizationId = caller.scope.organizationId;
  await grantableFolder(ctx, caller.scope, folderId);
  await ctx.dataSource.transaction(async (tx) => {
    const membership = await tx.getRepository(Membership).findOneBy({ organizationId, userId });
    if (!membership) throw memberNotFound();
    await tx.query(
      `INSERT INTO folder_grants (folder_id, user_id, organization_id, permission) VALUES ($1, $2, $3, $4)
       ON CONFLICT (folder_id, user_id) DO UPDATE SET permission = EXCLUDED.permission`,
      [folderId, userId, organizationId, permission],
    );
    await recordOrganizationEvent(tx, { ...caller.actor, organizationId, type: 'grant.set', detail: { folderId, userId, permission } });
  });
  return (await listGrants(ctx, caller, folderId)).find((grant) => grant.userId === userId)!;
}

export async function removeGrant(ctx: AccountsContext, caller: AdminCaller, folderId: string, userId: string): Promise<void> {
  const organizationId = caller.scope.organizationId;
  await grantableFolder(ctx, caller.scope, folderId);
  await ctx.dataSource.transaction(async (tx) => {
    const removed = await tx.getRepository(FolderGrant).delete({ folderId, userId, organizationId });
    if (!removed.affected) throw new AppError('not_found', 'No such grant.');
    await recordOrganizationEvent(tx, { ...caller.actor, organizationId, type: 'grant.removed', detail: { folderId, userId } });
  });
}
