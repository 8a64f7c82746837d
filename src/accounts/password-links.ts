/**
 * Emailed single-use links to set a password: the invitation of a new member (valid 7 days) and a password
 * reset (valid 30 minutes). The link carries a random token stored only as its hash; setting a password
 * uses it up, together with every other open link of the user, and ends the user's sessions.
 */
import { randomUUID } from 'node:crypto';
import type { DataSource, EntityManager } from 'typeorm';
import { IsNull } from 'typeorm';
import { Membership, Organization, PasswordToken, User } from '../database/entities';
import { AppError } from '../errors';
import { passwordResetEmail, voiceOf } from './account-messages';
import type { AccountsContext } from './accounts-context';
import type { RequestOrigin } from './login';
import { recordOrganizationEvent } from './organization-audit-log';
import { checkPasswordPolicy, hashPassword } from './passwords';
import { newSecretToken, secretTokenHash } from './secret-tokens';
import { revokeUserSessions } from './sessions';

const lifetimeMs = { invitation: 7 * 24 * 3600_000, reset: 30 * 60_000 } as const;

export async function issuePasswordLink(
  db: DataSource | EntityManager,
  publicUrl: string,
  input: { userId: string; organizationId: string; purpose: PasswordToken['purpose'] },
): Promise<{ link: string; expiresAt: Date }> {
  const { token, hash } = newSecretToken('sgp_');
  const now = new Date();
  const row: PasswordToken = {
    id: randomUUID(),
    tokenHash: hash,
    userId: input.userId,
    organizationId: input.organizationId,
    purpose: input.purpose,
    createdAt: now,
    expiresAt: new Date(now.getTime() + lifetimeMs[input.purpose]),
    usedAt: null,
  };
  await db.getRepository(PasswordToken).insert(row);
  return { link: `${publicUrl}/login/password?token=${encodeURIComponent(token)}`, expiresAt: row.expiresAt };
}

/**
 * "Forgot password": a reset link by email when the address belongs to a member; the same answer either way,
 * so the endpoint tells nobody which addresses have accounts.
 */
export async function requestPasswordReset(ctx: AccountsContext, input: { email: string; origin: RequestOrigin }): Promise<void> {
  const user = await ctx.dataSource.getRepository(User).findOneBy({ email: input.email.trim().toLowerCase() });
  if (!user) return;
  const membership = await ctx.dataSource.getRepository(Membership).findOne({ where: { userId: user.id }, order: { createdAt: 'ASC' } });
  if (!membership) return;
  const { link, expiresAt } = await issuePasswordLink(ctx.dataSource, ctx.publicUrl, { userId: user.id, organizationId: membership.organizationId, purpose: 'reset' });
  // In the language and time zone of the organisation the link is issued for (the first membership).
  const organization = voiceOf(await ctx.dataSource.getRepository(Organization).findOneByOrFail({ id: membership.organizationId }));
  await ctx.mailer.send({
    messageId: `password-reset-${randomUUID()}`,
    to: user.email,
    ...passwordResetEmail(organization, user, { url: link, expiresAt, lifetimeMinutes: lifetimeMs.reset / 60_000 }),
  });
  await recordOrganizationEvent(ctx.dataSource, {
    organizationId: membership.organizationId,
    type: 'password.reset_requested',
    actor: `user:${user.id}`,
    ip: input.origin.ip,
    userAgent: input.origin.userAgent,
  });
}

const linkNoLongerValid = () => new AppError('invalid_request', 'This link has expired or was already used; ask for a new one.');

/** What the password page shows before the user chooses: whose account, and why. */
export async function describePasswordLink(ctx: AccountsContext, token: string): Promise<{ email: string; purpose: PasswordToken['purpose']; organization: string }> {
  const row = await usableToken(ctx.dataSource, token);
  const user = await ctx.dataSource.getRepository(User).findOneByOrFail({ id: row.userId });
  const organization = await ctx.dataSource.getRepository(Organization).findOneByOrFail({ id: row.organizationId });
  return { email: user.email, purpose: row.purpose, organization: organization.name };
}

async function usableToken(db: DataSource | EntityManager, token: string): Promise<PasswordToken> {
  const row = await db.getRepository(PasswordToken).findOneBy({ tokenHash: secretTokenHash(token) });
  if (!row || row.usedAt || row.expiresAt.getTime() <= Date.now()) throw linkNoLongerValid();
  return row;
}

export async function setPasswordWithLink(ctx: AccountsContext, input: { token: string; password: string; origin: RequestOrigin }): Promise<{ email: string }> {
  const row = await usableToken(ctx.dataSource, input.token);
  const user = await ctx.dataSource.getRepository(User).findOneByOrFail({ id: row.userId });
  checkPasswordPolicy(input.password, user.email);
  const passwordHash = await hashPassword(input.password);
  await ctx.dataSource.transaction(async (tx) => {
    // Claim the link first: of two concurrent uses, one finds it already used.
    const claimed = await tx.getRepository(PasswordToken).update({ id: row.id, usedAt: IsNull() }, { usedAt: new Date() });
    if (!claimed.affected) throw linkNoLongerValid();
    await tx.getRepository(PasswordToken).update({ userId: user.id, usedAt: IsNull() }, { usedAt: new Date() });
    await tx.getRepository(User).update({ id: user.id }, { passwordHash, passwordChangedAt: new Date() });
    await revokeUserSessions(tx, user.id);
    await recordOrganizationEvent(tx, {
      organizationId: row.organizationId,
      type: 'password.set',
      actor: `user:${user.id}`,
      ip: input.origin.ip,
      userAgent: input.origin.userAgent,
      detail: { purpose: row.purpose },
    });
  });
  return { email: user.email };
}
