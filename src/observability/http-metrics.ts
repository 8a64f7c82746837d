/** HTTP request metrics, labelled so the number of series stays bounded whatever clients send. */
import { metrics } from './metrics';

/** Methods a client can invent (any token is a valid HTTP method); each would become a series of its own. */
const knownMethods = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

/** `route` is the router's matched pattern (or a fixed "unmatched" label), never the raw URL. */
export function recordHttpRequest(method: string, route: string, status: number, startedAt: bigint): void {
  const labels = { method: knownMethods.has(method) ? method : 'OTHER', route, status: String(status) };
  metrics.httpRequests.inc(labels);
  metrics.httpRequestDuration.observe(labels, Number(process.hrtime.bigint() - startedAt) / 1e9);
}
