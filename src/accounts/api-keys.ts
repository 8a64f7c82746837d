/**
 * Scoped API keys for back-office systems (R9): an organisation, optionally one folder subtree, and a set of
 * permissions. Shown once, stored as a hash, with the time of last use. A key can only mint keys narrower
 * than or equal to itself, so an `admin` key scoped to a folder cannot escape that folder.
 */
import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { IsNull } from 'typeorm';
import { ApiKey, Folder } from '../database/entities';
import { AppError } from '../errors';
import { folderInScope, mayInFolder, type AccessScope, type Permission } from './access';
import { generateApiKeySecret } from './api-key-secret';
import { recordOrganizationEvent, type Actor } from './organization-audit-log';

export interface ApiKeyView {
  id: string;
  name: string;
  prefix: string;
  folderId: string | null;
  permissions: Permission[];
  createdAt: string;
  lastUsedAt: string | null;
  revokedAt: string | null;
}

const present = (key: ApiKey): ApiKeyView => ({
  id: key.id,
  name: key.name,
  prefix: key.prefix,
  folderId: key.folderId,
  permissions: key.permissions,
  createdAt: key.createdAt.toISOString(),
  lastUsedAt: key.lastUsedAt?.toISOString() ?? null,
  revokedAt: key.revokedAt?.toISOString() ?? null,
});

export async function createApiKey(
  dataSource: DataSource,
  scope: AccessScope,
  input: { name: string; folderId?: string; permissions: Permission[] },
  actor: Actor,
): Promise<ApiKeyView & { key: string }> {
  if (input.folderId) {
    const folder = await dataSource.getRepository(Folder).findOneBy({ id: input.folderId, organizationId: scope.organizationId });
    if (!folder || !folderInScope(scope, folder.id)) throw new AppError('not_found', 'No such folder.');
    if (!mayInFolder(scope, 'admin', folder.id)) throw new AppError('forbidden', 'You lack the "admin" permission in this folder.');
  } else if (scope.folders) {
    throw new AppError('forbidden', 'A folder-scoped principal can only create keys for its own folders: give folderId.');
  }
  // Never wider than the creator: what the key may do, the creator may do where the key reaches.
  const beyond = input.permissions.filter((permission) =>
    input.folderId ? !mayInFolder(scope, permission, input.folderId) : !scope.permissions.has(permission),
  );
  if (beyond.length > 0) throw new AppError('forbidden', `A key cannot be given permissions you do not hold there: ${beyond.join(', ')}.`);
  const secret = generateApiKeySecret();
  const row: ApiKey = {
    id: randomUUID(),
    organizationId: scope.organizationId,
    name: input.name,
    prefix: secret.prefix,
    secretHash: secret.hash,
    createdAt: new Date(),
    lastUsedAt: null,
    revokedAt: null,
    folderId: input.folderId ?? null,
    permissions: [...new Set(input.permissions)],
  };
  await dataSource.transaction(async (tx) => {
    await tx.getRepository(ApiKey).insert(row);
    await recordOrganizationEvent(tx, {
      ...actor,
      organizationId: scope.organizationId,
      type: 'api_key.created',
      detail: { apiKeyId: row.id, folderId: row.folderId, permissions: row.permissions },
    });
  });
  return { ...present(row), key: secret.key };
}

/** The keys whose folder the scope reaches (organisation-wide keys only for organisation-wide scopes). */
export async function listApiKeys(dataSource: DataSource, scope: AccessScope): Promise<ApiKeyView[]> {
  const keys = await dataSource.getRepository(ApiKey).find({ where: { organizationId: scope.organizationId }, order: { createdAt: 'ASC', id: 'ASC' } });
  return keys.filter((key) => reaches(scope, key)).map(present);
}

/** Revokes at once (the next request with it is 401). Revoking twice is harmless. */
export async function revokeApiKey(dataSource: DataSource, scope: AccessScope, apiKeyId: string, actor: Actor): Promise<void> {
  const key = await dataSource.getRepository(ApiKey).findOneBy({ id: apiKeyId, organizationId: scope.organizationId });
  if (!key || !reaches(scope, key)) throw new AppError('not_found', 'No such API key.');
  await dataSource.transaction(async (tx) => {
    const revoked = await tx.getRepository(ApiKey).update({ id: key.id, revokedAt: IsNull() }, { revokedAt: new Date() });
    if (revoked.affected) {
      await recordOrganizationEvent(tx, { ...actor, organizationId: scope.organizationId, type: 'api_key.revoked', detail: { apiKeyId: key.id } });
    }
  });
}

function reaches(scope: AccessScope, key: ApiKey): boolean {
  return key.folderId === null ? scope.folders === undefined : mayInFolder(scope, 'admin', key.folderId);
}
