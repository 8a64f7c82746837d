/** HTTP load for the benchmarks (autocannon), with latencies kept per response so runs can be merged. */
import autocannon from 'autocannon';

export interface LoadTarget {
  name: string;
  url: string;
  paths: string[];
}

/** One target's responses over all its slices: autocannon's own histograms cannot be merged across runs. */
export interface LoadSample {
  latenciesMs: number[];
  seconds: number;
  non2xx: number;
  errors: number;
}

export const emptySample = (): LoadSample => ({ latenciesMs: [], seconds: 0, non2xx: 0, errors: 0 });

/**
 * `rate`: an even stream of that many requests per second on one connection (autocannon paces each
 * connection on its own timer, all started together, so ten paced connections would arrive in bursts of
 * ten); undefined: as fast as `connections` go. Each connection cycles through the target's paths.
 */
export function load(
  target: LoadTarget,
  options: { seconds: number; headers: Record<string, string>; connections: number; rate?: number },
  sample: LoadSample,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const instance = autocannon(
      {
        url: target.url,
        connections: options.rate ? 1 : options.connections,
        duration: options.seconds,
        headers: options.headers,
        requests: target.paths.map((p) => ({ method: 'GET', path: p })),
        ...(options.rate ? { overallRate: options.rate } : {}),
      },
      (error, result) => {
        if (error) return reject(error);
        sample.seconds += result.duration;
        sample.errors += result.errors;
        resolve();
      },
    );
    instance.on('response', (_client, statusCode, _bytes, responseTimeMs) => {
      sample.latenciesMs.push(responseTimeMs);
      if (statusCode < 200 || statusCode > 299) sample.non2xx++;
    });
  });
}

/** The nearest-rank percentile of ascending `sorted` values (NaN for none). */
export function percentile(sorted: number[], fraction: number): number {
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.ceil(fraction * sorted.length) - 1)]! : NaN;
}

export function summarize(sample: LoadSample) {
  const sorted = [...sample.latenciesMs].sort((a, b) => a - b);
  return { p50: percentile(sorted, 0.5), p99: percentile(sorted, 0.99), perSecond: sample.latenciesMs.length / sample.seconds, ...sample };
}
