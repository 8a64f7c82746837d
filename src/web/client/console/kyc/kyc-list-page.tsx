/**
 * The KYC cases at `/kyc`: newest first, a status filter kept in the address (a reload or a shared link shows
 * the same list), older pages on demand, and the first page read again every few seconds while the tab is
 * visible, so a customer's progress shows without a reload. Cases waiting for a second reviewer say so.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import { formatDateTime } from '../../../../i18n';
import { describeError, type ConsoleContext } from '../context';
import { Link } from '../main';
import { useOrganizationZone, usePolling, type FolderEntry } from '../requests/request-model';
import { ErrorBanner } from '../requests/request-parts';
import { actsOnCases, kycStatuses, type ListedKycCase } from './kyc-model';
import { KycStatusBadge } from './kyc-parts';

interface CasePage {
  items: ListedKycCase[];
  nextCursor: string | null;
}

const pageSize = 20;
const refreshEveryMs = 4000;

export function KycListPage({ ctx }: { ctx: ConsoleContext }) {
  const { t } = ctx;
  const { timeZone } = useOrganizationZone(ctx);
  const status = ctx.location.query.get('status') ?? '';
  const [items, setItems] = useState<ListedKycCase[] | undefined>();
  const [nextCursor, setNextCursor] = useState<string | null>(null);
  const [error, setError] = useState<string | undefined>();
  const [loadingMore, setLoadingMore] = useState(false);
  const [folders, setFolders] = useState<FolderEntry[]>([]);
  const heading = useRef<HTMLHeadingElement>(null);
  const query = status ? `status=${encodeURIComponent(status)}&` : '';

  useEffect(() => heading.current?.focus(), []);
  useEffect(() => {
    ctx.api.get<{ items: FolderEntry[] }>('/v1/folders').then((answer) => setFolders(answer.items), () => undefined);
  }, [ctx.api]);

  useEffect(() => {
    let current = true;
    setItems(undefined);
    ctx.api.get<CasePage>(`/v1/kyc-cases?${query}limit=${pageSize}`).then(
      (page) => {
        if (!current) return;
        setItems(page.items);
        setNextCursor(page.nextCursor);
        setError(undefined);
      },
      (failure) => current && setError(describeError(failure, t)),
    );
    return () => {
      current = false;
    };
  }, [query, ctx.api]);

  // Live: known cases updated in place, new ones on top; an answer asked before the filter changed is dropped.
  const listedQuery = useRef(query);
  listedQuery.current = query;
  usePolling(
    () => {
      const asked = query;
      ctx.api.get<CasePage>(`/v1/kyc-cases?${query}limit=${pageSize}`).then(
        (page) =>
          asked === listedQuery.current &&
          setItems((shown) => {
            if (!shown) return page.items;
            const fresh = new Map(page.items.map((item) => [item.id, item]));
            const known = new Set(shown.map((item) => item.id));
            const newer = page.items.filter((item) => !known.has(item.id) && item.createdAt >= (shown[0]?.createdAt ?? ''));
            return [...newer, ...shown.map((item) => fresh.get(item.id) ?? item)];
          }),
        () => undefined, // the next refresh tries again
      );
    },
    refreshEveryMs,
    items !== undefined,
  );

  const loadMore = async () => {
    if (!nextCursor) return;
    setLoadingMore(true);
    try {
      const page = await ctx.api.get<CasePage>(`/v1/kyc-cases?${query}limit=${pageSize}&cursor=${encodeURIComponent(nextCursor)}`);
      setItems((shown) => [...(shown ?? []), ...page.items.filter((item) => !shown?.some((known) => known.id === item.id))]);
      setNextCursor(page.nextCursor);
    } catch (failure) {
      setError(describeError(failure, t));
    } finally {
      setLoadingMore(false);
    }
  };

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
