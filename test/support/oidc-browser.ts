/**
 * The end user's browser at the local OIDC provider (local-oidc-provider.ts): follows the provider's
 * redirects with cookies, fills in its login form, and stops at the redirect back to the client, which
 * the test then hands to Sigill's callback itself.
 */

/** A cookie jar for the provider's origin alone: enough for oidc-provider's session and interaction cookies. */
class CookieJar {
  private readonly cookies = new Map<string, { name: string; value: string; path: string }>();

  constructor(private readonly origin: string) {}

  store(url: URL, setCookieHeaders: string[]): void {
    if (url.origin !== this.origin) return;
    for (const header of setCookieHeaders) {
      const [pair, ...attributes] = header.split(';').map((part) => part.trim());
      const separator = pair.indexOf('=');
      const name = pair.slice(0, separator);
      const value = pair.slice(separator + 1);
      let cookiePath = url.pathname.slice(0, url.pathname.lastIndexOf('/')) || '/';
      let expired = value === '';
      for (const attribute of attributes) {
        const [key, attributeValue = ''] = attribute.split('=');
        const lowerKey = key.toLowerCase();
        if (lowerKey === 'path') cookiePath = attributeValue;
        // oidc-provider clears a cookie by expiring it.
        if (lowerKey === 'expires' && Date.parse(attributeValue) <= Date.now()) expired = true;
        if (lowerKey === 'max-age' && Number(attributeValue) <= 0) expired = true;
      }
      const key = `${cookiePath}\n${name}`;
      if (expired) this.cookies.delete(key);
      else this.cookies.set(key, { name, value, path: cookiePath });
    }
  }

  header(url: URL): string {
    if (url.origin !== this.origin) return '';
    // Cookies scoped to a path (oidc-provider's interaction cookies are) go only where they belong.
    const matches = (cookiePath: string) =>
      url.pathname === cookiePath || url.pathname.startsWith(cookiePath.endsWith('/') ? cookiePath : `${cookiePath}/`);
    return [...this.cookies.values()]
      .filter((cookie) => matches(cookie.path))
      .map((cookie) => `${cookie.name}=${cookie.value}`)
      .join('; ');
  }
}

function decodeHtmlAttribute(value: string): string {
  return value
    .replace(/&#x([0-9a-f]+);/gi, (_, hex: string) => String.fromCodePoint(parseInt(hex, 16)))
    .replace(/&#(\d+);/g, (_, decimal: string) => String.fromCodePoint(Number(decimal)))
    .replace(/&quot;/g, '"')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
}

function attribute(tag: string, name: string): string | undefined {
  const match = new RegExp(`\\s${name}="([^"]*)"`, 'i').exec(tag);
  return match ? decodeHtmlAttribute(match[1]) : undefined;
}

/** The provider's login form, filled in: `login` set to the account id, any other field as it is. */
function fillLoginForm(html: string, pageUrl: URL, login: string): { action: URL; body: URLSearchParams } | undefined {
  const form = /<form\b[^>]*>([\s\S]*?)<\/form>/i.exec(html);
  if (!form || !/\sname="login"/i.test(form[1])) return undefined;
  const action = new URL(attribute(form[0], 'action') ?? pageUrl.href, pageUrl);
  const body = new URLSearchParams();
  for (const [input] of form[1].matchAll(/<input\b[^>]*>/gi)) {
    const name = attribute(input, 'name');
    if (!name) continue;
    body.set(name, name === 'login' ? login : (attribute(input, 'value') ?? ''));
  }
  return { action, body };
}

/**
 * Logs in as `login` (the account's `sub`) at the provider, starting from the authorization URL the
 * client built, and returns the provider's final redirect to the client's redirect_uri (carrying `code`
 * and `state`, or an OAuth `error`) without following it. Each call is a fresh browser: no session.
 */
export async function loginAtProvider(authorizationUrl: string, login: string): Promise<string> {
  const start = new URL(authorizationUrl);
  const redirectUri = start.searchParams.get('redirect_uri');
  // The way back to the client: its redirect_uri, or failing that anywhere off the provider.
  const isClientRedirect = (url: URL) =>
    redirectUri ? `${url.origin}${url.pathname}` === redirectUri.split(/[?#]/)[0] : url.origin !== start.origin;

  const jar = new CookieJar(start.origin);
  let request: { url: URL; method: 'GET' | 'POST'; body?: URLSearchParams } = { url: start, method: 'GET' };
  let loginSubmitted = false;

  for (let step = 0; step < 20; step++) {
    const { url, method, body } = request;
    const cookie = jar.header(url);
    const response = await fetch(url, {
      method,
      body,
      redirect: 'manual',
      headers: cookie ? { cookie } : {},
    });
    jar.store(url, response.headers.getSetCookie());

    const location = response.headers.get('location');
    if (response.status >= 300 && response.status < 400 && location) {
      await response.body?.cancel();
      const next = new URL(location, url);
      if (isClientRedirect(next)) return next.href;
      request = { url: next, method: 'GET' };
      continue;
    }

    const html = await response.text();
    const form = response.ok ? fillLoginForm(html, url, login) : undefined;
    if (!form) {
      throw new Error(`OIDC provider answered ${method} ${url.href} with ${response.status}, not a redirect or login form:\n${html.slice(0, 2000)}`);
    }
    // The provider shows the form again when the login names no account.
    if (loginSubmitted) throw new Error(`OIDC provider did not accept the login ${JSON.stringify(login)} (no such account?)`);
    loginSubmitted = true;
    request = { url: form.action, method: 'POST', body: form.body };
  }
  throw new Error(`OIDC provider did not redirect back to the client within 20 requests (from ${authorizationUrl})`);
}
