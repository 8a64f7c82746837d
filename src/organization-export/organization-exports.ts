/**
 * Organisation exports (R13): owners and administrators ask for everything the organisation holds; the
 * workflow `organization-export-<id>` (src/workflows/organization-export.ts) writes the ZIP in parts
 * (build-organization-export.ts) and records progress here, so GET shows it; the ZIP is downloadable for
 * `exportKeptMs` and then expires (410) and its parts are deleted.
 *
 * The export is a record of its own for the keyring: its key is made with the row (ensureKey), and its
 * blobs (orgs/<org>/exports/<id>/...) and its workflow's payloads are encrypted under it.
 */
import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { WorkflowIdReusePolicy } from '@temporalio/client';
import type { TemporalTarget } from '../adapters/temporal-connection';
import { requireOrganizationAdmin, type AccessScope } from '../accounts/access';
import { recordOrganizationEvent, type Actor } from '../accounts/organization-audit-log';
import { queryReturning } from '../database/data-source';
import { AppError, unavailableError } from '../errors';
import type { SigningContext } from '../signing/signing-context';
import type { OrganizationExportInput } from '../workflows/organization-export';
import { organizationIdAttribute } from '../workflows/search-attributes';
import { exportPartKey, type BuiltExport, type ExportProgress } from './build-organization-export';

/** How long a finished export can be downloaded. */
export const exportKeptMs = 7 * 24 * 3600_000;

export type ExportStatus = 'queued' | 'running' | 'completed' | 'failed' | 'expired';

export interface OrganizationExportView {
  id: string;
  status: ExportStatus;
  requestedBy: string;
  itemsTotal: number;
  itemsDone: number;
  sha256?: string;
  sizeBytes?: number;
  createdAt: string;
  completedAt?: string;
  expiresAt?: string;
  downloadUrl?: string;
  /** Where it was also written (EXPORT_S3_*: the customer's bucket), once copied there. */
  targetLocation?: string;
}

interface ExportRow {
  id: string;
  organization_id: string;
  requested_by: string;
  requested_by_user_id: string | null;
  status: ExportStatus;
  items_total: number;
  items_done: number;
  blob_key: string | null;
  part_count: number | null;
  sha256: string | null;
  size_bytes: string | null;
  created_at: Date;
  completed_at: Date | null;
  expires_at: Date | null;
  target_location: string | null;
}

/** The row with where its copy in the customer's bucket is (recorded in the audit log when it was copied). */
const exportColumns = `e.*, (SELECT a.detail->>'location' FROM organization_audit_events a
   WHERE a.organization_id = e.organization_id AND a.type = 'organization.export_copied' AND a.detail->>'exportId' = e.id::text
   LIMIT 1) AS target_location`;

export const workflowIdForExport = (exportId: string) => `organization-export-${exportId}`;
const exportNotFound = () => new AppError('not_found', 'No such export.');

/** The caller of an export route: who they are for the audit log and (a member) for the ready email. */
export interface ExportCaller {
  scope: AccessScope;
  actor: Actor;
  userId?: string;
}

function viewOf(row: ExportRow, publicUrl: string, now = Date.now()): OrganizationExportView {
  const expired = row.status === 'expired' || (row.status === 'completed' && row.expires_at !== null && row.expires_at.getTime() <= now);
  const status: ExportStatus = expired ? 'expired' : row.status;
  return {
    id: row.id,
    status,
    requestedBy: row.requested_by,
    itemsTotal: row.items_total,
    itemsDone: row.items_done,
    ...(row.sha256 ? { sha256: row.sha256 } : {}),
    ...(row.size_bytes !== null ? { sizeBytes: Number(row.size_bytes) } : {}),
    createdAt: row.created_at.toISOString(),
    ...(row.completed_at ? { completedAt: row.completed_at.toISOString() } : {}),
    ...(row.expires_at ? { expiresAt: row.expires_at.toISOString() } : {}),
    ...(status === 'completed' ? { downloadUrl: `${publicUrl}/v1/organization/exports/${row.id}/download` } : {}),
    ...(row.target_location ? { targetLocation: row.target_location } : {}),
  };
}

/** Creates the export (its row, key and audit entry) and starts its workflow; 202-style: it runs on. */
export async function requestOrganizationExport(
  context: SigningContext,
  temporal: TemporalTarget,
  caller: ExportCaller,
  options: { partBytes?: number } = {},
): Promise<OrganizationExportView> {
  requireOrganizationAdmin(caller.scope);
  return startOrganizationExport(context, temporal, { organizationId: caller.scope.organizationId, actor: caller.actor, userId: caller.userId, ...options });
}

/** Also used by the closing, which offers an export when none was made recently. */
export async function startOrganizationExport(
  context: SigningContext,
  temporal: TemporalTarget,
  input: { organizationId: string; actor: Actor; userId?: string; partBytes?: number },
): Promise<OrganizationExportView> {
  const id = randomUUID();
  await context.dataSource.transaction(async (tx) => {
    await tx.query(
      `INSERT INTO organization_exports (id, organization_id, requested_by, requested_by_user_id, status) VALUES ($1, $2, $3, $4, 'queued')`,
      [id, input.organizationId, input.actor.actor, input.userId ?? null],
    );
    await context.recordKeys.ensureKey(tx, input.organizationId, { kind: 'organization_export', id });
  });
  const workflowInput: OrganizationExportInput = { exportId: id, ...(input.partBytes ? { partBytes: input.partBytes } : {}) };
  try {
    await temporal.client.workflow.start('organizationExportWorkflow', {
      taskQueue: temporal.taskQueue,
      workflowId: workflowIdForExport(id),
      workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
      args: [workflowInput],
      typedSearchAttributes: [{ key: organizationIdAttribute, value: input.organizationId }],
    });
  } catch {
    await context.dataSource.query(`DELETE FROM organization_exports WHERE id = $1`, [id]);
    throw unavailableError('temporal', 'The export could not be started; nothing was created.');
  }
  await recordOrganizationEvent(context.dataSource, {
    organizationId: input.organizationId,
    type: 'organization.export_requested',
    ...input.actor,
    detail: { exportId: id },
  });
  return (await findExport(context, input.organizationId, id))!;
}

async function readExportRow(context: SigningContext, organizationId: string, exportId: string): Promise<ExportRow | undefined> {
  const [row]: ExportRow[] = await context.dataSource.query(`SELECT ${exportColumns} FROM organization_exports e WHERE e.id = $1 AND e.organization_id = $2`, [
    exportId,
    organizationId,
  ]);
  return row;
}

async function findExport(context: SigningContext, organizationId: string, exportId: string): Promise<OrganizationExportView | undefined> {
  const row = await readExportRow(context, organizationId, exportId);
  return row ? viewOf(row, context.publicUrl) : undefined;
}

export async function getOrganizationExport(context: SigningContext, scope: AccessScope, exportId: string): Promise<OrganizationExportView> {
  requireOrganizationAdmin(scope);
  const found = await findExport(context, scope.organizationId, exportId);
  if (!found) throw exportNotFound();
  return found;
}

export async function listOrganizationExports(context: SigningContext, scope: AccessScope, limit = 50): Promise<OrganizationExportView[]> {
  requireOrganizationAdmin(scope);
  const rows: ExportRow[] = await context.dataSource.query(
    `SELECT ${exportColumns} FROM organization_exports e WHERE e.organization_id = $1 ORDER BY e.created_at DESC, e.id DESC LIMIT $2`,
    [scope.organizationId, limit],
  );
  return rows.map((row) => viewOf(row, context.publicUrl));
}

export interface ExportDownload {
  filename: string;
  sizeBytes: number;
  sha256: string;
  stream: Readable;
}

/**
 * The ZIP as a stream of its parts, read one at a time (409 while it is being written, 410 once expired).
 * The download is recorded in the organisation's audit log.
 */
export async function openOrganizationExportDownload(context: SigningContext, caller: ExportCaller, exportId: string): Promise<ExportDownload> {
  requireOrganizationAdmin(caller.scope);
  const row = await readExportRow(context, caller.scope.organizationId, exportId);
  if (!row) throw exportNotFound();
  const view = viewOf(row, context.publicUrl);
  if (view.status === 'expired') throw new AppError('export_expired', 'This export has expired; request a new one.');
  if (view.status !== 'completed' || !row.blob_key || row.part_count === null) {
    throw new AppError('conflict', `The export can be downloaded once it is completed (it is ${view.status}).`);
  }
  // The first part is read before answering, so an unreachable store is a 503 rather than a cut-off download.
  const blobs = context.adapters.blobStore;
  const first = await blobs.get(exportPartKey(row.blob_key, 0));
  if (!first) throw new AppError('dependency_unavailable', 'The export is not available right now.');
  const blobKey = row.blob_key;
  const partCount = row.part_count;
  async function* parts() {
    yield Buffer.from(first!);
    for (let index = 1; index < partCount; index++) {
      const part = await blobs.get(exportPartKey(blobKey, index));
      if (!part) throw new Error(`part ${index} of export ${exportId} is missing from the blob store`);
      yield Buffer.from(part);
    }
  }
  await recordOrganizationEvent(context.dataSource, {
    organizationId: caller.scope.organizationId,
    type: 'organization.export_downloaded',
    ...caller.actor,
    detail: { exportId },
  });
  return { filename: `sigill-export-${row.created_at.toISOString().slice(0, 10)}-${row.id}.zip`, sizeBytes: Number(row.size_bytes), sha256: row.sha256!, stream: Readable.from(parts()) };
}

// What the export's workflow records (through its activities).

/** Marks the export running and answers whether there is anything to do (false: already completed). */
export async function markExportRunning(context: SigningContext, exportId: string): Promise<boolean> {
  const rows = await queryReturning<{ id: string }>(
    context.dataSource,
    `UPDATE organization_exports SET status = 'running', items_done = 0 WHERE id = $1 AND status IN ('queued', 'running') RETURNING id`,
    [exportId],
  );
  return rows.length > 0;
}

export async function recordExportProgress(context: SigningContext, exportId: string, progress: ExportProgress): Promise<void> {
  await context.dataSource.query(`UPDATE organization_exports SET items_total = $2, items_done = $3 WHERE id = $1 AND status = 'running'`, [
    exportId,
    progress.itemsTotal,
    progress.itemsDone,
  ]);
}

/**
 * The first attempt to finish names the parts; a late one changes nothing, and its own parts are deleted.
 * Answers when the export expires.
 */
export async function completeExport(context: SigningContext, exportId: string, built: BuiltExport): Promise<{ expiresAt: string }> {
  const now = new Date();
  await context.dataSource.query(
    `UPDATE organization_exports SET status = 'completed', blob_key = $2, part_count = $3, sha256 = $4, size_bytes = $5,
            items_done = items_total, completed_at = $6, expires_at = $7
      WHERE id = $1 AND status = 'running'`,
    [exportId, built.blobKey, built.partCount, built.sha256, built.sizeBytes, now, new Date(now.getTime() + exportKeptMs)],
  );
  const [row]: Array<{ organization_id: string; blob_key: string; expires_at: Date; sha256: string; size_bytes: string; completed_at: Date }> =
    await context.dataSource.query(`SELECT organization_id, blob_key, expires_at, sha256, size_bytes, completed_at FROM organization_exports WHERE id = $1`, [
      exportId,
    ]);
  if (row!.blob_key !== built.blobKey) {
    for (let index = 0; index < built.partCount; index++) await context.adapters.blobStore.delete(exportPartKey(built.blobKey, index));
  }
  // Recorded once: keyed on the completion the row holds, whichever attempt wrote it.
  const logged: unknown[] = await context.dataSource.query(
    `SELECT 1 FROM organization_audit_events WHERE organization_id = $1 AND type = 'organization.export_completed' AND detail->>'exportId' = $2`,
    [row!.organization_id, exportId],
  );
  if (logged.length === 0) {
    await recordOrganizationEvent(context.dataSource, {
      organizationId: row!.organization_id,
      type: 'organization.export_completed',
      actor: 'system',
      detail: { exportId, sha256: row!.sha256, sizeBytes: Number(row!.size_bytes) },
      occurredAt: row!.completed_at,
    });
  }
  return { expiresAt: row!.expires_at.toISOString() };
}

export async function failExport(context: SigningContext, exportId: string, reason: string): Promise<void> {
  await context.dataSource.query(`UPDATE organization_exports SET status = 'failed', failure = $2 WHERE id = $1 AND status IN ('queued', 'running')`, [
    exportId,
    reason.slice(0, 500),
  ]);
}

/** Past its time: the parts are deleted and the export answers 410. */
export async function expireExport(context: SigningContext, exportId: string): Promise<void> {
  const [row]: Array<{ blob_key: string | null; part_count: number | null }> = await context.dataSource.query(
    `SELECT blob_key, part_count FROM organization_exports WHERE id = $1`,
    [exportId],
  );
  if (!row) return;
  if (row.blob_key && row.part_count !== null) {
    for (let index = 0; index < row.part_count; index++) await context.adapters.blobStore.delete(exportPartKey(row.blob_key, index));
  }
  await context.dataSource.query(`UPDATE organization_exports SET status = 'expired' WHERE id = $1 AND status = 'completed'`, [exportId]);
}
