/**
 * The handler's actions on a data-subject request, each an Update of its workflow, whose validator refuses
 * (409 with the reason) what the request does not allow now: assign, extend (once, 1 or 2 months, before the
 * original deadline, with a reason), fulfil, complete, reject. The answer is the request as the workflow left
 * it, once the step is on record.
 */
import { WorkflowNotFoundError, WorkflowUpdateFailedError } from '@temporalio/client';
import type { UpdateDefinition } from '@temporalio/common';
import type { AccessScope } from '../accounts/access';
import type { TemporalTarget } from '../adapters/temporal-connection';
import type { DataSubjectRequestView, SubjectRecordView } from '../contract/data-subject-requests';
import { AppError } from '../errors';
import type { SigningContext } from '../signing/signing-context';
import {
  assignUpdate,
  completeUpdate,
  dsrStateQuery,
  extendUpdate,
  fulfilUpdate,
  identityConfirmedUpdate,
  rejectUpdate,
  type DataSubjectRequestState,
  type IdentityConfirmedInput,
} from '../workflows/data-subject-request';
import { workflowIdForDataSubjectRequest } from './create-data-subject-request';
import { discoverSubjectRecords } from './fulfilment';
import { getDataSubjectRequest, loadDataSubjectRequest } from './get-data-subject-request';
import { verifiedSubject } from './read-data-subject-request';

export interface Handler {
  scope: AccessScope;
  /** `user:<id>` or `api-key:<id>`. */
  actor: string;
  ip?: string;
  userAgent?: string;
}

export async function updateDataSubjectRequest<Ret, Args extends unknown[]>(
  temporal: TemporalTarget,
  dsrId: string,
  update: UpdateDefinition<Ret, Args>,
  ...args: Args
): Promise<Ret> {
  const handle = temporal.client.workflow.getHandle(workflowIdForDataSubjectRequest(dsrId));
  try {
    return await (handle.executeUpdate as (def: UpdateDefinition<Ret, Args>, options: { args: Args }) => Promise<Ret>)(update, { args });
  } catch (error) {
    if (error instanceof WorkflowUpdateFailedError) throw new AppError('conflict', error.cause?.message ?? 'The request does not allow this now.');
    if (error instanceof WorkflowNotFoundError) throw new AppError('conflict', 'This data-subject request has ended.');
    throw error;
  }
}

/** Waits (briefly) for the workflow's activity to record `eventKey`, so the answer shows the step. */
async function viewAfter(context: SigningContext, handler: Handler, dsrId: string, eventKey: string | undefined): Promise<DataSubjectRequestView> {
  const until = Date.now() + 10_000;
  while (eventKey && Date.now() < until) {
    const [recorded] = await context.dataSource.query(`SELECT 1 FROM dsr_audit_events WHERE dsr_id = $1 AND event_key = $2`, [dsrId, eventKey]);
    if (recorded) break;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return getDataSubjectRequest(context, handler.scope, dsrId);
}

const actorFields = (handler: Handler) => ({ actor: handler.actor, ip: handler.ip, userAgent: handler.userAgent });

export async function assignDataSubjectRequest(context: SigningContext, temporal: TemporalTarget, handler: Handler, dsrId: string, memberId: string) {
  const row = await loadDataSubjectRequest(context, handler.scope, dsrId);
  const [member] = await context.dataSource.query(`SELECT 1 FROM memberships WHERE organization_id = $1 AND user_id = $2`, [row.organization_id, memberId]);
  if (!member) throw new AppError('unprocessable', 'memberId: not a member of this organisation.');
  const state: DataSubjectRequestState = await updateDataSubjectRequest(temporal, dsrId, assignUpdate, { ...actorFields(handler), memberId });
  return viewAfter(context, handler, dsrId, `assigned:${state.assignments}`);
}

export async function extendDataSubjectRequest(context: SigningContext, temporal: TemporalTarget, handler: Handler, dsrId: string, body: { months: 1 | 2; reason: string }) {
  await loadDataSubjectRequest(context, handler.scope, dsrId);
  const state = await updateDataSubjectRequest(temporal, dsrId, extendUpdate, { ...actorFields(handler), months: body.months, reason: body.reason });
  const view = await viewAfter(context, handler, dsrId, 'extended');
  // What the workflow confirmed is the answer, also when its activity has not recorded it yet (a busy worker).
  if (!view.extendedUntil && state.extendedUntil) {
    return { ...view, extendedUntil: state.extendedUntil, extensionReason: body.reason, deadline: state.extendedUntil, overdue: false };
  }
  return view;
}

export async function fulfilDataSubjectRequest(
  context: SigningContext,
  temporal: TemporalTarget,
  handler: Handler,
  dsrId: string,
  body: { change?: { email?: string; phone?: string; name?: string } },
) {
  const row = await loadDataSubjectRequest(context, handler.scope, dsrId);
  if (row.type === 'rectification' && !body.change?.email && !body.change?.phone && !body.change?.name) {
    throw new AppError('unprocessable', 'change: a rectification needs the corrected email, phone or name.');
  }
  if (row.type !== 'rectification' && body.change) throw new AppError('unprocessable', 'change: only for a rectification.');
  await updateDataSubjectRequest(temporal, dsrId, fulfilUpdate, { ...actorFields(handler), change: body.change });
  return getDataSubjectRequest(context, handler.scope, dsrId);
}

export async function completeDataSubjectRequest(context: SigningContext, temporal: TemporalTarget, handler: Handler, dsrId: string, body: { answer?: string }) {
  const row = await loadDataSubjectRequest(context, handler.scope, dsrId);
  const complete = () => updateDataSubjectRequest(temporal, dsrId, completeUpdate, { ...actorFields(handler), answer: body.answer });
  try {
    await complete();
  } catch (error) {
    // The fulfilment's activity records `fulfilledAt` a moment before its workflow hears the result: a
    // handler who saw it on the page and completes at once is not refused for that moment.
    if (!(error instanceof AppError && error.code === 'conflict' && row.fulfilled_at)) throw error;
    await workflowCaughtUp(temporal, dsrId);
    await complete();
  }
  return viewAfter(context, handler, dsrId, 'completed');
}

/** Until the workflow's own state shows the fulfilment recorded (bounded: 10 s). */
async function workflowCaughtUp(temporal: TemporalTarget, dsrId: string): Promise<void> {
  const handle = temporal.client.workflow.getHandle(workflowIdForDataSubjectRequest(dsrId));
  const until = Date.now() + 10_000;
  while (Date.now() < until) {
    const state = await handle.query(dsrStateQuery);
    if (state.fulfilledAt || !state.fulfilling) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

export async function rejectDataSubjectRequest(context: SigningContext, temporal: TemporalTarget, handler: Handler, dsrId: string, body: { reason: string }) {
  await loadDataSubjectRequest(context, handler.scope, dsrId);
  await updateDataSubjectRequest(temporal, dsrId, rejectUpdate, { ...actorFields(handler), reason: body.reason });
  return viewAfter(context, handler, dsrId, 'rejected');
}

/** Discovery: every record of the organisation about the verified person (after identity is confirmed). */
export async function discoverRecordsOfRequest(context: SigningContext, scope: AccessScope, dsrId: string): Promise<SubjectRecordView[]> {
  const row = await loadDataSubjectRequest(context, scope, dsrId);
  if (!row.identity_confirmed_at) throw new AppError('conflict', "The requester has not confirmed their identity yet: records are found only for a verified person.");
  return discoverSubjectRecords(context, await verifiedSubject(context, row));
}

/** After the requester's code (or eID) checked out: the workflow records when identity was confirmed. */
export async function confirmIdentity(temporal: TemporalTarget, dsrId: string, input: IdentityConfirmedInput): Promise<DataSubjectRequestState> {
  return updateDataSubjectRequest(temporal, dsrId, identityConfirmedUpdate, input);
}
