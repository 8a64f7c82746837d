/**
 * `sigill_blob_backup_backlog`: blobs written or deleted and not yet replicated to the backup provider,
 * computed at each scrape. It should return to 0 within minutes; a backlog that only grows means the
 * provider keeps refusing (`backup status` shows the attempts). Left without samples when the query fails.
 */
import { Gauge } from 'prom-client';
import type { Logger } from '../logger';
import { metricsRegistry } from '../observability/metrics';
import type { BlobBackupQueue } from './backup-queue';

export const blobBackupBacklogGauge = 'sigill_blob_backup_backlog';

export function registerBlobBackupGauge(queue: BlobBackupQueue, log: Logger): void {
  metricsRegistry.removeSingleMetric(blobBackupBacklogGauge);
  const gauge: Gauge = new Gauge({
    name: blobBackupBacklogGauge,
    help: 'Blob writes and deletions not yet replicated to the backup provider',
    registers: [metricsRegistry],
    collect: async () => {
      gauge.reset();
      try {
        gauge.set((await queue.status()).backlog);
      } catch (error) {
        log.warn({ err: error }, 'the blob backup backlog could not be counted; the scrape goes on without it');
      }
    },
  });
}
