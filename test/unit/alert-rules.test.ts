/**
 * The example alert rules (docs/prometheus/sigill-alerts.yml) parse, and each fires on what should wake
 * someone and stays quiet otherwise (docs/prometheus/sigill-alerts.test.yml), by Prometheus's own
 * `promtool` (Debian's prometheus package), and read only metrics Sigill exposes. A missing promtool fails
 * this test: a skipped check would read as a pass.
 */
import fs from 'node:fs';
import path from 'node:path';
import { projectRoot } from '../../src/adapters/find-executable';
import { metricsRegistry } from '../../src/observability/metrics';
import { operationalGaugeNames } from '../../src/observability/operational-gauges';
import { runTool } from '../support/pdf-validators';

const rulesDir = path.join(projectRoot, 'docs', 'prometheus');

test('promtool accepts the rules file', () => {
  const run = runTool('promtool', ['check', 'rules', path.join(rulesDir, 'sigill-alerts.yml')]);
  expect({ status: run.status, output: run.output }).toEqual({ status: 0, output: expect.stringContaining('SUCCESS') });
});

test('every alert fires on the series that should wake someone, and only then (promtool test rules)', () => {
  const run = runTool('promtool', ['test', 'rules', path.join(rulesDir, 'sigill-alerts.test.yml')]);
  expect({ status: run.status, output: run.output }).toEqual({ status: 0, output: expect.stringContaining('SUCCESS') });
});

test("every sigill_ metric the rules read is one Sigill exposes (a renamed metric would silence its alert)", () => {
  const rules = fs.readFileSync(path.join(rulesDir, 'sigill-alerts.yml'), 'utf8');
  // Expressions, without comments and the annotations' prose.
  const expressions = rules
    .split('\n')
    .filter((line) => !/^\s*(#|summary:|description:)/.test(line))
    .join('\n');
  const read = new Set([...expressions.matchAll(/\bsigill_[a-z_]+/g)].map(([name]) => name.replace(/_(bucket|sum|count)$/, '')));
  const exposed = new Set([...metricsRegistry.getMetricsAsArray().map((metric) => metric.name), ...Object.values(operationalGaugeNames)]);
  expect(read.size).toBeGreaterThan(3);
  expect([...read].filter((name) => !exposed.has(name))).toEqual([]);
});

test('a counter an alert takes increase() of exists at 0 from the start, so the first failed round after a restart counts', async () => {
  // Prometheus sees no increase on a series whose first sample is already 1: created only at its first
  // inc, the first failed round of every process (after each deploy) would never fire SigillRoundsFailed.
  const exposition = await metricsRegistry.getSingleMetricAsString('sigill_signing_rounds_ended_total');
  for (const outcome of ['completed', 'declined', 'expired', 'cancelled', 'failed']) {
    expect(exposition).toContain(`sigill_signing_rounds_ended_total{outcome="${outcome}"} 0`);
  }
});
