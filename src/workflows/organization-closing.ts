/**
 * Closing an organisation (R13, src/organization-export/close-organization.ts): the grace period is a
 * durable timer that an owner's cancel (DELETE /v1/organization/close) ends early; after it the
 * organisation's API keys and sessions stop working, so nothing new starts; the closing then waits until no
 * signing round or KYC case is still open (they end by being signed, declined, expiring or cancelled; owners
 * are asked to finish or cancel them during the grace), for at most 30 days; then it destroys the
 * organisation key (every document and personal field of it becomes unreadable everywhere) and emails the
 * owners the final receipt.
 */
import { ActivityFailure, condition, defineSignal, proxyActivities, setHandler, sleep } from '@temporalio/workflow';
import type { OrganizationExportActivities } from '../activities/organization-export-activities';

export interface OrganizationClosingInput {
  organizationId: string;
  /** When the closing was requested: a later request (after a cancel) is a closing of its own. */
  requestedAt: string;
  graceMs: number;
}

export interface OrganizationClosingResult {
  status: 'cancelled' | 'closed';
}

export const cancelClosingSignal = defineSignal('cancelClosing');

/** How often a closing waiting for open rounds and cases looks again. */
const openWorkCheckEvery = '6 hours';
/**
 * How long open work is waited for after the grace. Some never ends by itself (a KYC case left in review with
 * nobody to review it, a request with a year-long deadline): after this the organisation closes anyway and
 * such records become unreadable with the rest (their workflows are left for operators to terminate).
 */
const maxWaitForOpenWorkMs = 30 * 24 * 3600_000;
/** Between the last open record ending and the key's destruction. */
const settlingPeriod = '1 day';

const step = proxyActivities<OrganizationExportActivities>({
  startToCloseTimeout: '2 minutes',
  retry: { initialInterval: '5 seconds', backoffCoefficient: 2, maximumInterval: '10 minutes' },
});

export async function organizationClosingWorkflow(input: OrganizationClosingInput): Promise<OrganizationClosingResult> {
  let cancelled = false;
  setHandler(cancelClosingSignal, () => {
    cancelled = true;
  });
  if (await condition(() => cancelled, input.graceMs)) return { status: 'cancelled' };
  const { proceed } = await step.stopOrganizationWork({ organizationId: input.organizationId, requestedAt: input.requestedAt });
  // Cancelled in the database before the signal arrived (or a newer request took over).
  if (!proceed) return { status: 'cancelled' };
  const stoppedAt = Date.now(); // workflow time: replays the same
  const openWorkLeft = async () =>
    Date.now() - stoppedAt < maxWaitForOpenWorkMs && (await step.countOpenOrganizationWork({ organizationId: input.organizationId })) > 0;
  // The read model says a round ended a moment before its workflow is done (its last emails and webhooks);
  // a settling period lets those finish under the key before it is destroyed.
  do {
    while (await openWorkLeft()) await sleep(openWorkCheckEvery);
    await sleep(settlingPeriod);
  } while (await openWorkLeft());
  await step.closeOrganization({ organizationId: input.organizationId });
  try {
    await step.emailClosingReceipt({ organizationId: input.organizationId });
  } catch (error) {
    // The organisation is closed either way; the receipt stays readable at GET /v1/organization/closing.
    if (!(error instanceof ActivityFailure)) throw error;
  }
  return { status: 'closed' };
}
