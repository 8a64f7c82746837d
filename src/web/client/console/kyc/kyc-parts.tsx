/** Pieces the KYC pages share: a case's status as a badge. */
import type { Translate } from '../../../../i18n';
import type { KycCaseStatus } from './kyc-model';

/** Colours by meaning: waiting on the customer, waiting on us, a good end, a bad end. */
const tones: Record<KycCaseStatus, string> = {
  invited: 'pending',
  in_progress: 'pending',
  signing: 'pending',
  changes_requested: 'pending',
  in_review: 'review',
  approved: 'completed',
  rejected: 'declined',
  expired: 'expired',
  cancelled: 'cancelled',
  failed: 'failed',
};

export function KycStatusBadge({ status, t }: { status: KycCaseStatus; t: Translate }) {
  return <span class={`badge badge-${tones[status]}`}>{t(`kyc:status.${status}`)}</span>;
}
