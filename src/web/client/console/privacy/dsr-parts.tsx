/** Pieces the privacy-request pages share: the status and overdue badges, the deadline line, who may act. */
import type { Translate } from '../../../../i18n';
import type { DataSubjectRequestStatus, ListedDataSubjectRequest } from '../../../../contract/data-subject-requests';
import { dataSubjectRequestEndStatuses } from '../../../../contract/data-subject-requests';

const badgeClass: Record<DataSubjectRequestStatus, string> = {
  awaiting_identity: 'badge-pending',
  in_progress: 'badge-pending',
  completed: 'badge-completed',
  rejected: 'badge-declined',
  withdrawn: 'badge-cancelled',
};

/**
 * A status as the handler reads it: the requester's page says "waiting for your code" to the requester; the
 * handler waits for the requester, so that one status has words of its own here.
 */
export function dsrStatusText(status: DataSubjectRequestStatus, t: Translate): string {
  return status === 'awaiting_identity' ? t('privacy:console.awaitingIdentity') : t(`privacy:status.${status}`);
}

export function DsrStatusBadge({ status, t }: { status: DataSubjectRequestStatus; t: Translate }) {
  return <span class={`badge ${badgeClass[status]}`}>{dsrStatusText(status, t)}</span>;
}

export function OverdueBadge({ t }: { t: Translate }) {
  return <span class="badge badge-overdue">{t('privacy:console.overdue')}</span>;
}

export const isOpen = (status: DataSubjectRequestStatus) => !dataSubjectRequestEndStatuses.includes(status);

/** "Due 6 March 2026" or "Extended to 6 May 2026". */
export function deadlineText(item: Pick<ListedDataSubjectRequest, 'dueAt' | 'extendedUntil'>, t: Translate, date: (at: string) => string): string {
  return item.extendedUntil ? t('privacy:console.extendedTo', { at: date(item.extendedUntil) }) : t('privacy:console.due', { at: date(item.dueAt) });
}
