/**
 * What operations do with a case: approve, reject, send back for changes, cancel, remind. Each is an Update
 * of the case's workflow, whose validator decides whether the case allows it now (409 with its reason, e.g.
 * "A second reviewer must approve: you approved first."). The workflow records the step; the answer waits
 * briefly for that record so whoever acted reads their decision back at once.
 */
import { WorkflowNotFoundError, WorkflowUpdateFailedError } from '@temporalio/client';
import type { UpdateDefinition } from '@temporalio/common';
import type { TemporalTarget } from '../adapters/temporal-connection';
import type { AccessScope } from '../accounts/access';
import type { KycCaseView } from '../contract/kyc-cases';
import { AppError } from '../errors';
import type { SigningContext } from '../signing/signing-context';
import {
  approveUpdate,
  cancelKycCaseUpdate,
  rejectUpdate,
  remindCustomerUpdate,
  requestChangesUpdate,
  type KycCaseState,
} from '../workflows/kyc-case';
import { workflowIdForKycCase } from './create-kyc-case';
import { kycCaseView, loadKycCaseInScope, readKycCaseRow } from './get-kyc-case';

export interface Reviewer {
  scope: AccessScope;
  /** `user:<id>` or `api-key:<id>`: two approvals need two different ones. */
  actor: string;
  ip?: string;
  userAgent?: string;
}

export async function updateKycCase<Ret, Args extends unknown[]>(
  temporal: TemporalTarget,
  caseId: string,
  update: UpdateDefinition<Ret, Args>,
  ...args: Args
): Promise<Ret> {
  const handle = temporal.client.workflow.getHandle(workflowIdForKycCase(caseId));
  try {
    return await (handle.executeUpdate as (def: UpdateDefinition<Ret, Args>, options: { args: Args }) => Promise<Ret>)(update, { args });
  } catch (error) {
    if (error instanceof WorkflowUpdateFailedError) {
      const reason = error.cause?.message ?? 'The case does not allow this now.';
      if (reason === 'rate_limited') throw new AppError('rate_limited', 'A reminder was sent less than an hour ago.');
      throw new AppError('conflict', reason);
    }
    if (error instanceof WorkflowNotFoundError) throw new AppError('conflict', 'This KYC case has ended.');
    throw error;
  }
}

/** Waits (briefly) until the workflow has recorded `eventKey`, so the view answered includes the step. */
async function viewAfter(context: SigningContext, caseId: string, eventKey: string, state: KycCaseState): Promise<KycCaseView> {
  const deadline = Date.now() + 5000;
  while (Date.now() < deadline) {
    const [recorded] = await context.dataSource.query(`SELECT 1 FROM kyc_audit_events WHERE case_id = $1 AND event_key = $2`, [caseId, eventKey]);
    if (recorded) break;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const view = await kycCaseView(context, (await readKycCaseRow(context.dataSource, caseId))!);
  // Should the record still lag (a slow worker), what the workflow confirmed is what the caller reads: its
  // status and its reviews (the decision just made among them).
  return {
    ...view,
    status: state.status,
    reviews: state.reviews.map((made) => ({
      decision: made.decision,
      reviewer: { id: made.reviewerId, name: made.reviewerName },
      reason: made.reason,
      at: made.at,
      round: made.round,
    })),
  };
}

async function reviewerName(context: SigningContext, reviewer: Reviewer): Promise<string | null> {
  const userId = /^user:(.+)$/.exec(reviewer.actor)?.[1];
  if (!userId) return null;
  const [user]: Array<{ name: string | null; email: string }> = await context.dataSource.query(`SELECT name, email FROM users WHERE id = $1`, [userId]);
  return user ? (user.name ?? user.email) : null;
}

async function review(
  context: SigningContext,
  temporal: TemporalTarget,
  reviewer: Reviewer,
  caseId: string,
  update: typeof approveUpdate,
  reason: string | undefined,
): Promise<KycCaseView> {
  await loadKycCaseInScope(context.dataSource, reviewer.scope, caseId, 'send');
  const state = await updateKycCase(temporal, caseId, update, {
    reviewerId: reviewer.actor,
    reviewerName: await reviewerName(context, reviewer),
    ...(reason !== undefined ? { reason } : {}),
    ip: reviewer.ip,
    userAgent: reviewer.userAgent,
  });
  return viewAfter(context, caseId, `review:${state.reviews.length}`, state);
}

export const approveKycCase = (context: SigningContext, temporal: TemporalTarget, reviewer: Reviewer, caseId: string, note?: string) =>
  review(context, temporal, reviewer, caseId, approveUpdate, note);

export const rejectKycCase = (context: SigningContext, temporal: TemporalTarget, reviewer: Reviewer, caseId: string, reason: string) =>
  review(context, temporal, reviewer, caseId, rejectUpdate, reason);

export const requestKycChanges = (context: SigningContext, temporal: TemporalTarget, reviewer: Reviewer, caseId: string, reason: string) =>
  review(context, temporal, reviewer, caseId, requestChangesUpdate, reason);

export async function cancelKycCase(context: SigningContext, temporal: TemporalTarget, reviewer: Reviewer, caseId: string, reason: string): Promise<KycCaseView> {
  await loadKycCaseInScope(context.dataSource, reviewer.scope, caseId, 'send');
  const state = await updateKycCase(temporal, caseId, cancelKycCaseUpdate, { actor: reviewer.actor, reason, ip: reviewer.ip, userAgent: reviewer.userAgent });
  return viewAfter(context, caseId, 'cancelled', state);
}

export async function remindKycCustomer(context: SigningContext, temporal: TemporalTarget, scope: AccessScope, caseId: string): Promise<{ reminded: number }> {
  await loadKycCaseInScope(context.dataSource, scope, caseId, 'send');
  return updateKycCase(temporal, caseId, remindCustomerUpdate);
}
