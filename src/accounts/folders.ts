/** An organisation's folder tree (R8): create and list, within what the caller's scope reaches. */
import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { Folder } from '../database/entities';
import { AppError } from '../errors';
import { folderInScope, requireInFolder, type AccessScope } from './access';
import { recordOrganizationEvent, type Actor } from './organization-audit-log';

export interface FolderView {
  id: string;
  name: string;
  parentId: string | null;
  isDefault: boolean;
  createdAt: string;
}

const present = (folder: Folder): FolderView => ({
  id: folder.id,
  name: folder.name,
  parentId: folder.parentId,
  isDefault: folder.isDefault,
  createdAt: folder.createdAt.toISOString(),
});

export async function listFolders(dataSource: DataSource, scope: AccessScope): Promise<FolderView[]> {
  const folders = await dataSource.getRepository(Folder).find({ where: { organizationId: scope.organizationId }, order: { createdAt: 'ASC', id: 'ASC' } });
  return folders.filter((folder) => folderInScope(scope, folder.id)).map(present);
}

/**
 * A new folder under `parentId` (which the scope must reach), or at the top level (only for a scope over the
 * whole organisation: a folder-scoped key cannot create folders outside its own subtree).
 */
export async function createFolder(
  dataSource: DataSource,
  scope: AccessScope,
  input: { name: string; parentId?: string },
  actor: Actor,
): Promise<FolderView> {
  if (input.parentId) {
    const parent = await dataSource.getRepository(Folder).findOneBy({ id: input.parentId, organizationId: scope.organizationId });
    if (!parent) throw new AppError('not_found', 'No such parent folder.');
    requireInFolder(scope, 'admin', parent.id, () => new AppError('not_found', 'No such parent folder.'));
  } else if (scope.folders) {
    throw new AppError('forbidden', 'A folder-scoped principal can only create folders inside its own folders: give parentId.');
  }
  const folder: Folder = {
    id: randomUUID(),
    organizationId: scope.organizationId,
    parentId: input.parentId ?? null,
    name: input.name,
    isDefault: false,
    createdAt: new Date(),
  };
  try {
    await dataSource.transaction(async (tx) => {
      await tx.getRepository(Folder).insert(folder);
      await recordOrganizationEvent(tx, { ...actor, organizationId: scope.organizationId, type: 'folder.created', detail: { folderId: folder.id, parentId: folder.parentId } });
    });
  } catch (error) {
    if ((error as { code?: string }).code === '23505') throw new AppError('conflict', 'A folder with this name already exists there.');
    throw error;
  }
  return present(folder);
}
