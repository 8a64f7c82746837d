/** The fetch client: openapi-fetch over the generated types, with the caller's credential on every request. */
import createClient, { type Client } from 'openapi-fetch';
import type { paths } from './schema';

export type SigillClient = Client<paths>;

export interface SigillClientOptions {
  /** Where the API is, e.g. `https://sign.example.com` (its PUBLIC_URL). */
  baseUrl: string;
  /**
   * Sent as `Authorization: Bearer …`: an organisation API key (`sgl_…`), or a signer's session token for the
   * `/v1/signer/*` calls. Leave it out for public endpoints (`/v1/verify`, `/v1/signer/session`).
   */
  apiKey?: string;
  /** A fetch of your own (a proxy agent, retries, tests); default: the global fetch. */
  fetch?: (request: Request) => Promise<Response>;
}

/**
 * Calls are `sigill.GET(path, init)`, `sigill.POST(path, init)`, …, with the path, parameters, body and
 * answers typed from Sigill's OpenAPI document. Each resolves to `{ data }` on success or `{ error }` (a
 * SigillErrorBody) otherwise, with `response` either way; `unwrap` turns that into data or a thrown error.
 */
export function createSigillClient(options: SigillClientOptions): SigillClient {
  return createClient<paths>({
    baseUrl: options.baseUrl.replace(/\/+$/, ''),
    headers: options.apiKey ? { Authorization: `Bearer ${options.apiKey}` } : {},
    ...(options.fetch ? { fetch: options.fetch } : {}),
  });
}
