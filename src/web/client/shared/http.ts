/**
 * JSON calls to Sigill's public API from our pages. Failures become an ApiError carrying the API's stable
 * error code, so pages say something specific (and the console shows field errors next to their fields).
 */
export interface ApiErrorBody {
  error?: { code?: string; message?: string; details?: Array<{ path?: string; message?: string }> };
  attemptsLeft?: number;
  [key: string]: unknown;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    readonly body: ApiErrorBody,
  ) {
    super(body.error?.message ?? `HTTP ${status}`);
  }
}

/** The network did not answer (offline, server down): distinct from an answer that says no. */
export class NetworkError extends Error {}

export interface CallOptions {
  method?: string;
  body?: unknown;
  bearer?: string;
  headers?: Record<string, string>;
}

export async function callApi<T>(path: string, options: CallOptions = {}): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json', ...options.headers };
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  if (options.bearer) headers.authorization = `Bearer ${options.bearer}`;
  let response: Response;
  try {
    response = await fetch(path, {
      method: options.method ?? (options.body === undefined ? 'GET' : 'POST'),
      headers,
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
      credentials: 'same-origin',
    });
  } catch {
    throw new NetworkError('network');
  }
  const text = await response.text();
  let data: unknown;
  try {
    data = text ? JSON.parse(text) : undefined;
  } catch {
    data = undefined;
  }
  if (!response.ok) {
    const body = (data ?? {}) as ApiErrorBody;
    throw new ApiError(response.status, body.error?.code ?? `http_${response.status}`, body);
  }
  return data as T;
}

/** Bytes (a PDF) with the same error handling. */
export async function fetchBytes(path: string, bearer?: string): Promise<Uint8Array> {
  let response: Response;
  try {
    response = await fetch(path, { headers: bearer ? { authorization: `Bearer ${bearer}` } : {}, credentials: 'same-origin' });
  } catch {
    throw new NetworkError('network');
  }
  if (!response.ok) {
    const body = ((await response.json().catch(() => undefined)) ?? {}) as ApiErrorBody;
    throw new ApiError(response.status, body.error?.code ?? `http_${response.status}`, body);
  }
  return new Uint8Array(await response.arrayBuffer());
}
