/**
 * What a principal may see and do (R8). A scope is an organisation and either the whole of it (with one
 * set of permissions) or the folders the principal reaches, each with what may be done there: an API key
 * scoped to a folder has its permissions throughout that subtree; a member has what their grants give,
 * inherited by subfolders. Use cases take the scope, never a bare organisation id, so every read and list
 * is filtered the same way; an object outside the scope answers exactly like one that does not exist (404),
 * and one the principal can see but not act on answers 403.
 */
import type { DataSource, EntityManager } from 'typeorm';
import { AppError } from '../errors';

/** What API keys carry and folder grants translate to. */
export const permissions = ['view', 'send', 'admin'] as const;
export type GrantablePermission = (typeof permissions)[number];

/**
 * `documents` is reading what a request's document says: the original and the sealed PDF, and any view of
 * a signer's document the console may add. It is never given by itself: it comes with `view`
 * (`withDocuments`) for every principal except `support` members, who follow every request of the
 * organisation (status, signers' progress, audit trail, workflow history) without seeing its content.
 * A permission of its own, rather than an exception for support in each document read, so the rule fails
 * closed: a document read asks for `documents`, and a principal nobody gave it to is refused.
 */
export type Permission = GrantablePermission | 'documents';

/** Everything a principal can hold: owners, admins and the service's own tools. */
export const everyPermission: ReadonlySet<Permission> = new Set<Permission>([...permissions, 'documents']);

/** What `granted` gives: `view` brings `documents` with it (only support staff see requests without their documents). */
export function withDocuments(granted: Iterable<Permission>): Permission[] {
  const held = new Set(granted);
  if (held.has('view')) held.add('documents');
  return [...held];
}

export type FolderPermissions = ReadonlyMap<string, ReadonlySet<Permission>>;

export interface AccessScope {
  organizationId: string;
  /** The folders the principal reaches, with what it may do in each; undefined means the whole organisation. */
  folders?: FolderPermissions;
  /** Everything the principal may do somewhere: what a route checks before a use case narrows it to a folder. */
  permissions: ReadonlySet<Permission>;
}

const permissionMeaning: Record<Permission, string> = {
  view: 'read signing requests',
  send: 'create and act on signing requests',
  admin: 'manage folders, members, grants and API keys',
  documents: "read the documents themselves (original and sealed PDF); support staff follow a request's progress, audit trail and history without them",
};

export const lacksPermission = (permission: Permission, where = '') =>
  new AppError('forbidden', `You lack the "${permission}" permission${where} (${permissionMeaning[permission]}).`);

export function requirePermission(scope: AccessScope, permission: Permission): void {
  if (!scope.permissions.has(permission)) throw lacksPermission(permission);
}

/** Organisation-wide administration (members, roles, organisation-wide keys, the audit log): owners, admins, org-wide admin keys. */
export function requireOrganizationAdmin(scope: AccessScope): void {
  if (scope.folders !== undefined || !scope.permissions.has('admin')) {
    throw new AppError('forbidden', 'Only organisation owners and administrators (or an organisation-wide admin key) can do this.');
  }
}

export function folderInScope(scope: AccessScope, folderId: string): boolean {
  return scope.folders === undefined || scope.folders.has(folderId);
}

export function mayInFolder(scope: AccessScope, permission: Permission, folderId: string): boolean {
  if (scope.folders === undefined) return scope.permissions.has(permission);
  return scope.folders.get(folderId)?.has(permission) ?? false;
}

/** 404 if the scope cannot see the folder, 403 if it sees it but may not do `permission` there. */
export function requireInFolder(scope: AccessScope, permission: Permission, folderId: string, notFound: () => AppError): void {
  if (!folderInScope(scope, folderId)) throw notFound();
  if (!mayInFolder(scope, permission, folderId)) throw lacksPermission(permission, ' in this folder');
}

/** The ids of the folders the scope reaches; undefined means all of the organisation's. */
export function reachableFolderIds(scope: AccessScope): string[] | undefined {
  return scope.folders ? [...scope.folders.keys()] : undefined;
}

/**
 * Each root folder's subtree, with the root's permissions; where subtrees overlap (a grant on a folder and
 * another on its subfolder) the permissions add up. Folders are returned in tree order from the roots.
 */
export async function folderSubtreePermissions(
  db: DataSource | EntityManager,
  organizationId: string,
  roots: ReadonlyArray<{ folderId: string; permissions: readonly Permission[] }>,
): Promise<Map<string, Set<Permission>>> {
  const result = new Map<string, Set<Permission>>();
  if (roots.length === 0) return result;
  const rows: Array<{ id: string; root: number }> = await db.query(
    `WITH RECURSIVE subtree AS (
       SELECT f.id, r.ord AS root, 0 AS depth
         FROM folders f JOIN unnest($2::uuid[]) WITH ORDINALITY AS r(id, ord) ON f.id = r.id
        WHERE f.organization_id = $1
       UNION ALL
       SELECT f.id, s.root, s.depth + 1 FROM folders f JOIN subtree s ON f.parent_id = s.id
     )
     SELECT id, root FROM subtree ORDER BY root, depth, id`,
    [organizationId, roots.map((root) => root.folderId)],
  );
  for (const row of rows) {
    const granted = roots[Number(row.root) - 1]!.permissions;
    const held = result.get(row.id) ?? new Set<Permission>();
    for (const permission of granted) held.add(permission);
    result.set(row.id, held);
  }
  return result;
}

/** The union of what the scope may do in any of its folders. */
export function permissionsAnywhere(folders: FolderPermissions): Set<Permission> {
  const all = new Set<Permission>();
  for (const held of folders.values()) for (const permission of held) all.add(permission);
  return all;
}

/** The whole organisation with every permission: for the service's own tools (fixtures, CLI), not callers. */
export function organizationScope(organizationId: string): AccessScope {
  return { organizationId, permissions: new Set(everyPermission) };
}
