/**
 * The example alert rules (docs/prometheus/sigill-alerts.yml) parse, and each fires on what should wake
 * someone and stays quiet otherwise (docs/prometheus/sigill-alerts.test.yml), by Prometheus's own
 * `promtool` (Debian's prometheus package). A missing promtool fails this test: a skipped check would
 * read as a pass.
 */
import path from 'node:path';
import { projectRoot } from '../../src/adapters/find-executable';
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
