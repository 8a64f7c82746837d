/**
 * One scrape, two sources: Sigill's registry (src/observability/metrics.ts) and the Temporal SDK's own
 * worker metrics, which Core serves on a loopback port of its own (src/adapters/temporal-runtime.ts).
 * Fetching and appending them here means an operator scrapes one endpoint and the Core port is never exposed.
 */
import { metrics, metricsRegistry } from './metrics';

export const metricsContentType = metricsRegistry.contentType;

/** Core answers from memory; anything slower than this is a stuck exporter, and a scrape must not hang on it. */
const temporalScrapeTimeoutMs = 2000;

export async function collectMetrics(temporalMetricsUrl: string | undefined): Promise<string> {
  // Fetched first, so a failure is counted in the same scrape that misses the SDK's metrics.
  const temporal = temporalMetricsUrl ? await fetchTemporalMetrics(temporalMetricsUrl) : '';
  const own = await metricsRegistry.metrics();
  if (!temporal) return own;
  const ownNames = new Set(metricsRegistry.getMetricsAsArray().map((metric) => metric.name));
  return `${own.endsWith('\n') ? own : `${own}\n`}${withoutDuplicateFamilies(temporal, ownNames)}`;
}

async function fetchTemporalMetrics(url: string): Promise<string> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(temporalScrapeTimeoutMs) });
    if (!response.ok) throw new Error(`status ${response.status}`);
    return await response.text();
  } catch {
    metrics.temporalScrapeFailures.inc();
    return '';
  }
}

/** The metric family a sample or comment line belongs to (histogram samples carry a suffix). */
function familyOf(line: string): string | undefined {
  const comment = /^# (?:HELP|TYPE) ([A-Za-z_:][A-Za-z0-9_:]*)/.exec(line);
  if (comment) return comment[1];
  const sample = /^([A-Za-z_:][A-Za-z0-9_:]*)/.exec(line);
  return sample?.[1]?.replace(/_(bucket|sum|count)$/, '');
}

/**
 * The text format allows one HELP and one TYPE line per family: families Sigill's registry already has are
 * left out, and a repeated HELP/TYPE line in Core's text is dropped.
 */
function withoutDuplicateFamilies(text: string, ownNames: Set<string>): string {
  const seenComments = new Set<string>();
  const kept: string[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    const family = familyOf(line);
    if (family && ownNames.has(family)) continue;
    if (line.startsWith('# HELP') || line.startsWith('# TYPE')) {
      const key = line.slice(0, 6) + family;
      if (seenComments.has(key)) continue;
      seenComments.add(key);
    }
    kept.push(line);
  }
  return kept.length ? `${kept.join('\n')}\n` : '';
}
