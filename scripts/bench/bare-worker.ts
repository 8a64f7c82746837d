/**
 * The anchor's worker, a child process of `npm run bench`: the SDK's defaults, no-op activities, the
 * default data converter. Usage: tsx scripts/bench/bare-worker.ts <temporal address> <task queue>
 */
import { NativeConnection, Worker } from '@temporalio/worker';
import type { BareActivities } from './bare-round-workflow';

async function main(): Promise<void> {
  const [address, taskQueue] = process.argv.slice(2);
  if (!address || !taskQueue) throw new Error('usage: bare-worker.ts <temporal address> <task queue>');
  const connection = await NativeConnection.connect({ address });
  const activities: BareActivities = { nothing: async () => {} };
  const worker = await Worker.create({
    connection,
    taskQueue,
    workflowsPath: require.resolve('./bare-round-workflow'),
    activities,
  });
  process.once('SIGTERM', () => worker.shutdown());
  process.once('SIGINT', () => worker.shutdown());
  process.stdout.write('bare worker polling\n');
  await worker.run();
  await connection.close();
}

main().catch((error: unknown) => {
  process.stderr.write(`bare worker failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
