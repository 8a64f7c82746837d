/**
 * Runs before each test file: the Temporal SDK logs worker state changes at INFO and core warnings about
 * the test server's capabilities; keep test output to what matters (errors).
 */
import { DefaultLogger, makeTelemetryFilterString, Runtime } from '@temporalio/worker';

try {
  Runtime.install({
    logger: new DefaultLogger('ERROR'),
    telemetryOptions: { logging: { filter: makeTelemetryFilterString({ core: 'ERROR' }) } },
  });
} catch {
  // Already installed in this worker process by an earlier test file: keep that one.
}
