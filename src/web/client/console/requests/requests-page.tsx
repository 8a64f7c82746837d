/**
 * The request list at `/` and `/requests`: filters (status, folder, creation dates in the organisation's
 * zone, search) kept in the address so a reload or a shared link shows the same list; newest first, older
 * pages on demand; each signer's progress; CSV export of exactly what is filtered; and the first page
 * refreshed every few seconds while the tab is visible, so a signature appears without a reload.
 */
import type { ComponentChildren } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { formatDateTime, intlTag } from '../../../../i18n';
import type { ConsoleContext } from '../context';
import { Link } from '../main';
import { useLivePagedList } from '../use-live-paged-list';
import {
  actsOnRequests,
  requestStatuses,
  useOrganizationZone,
  type FolderEntry,
  type ListedRequest,
} from './request-model';
import { ErrorBanner, SignerProgress, StatusBadge } from './request-parts';
import { dayStartInZone } from './zoned-days';

const filterNames = ['q', 'status', 'folderId', 'from', 'to'] as const;
type Filters = Record<(typeof filterNames)[number], string>;

const pageSize = 20;
/** The export's row limit (src/signing/export-signing-requests.ts); the API says `X-Sigill-Truncated` beyond it. */
const exportRowLimit = 10_000;
const refreshEveryMs = 4000;

function filtersOf(query: URLSearchParams): Filters {
  return Object.fromEntries(filterNames.map((name) => [name, query.get(name) ?? ''])) as Filters;
}

/** The API's query for the filters: dates become instants at midnight in the organisation's zone. */
function apiQuery(filters: Filters, timeZone: string): URLSearchParams {
  const query = new URLSearchParams();
  if (filters.q.trim()) query.set('q', filters.q.trim());
  if (filters.status) query.set('status', filters.status);
  if (filters.folderId) query.set('folderId', filters.folderId);
  const from = filters.from && dayStartInZone(filters.from, timeZone);
  const to = filters.to && dayStartInZone(filters.to, timeZone, 1); // the "to" day is included
  if (from) query.set('createdFrom', from);
  if (to) query.set('createdTo', to);
  return query;
}

/** `top`: what the start page shows above the list (the attention list), under the heading. */
export function RequestsPage({ ctx, top }: { ctx: ConsoleContext; top?: ComponentChildren }) {
  const { t } = ctx;
  const { timeZone } = useOrganizationZone(ctx);
  const filters = filtersOf(ctx.location.query);
  const [draft, setDraft] = useState<Filters>(filters);
  const [folders, setFolders] = useState<FolderEntry[]>([]);
  const [exportCut, setExportCut] = useState(false);
  const heading = useRef<HTMLHeadingElement>(null);
  const query = apiQuery(filters, timeZone).toString();
  const exportHref = `/v1/signing-requests/export.csv${query ? `?${query}` : ''}`;

  useEffect(() => heading.current?.focus(), []);
  useEffect(() => {
    ctx.api.get<{ items: FolderEntry[] }>('/v1/folders').then((answer) => setFolders(answer.items), () => undefined);
  }, [ctx.api]);

  // A new filter (or the zone arriving) starts the list again from the newest: the form shows the filters
  // in the address, the export notice goes, and the list below reads its first page again.
  useEffect(() => {
    setDraft(filtersOf(ctx.location.query));
    setExportCut(false);
  }, [query, ctx.api]);
  // Live: known requests are updated in place, new ones come on top; an answer to a poll sent before the
  // filters changed is dropped (merged, it would put the old filter's rows back).
  const { items, nextCursor, error, loadingMore, loadMore } = useLivePagedList<ListedRequest>({
    api: ctx.api,
    firstPage: `/v1/signing-requests?${query}${query ? '&' : ''}limit=${pageSize}`,
    keyOf: (item) => item.id,
    isNewer: (item, newestShown) => item.createdAt >= (newestShown?.createdAt ?? ''),
    refreshEveryMs,
    t,
  });

  const apply = (next: Filters) => {
    const address = new URLSearchParams();
    for (const name of filterNames) if (next[name].trim()) address.set(name, next[name].trim());
    const search = address.toString();
    ctx.navigate(`${ctx.location.path}${search ? `?${search}` : ''}`, { replace: true });
  };
  const field = (name: keyof Filters) => ({
    id: `filter-${name}`,
    name,
    value: draft[name],
    onInput: (event: Event) => setDraft({ ...draft, [name]: (event.target as HTMLInputElement).value }),
  });
  const folderName = (id: string) => folders.find((folder) => folder.id === id)?.name;

  return (
    <section class="requests" aria-labelledby="requests-heading">
      <div class="page-title">
        <h1 id="requests-heading" ref={heading} tabIndex={-1}>
          {t('console:requests.heading')}
        </h1>
        {actsOnRequests(ctx.session.organization.role) && (
          <Link ctx={ctx} href="/requests/new" class="button-link">
            {t('console:requests.new')}
          </Link>
        )}
      </div>
      {top}

      <form
        class="filters card"
        role="search"
        aria-label={t('console:requests.filters')}
        onSubmit={(event) => {
          event.preventDefault();
          apply(draft);
        }}
      >
        <div class="filter-search">
          <label for="filter-q">{t('console:requests.search')}</label>
          <input type="search" {...field('q')} aria-describedby="filter-q-hint" />
          <p class="hint" id="filter-q-hint">
            {t('console:requests.searchHint')}
          </p>
        </div>
        <div>
          <label for="filter-status">{t('console:requests.status')}</label>
          <select {...field('status')} onChange={(event) => apply({ ...draft, status: (event.target as HTMLSelectElement).value })}>
            <option value="">{t('console:requests.anyStatus')}</option>
            {requestStatuses.map((status) => (
              <option value={status} key={status}>
                {t(`common:requestStatus.${status}`)}
              </option>
            ))}
          </select>
        </div>
        <div>
          <label for="filter-folderId">{t('console:requests.folder')}</label>
          <select {...field('folderId')} onChange={(event) => apply({ ...draft, folderId: (event.target as HTMLSelectElement).value })}>
            <option value="">{t('console:requests.anyFolder')}</option>
            {folders.map((folder) => (
              <option value={folder.id} key={folder.id}>
                {folder.name}
              </option>
            ))}
          </select>
        </div>
        <div>
          <label for="filter-from">{t('console:requests.createdFrom')}</label>
          <input type="date" {...field('from')} />
        </div>
        <div>
          <label for="filter-to">{t('console:requests.createdTo')}</label>
          <input type="date" {...field('to')} />
        </div>
        <div class="actions filter-actions">
          <button type="submit">{t('console:requests.apply')}</button>
          <button
            type="button"
            class="secondary"
            onClick={() => {
              const cleared = Object.fromEntries(filterNames.map((name) => [name, ''])) as Filters;
              setDraft(cleared);
              apply(cleared);
            }}
          >
            {t('console:requests.clear')}
          </button>
          <a
            class="button-link secondary"
            href={exportHref}
            download
            onClick={() => {
              // The download itself cannot be read by the page; a HEAD of the same export tells whether it was cut.
              fetch(exportHref, { method: 'HEAD', credentials: 'same-origin' }).then(
                (answer) => setExportCut(answer.headers.get('x-sigill-truncated') === 'true'),
                () => undefined,
              );
            }}
          >
            {t('console:requests.exportCsv')}
          </a>
        </div>
      </form>
      <p role="status" class="hint export-notice">
        {exportCut ? t('console:requests.exportTruncated', { limit: new Intl.NumberFormat(intlTag(ctx.locale)).format(exportRowLimit) }) : ''}
      </p>

      <ErrorBanner message={error} />
      {items === undefined && !error && (
        <p role="status" class="muted">
          {t('common:loading')}
        </p>
      )}
      {items?.length === 0 && <p class="empty">{filterNames.some((name) => filters[name]) ? t('console:requests.noneMatching') : t('console:requests.none')}</p>}
      {items && items.length > 0 && (
        <ul class="request-list" aria-label={t('console:requests.listLabel')}>
          {items.map((item) => (
            <li class="request-item card" key={item.id}>
              <div class="request-item-head">
                <h2>
                  <Link ctx={ctx} href={`/requests/${item.id}`}>
                    {item.deletedAt ? t('console:request.deleted.title') : item.title}
                  </Link>
                </h2>
                <StatusBadge status={item.status} deleted={item.deletedAt !== undefined} t={t} />
              </div>
              <p class="muted request-meta">
                {t('console:requests.created', { at: formatDateTime(item.createdAt, ctx.locale, timeZone) })}
                {folderName(item.folderId) ? ` · ${folderName(item.folderId)}` : ''} · <span class="code">{item.documentCode}</span>
              </p>
              {item.deletedAt ? (
                // A tombstone's signers have no names left: only when it went.
                <p class="muted">{t('console:requests.deletedOn', { at: formatDateTime(item.deletedAt, ctx.locale, timeZone) })}</p>
              ) : (
                <SignerProgress signers={item.signers} t={t} />
              )}
            </li>
          ))}
        </ul>
      )}
      {nextCursor && (
        <p>
          <button type="button" class="secondary" disabled={loadingMore} onClick={() => void loadMore()}>
            {loadingMore ? t('common:loading') : t('console:requests.more')}
          </button>
        </p>
      )}
    </section>
  );
}
