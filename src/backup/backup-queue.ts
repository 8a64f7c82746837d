/**
 * Replication to the independent backup provider (R12). The primary store's wrapper
 * (src/adapters/replicated-blob-store.ts) records every successful write or delete here; the `blob-backup`
 * workflow drains the queue with `replicateQueuedBlobs`. What is copied is the stored object as the primary
 * holds it — ciphertext, never decrypted on the way — so the backup bucket alone reveals nothing, and an
 * object whose record key was destroyed stays unreadable there too.
 *
 * Each key is brought to the primary's current state, whatever operation was queued last: present there,
 * its bytes are copied; gone after a recorded delete, it is removed from the backup. That makes a drain
 * idempotent and order-proof (a put then a delete, or a delete then a new put, end as the primary stands),
 * and rows are marked done only after the copy, so a worker killed mid-copy loses nothing. A primary that
 * loses objects by itself (the disaster the backup is for) never deletes anything in the backup.
 */
import type { DataSource } from 'typeorm';
import type { BlobStore } from '../adapters/blob-store';
import { queryReturning } from '../database/data-source';

export type ReplicationOperation = 'put' | 'delete';

/** Two drains at once (the signalled run and a scheduled one) serialise per key on this advisory lock class. */
const keyLockClass = 0x5b4b;
/** How long a queued write whose object is not in the primary yet counts as still being written. */
const writeInFlightSeconds = 60;
/** Done rows kept for `backup status`, then pruned. */
const keepDoneRowsDays = 7;

/** The queue's last row id at some moment (bigint, as text). */
export interface QueuePosition {
  lastId: string;
}

export interface BackupStatus {
  /** Queued writes and deletes not yet replicated. */
  backlog: number;
  oldestPendingAt: Date | null;
  lastReplicatedAt: Date | null;
  /** The most attempts any pending row has had: growing means the backup provider keeps failing. */
  maxPendingAttempts: number;
}

export class BlobBackupQueue {
  private wake?: () => void;

  constructor(private readonly dataSource: DataSource) {}

  /**
   * Records a write or delete of `key` in the primary store and wakes the drain (best-effort). A write is
   * also recorded before it starts (`intent`, no wake-up): a process that dies between its write and the
   * record after it — whose retry may find the object stored and not write it again — still leaves a row.
   */
  async record(key: string, operation: ReplicationOperation, options: { intent?: boolean } = {}): Promise<void> {
    await this.dataSource.query(`INSERT INTO blob_backup_queue (blob_key, operation) VALUES ($1, $2)`, [key, operation]);
    if (!options.intent) this.wake?.();
  }

  /** What a write should do to wake the drain (src/backup/schedule.ts: a signal to `blob-backup`). */
  onRecorded(wake: () => void): void {
    this.wake = wake;
  }

  async status(): Promise<BackupStatus> {
    const [row] = await queryReturning<{ backlog: string; oldest: Date | null; last: Date | null; attempts: number | null }>(
      this.dataSource,
      `SELECT (SELECT count(*) FROM blob_backup_queue WHERE done_at IS NULL) AS backlog,
              (SELECT min(enqueued_at) FROM blob_backup_queue WHERE done_at IS NULL) AS oldest,
              (SELECT max(done_at) FROM blob_backup_queue WHERE done_at IS NOT NULL) AS last,
              (SELECT max(attempts) FROM blob_backup_queue WHERE done_at IS NULL) AS attempts`,
      [],
    );
    return {
      backlog: Number(row!.backlog),
      oldestPendingAt: row!.oldest,
      lastReplicatedAt: row!.last,
      maxPendingAttempts: row!.attempts ?? 0,
    };
  }

  /**
   * The latest operation on `key` still waiting for replication, or recorded after `since` (replicated or not):
   * a restore must not undo it. Asked per key as the restore reaches it, and again after it copied, so a
   * write or delete made while a restore runs wins over the backup's older copy.
   */
  async latestOperation(key: string, since: QueuePosition): Promise<ReplicationOperation | undefined> {
    // By row id, not time (no clock to compare): the pending part uses the pending-key index, the rest the primary key.
    const [row] = await queryReturning<{ operation: ReplicationOperation }>(
      this.dataSource,
      `SELECT operation FROM blob_backup_queue WHERE blob_key = $1 AND (done_at IS NULL OR id > $2::bigint) ORDER BY id DESC LIMIT 1`,
      [key, since.lastId],
    );
    return row?.operation;
  }

  /** Where the queue stands now: what `latestOperation` counts from. */
  async position(): Promise<QueuePosition> {
    const [row] = await queryReturning<{ last_id: string | null }>(this.dataSource, `SELECT max(id)::text AS last_id FROM blob_backup_queue`, []);
    return { lastId: row?.last_id ?? '0' };
  }

  /**
   * Replicates up to `limit` queued keys, oldest first; answers how many were done and how many remain.
   * `stored` is the primary store below its encryption (the bytes as stored). A failing copy counts an
   * attempt on its rows and throws: the activity's retries try again with backoff (the provider is down).
   *
   * A key queued for a write within the last `writeInFlightSeconds` whose object is not in the primary yet
   * is a write in progress (its intent row): it is left pending, not counted as remaining, for the row its
   * write adds when done (or, if the write never lands, for a later run, which then takes it as a delete).
   */
  async replicate(
    stores: { stored: BlobStore; backup: BlobStore },
    options: { limit: number; onProgress?: () => void },
  ): Promise<{ replicated: number; remaining: number }> {
    const due = await queryReturning<{ blob_key: string; last_id: string; rows: string; write_in_flight: boolean; deleted: boolean }>(
      this.dataSource,
      `SELECT blob_key, max(id) AS last_id, count(*) AS rows, bool_or(operation = 'delete') AS deleted,
              (array_agg(operation ORDER BY id DESC))[1] = 'put' AND max(enqueued_at) > now() - make_interval(secs => $2) AS write_in_flight
         FROM blob_backup_queue WHERE done_at IS NULL
        GROUP BY blob_key ORDER BY 5, min(id) LIMIT $1`,
      [options.limit, writeInFlightSeconds],
    );
    let replicated = 0;
    let deferredRows = 0;
    for (const { blob_key: key, last_id: lastId, rows, write_in_flight: writeInFlight, deleted } of due) {
      let deferred = false;
      try {
        await this.dataSource.transaction(async (manager) => {
          // Held until commit: a concurrent drain of the same key reads the primary only after this copy
          // landed, so a stale read can never overwrite a newer delete in the backup.
          await manager.query(`SELECT pg_advisory_xact_lock($1, hashtext($2))`, [keyLockClass, key]);
          const bytes = await stores.stored.get(key);
          if (bytes === undefined && writeInFlight) {
            deferred = true;
            return;
          }
          if (bytes !== undefined) await stores.backup.put(key, bytes);
          // Only a recorded delete removes anything from the backup: an object missing from the primary with
          // nothing but writes queued is a failed write or a primary that lost it, and the backup keeps its copy.
          else if (deleted) await stores.backup.delete(key);
          await manager.query(
            `UPDATE blob_backup_queue SET done_at = now(), attempts = attempts + 1, last_attempt_at = now()
              WHERE blob_key = $1 AND id <= $2 AND done_at IS NULL`,
            [key, lastId],
          );
        });
      } catch (error) {
        await this.dataSource.query(
          `UPDATE blob_backup_queue SET attempts = attempts + 1, last_attempt_at = now() WHERE blob_key = $1 AND id <= $2 AND done_at IS NULL`,
          [key, lastId],
        );
        throw error;
      }
      if (deferred) deferredRows += Number(rows);
      else replicated += 1;
      options.onProgress?.();
    }
    await this.dataSource.query(`DELETE FROM blob_backup_queue WHERE done_at < now() - make_interval(days => $1)`, [keepDoneRowsDays]);
    const [pending] = await queryReturning<{ count: string }>(this.dataSource, `SELECT count(*) FROM blob_backup_queue WHERE done_at IS NULL`, []);
    return { replicated, remaining: Math.max(0, Number(pending!.count) - deferredRows) };
  }
}
