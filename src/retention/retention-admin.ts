/**
 * What owners and administrators do about retention (R13): read and set the organisation's policy and a
 * folder's overrides, place and lift legal holds, and see what is about to be deleted. Every change is
 * committed with its entry in the organisation's audit log.
 */
import type { EntityManager } from 'typeorm';
import { requireOrganizationAdmin } from '../accounts/access';
import type { AdminCaller } from '../accounts/members';
import { recordOrganizationEvent } from '../accounts/organization-audit-log';
import type { DataSource } from 'typeorm';
import { queryReturning } from '../database/data-source';
import { AppError } from '../errors';
import { recordDeletedError } from '../privacy/tombstones';
import {
  defaultRetention,
  deleteOverrides,
  readOverrides,
  resolveRetention,
  retentionSettings,
  writeOverrides,
  type PolicySource,
  type RetentionOverrides,
  type RetentionSetting,
  type RetentionValues,
} from './policy';
import { clearNoticesUnderHold, upcomingDeletions, type UpcomingDeletion } from './sweep';

export interface RetentionPolicyView {
  /** The folder of a folder override; null for the organisation's policy. */
  folderId: string | null;
  /** What this scope sets (null: not set here, the next scope's value applies). */
  settings: RetentionOverrides;
  /** What applies, and where each value comes from. */
  effective: RetentionValues;
  sources: Record<RetentionSetting, PolicySource>;
  defaults: RetentionValues;
  updatedAt: string | null;
}

export type HoldTarget = { kind: 'signing_request' | 'kyc_case' | 'folder'; id: string };

export interface LegalHoldView {
  kind: HoldTarget['kind'];
  id: string;
  legalHold: { placedAt: string; reason: string; placedBy: string } | null;
}

const tables: Record<HoldTarget['kind'], string> = { signing_request: 'signing_requests', kyc_case: 'kyc_cases', folder: 'folders' };
const names: Record<HoldTarget['kind'], string> = { signing_request: 'Signing request', kyc_case: 'KYC case', folder: 'Folder' };

async function requireFolder(db: Pick<DataSource, 'query'>, organizationId: string, folderId: string): Promise<void> {
  const rows: unknown[] = await db.query(`SELECT 1 FROM folders WHERE id = $1 AND organization_id = $2`, [folderId, organizationId]);
  if (rows.length === 0) throw new AppError('not_found', 'Folder not found.');
}

async function policyView(db: Pick<DataSource, 'query'>, organizationId: string, folderId: string | null): Promise<RetentionPolicyView> {
  const organization = await readOverrides(db, organizationId, null);
  const folder = folderId ? await readOverrides(db, organizationId, folderId) : undefined;
  const own = folder ?? organization;
  const resolved = resolveRetention(organization, folder);
  const settings = Object.fromEntries(retentionSettings.map((setting) => [setting, own[setting]])) as RetentionOverrides;
  return {
    folderId,
    settings,
    effective: resolved.values,
    sources: resolved.sources,
    defaults: { ...defaultRetention },
    updatedAt: own.updatedAt ? new Date(own.updatedAt).toISOString() : null,
  };
}

export async function getRetentionPolicy(dataSource: DataSource, caller: AdminCaller, folderId: string | null): Promise<RetentionPolicyView> {
  requireOrganizationAdmin(caller.scope);
  if (folderId) await requireFolder(dataSource, caller.scope.organizationId, folderId);
  return policyView(dataSource, caller.scope.organizationId, folderId);
}

/** Sets a scope's policy whole: a setting left out (or null) is not set there. */
export async function setRetentionPolicy(
  dataSource: DataSource,
  caller: AdminCaller,
  folderId: string | null,
  change: Partial<RetentionOverrides>,
): Promise<RetentionPolicyView> {
  requireOrganizationAdmin(caller.scope);
  const organizationId = caller.scope.organizationId;
  if (folderId) await requireFolder(dataSource, organizationId, folderId);
  // Data-subject requests concern the whole organisation and are filed in no folder: a folder cannot set theirs.
  if (folderId && change.dsrDays != null) throw new AppError('unprocessable', 'body.dsrDays: data-subject requests are in no folder; set it in the organisation policy.');
  const next = Object.fromEntries(retentionSettings.map((setting) => [setting, change[setting] ?? null])) as RetentionOverrides;
  await dataSource.transaction(async (tx) => {
    const before = await readOverrides(tx, organizationId, folderId);
    await writeOverrides(tx, organizationId, folderId, next, caller.actor.actor);
    const changed: Record<string, { from: number | null; to: number | null }> = {};
    for (const setting of retentionSettings) if (before[setting] !== next[setting]) changed[setting] = { from: before[setting], to: next[setting] };
    if (Object.keys(changed).length > 0) {
      await recordOrganizationEvent(tx, { organizationId, type: 'retention_policy.changed', ...caller.actor, detail: { folderId, changed } });
    }
  });
  return policyView(dataSource, organizationId, folderId);
}

/** Removes a folder's overrides: the organisation's policy applies to it again. */
export async function removeFolderRetentionPolicy(dataSource: DataSource, caller: AdminCaller, folderId: string): Promise<void> {
  requireOrganizationAdmin(caller.scope);
  const organizationId = caller.scope.organizationId;
  await requireFolder(dataSource, organizationId, folderId);
  await dataSource.transaction(async (tx) => {
    if (await deleteOverrides(tx, organizationId, folderId)) {
      await recordOrganizationEvent(tx, { organizationId, type: 'retention_policy.changed', ...caller.actor, detail: { folderId, removed: true } });
    }
  });
}

async function lockTarget(tx: EntityManager, organizationId: string, target: HoldTarget) {
  // Folders are never shredded: only records have a deleted_at.
  const deletedAt = target.kind === 'folder' ? 'NULL::timestamptz' : 'deleted_at';
  const [row]: Array<{ legal_hold_at: Date | null; legal_hold_reason: string | null; legal_hold_by: string | null; deleted_at: Date | null }> = await tx.query(
    `SELECT legal_hold_at, legal_hold_reason, legal_hold_by, ${deletedAt} AS deleted_at FROM ${tables[target.kind]} WHERE id = $1 AND organization_id = $2 FOR UPDATE`,
    [target.id, organizationId],
  );
  if (!row) throw new AppError('not_found', `${names[target.kind]} not found.`);
  return row;
}

const holdView = (target: HoldTarget, row: { legal_hold_at: Date | null; legal_hold_reason: string | null; legal_hold_by: string | null }): LegalHoldView => ({
  kind: target.kind,
  id: target.id,
  legalHold: row.legal_hold_at
    ? { placedAt: new Date(row.legal_hold_at).toISOString(), reason: row.legal_hold_reason ?? '', placedBy: row.legal_hold_by ?? '' }
    : null,
});

export async function readLegalHold(dataSource: DataSource, caller: AdminCaller, target: HoldTarget): Promise<LegalHoldView> {
  requireOrganizationAdmin(caller.scope);
  return dataSource.transaction(async (tx) => holdView(target, await lockTarget(tx, caller.scope.organizationId, target)));
}

/**
 * Places a legal hold (or changes its reason): the retention sweep and shredding leave the record (every
 * record in the folder and below it) alone until it is lifted. Pending deletion notices it covers are cleared.
 */
export async function placeLegalHold(dataSource: DataSource, caller: AdminCaller, target: HoldTarget, reason: string): Promise<LegalHoldView> {
  requireOrganizationAdmin(caller.scope);
  const organizationId = caller.scope.organizationId;
  return dataSource.transaction(async (tx) => {
    // A closing deletes everything when its grace ends; a hold placed meanwhile could not be honoured. Shared
    // lock: a closing requested concurrently waits for this transaction, then sees the hold (and refuses).
    const [organization]: Array<{ closing_requested_at: Date | null }> = await tx.query(
      `SELECT closing_requested_at FROM organizations WHERE id = $1 FOR SHARE`,
      [organizationId],
    );
    if (organization?.closing_requested_at) {
      throw new AppError('conflict', 'The organisation is closing: cancel the closing before placing a legal hold (a closing deletes everything).');
    }
    const before = await lockTarget(tx, organizationId, target);
    // A deleted record has nothing left to keep: a hold on its tombstone would only claim otherwise.
    if (before.deleted_at) throw recordDeletedError(target.kind === 'kyc_case' ? 'KYC case' : 'signing request', before.deleted_at);
    if (before.legal_hold_at && before.legal_hold_reason === reason) return holdView(target, before);
    const [after] = await queryReturning<{ legal_hold_at: Date; legal_hold_reason: string; legal_hold_by: string }>(
      tx,
      `UPDATE ${tables[target.kind]} SET legal_hold_at = COALESCE(legal_hold_at, now()), legal_hold_reason = $2, legal_hold_by = COALESCE(legal_hold_by, $3)
        WHERE id = $1 RETURNING legal_hold_at, legal_hold_reason, legal_hold_by`,
      [target.id, reason, caller.actor.actor],
    );
    await clearNoticesUnderHold(tx, target);
    await recordOrganizationEvent(tx, {
      organizationId,
      type: 'legal_hold.placed',
      ...caller.actor,
      detail: { record: target.kind, id: target.id, reason, ...(before.legal_hold_at ? { previousReason: before.legal_hold_reason } : {}) },
    });
    return holdView(target, after!);
  });
}

export async function liftLegalHold(dataSource: DataSource, caller: AdminCaller, target: HoldTarget): Promise<LegalHoldView> {
  requireOrganizationAdmin(caller.scope);
  const organizationId = caller.scope.organizationId;
  return dataSource.transaction(async (tx) => {
    const before = await lockTarget(tx, organizationId, target);
    if (!before.legal_hold_at) return holdView(target, before);
    await tx.query(`UPDATE ${tables[target.kind]} SET legal_hold_at = NULL, legal_hold_reason = NULL, legal_hold_by = NULL WHERE id = $1`, [target.id]);
    await recordOrganizationEvent(tx, {
      organizationId,
      type: 'legal_hold.released',
      ...caller.actor,
      detail: { record: target.kind, id: target.id, reason: before.legal_hold_reason, placedAt: new Date(before.legal_hold_at).toISOString() },
    });
    return holdView(target, { legal_hold_at: null, legal_hold_reason: null, legal_hold_by: null });
  });
}

export async function listUpcomingDeletions(dataSource: DataSource, caller: AdminCaller, limit: number): Promise<UpcomingDeletion[]> {
  requireOrganizationAdmin(caller.scope);
  return upcomingDeletions(dataSource, caller.scope.organizationId, limit);
}
