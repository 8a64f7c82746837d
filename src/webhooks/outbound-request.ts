/**
 * Outbound safety for webhook deliveries: an endpoint URL is chosen by an API caller, so without care the
 * worker could be aimed at the deployment's own network (a database port, a cloud metadata service at
 * 169.254.169.254). So, unless private destinations are allowed (development):
 *
 * - every address a host name resolves to must be public unicast (ipaddr.js `range()`: no private,
 *   loopback, link-local, unique-local, CGNAT, multicast, unspecified, reserved, no IPv6 forms that
 *   embed an IPv4 address, and no IPv6 outside global unicast 2000::/3); the name is resolved once,
 *   checked, and the connection made to that checked address (the `lookup` option), so a DNS answer
 *   cannot change between the check and the connect. An IP
 *   literal is checked directly (Node skips `lookup` for one). TLS still verifies the certificate for the
 *   host name (SNI is the URL's host);
 * - redirects are never followed (a 3xx is a failed attempt: following one would reach an unchecked URL);
 * - the whole attempt is bounded by a short timeout, and at most a few kilobytes of the answer are read;
 *   an answer whose status arrived in time counts even when its body is still coming.
 */
import dns from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import ipaddr from 'ipaddr.js';
import { AppError } from '../errors';

export interface DestinationPolicy {
  allowPrivateDestinations: boolean;
  requireHttps: boolean;
}

const globalUnicastIpv6 = ipaddr.IPv6.parseCIDR('2000::/3');

/** Why an address is no destination for a webhook; undefined for a public unicast address. */
export function refusedAddressRange(address: string): string | undefined {
  let parsed: ipaddr.IPv4 | ipaddr.IPv6;
  try {
    // `process` turns an IPv4-mapped IPv6 address (::ffff:127.0.0.1) into the IPv4 address it is.
    parsed = ipaddr.process(address.replace(/^\[(.*)\]$/, '$1'));
  } catch {
    return 'unparseable';
  }
  const range = parsed.range();
  if (range !== 'unicast') return range;
  // ipaddr.js calls all of IPv6 outside its named ranges unicast, including ::/96 (IPv4-compatible, so
  // ::127.0.0.1) and other unassigned space; only 2000::/3 is global unicast, the one place a receiver lives.
  if (parsed.kind() === 'ipv6' && !(parsed as ipaddr.IPv6).match(globalUnicastIpv6)) return 'reserved';
  return undefined;
}

/** Host names that are loopback by definition (RFC 6761), refused as literally as 127.0.0.1. */
const loopbackNames = /^(localhost|.*\.localhost)\.?$/i;

/**
 * Checks an endpoint URL as it is created or changed: a well-formed http(s) URL without credentials, https
 * when required, and no literal private address unless allowed. Names are checked again at delivery,
 * after resolving them.
 */
export function checkEndpointUrl(text: string, policy: DestinationPolicy): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new AppError('unprocessable', 'url: must be an absolute http:// or https:// URL.', { field: 'url' });
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new AppError('unprocessable', 'url: must be an http:// or https:// URL.', { field: 'url' });
  }
  if (url.username || url.password) {
    throw new AppError('unprocessable', 'url: must not carry a user name or password.', { field: 'url' });
  }
  if (url.hash) throw new AppError('unprocessable', 'url: must not have a fragment (#…).', { field: 'url' });
  // Node connects to the scheme's default port for port 0: the URL would not say where deliveries go.
  if (url.port === '0') throw new AppError('unprocessable', 'url: port 0 is not a port deliveries can go to.', { field: 'url' });
  // Normalising (percent-encoding, punycode) can lengthen what was sent.
  if (url.toString().length > 2048) throw new AppError('unprocessable', 'url: must be at most 2048 characters.', { field: 'url' });
  if (policy.requireHttps && url.protocol !== 'https:') {
    throw new AppError('webhook_destination_refused', 'url: must be an https:// URL.', { field: 'url' });
  }
  if (!policy.allowPrivateDestinations) {
    const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
    const range = ipaddr.isValid(host) ? refusedAddressRange(host) : loopbackNames.test(host) ? 'loopback' : undefined;
    if (range) {
      throw new AppError('webhook_destination_refused', `url: ${describeRange(range)} addresses cannot receive webhooks.`, { field: 'url' });
    }
  }
  return url.toString();
}

function describeRange(range: string): string {
  const names: Record<string, string> = {
    loopback: 'loopback',
    private: 'private',
    linkLocal: 'link-local',
    uniqueLocal: 'unique-local',
    carrierGradeNat: 'carrier-grade NAT',
    multicast: 'multicast',
    unspecified: 'unspecified',
    broadcast: 'broadcast',
  };
  return names[range] ?? `non-public (${range})`;
}

/**
 * A destination refused before any connection was made. The message goes to the organisation's delivery
 * log: it names an address the caller wrote (a literal), never one a name resolved to, which would map the
 * deployment's own network (its internal DNS names and their addresses) for anyone who can add an endpoint.
 */
export class RefusedDestinationError extends Error {
  constructor(readonly address: string, readonly range: string, resolvedFromName = false) {
    super(
      resolvedFromName
        ? `destination refused: the host name resolves to a non-public address (${describeRange(range)})`
        : `destination refused: ${describeRange(range)} address ${address}`,
    );
    this.name = 'RefusedDestinationError';
  }
}

/** Resolves, checks every address, and hands the checked ones to the socket. */
function checkedLookup(): LookupFunction {
  return (hostname, options, callback) => {
    dns.lookup(hostname, { ...options, all: true }, (error, addresses) => {
      if (error) return callback(error, '', 0);
      // All of them: a name that resolves to one public and one private address must not get the second.
      for (const { address } of addresses) {
        const range = refusedAddressRange(address);
        if (range) return callback(new RefusedDestinationError(address, range, true), '', 0);
      }
      if (options.all) return (callback as (error: null, addresses: dns.LookupAddress[]) => void)(null, addresses);
      if (addresses.length === 0) return callback(Object.assign(new Error(`no address for ${hostname}`), { code: 'ENOTFOUND' }), '', 0);
      return callback(null, addresses[0]!.address, addresses[0]!.family);
    });
  };
}

export interface DeliveryResponse {
  /** The receiver's status; undefined when no answer came. */
  httpStatus?: number;
  /** The receiver's `Retry-After`, in milliseconds. */
  retryAfterMs?: number;
  /** Why it failed, in words safe to show and store (never the receiver's body). */
  error?: string;
  latencyMs: number;
  /** True when the policy refused the destination: nothing was sent. */
  refused?: boolean;
}

/** Most of an answer Sigill reads before hanging up: only the status matters. */
const maxResponseBytes = 4096;

export async function postJson(
  target: string,
  headers: Record<string, string>,
  body: string,
  options: DestinationPolicy & { timeoutMs: number },
): Promise<DeliveryResponse> {
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  const url = new URL(target);
  if (options.requireHttps && url.protocol !== 'https:') return { error: 'destination refused: not https', latencyMs: 0, refused: true };
  if (!options.allowPrivateDestinations) {
    const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
    const range = ipaddr.isValid(host) ? refusedAddressRange(host) : undefined;
    if (range) return { error: new RefusedDestinationError(host, range).message, latencyMs: 0, refused: true };
  }
  const transport = url.protocol === 'https:' ? https : http;
  return new Promise<DeliveryResponse>((resolve) => {
    let settled = false;
    // Once the status line and headers are in, the receiver has answered: a body still dripping when the
    // time is up does not undo that (a 2xx recorded as a timeout would be sent again and again).
    let answer: { result: Omit<DeliveryResponse, 'latencyMs'>; latencyMs: number } | undefined;
    const finish = (result: Omit<DeliveryResponse, 'latencyMs'>) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      request.destroy();
      resolve({ ...result, latencyMs: answer?.latencyMs ?? elapsed() });
    };
    const request = transport.request(url, {
      method: 'POST',
      headers: { ...headers, 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)), 'user-agent': 'Sigill-Webhooks/1' },
      agent: false,
      ...(options.allowPrivateDestinations ? {} : { lookup: checkedLookup() }),
    });
    const timer = setTimeout(() => finish(answer?.result ?? { error: `timed out after ${options.timeoutMs / 1000} s` }), options.timeoutMs);
    request.on('response', (response) => {
      const httpStatus = response.statusCode ?? 0;
      const retryAfterMs = parseRetryAfter(response.headers['retry-after']);
      const result = {
        httpStatus,
        ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
        ...(httpStatus >= 300 && httpStatus < 400 ? { error: `redirect not followed (HTTP ${httpStatus})` } : {}),
        ...(httpStatus >= 400 ? { error: `HTTP ${httpStatus}` } : {}),
      };
      answer = { result, latencyMs: elapsed() };
      let read = 0;
      response.on('data', (chunk: Buffer) => {
        read += chunk.length;
        if (read > maxResponseBytes) finish(result);
      });
      response.on('end', () => finish(result));
      // A receiver that hangs up mid-body has still answered: its status counts.
      response.on('error', () => finish(result));
      response.on('close', () => finish(result));
    });
    request.on('error', (error) => finish({ error: describeConnectionError(error), ...(error instanceof RefusedDestinationError ? { refused: true } : {}) }));
    request.end(body);
  });
}

function describeConnectionError(error: Error): string {
  if (error instanceof RefusedDestinationError) return error.message;
  const code = (error as { code?: string }).code;
  switch (code) {
    case 'ECONNREFUSED':
      return 'connection refused';
    case 'ECONNRESET':
      return 'connection reset';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return 'host name could not be resolved';
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return 'host unreachable';
    default:
      if (code && /^(ERR_TLS|CERT_|UNABLE_TO|DEPTH_ZERO|SELF_SIGNED|ERR_SSL)/.test(code)) return `TLS failed (${code})`;
      return code ? `connection failed (${code})` : 'connection failed';
  }
}

/** Seconds or an HTTP date, as milliseconds from now; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | string[] | undefined, now = Date.now()): number | undefined {
  const text = Array.isArray(value) ? value[0] : value;
  if (!text) return undefined;
  if (/^\d+$/.test(text.trim())) return Number(text.trim()) * 1000;
  const at = Date.parse(text);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}
