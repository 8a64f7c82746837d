/**
 * What the console's KYC pages read from /v1/kyc-cases (shapes in src/contract/kyc-cases.ts), and who may
 * act on a case: the same roles that act on signing requests (the API refuses the rest anyway).
 */
import type { KycCaseStatus } from '../../../../contract/kyc-cases';

export type { KycCaseStatus, KycCaseView, ListedKycCase, QuestionnaireView } from '../../../../contract/kyc-cases';
export { actsOnRequests as actsOnCases } from '../requests/request-model';

export const kycStatuses: KycCaseStatus[] = ['invited', 'in_progress', 'signing', 'in_review', 'changes_requested', 'approved', 'rejected', 'expired', 'cancelled'];

/** Cases the customer can still act on: a reminder makes sense, and so does cancelling. */
export const customerActs = (status: KycCaseStatus) => status === 'invited' || status === 'in_progress' || status === 'changes_requested' || status === 'signing';

export const isEnded = (status: KycCaseStatus) => status === 'approved' || status === 'rejected' || status === 'expired' || status === 'cancelled';
