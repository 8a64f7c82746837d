/** Creating and running the Temporal worker that executes Sigill's workflows and activities. */
import fs from 'node:fs';
import path from 'node:path';
import { Connection } from '@temporalio/client';
// Not re-exported from the package root; the SDK's own encoder keeps us off hand-written enum numbers.
import { encodeSearchAttributeIndexedValueType } from '@temporalio/common/lib/search-attributes';
import { NativeConnection, Worker } from '@temporalio/worker';
import { createActivities } from './activities';
import type { TemporalConnectionSettings } from './adapters/temporal-connection';
import { sigillDataConverter } from './adapters/data-converter';
import { installTemporalRuntime } from './adapters/temporal-runtime';
import { workflowTracing } from './observability/tracing';
import { recordActivityFailures } from './operations/activity-failures';
import type { Config } from './config';
import type { Logger } from './logger';
import type { SigningContext } from './signing/signing-context';
import { sigillSearchAttributes } from './workflows/search-attributes';

export interface RunningWorker {
  /** Resolves when the worker has stopped (after `shutdown`, or on a fatal error). */
  finished: Promise<void>;
  /** Stops polling, lets running activities finish, then resolves. */
  shutdown(): Promise<void>;
}

/** A prebuilt bundle (`npm run build`) makes worker start-up fast in production; dev bundles on start. */
const grpcUnimplemented = 12;

async function listSearchAttributeNames(connection: Connection, namespace: string): Promise<Set<string>> {
  try {
    const existing = await connection.operatorService.listSearchAttributes({ namespace });
    return new Set(Object.keys({ ...existing.customAttributes, ...existing.systemAttributes }));
  } catch (error) {
    // The time-skipping test server can add search attributes but not list them.
    if ((error as { code?: number }).code === grpcUnimplemented) return new Set();
    throw error;
  }
}

/**
 * Interceptor modules are compiled into a bundle: the prebuilt one has the tracing module already
 * (scripts/bundle-workflows.ts); a bundle made at start gets it here.
 */
function workflowSource(
  interceptorModules: string[],
): { workflowBundle: { codePath: string }; workflowModules: [] } | { workflowsPath: string; workflowModules: string[] } {
  const prebuilt = path.join(__dirname, 'workflow-bundle.js');
  return fs.existsSync(prebuilt)
    ? { workflowBundle: { codePath: prebuilt }, workflowModules: [] }
    : { workflowsPath: require.resolve('./workflows'), workflowModules: interceptorModules };
}

export async function startWorker(deps: {
  config: Config;
  temporal: TemporalConnectionSettings;
  signing: SigningContext;
  log: Logger;
}): Promise<RunningWorker> {
  await installTemporalRuntime(deps.log, { metricsPort: deps.config.metrics.temporalPort });
  const tracing = workflowTracing();
  const { workflowModules, ...source } = workflowSource(tracing.workflowModules);
  const connection = await NativeConnection.connect(deps.temporal);
  const worker = await Worker.create({
    connection,
    namespace: deps.config.temporal.namespace,
    taskQueue: deps.config.temporal.taskQueue,
    ...source,
    dataConverter: sigillDataConverter(deps.signing.payloadCodec),
    activities: createActivities(deps.signing),
    sinks: tracing.sinks,
    // Tracing outermost, so whatever the other interceptors log carries the activity's trace id.
    interceptors: {
      workflowModules,
      activity: [...tracing.activity, recordActivityFailures(deps.signing.dataSource, deps.log)],
    },
  });
  const finished = worker.run().finally(() => connection.close());
  deps.log.info({ taskQueue: deps.config.temporal.taskQueue }, 'worker is polling');
  return {
    finished,
    async shutdown() {
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await finished;
    },
  };
}

/**
 * A self-hosted cluster needs Sigill's search attributes registered once; the embedded server gets them
 * on its command line. Temporal Cloud refuses this call (attributes are added in its console): warn, go on.
 */
export async function ensureSearchAttributes(temporal: TemporalConnectionSettings, namespace: string, log: Logger): Promise<void> {
  const connection = await Connection.connect(temporal);
  try {
    const known = await listSearchAttributeNames(connection, namespace);
    const missing = sigillSearchAttributes.filter((key) => !known.has(key.name));
    if (missing.length === 0) return;
    await connection.operatorService.addSearchAttributes({
      namespace,
      searchAttributes: Object.fromEntries(missing.map((key) => [key.name, encodeSearchAttributeIndexedValueType(key.type)!])),
    });
    log.info({ added: missing.map((key) => key.name) }, 'registered search attributes');
  } catch (error) {
    log.warn(
      { err: error, required: sigillSearchAttributes.map((key) => `${key.name}=${key.type}`) },
      'could not check or register search attributes; register them with `temporal operator search-attribute create`',
    );
  } finally {
    await connection.close();
  }
}

