/**
 * What a principal may see and do (R8). A scope is an organisation, optionally narrowed to a folder subtree,
 * and a set of permissions. Use cases take the scope, never a bare organisation id, so every read and list
 * is filtered the same way; an object outside the scope answers exactly like one that does not exist (404).
 */
import type { DataSource, EntityManager } from 'typeorm';
import { AppError } from '../errors';

export const permissions = ['view', 'send', 'admin'] as const;
export type Permission = (typeof permissions)[number];

export interface AccessScope {
  organizationId: string;
  /** The folders the principal may reach (a subtree); undefined means the whole organisation. */
  folderIds?: readonly string[];
  permissions: ReadonlySet<Permission>;
}

const permissionMeaning: Record<Permission, string> = {
  view: 'read signing requests',
  send: 'create and act on signing requests',
  admin: 'manage folders and API keys',
};

export function requirePermission(scope: AccessScope, permission: Permission): void {
  if (!scope.permissions.has(permission)) {
    throw new AppError('forbidden', `This credential lacks the "${permission}" permission (${permissionMeaning[permission]}).`);
  }
}

export function folderInScope(scope: AccessScope, folderId: string): boolean {
  return scope.folderIds === undefined || scope.folderIds.includes(folderId);
}

/** `folderId` and every folder below it. */
export async function folderSubtree(db: DataSource | EntityManager, folderId: string): Promise<string[]> {
  const rows: Array<{ id: string }> = await db.query(
    `WITH RECURSIVE subtree AS (
       SELECT id FROM folders WHERE id = $1
       UNION ALL
       SELECT f.id FROM folders f JOIN subtree s ON f.parent_id = s.id
     )
     SELECT id FROM subtree`,
    [folderId],
  );
  return rows.map((row) => row.id);
}

/** The whole organisation with every permission: for the service's own tools (fixtures, CLI), not callers. */
export function organizationScope(organizationId: string): AccessScope {
  return { organizationId, permissions: new Set(permissions) };
}
