import type { DataSource } from 'typeorm';
import { ApiKey } from '../database/entities';
import { AppError } from '../errors';
import { folderSubtreePermissions, withDocuments, type AccessScope } from './access';
import { apiKeyMatches, apiKeyPrefix } from './api-key-secret';

export interface ApiKeyPrincipal extends AccessScope {
  kind: 'api-key';
  apiKeyId: string;
  /** The organisation is closing past its grace, or closed (src/api/authenticate.ts refuses nearly everything). */
  organizationWorkStopped: boolean;
}

/** Recording every use would write on every request; a minute's precision is what an admin needs. */
const lastUsedPrecisionMs = 60_000;

/** One answer for every failure, so a caller cannot tell a malformed key from a revoked or unknown one. */
const rejected = () => new AppError('unauthenticated', 'A valid API key is required (Authorization: Bearer <key>).');

export async function authenticateApiKey(dataSource: DataSource, key: string | undefined): Promise<ApiKeyPrincipal> {
  const prefix = key ? apiKeyPrefix(key) : undefined;
  if (!key || !prefix) throw rejected();
  // Plain SQL rather than the repository: every API call starts here, and the ORM's query building cost
  // more than the lookup itself. The organisation's state comes in the same round trip.
  const rows: Array<
    Pick<ApiKey, 'id' | 'organizationId' | 'secretHash' | 'revokedAt' | 'lastUsedAt' | 'folderId' | 'permissions'> & { workStopped: boolean }
  > = await dataSource.query(
    `SELECT k.id, k.organization_id AS "organizationId", k.secret_hash AS "secretHash", k.revoked_at AS "revokedAt",
            k.last_used_at AS "lastUsedAt", k.folder_id AS "folderId", k.permissions, o.work_stopped_at IS NOT NULL AS "workStopped"
       FROM api_keys k JOIN organizations o ON o.id = k.organization_id
      WHERE k.prefix = $1`,
    [prefix],
  );
  const row = rows[0];
  if (!row || row.revokedAt || !apiKeyMatches(key, row.secretHash)) throw rejected();

  const now = Date.now();
  if (!row.lastUsedAt || now - row.lastUsedAt.getTime() > lastUsedPrecisionMs) {
    await dataSource.getRepository(ApiKey).update({ id: row.id }, { lastUsedAt: new Date(now) });
  }
  // A key is given view, send and admin; `view` brings reading documents with it (only support members lack it).
  const granted = withDocuments(row.permissions);
  return {
    kind: 'api-key',
    apiKeyId: row.id,
    organizationWorkStopped: row.workStopped,
    organizationId: row.organizationId,
    // Resolved per request, so a folder created under the key's folder is reachable at once.
    folders: row.folderId
      ? await folderSubtreePermissions(dataSource, row.organizationId, [{ folderId: row.folderId, permissions: granted }])
      : undefined,
    permissions: new Set(granted),
  };
}
