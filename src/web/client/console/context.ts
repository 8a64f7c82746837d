/**
 * What every console page gets: who is signed in (from /v1/auth/session), the translate function of the
 * reader's language, and `api`, the public /v1 API with the session cookie and the CSRF header on changes.
 * The console has no back door: whatever it does, a back-office system can do with an API key.
 */
import type { Locale, Translate } from '../../../i18n';
import { ApiError, callApi, NetworkError, type CallOptions } from '../shared/http';
import { errorText, fieldErrorText } from './error-text';

export type { MemberRole } from '../../../contract/members';
import type { MemberRole } from '../../../contract/members';

export interface ConsoleSession {
  user: { id: string; email: string; name: string | null };
  organization: { id: string; name: string; role: MemberRole };
  organizations: Array<{ id: string; name: string; role: MemberRole }>;
  csrfToken: string;
  expiresAt: string;
  /** Granted some folders only: the console does not ask for organisation-wide data (privacy requests). */
  folderScoped: boolean;
}

export interface ConsoleContext {
  session: ConsoleSession;
  locale: Locale;
  t: Translate;
  api: ConsoleApi;
  /** Client-side navigation (history API); `replace` for redirects that should not stay in the history. */
  navigate(path: string, options?: { replace?: boolean }): void;
  /** The current location's path and query, parsed. */
  location: { path: string; query: URLSearchParams };
}

/** The signed-in member's calls to /v1. A 401 (session ended) sends the browser to the sign-in page. */
export class ConsoleApi {
  constructor(private readonly csrfToken: () => string) {}

  private async call<T>(path: string, options: CallOptions): Promise<T> {
    const changes = options.method !== undefined && options.method !== 'GET';
    try {
      return await callApi<T>(path, { ...options, headers: { ...options.headers, ...(changes ? { 'x-csrf-token': this.csrfToken() } : {}) } });
    } catch (error) {
      if (error instanceof ApiError && error.status === 401) signIn();
      throw error;
    }
  }

  get<T>(path: string): Promise<T> {
    return this.call<T>(path, { method: 'GET' });
  }
  post<T>(path: string, body: unknown = {}, headers?: Record<string, string>): Promise<T> {
    return this.call<T>(path, { method: 'POST', body, headers });
  }
  patch<T>(path: string, body: unknown): Promise<T> {
    return this.call<T>(path, { method: 'PATCH', body });
  }
  put<T>(path: string, body: unknown): Promise<T> {
    return this.call<T>(path, { method: 'PUT', body });
  }
  delete<T>(path: string): Promise<T> {
    return this.call<T>(path, { method: 'DELETE' });
  }
}

/** To the sign-in page, coming back here afterwards. */
export function signIn(): void {
  const next = location.pathname + location.search;
  location.assign(`/login?${new URLSearchParams({ next })}`);
}

/**
 * Field errors from an API answer (422/400 `details.issues`), keyed by the field's path without `body.`, in
 * the reader's language (error-text.ts); without `t`, the API's own English words.
 */
export function fieldErrors(error: unknown, t?: Translate): Record<string, string> {
  if (!(error instanceof ApiError)) return {};
  const say = (message: string) => (t ? fieldErrorText(error.code, message, t) : message);
  const details = error.body.error?.details as unknown as { issues?: Array<{ path?: string; message?: string }> } | undefined;
  const issues = details?.issues ?? [];
  const byField: Record<string, string> = {};
  for (const issue of issues) if (issue.path && issue.message) byField[issue.path.replace(/^body\./, '')] ??= say(issue.message);
  if (issues.length === 0) {
    // Messages of the form "signers[1].phone: …" name their field too.
    const match = /^([\w.[\]]+): (.*)$/.exec(error.message);
    if (match) byField[match[1]!.replace(/\[(\d+)\]/g, '.$1').replace(/^body\./, '')] = say(match[2]!);
  }
  return byField;
}

/** A failure in words for a banner, in the reader's language; field errors go next to their fields instead. */
export function describeError(error: unknown, t: Translate): string {
  if (error instanceof NetworkError) return t('common:offline');
  if (error instanceof ApiError) return errorText(error.code, error.body.error?.message, t);
  return t('common:genericError');
}
