/**
 * A cursor-paged list, newest first, that stays live (the request list, the KYC cases, a webhook endpoint's
 * delivery log): the first page read when the filters (or the session's API) change, older pages on demand,
 * and the first page read again every few seconds while the tab is visible and merged into what is shown.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import type { Translate } from '../../../i18n';
import { describeError, type ConsoleApi } from './context';
import { usePolling } from './requests/request-model';

export interface LivePagedListOptions<T> {
  api: ConsoleApi;
  /** The first page's address, with its query (filters and limit); older pages add `&cursor=…` to it. A new one starts the list again. */
  firstPage: string;
  /** What tells two versions of the same item apart from other items. */
  keyOf(item: T): string;
  /** Whether an item a refresh found that is not shown goes on top; `newestShown` is the first one shown. Every such item by default. */
  isNewer?(item: T, newestShown: T | undefined): boolean;
  refreshEveryMs: number;
  t: Translate;
}

export interface LivePagedList<T> {
  /** Undefined while the first page is being read. */
  items: T[] | undefined;
  nextCursor: string | null | undefined;
  error: string | undefined;
  loadingMore: boolean;
  loadMore(): Promise<void>;
  /** Reads the first page again now and merges it, as the polling does. */
  refresh(): Promise<unknown>;
}

export function useLivePagedList<T>({ api, firstPage, keyOf, isNewer = () => true, refreshEveryMs, t }: LivePagedListOptions<T>): LivePagedList<T> {
  const [items, setItems] = useState<T[] | undefined>();
  const [nextCursor, setNextCursor] = useState<string | null | undefined>(null);
  const [error, setError] = useState<string | undefined>();
  const [loadingMore, setLoadingMore] = useState(false);

  const load = (cursor?: string) => api.get<{ items: T[]; nextCursor?: string | null }>(cursor ? `${firstPage}&cursor=${encodeURIComponent(cursor)}` : firstPage);

  useEffect(() => {
    let current = true;
    setItems(undefined);
    load().then(
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
  }, [firstPage, api]);

  // Live: the newest page again; known items are updated in place, new ones come on top. An answer to a
  // refresh sent before the filters changed is dropped: merged, it would put the old filter's rows back.
  const listedPage = useRef(firstPage);
  listedPage.current = firstPage;
  const refresh = () => {
    const asked = firstPage;
    return load().then(
      (page) =>
        asked === listedPage.current &&
        setItems((shown) => {
          if (!shown) return page.items;
          const fresh = new Map(page.items.map((item) => [keyOf(item), item]));
          const known = new Set(shown.map(keyOf));
          const newer = page.items.filter((item) => !known.has(keyOf(item)) && isNewer(item, shown[0]));
          return [...newer, ...shown.map((item) => fresh.get(keyOf(item)) ?? item)];
        }),
      () => undefined, // a missed refresh is retried by the next one
    );
  };
  usePolling(() => void refresh(), refreshEveryMs, items !== undefined);

  const loadMore = async () => {
    if (!nextCursor) return;
    setLoadingMore(true);
    try {
      const page = await load(nextCursor);
      setItems((shown) => [...(shown ?? []), ...page.items.filter((item) => !shown?.some((known) => keyOf(known) === keyOf(item)))]);
      setNextCursor(page.nextCursor);
    } catch (failure) {
      setError(describeError(failure, t));
    } finally {
      setLoadingMore(false);
    }
  };

  return { items, nextCursor, error, loadingMore, loadMore, refresh };
}
