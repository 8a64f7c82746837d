/**
 * What the Sigill API answers when it refuses a request, and the error this package throws for it.
 * Every error answer has the same body (`{ error: { code, message, details? } }`); the status follows from
 * the code, and clients should match on the code, which is stable, rather than on the message.
 */

export interface SigillErrorBody {
  error: {
    /** Stable, machine-readable: `invalid_request`, `unauthenticated`, `not_found`, `conflict`, `invalid_text`, `rate_limited`, `database_unavailable`, … */
    code: string;
    /** For the person integrating; never carries secrets or personal data. */
    message: string;
    /** e.g. for `invalid_request` / `invalid_text`: `{ issues: [{ path, message }] }`, naming each field. */
    details?: unknown;
  };
  /** On 429 and 503: seconds to wait before retrying (also sent as `Retry-After`). */
  retryAfterSeconds?: number;
  /** On a wrong PIN or login code: tries left before the link or login is locked. */
  attemptsLeft?: number;
}

/** A non-2xx answer from the API, with its parsed error body when it had one. */
export class SigillApiError extends Error {
  override readonly name = 'SigillApiError';
  /** The error code of the body; `http_<status>` when the answer had no Sigill error body (e.g. from a proxy). */
  readonly code: string;
  readonly details: unknown;
  readonly retryAfterSeconds: number | undefined;
  /** The `X-Request-Id` of the answer: quote it to the operators, it identifies the request in their logs. */
  readonly requestId: string | undefined;

  constructor(
    readonly status: number,
    readonly body: SigillErrorBody | undefined,
    headers?: Headers,
  ) {
    super(body?.error.message ?? `The API answered HTTP ${status}.`);
    this.code = body?.error.code ?? `http_${status}`;
    this.details = body?.error.details;
    const retryAfter = body?.retryAfterSeconds ?? Number(headers?.get('retry-after') ?? Number.NaN);
    this.retryAfterSeconds = Number.isFinite(retryAfter) ? retryAfter : undefined;
    this.requestId = headers?.get('x-request-id') ?? undefined;
  }
}

export function isSigillErrorBody(value: unknown): value is SigillErrorBody {
  const error = (value as { error?: unknown } | null)?.error as { code?: unknown; message?: unknown } | undefined;
  return typeof error === 'object' && error !== null && typeof error.code === 'string' && typeof error.message === 'string';
}

/**
 * The data of a successful answer, or a thrown SigillApiError: for code that prefers exceptions to
 * checking `error` after every call.
 *
 *     const round = unwrap(await sigill.GET('/v1/signing-requests/{id}', { params: { path: { id } } }));
 */
export function unwrap<T>(result: { data?: T; error?: unknown; response: Response }): T {
  if (result.response.ok && result.error === undefined) return result.data as T;
  throw new SigillApiError(result.response.status, isSigillErrorBody(result.error) ? result.error : undefined, result.response.headers);
}
