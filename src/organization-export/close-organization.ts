/**
 * Leaving Sigill (R13): an owner closes the organisation. The closing is offered an export first (one is
 * started unless a downloadable one exists or one is under way), then waits out a grace period (default 30
 * days) during which any owner can cancel it; the workflow `organization-closing-<org>`
 * (src/workflows/organization-closing.ts) does the rest: work stops (API keys and sessions refused, see
 * src/api/authenticate.ts), open rounds and cases are waited for, the organisation key is destroyed
 * (src/privacy/shred-record.ts, rule 'organization-closed') and the owners get the final receipt, which stays
 * readable at GET /v1/organization/closing (the one route a closed organisation's owners still reach).
 */
import { WorkflowIdConflictPolicy, WorkflowIdReusePolicy } from '@temporalio/client';
import type { TemporalTarget } from '../adapters/temporal-connection';
import { requireOrganizationAdmin, type AccessScope } from '../accounts/access';
import { recordOrganizationEvent, type Actor } from '../accounts/organization-audit-log';
import { queryReturning } from '../database/data-source';
import { AppError, unavailableError } from '../errors';
import { isPermanentMailRefusal } from '../failure-kinds';
import type { Locale } from '../i18n';
import { sendOnce } from '../messaging/send-once';
import { destroyOrganizationKey, hasClosingReceipt, tombstoneOrganizationRecords, type DeletionReceipt } from '../privacy/shred-record';
import { countOrganizationLegalHolds } from '../retention/legal-hold-sql';
import type { SigningContext } from '../signing/signing-context';
import { cancelClosingSignal, type OrganizationClosingInput } from '../workflows/organization-closing';
import { organizationIdAttribute } from '../workflows/search-attributes';
import { organizationClosedEmail } from './messages';
import { startOrganizationExport } from './organization-exports';

export const defaultGraceDays = 30;
export const minGraceDays = 1;
export const maxGraceDays = 90;
const dayMs = 24 * 3600_000;

export const workflowIdForClosing = (organizationId: string) => `organization-closing-${organizationId}`;

export type ClosingState = 'open' | 'closing' | 'stopped' | 'closed';

export interface OrganizationClosingView {
  state: ClosingState;
  requestedAt?: string;
  requestedBy?: string;
  closesAt?: string;
  workStoppedAt?: string;
  closedAt?: string;
  /** The final receipt of a closed organisation: the destroyed key ids, when and under which rule. */
  receipt?: DeletionReceipt;
  /** The export offered when the closing was requested (started then, or the recent one that stands). */
  exportId?: string;
}

interface OrganizationClosingRow {
  id: string;
  name: string;
  closing_requested_at: Date | null;
  closing_requested_by: string | null;
  closes_at: Date | null;
  work_stopped_at: Date | null;
  closed_at: Date | null;
  closing_receipt: DeletionReceipt | null;
}

export interface ClosingCaller {
  scope: AccessScope;
  actor: Actor;
  isOwner: boolean;
  userId?: string;
}

const onlyOwners = () => new AppError('forbidden', "Only the organisation's owners can close it, or cancel its closing.");

async function readClosingRow(context: SigningContext, organizationId: string): Promise<OrganizationClosingRow> {
  const [row]: OrganizationClosingRow[] = await context.dataSource.query(
    `SELECT id, name, closing_requested_at, closing_requested_by, closes_at, work_stopped_at, closed_at, closing_receipt FROM organizations WHERE id = $1`,
    [organizationId],
  );
  if (!row) throw new AppError('not_found', 'No such organisation.');
  return row;
}

function viewOf(row: OrganizationClosingRow, exportId?: string): OrganizationClosingView {
  const iso = (time: Date | null) => time?.toISOString();
  const state: ClosingState = row.closed_at ? 'closed' : row.work_stopped_at ? 'stopped' : row.closing_requested_at ? 'closing' : 'open';
  return {
    state,
    ...(row.closing_requested_at ? { requestedAt: iso(row.closing_requested_at), requestedBy: row.closing_requested_by ?? undefined, closesAt: iso(row.closes_at) } : {}),
    ...(row.work_stopped_at ? { workStoppedAt: iso(row.work_stopped_at) } : {}),
    ...(row.closed_at ? { closedAt: iso(row.closed_at) } : {}),
    ...(row.closing_receipt ? { receipt: row.closing_receipt } : {}),
    ...(exportId ? { exportId } : {}),
  };
}

export async function getOrganizationClosing(context: SigningContext, scope: AccessScope): Promise<OrganizationClosingView> {
  requireOrganizationAdmin(scope);
  return viewOf(await readClosingRow(context, scope.organizationId));
}

/** An export the owners can still download or that is being written, made since `since`. */
async function standingExport(context: SigningContext, organizationId: string): Promise<string | undefined> {
  const [row]: Array<{ id: string }> = await context.dataSource.query(
    `SELECT id FROM organization_exports
      WHERE organization_id = $1 AND (status IN ('queued', 'running') OR (status = 'completed' AND expires_at > now()))
      ORDER BY created_at DESC LIMIT 1`,
    [organizationId],
  );
  return row?.id;
}

export async function requestOrganizationClosing(
  context: SigningContext,
  temporal: TemporalTarget,
  caller: ClosingCaller,
  input: { confirm: string; graceDays?: number },
): Promise<OrganizationClosingView> {
  if (!caller.isOwner) throw onlyOwners();
  const organizationId = caller.scope.organizationId;
  const organization = await readClosingRow(context, organizationId);
  const confirm = input.confirm.trim();
  if (confirm !== organization.name.trim() && confirm !== organization.id) {
    throw new AppError('unprocessable', "confirm: type the organisation's name exactly to close it.");
  }
  const graceDays = input.graceDays ?? defaultGraceDays;
  // Milliseconds only: the workflow names the request by this time, and PostgreSQL keeps it exactly.
  const requestedAt = new Date();
  const closesAt = new Date(requestedAt.getTime() + graceDays * dayMs);
  await context.dataSource.transaction(async (tx) => {
    // The organisation's row locked first: a legal hold being placed (it share-locks the row,
    // src/retention/retention-admin.ts) is either counted here or refused for the closing.
    await tx.query(`SELECT id FROM organizations WHERE id = $1 FOR UPDATE`, [organizationId]);
    // A closing deletes everything: records under a legal hold must be kept, so the holds go first.
    const holds = await countOrganizationLegalHolds(tx, organizationId);
    if (holds > 0) {
      throw new AppError('legal_hold', `${holds} legal hold(s) apply in this organisation: lift them before closing it (a closing deletes everything).`);
    }
    const updated = await queryReturning<{ id: string }>(
      tx,
      `UPDATE organizations SET closing_requested_at = $2, closing_requested_by = $3, closes_at = $4
        WHERE id = $1 AND closing_requested_at IS NULL AND closed_at IS NULL RETURNING id`,
      [organizationId, requestedAt, caller.actor.actor, closesAt],
    );
    if (updated.length === 0) throw new AppError('conflict', 'The organisation is already closing (cancel it first to choose another grace period).');
  });

  const workflowInput: OrganizationClosingInput = { organizationId, requestedAt: requestedAt.toISOString(), graceMs: graceDays * dayMs };
  try {
    await temporal.client.workflow.start('organizationClosingWorkflow', {
      taskQueue: temporal.taskQueue,
      workflowId: workflowIdForClosing(organizationId),
      // A cancelled closing's run may still be ending; the new request replaces it.
      workflowIdConflictPolicy: WorkflowIdConflictPolicy.TERMINATE_EXISTING,
      workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE,
      args: [workflowInput],
      typedSearchAttributes: [{ key: organizationIdAttribute, value: organizationId }],
    });
  } catch {
    await context.dataSource.query(
      `UPDATE organizations SET closing_requested_at = NULL, closing_requested_by = NULL, closes_at = NULL WHERE id = $1 AND closing_requested_at = $2`,
      [organizationId, requestedAt],
    );
    throw unavailableError('temporal', 'The closing could not be started; nothing changed.');
  }
  await recordOrganizationEvent(context.dataSource, {
    organizationId,
    type: 'organization.closing_requested',
    ...caller.actor,
    detail: { closesAt: closesAt.toISOString(), graceDays },
  });
  // The offer: everything the organisation holds, downloadable for a week, unless such an export stands.
  let exportId = await standingExport(context, organizationId);
  if (!exportId) {
    exportId = (await startOrganizationExport(context, temporal, { organizationId, actor: caller.actor, userId: caller.userId })).id;
  }
  return viewOf(await readClosingRow(context, organizationId), exportId);
}

export async function cancelOrganizationClosing(context: SigningContext, temporal: TemporalTarget, caller: ClosingCaller): Promise<OrganizationClosingView> {
  if (!caller.isOwner) throw onlyOwners();
  const organizationId = caller.scope.organizationId;
  const cancelled = await queryReturning<{ id: string }>(
    context.dataSource,
    `UPDATE organizations SET closing_requested_at = NULL, closing_requested_by = NULL, closes_at = NULL
      WHERE id = $1 AND closing_requested_at IS NOT NULL AND work_stopped_at IS NULL RETURNING id`,
    [organizationId],
  );
  if (cancelled.length === 0) {
    const row = await readClosingRow(context, organizationId);
    throw new AppError('conflict', row.work_stopped_at ? 'The grace period is over: the closing can no longer be cancelled.' : 'The organisation is not closing.');
  }
  await recordOrganizationEvent(context.dataSource, { organizationId, type: 'organization.closing_cancelled', ...caller.actor });
  // The database decides (the workflow's stop step finds the closing gone); the signal only ends the timer early.
  await temporal.client.workflow
    .getHandle(workflowIdForClosing(organizationId))
    .signal(cancelClosingSignal)
    .catch(() => undefined);
  return viewOf(await readClosingRow(context, organizationId));
}

// The closing workflow's steps.

/** The grace is over: from now on the organisation's keys and sessions are refused. False when it was cancelled. */
export async function stopOrganizationWork(context: SigningContext, input: { organizationId: string; requestedAt: string }): Promise<{ proceed: boolean }> {
  const rows = await queryReturning<{ id: string }>(
    context.dataSource,
    `UPDATE organizations SET work_stopped_at = coalesce(work_stopped_at, now())
      WHERE id = $1 AND closing_requested_at = $2 RETURNING id`,
    [input.organizationId, new Date(input.requestedAt)],
  );
  return { proceed: rows.length > 0 };
}

/** Signing rounds and KYC cases of the organisation that have not ended. */
export async function countOpenOrganizationWork(context: SigningContext, organizationId: string): Promise<number> {
  const [row]: Array<{ open: number }> = await context.dataSource.query(
    `SELECT (SELECT count(*)::int FROM signing_requests WHERE organization_id = $1 AND status = 'pending')
          + (SELECT count(*)::int FROM kyc_cases WHERE organization_id = $1
                AND status IN ('invited', 'in_progress', 'signing', 'in_review', 'changes_requested')) AS open`,
    [organizationId],
  );
  return row!.open;
}

/** Destroys the organisation key and keeps the final receipt (idempotent: a retry finds it kept). */
export async function closeOrganization(context: SigningContext, organizationId: string): Promise<DeletionReceipt> {
  const row = await readClosingRow(context, organizationId);
  if (row.closing_receipt) return row.closing_receipt;
  if (!row.work_stopped_at) throw new Error(`organisation ${organizationId} is not stopped; it cannot be closed`);
  // Holds are refused once a closing is requested; one that slipped in (placed at the same moment) still
  // wins: the activity retries, and the closing waits, until an operator lifts it or cancels the closing.
  if (!(await hasClosingReceipt(context, organizationId)) && (await countOrganizationLegalHolds(context.dataSource, organizationId)) > 0) {
    throw new Error(`a legal hold applies in organisation ${organizationId}: it is not closed while the hold stands`);
  }
  const receipt = await destroyOrganizationKey(context, organizationId, {
    rule: 'organization-closed',
    reason: `The organisation was closed at its owners' request (requested ${row.closing_requested_at?.toISOString()}, after the grace period).`,
    actor: row.closing_requested_by ?? 'system',
  });
  // Its data is unreadable now; its rows still hold names, addresses and titles in clear: each record is
  // reduced to its tombstone like a deleted one (resumable: a retry continues where this stopped).
  await tombstoneOrganizationRecords(context, organizationId, receipt);
  await context.dataSource.query(`UPDATE organizations SET closed_at = coalesce(closed_at, $2), closing_receipt = $3 WHERE id = $1`, [
    organizationId,
    new Date(receipt.deletedAt),
    JSON.stringify(receipt),
  ]);
  await recordOrganizationEvent(context.dataSource, { organizationId, type: 'organization.closed', actor: 'system', detail: { receiptId: receipt.id } });
  return receipt;
}

/** The final receipt to every owner, once each (sendOnce). */
export async function emailClosingReceipt(context: SigningContext, organizationId: string): Promise<number> {
  const [organization]: Array<{ name: string; default_locale: Locale; time_zone: string; closing_receipt: DeletionReceipt | null }> = await context.dataSource.query(
    `SELECT name, default_locale, time_zone, closing_receipt FROM organizations WHERE id = $1`,
    [organizationId],
  );
  if (!organization?.closing_receipt) return 0;
  const owners: Array<{ id: string; email: string; name: string | null }> = await context.dataSource.query(
    `SELECT u.id, u.email, u.name FROM memberships m JOIN users u ON u.id = m.user_id
      WHERE m.organization_id = $1 AND m.role = 'owner' ORDER BY m.created_at, u.id`,
    [organizationId],
  );
  let sent = 0;
  for (const owner of owners) {
    const messageId = `organization-closed-${organizationId}-${owner.id}`;
    const email = organizationClosedEmail(
      { organizationName: organization.name, receipt: organization.closing_receipt, timeZone: organization.time_zone },
      { name: owner.name ?? owner.email, locale: organization.default_locale },
    );
    const sentNow = await sendOnce(context.dataSource, 'email', messageId, () => context.adapters.mailer.send({ messageId, to: owner.email, ...email })).catch(
      (error: unknown) => {
        if (isPermanentMailRefusal(error)) return false;
        throw error;
      },
    );
    if (sentNow) sent += 1;
  }
  return sent;
}

/** Whether the organisation's keys and sessions are refused (its grace is over, or it is closed). */
export async function organizationWorkStopped(db: { query(sql: string, params?: unknown[]): Promise<any> }, organizationId: string): Promise<boolean> {
  const [row]: Array<{ work_stopped_at: Date | null }> = await db.query(`SELECT work_stopped_at FROM organizations WHERE id = $1`, [organizationId]);
  return Boolean(row?.work_stopped_at);
}

