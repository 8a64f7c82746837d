/**
 * The KYC cases at `/kyc`: newest first, a status filter kept in the address (a reload or a shared link shows
 * the same list), older pages on demand, and the first page read again every few seconds while the tab is
 * visible, so a customer's progress shows without a reload. Cases waiting for a second reviewer say so.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import { formatDateTime } from '../../../../i18n';
import type { ConsoleContext } from '../context';
import { Link } from '../main';
import { useOrganizationZone, type FolderEntry } from '../requests/request-model';
import { ErrorBanner } from '../requests/request-parts';
import { useLivePagedList } from '../use-live-paged-list';
import { actsOnCases, kycStatuses, type ListedKycCase } from './kyc-model';
import { KycStatusBadge } from './kyc-parts';

const pageSize = 20;
const refreshEveryMs = 4000;

export function KycListPage({ ctx }: { ctx: ConsoleContext }) {
  const { t } = ctx;
  const { timeZone } = useOrganizationZone(ctx);
  const status = ctx.location.query.get('status') ?? '';
  const [folders, setFolders] = useState<FolderEntry[]>([]);
  const heading = useRef<HTMLHeadingElement>(null);
  const query = status ? `status=${encodeURIComponent(status)}&` : '';

  useEffect(() => heading.current?.focus(), []);
  useEffect(() => {
    ctx.api.get<{ items: FolderEntry[] }>('/v1/folders').then((answer) => setFolders(answer.items), () => undefined);
  }, [ctx.api]);

  // Live: known cases updated in place, new ones on top; an answer asked before the filter changed is dropped.
  const { items, nextCursor, error, loadingMore, loadMore } = useLivePagedList<ListedKycCase>({
    api: ctx.api,
    firstPage: `/v1/kyc-cases?${query}limit=${pageSize}`,
    keyOf: (item) => item.id,
    isNewer: (item, newestShown) => item.createdAt >= (newestShown?.createdAt ?? ''),
    refreshEveryMs,
    t,
  });

  const folderName = (id: string) => folders.find((folder) => folder.id === id)?.name;

  return (
    <section class="kyc-list" aria-labelledby="kyc-heading">
      <div class="page-title">
        <h1 id="kyc-heading" ref={heading} tabIndex={-1}>
          {t('kyc:list.heading')}
        </h1>
        {actsOnCases(ctx.session.organization.role) && (
          <Link ctx={ctx} href="/kyc/new" class="button-link">
            {t('kyc:list.new')}
          </Link>
        )}
      </div>
      <form class="card kyc-filter" role="search" aria-label={t('kyc:list.filters')} onSubmit={(event) => event.preventDefault()}>
        <label for="kyc-status">{t('kyc:list.status')}</label>
        <select
          id="kyc-status"
          value={status}
          onChange={(event) => {
            const chosen = (event.target as HTMLSelectElement).value;
            ctx.navigate(chosen ? `/kyc?status=${encodeURIComponent(chosen)}` : '/kyc', { replace: true });
          }}
        >
          <option value="">{t('kyc:list.anyStatus')}</option>
          {kycStatuses.map((value) => (
            <option value={value} key={value}>
              {t(`kyc:status.${value}`)}
            </option>
          ))}
        </select>
      </form>

      <ErrorBanner message={error} />
      {items === undefined && !error && (
        <p role="status" class="muted">
          {t('common:loading')}
        </p>
      )}
      {items?.length === 0 && <p class="empty">{status ? t('kyc:list.noneMatching') : t('kyc:list.none')}</p>}
      {items && items.length > 0 && (
        <ul class="request-list" aria-label={t('kyc:list.listLabel')}>
          {items.map((item) => (
            <li class="request-item card" key={item.id}>
              <div class="request-item-head">
                <h2>
                  <Link ctx={ctx} href={`/kyc/${item.id}`}>
                    {item.customer.name}
                  </Link>
                </h2>
                <KycStatusBadge status={item.status} t={t} />
              </div>
              <p class="muted request-meta">
                {t(`kyc:customerType.${item.customer.type}`)} · <span class="kyc-email">{item.customer.email}</span>
                {folderName(item.folderId) ? ` · ${folderName(item.folderId)}` : ''}
              </p>
              <p class="muted request-meta">
                {t('kyc:list.created', { at: formatDateTime(item.createdAt, ctx.locale, timeZone) })} · {t('kyc:list.expires', { at: formatDateTime(item.expiresAt, ctx.locale, timeZone) })}
              </p>
              {item.needsSecondReview && <p class="tag second-review">{t('kyc:list.needsSecondReview')}</p>}
            </li>
          ))}
        </ul>
      )}
      {nextCursor && (
        <p>
          <button type="button" class="secondary" disabled={loadingMore} onClick={() => void loadMore()}>
            {loadingMore ? t('common:loading') : t('kyc:list.more')}
          </button>
        </p>
      )}
    </section>
  );
}
