import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { z } from 'zod';
import { singleLineText } from '../text-input';
import { ApiKey, Folder, Membership, Organization, User } from '../database/entities';
import { AppError } from '../errors';
import { generateApiKeySecret } from './api-key-secret';
import { issuePasswordLink } from './password-links';

export const createOrganizationInput = z.object({
  name: singleLineText({ max: 200 }),
  ownerEmail: z.email('must be an email address').transform((email) => email.toLowerCase()),
});

export interface CreatedOrganization {
  orgId: string;
  /** Its public privacy page is /privacy/<slug>: made from the name, unique (a number added when taken). */
  slug: string;
  ownerUserId: string;
  /** The first API key, in full: shown once, only its hash is kept. */
  apiKey: string;
  /** When the owner has no password yet and a public URL was given: their single-use link to choose one (7 days). */
  ownerPasswordLink?: string;
}

/**
 * Creates an organisation, its owner (reusing the user if the email is known) and a first API key, in one
 * transaction: either all exist afterwards or none does.
 */
export async function createOrganization(
  dataSource: DataSource,
  input: z.input<typeof createOrganizationInput>,
  options: { publicUrl?: string } = {},
): Promise<CreatedOrganization> {
  const parsed = createOrganizationInput.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new AppError('invalid_request', `${String(issue.path[0])} ${issue.message}`);
  }
  const { name, ownerEmail } = parsed.data;
  const secret = generateApiKeySecret();

  return dataSource.transaction(async (tx) => {
    const now = new Date();
    const organization = await tx.save(Organization, { id: randomUUID(), name, createdAt: now });
    // The database makes the slug from the name (migration 1763932000000), whichever way a row is inserted.
    const [{ slug }]: Array<{ slug: string }> = await tx.query(`SELECT slug FROM organizations WHERE id = $1`, [organization.id]);
    await tx.query(
      `INSERT INTO users (id, email, created_at) VALUES ($1, $2, $3) ON CONFLICT (email) DO NOTHING`,
      [randomUUID(), ownerEmail, now],
    );
    const owner = await tx.findOneByOrFail(User, { email: ownerEmail });
    await tx.insert(Membership, { organizationId: organization.id, userId: owner.id, role: 'owner', createdAt: now });
    await tx.insert(Folder, { id: randomUUID(), organizationId: organization.id, parentId: null, name: 'Shared', isDefault: true, createdAt: now });
    await tx.insert(ApiKey, {
      id: randomUUID(),
      organizationId: organization.id,
      name: 'first key',
      prefix: secret.prefix,
      secretHash: secret.hash,
      createdAt: now,
      lastUsedAt: null,
      revokedAt: null,
      folderId: null,
      permissions: ['view', 'send', 'admin'],
    });
    const ownerPasswordLink =
      options.publicUrl && !owner.passwordHash
        ? (await issuePasswordLink(tx, options.publicUrl, { userId: owner.id, organizationId: organization.id, purpose: 'invitation' })).link
        : undefined;
    return { orgId: organization.id, slug, ownerUserId: owner.id, apiKey: secret.key, ownerPasswordLink };
  });
}
