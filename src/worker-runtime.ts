/** Creating and running the Temporal worker that executes Sigill's workflows and activities. */
import fs from 'node:fs';
import path from 'node:path';
import { Connection } from '@temporalio/client';
// Not re-exported from the package root; the SDK's own encoder keeps us off hand-written enum numbers.
import { encodeSearchAttributeIndexedValueType } from '@temporalio/common/lib/search-attributes';
import { NativeConnection, Worker } from '@temporalio/worker';
import { createActivities, createWebhookActivities } from './activities';
import type { TemporalConnectionSettings } from './adapters/temporal-connection';
import { sigillDataConverter } from './adapters/data-converter';
import { installTemporalRuntime } from './adapters/temporal-runtime';
import { workflowTracing } from './observability/tracing';
import { recordActivityFailures } from './operations/activity-failures';
import type { Config } from './config';
import type { Logger } from './logger';
import type { SigningContext } from './signing/signing-context';
import { sigillSearchAttributes } from './workflows/search-attributes';
import { cachedWorkflowBundlePath } from './workflow-bundling';

export interface RunningWorker {
  /** Resolves when the worker has stopped (after `shutdown`, or on a fatal error). */
  finished: Promise<void>;
  /** Stops polling, lets running activities finish, then resolves. */
  shutdown(): Promise<void>;
}

const grpcUnimplemented = 12;

/** Webhook deliveries sleep between retries too; a few in memory serve their bursts. */
const webhookCachedWorkflows = 50;

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
 * A prebuilt bundle (`npm run build`) in production; from source, one made in a child process and cached by
 * the sources' hash (src/workflow-bundling.ts), so no worker process carries webpack's memory.
 */
async function workflowBundle(): Promise<{ codePath: string }> {
  const prebuilt = path.join(__dirname, 'workflow-bundle.js');
  return { codePath: fs.existsSync(prebuilt) ? prebuilt : await cachedWorkflowBundlePath() };
}

export async function startWorker(deps: {
  config: Config;
  temporal: TemporalConnectionSettings;
  signing: SigningContext;
  log: Logger;
}): Promise<RunningWorker> {
  await installTemporalRuntime(deps.log, { metricsPort: deps.config.metrics.temporalPort });
  const tracing = workflowTracing();
  const bundle = await workflowBundle();
  const connection = await NativeConnection.connect(deps.temporal);
  const { temporal } = deps.config;
  // Both workers alike but for their queue and activities: one bundle, codec, sinks and interceptors.
  const common = {
    connection,
    namespace: temporal.namespace,
    workflowBundle: bundle,
    dataConverter: sigillDataConverter(deps.signing.payloadCodec),
    sinks: tracing.sinks,
    // Tracing outermost, so whatever the other interceptors log carries the activity's trace id.
    interceptors: {
      activity: [...tracing.activity, recordActivityFailures(deps.signing.dataSource, deps.log)],
    },
  };
  const tuning = deps.config.worker;
  // The SDK's default cache grows with the heap limit (~2,300 workflows per Worker on a 4 GB heap): every open
  // round would stay in memory while it sleeps for days. Bounded, a sleeping round costs memory only in Temporal.
  const webhookCache = Math.min(tuning.cachedWorkflows, webhookCachedWorkflows);
  const workers = [
    await Worker.create({
      ...common,
      taskQueue: temporal.taskQueue,
      activities: createActivities(deps.signing),
      maxCachedWorkflows: tuning.cachedWorkflows,
      maxConcurrentWorkflowTaskExecutions: tuning.workflowTaskSlots,
      maxConcurrentActivityTaskExecutions: tuning.activitySlots,
    }),
    // Webhook deliveries on a queue of their own with bounded slots: receivers that accept a connection and
    // never answer hold at most these, never the slots signing rounds need (docs/ARCHITECTURE.md, Webhooks).
    await Worker.create({
      ...common,
      taskQueue: temporal.webhookTaskQueue,
      activities: createWebhookActivities(deps.signing),
      maxConcurrentActivityTaskExecutions: deps.config.webhooks.concurrency,
      maxCachedWorkflows: webhookCache,
      maxConcurrentWorkflowTaskExecutions: webhookCache === 0 ? tuning.workflowTaskSlots : Math.min(tuning.workflowTaskSlots, webhookCache),
    }),
  ];
  // Either worker failing stops the other, so the process never runs half a worker.
  const runs = workers.map((worker) =>
    worker.run().catch((error: unknown) => {
      shutdownAll();
      throw error;
    }),
  );
  function shutdownAll() {
    for (const worker of workers) if (worker.getState() === 'RUNNING') worker.shutdown();
  }
  const finished = Promise.all(runs)
    .then(() => undefined)
    .finally(async () => {
      await Promise.allSettled(runs);
      await connection.close();
    });
  deps.log.info({ taskQueue: temporal.taskQueue, webhookTaskQueue: temporal.webhookTaskQueue }, 'worker is polling');
  return {
    finished,
    async shutdown() {
      shutdownAll();
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

