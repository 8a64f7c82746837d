/**
 * Cursor paging. List endpoints answer one page, `{ items, nextCursor }`, and take the cursor back as the
 * `cursor` query parameter; `nextCursor` is absent (or null) on the last page. `paginate` follows it.
 */
import type { SigillClient } from './client';
import { isSigillErrorBody, SigillApiError } from './errors';
import type { paths } from './schema';

type JsonOf<Operation> = Operation extends { responses: { 200: { content: { 'application/json': infer Body } } } } ? Body : never;
type QueryKeysOf<Operation> = Operation extends { parameters: { query?: infer Query } } ? keyof NonNullable<Query> : never;
type Page = { items: unknown[]; nextCursor?: string | null };

/**
 * The paths whose GET answers a page and takes a cursor: `'/v1/signing-requests'`,
 * `'/v1/webhook-endpoints/{id}/deliveries'`, and every later list built the same way. (A list answered whole,
 * with `items` but no cursor, is not one: a plain GET reads it.)
 */
export type PagedPath = {
  [P in keyof paths]: paths[P] extends { get: infer Operation }
    ? [JsonOf<Operation>] extends [never]
      ? never
      : JsonOf<Operation> extends Page
        ? 'nextCursor' extends keyof JsonOf<Operation>
          ? 'cursor' extends QueryKeysOf<Operation>
            ? P
            : never
          : never
        : never
    : never;
}[keyof paths];

type GetOf<P extends PagedPath> = paths[P] extends { get: infer Operation } ? Operation : never;
type ParametersOf<P extends PagedPath> = GetOf<P> extends { parameters: infer Parameters } ? Parameters : never;
type QueryOf<P extends PagedPath> = ParametersOf<P> extends { query?: infer Query } ? Omit<NonNullable<Query>, 'cursor'> : never;
type PathParamsOf<P extends PagedPath> = ParametersOf<P> extends { path?: infer Path } ? Path : never;

/** The items of a page of `P`. */
export type PageItem<P extends PagedPath> = JsonOf<GetOf<P>> extends { items: Array<infer Item> } ? Item : never;

/** The list's filters (without `cursor`, which paginate manages) and, where the path has some, its path parameters. */
export type PaginateOptions<P extends PagedPath> = {
  params?: { query?: QueryOf<P> };
} & ([NonNullable<PathParamsOf<P>>] extends [never] ? unknown : { params: { path: NonNullable<PathParamsOf<P>> } });

type PaginateRest<P extends PagedPath> = [NonNullable<PathParamsOf<P>>] extends [never] ? [options?: PaginateOptions<P>] : [options: PaginateOptions<P>];

/**
 * Every item of a list, page after page, fetched as the loop asks for more (stop early and no further page
 * is fetched). The query stays the same on every page; `limit` is the page size.
 *
 *     for await (const round of paginate(sigill, '/v1/signing-requests', { params: { query: { status: 'pending' } } })) { … }
 *
 * An error answer on any page is thrown as a SigillApiError.
 */
export async function* paginate<P extends PagedPath>(client: SigillClient, path: P, ...[options]: PaginateRest<P>): AsyncGenerator<PageItem<P>, void, undefined> {
  // The path is generic here, which openapi-fetch's types cannot follow; the signature above carries the types.
  const get = client.GET as unknown as (
    path: string,
    init: { params: { query: Record<string, unknown>; path?: unknown } },
  ) => Promise<{ data?: Page; error?: unknown; response: Response }>;
  const params = (options as { params?: { query?: object; path?: unknown } } | undefined)?.params ?? {};
  let cursor: string | undefined;
  do {
    const { data, error, response } = await get(path, { params: { ...params, query: { ...params.query, ...(cursor ? { cursor } : {}) } } });
    if (!data || error !== undefined) throw new SigillApiError(response.status, isSigillErrorBody(error) ? error : undefined, response.headers);
    yield* data.items as Array<PageItem<P>>;
    const next = data.nextCursor ?? undefined;
    // A server answering the cursor it was given would otherwise keep this loop going for ever.
    if (next !== undefined && next === cursor) throw new Error(`${path}: the API answered the same cursor twice`);
    cursor = next;
  } while (cursor);
}
