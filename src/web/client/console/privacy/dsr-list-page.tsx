/**
 * The organisation's privacy (data-subject) requests at `/privacy-requests`: newest receipt first, a status
 * filter and "only overdue" kept in the address, older pages on demand, refreshed every few seconds while the
 * tab is visible (use-live-paged-list). Each shows its type, status, receipt, deadline (or extension), an
 * overdue badge and the handler; the requester's name only for members who may read documents (the API decides).
 */
import { useEffect, useRef } from 'preact/hooks';
import { formatDate } from '../../../../i18n';
import { dataSubjectRequestStatuses, type ListedDataSubjectRequest } from '../../../../contract/data-subject-requests';
import type { ConsoleContext } from '../context';
import { Link } from '../main';
import { useOrganizationZone } from '../requests/request-model';
import { ErrorBanner } from '../requests/request-parts';
import { useLivePagedList } from '../use-live-paged-list';
import { deadlineText, DsrStatusBadge, dsrStatusText, OverdueBadge } from './dsr-parts';

const pageSize = 20;
const refreshEveryMs = 4000;

export function DsrListPage({ ctx }: { ctx: ConsoleContext }) {
  const { t } = ctx;
  const { timeZone } = useOrganizationZone(ctx);
  const status = ctx.location.query.get('status') ?? '';
  const overdue = ctx.location.query.get('overdue') === 'true';
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => heading.current?.focus(), []);

  const query = [status ? `status=${encodeURIComponent(status)}` : '', overdue ? 'overdue=true' : ''].filter(Boolean).join('&');
  const { items, nextCursor, error, loadingMore, loadMore } = useLivePagedList<ListedDataSubjectRequest>({
    api: ctx.api,
    firstPage: `/v1/data-subject-requests?${query ? `${query}&` : ''}limit=${pageSize}`,
    keyOf: (item) => item.id,
    isNewer: (item, newestShown) => item.receivedAt >= (newestShown?.receivedAt ?? ''),
    refreshEveryMs,
    t,
  });
  const date = (at: string) => formatDate(at, ctx.locale, timeZone);
  const go = (next: { status?: string; overdue?: boolean }) => {
    const params = new URLSearchParams();
    const chosenStatus = next.status ?? status;
    const chosenOverdue = next.overdue ?? overdue;
    if (chosenStatus) params.set('status', chosenStatus);
    if (chosenOverdue) params.set('overdue', 'true');
    const search = params.toString();
    ctx.navigate(search ? `/privacy-requests?${search}` : '/privacy-requests', { replace: true });
  };

  return (
    <section class="dsr-list" aria-labelledby="dsr-heading">
      <div class="page-title">
        <h1 id="dsr-heading" ref={heading} tabIndex={-1}>
          {t('privacy:console.heading')}
        </h1>
      </div>
      <p class="hint">{t('privacy:console.intro')}</p>
      <form class="card kyc-filter" role="search" aria-label={t('privacy:console.filters')} onSubmit={(event) => event.preventDefault()}>
        <label for="dsr-status">{t('privacy:console.statusFilter')}</label>
        <select id="dsr-status" value={status} onChange={(event) => go({ status: (event.target as HTMLSelectElement).value })}>
          <option value="">{t('privacy:console.anyStatus')}</option>
          {dataSubjectRequestStatuses.map((value) => (
            <option value={value} key={value}>
              {dsrStatusText(value, t)}
            </option>
          ))}
        </select>
        <div class="checkbox">
          <input id="dsr-overdue" type="checkbox" checked={overdue} onChange={(event) => go({ overdue: (event.target as HTMLInputElement).checked })} />
          <label for="dsr-overdue">{t('privacy:console.overdueOnly')}</label>
        </div>
      </form>

      <ErrorBanner message={error} />
      {items === undefined && !error && (
        <p role="status" class="muted">
          {t('common:loading')}
        </p>
      )}
      {items?.length === 0 && <p class="empty">{status || overdue ? t('privacy:console.noneMatching') : t('privacy:console.none')}</p>}
      {items && items.length > 0 && (
        <ul class="request-list" aria-label={t('privacy:console.listLabel')}>
          {items.map((item) => (
            <li class="request-item card dsr-item" key={item.id} data-dsr={item.id}>
              <div class="request-item-head">
                <h2>
                  <Link ctx={ctx} href={`/privacy-requests/${item.id}`}>
                    {t(`privacy:type.${item.type}`)}
                    {item.requesterName ? ` · ${item.requesterName}` : ''}
                  </Link>
                </h2>
                <span>
                  <DsrStatusBadge status={item.status} t={t} /> {item.overdue && <OverdueBadge t={t} />}
                </span>
              </div>
              <p class="muted request-meta">
                {t('privacy:console.received', { at: date(item.receivedAt) })} · {deadlineText(item, t, date)}
              </p>
              <p class="muted request-meta">{item.assignee ? t('privacy:console.assignedTo', { name: item.assignee.name ?? '—' }) : t('privacy:console.unassigned')}</p>
            </li>
          ))}
        </ul>
      )}
      {nextCursor && (
        <p>
          <button type="button" class="secondary" disabled={loadingMore} onClick={() => void loadMore()}>
            {loadingMore ? t('common:loading') : t('privacy:console.more')}
          </button>
        </p>
      )}
    </section>
  );
}
