/**
 * The time-skipping test server with Sigill's real worker setup (bundle, activities, encryption codec), for
 * tests of timers: days pass in moments while the activities use the real database and adapters.
 */
import { randomUUID } from 'node:crypto';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { createActivities } from '../../src/activities';
import { sigillDataConverter } from '../../src/adapters/data-converter';
import type { SigningContext } from '../../src/signing/signing-context';
import { ensureSearchAttributes } from '../../src/worker-runtime';
import { harness, testLog } from './harness';

export async function startTimeSkipping(signing: SigningContext) {
  const env = await TestWorkflowEnvironment.createTimeSkipping({
    server: { executable: { type: 'existing-path', path: harness.timeSkippingServer() } },
    client: { dataConverter: sigillDataConverter(signing.payloadCodec) },
  });
  // The same registration the worker does on a self-hosted cluster.
  await ensureSearchAttributes({ address: env.address }, 'default', testLog);
  return {
    env,
    /** Runs `run` while a worker polls a task queue of its own (passed to `run`). */
    async withWorker<T>(run: (taskQueue: string) => Promise<T>): Promise<T> {
      const taskQueue = `time-skipping-${randomUUID()}`;
      const worker = await Worker.create({
        connection: env.nativeConnection,
        taskQueue,
        workflowBundle: { codePath: harness.workflowBundle() },
        dataConverter: sigillDataConverter(signing.payloadCodec),
        activities: createActivities(signing),
      });
      return worker.runUntil(run(taskQueue));
    },
    teardown: () => env.teardown(),
  };
}
