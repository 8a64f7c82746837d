/** Calling the API the way an integration would: JSON in, JSON (or bytes, e.g. a PDF) out. */

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests inspect arbitrary JSON
export type Json = any;

export interface CallOptions {
  method?: string;
  body?: unknown;
  /** API key or session token; `null` sends no Authorization header; undefined uses the default key. */
  key?: string | null;
  headers?: Record<string, string>;
}

export interface CallResult {
  status: number;
  body: Json;
  headers: Headers;
}

/** `baseUrl` and `defaultKey` are read at call time: tests set them up in beforeAll. */
export function apiClient(baseUrl: () => string, defaultKey: () => string | null) {
  return async function call(pathname: string, init: CallOptions = {}): Promise<CallResult> {
    const headers: Record<string, string> = { ...init.headers };
    const key = init.key === undefined ? defaultKey() : init.key;
    if (key) headers.authorization = `Bearer ${key}`;
    if (init.body !== undefined) headers['content-type'] = 'application/json';
    const response = await fetch(`${baseUrl()}${pathname}`, {
      method: init.method ?? (init.body === undefined ? 'GET' : 'POST'),
      headers,
      body: init.body === undefined ? undefined : JSON.stringify(init.body),
    });
    const type = response.headers.get('content-type') ?? '';
    const body: Json = type.includes('json') ? await response.json() : Buffer.from(await response.arrayBuffer());
    return { status: response.status, body, headers: response.headers };
  };
}

export type ApiCall = ReturnType<typeof apiClient>;
