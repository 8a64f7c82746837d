/**
 * A browser as far as the API can tell: a cookie jar per instance (a new instance is a new browser, with no
 * remembered device), JSON calls that send the session's CSRF token on changes, and form posts for pages.
 */
import type { Json } from './api-client';

export interface BrowserResponse {
  status: number;
  body: Json;
  text: string;
  headers: Headers;
  /** The Set-Cookie lines of this response, raw (to check their attributes). */
  setCookies: string[];
}

export class TestBrowser {
  readonly cookies = new Map<string, string>();
  csrfToken: string | undefined;

  constructor(private readonly baseUrl: string) {}

  private remember(response: Response): string[] {
    const lines = response.headers.getSetCookie();
    for (const line of lines) {
      const [pair, ...attributes] = line.split(';');
      const index = pair!.indexOf('=');
      const name = pair!.slice(0, index).trim();
      const value = pair!.slice(index + 1).trim();
      const expired = attributes.some((a) => /^\s*max-age=0\s*$/i.test(a) || /^\s*expires=Thu, 01 Jan 1970/i.test(a));
      if (expired || value === '') this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    return lines;
  }

  private cookieHeader(): Record<string, string> {
    if (this.cookies.size === 0) return {};
    return { cookie: [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; ') };
  }

  /** A JSON API call with this browser's cookies (and its CSRF token on anything but GET, unless `csrf: false`). */
  async call(pathname: string, init: { method?: string; body?: unknown; csrf?: boolean; headers?: Record<string, string> } = {}): Promise<BrowserResponse> {
    const method = init.method ?? (init.body === undefined ? 'GET' : 'POST');
    const headers: Record<string, string> = { ...this.cookieHeader(), ...init.headers };
    if (init.body !== undefined) headers['content-type'] = 'application/json';
    if (method !== 'GET' && init.csrf !== false && this.csrfToken) headers['x-csrf-token'] = this.csrfToken;
    const response = await fetch(`${this.baseUrl}${pathname}`, {
      method,
      headers,
      body: init.body === undefined ? undefined : JSON.stringify(init.body),
      redirect: 'manual',
    });
    const setCookies = this.remember(response);
    const text = await response.text();
    const body: Json = (response.headers.get('content-type') ?? '').includes('json') && text ? JSON.parse(text) : undefined;
    if (body?.csrfToken) this.csrfToken = body.csrfToken;
    return { status: response.status, body, text, headers: response.headers, setCookies };
  }

  /** A classic HTML form post (application/x-www-form-urlencoded); redirects are not followed. */
  async submit(pathname: string, fields: Record<string, string>): Promise<BrowserResponse> {
    const response = await fetch(`${this.baseUrl}${pathname}`, {
      method: 'POST',
      headers: { ...this.cookieHeader(), 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(fields).toString(),
      redirect: 'manual',
    });
    const setCookies = this.remember(response);
    return { status: response.status, body: undefined, text: await response.text(), headers: response.headers, setCookies };
  }

  /** A page (or any GET), with cookies, without following redirects. */
  async open(pathOrUrl: string): Promise<BrowserResponse> {
    const url = pathOrUrl.startsWith('http') ? pathOrUrl : `${this.baseUrl}${pathOrUrl}`;
    const response = await fetch(url, { headers: this.cookieHeader(), redirect: 'manual' });
    const setCookies = this.remember(response);
    return { status: response.status, body: undefined, text: await response.text(), headers: response.headers, setCookies };
  }
}
