/**
 * A KYC case's Temporal event history as a readable timeline for support staff, as for signing rounds
 * (src/signing/workflow-history.ts, `describeHistory`): steps, attempts and failures, never payloads. The
 * declaration's signing round is a child workflow: its own steps are at its request's `/history`.
 */
import type { TemporalTarget } from '../adapters/temporal-connection';
import type { AccessScope } from '../accounts/access';
import type { TimelineStep } from '../contract/signing-requests';
import { describeHistory } from '../signing/workflow-history';
import type { SigningContext } from '../signing/signing-context';
import { workflowIdForKycCase } from './create-kyc-case';
import { loadKycCaseInScope } from './get-kyc-case';

export async function readKycCaseHistory(context: SigningContext, temporal: TemporalTarget, scope: AccessScope, caseId: string): Promise<TimelineStep[]> {
  const row = await loadKycCaseInScope(context.dataSource, scope, caseId, 'view');
  const history = await temporal.client.workflow.getHandle(workflowIdForKycCase(row.id)).fetchHistory();
  return describeHistory(history.events ?? []).map((step) => ({ ...step, summary: step.summary.replace(/^round /, 'case ') }));
}
