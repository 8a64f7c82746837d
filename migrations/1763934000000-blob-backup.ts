import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The backup provider's replication queue (issue 14, R12): every successful write or delete in the primary
 * blob store adds a row naming the object's key; the `blob-backup` workflow copies the object's current
 * stored bytes (ciphertext) to the backup store, or removes it there, and only then marks the row done, so
 * a worker killed mid-copy leaves the row pending for the next run. Keys are ids and paths, no personal data.
 * Done rows are kept a week for `backup status` and then pruned by the drain.
 */
export class BlobBackup1763934000000 implements MigrationInterface {
  name = 'BlobBackup1763934000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      CREATE TABLE blob_backup_queue (
        id bigserial PRIMARY KEY,
        blob_key text NOT NULL,
        operation text NOT NULL CHECK (operation IN ('put', 'delete')),
        enqueued_at timestamptz NOT NULL DEFAULT now(),
        attempts integer NOT NULL DEFAULT 0,
        last_attempt_at timestamptz,
        done_at timestamptz
      )`);
    await db.query(`CREATE INDEX blob_backup_queue_pending ON blob_backup_queue (id) WHERE done_at IS NULL`);
    await db.query(`CREATE INDEX blob_backup_queue_pending_key ON blob_backup_queue (blob_key) WHERE done_at IS NULL`);
    await db.query(`CREATE INDEX blob_backup_queue_done ON blob_backup_queue (done_at) WHERE done_at IS NOT NULL`);
  }

  async down(): Promise<void> {
    throw new Error('migrations are forward-only');
  }
}
