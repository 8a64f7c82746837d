import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Stuck-process visibility (issue 12 §3, src/operations/). `activity_failures` holds, per signing round and
 * activity type, the step that keeps failing: the attempt that failed last, when it first and last failed,
 * and the failure's kind (an error type or code, never its message: messages can carry personal data).
 * A worker interceptor writes it when an attempt fails and deletes it when the step succeeds
 * (src/operations/activity-failures.ts); `GET /v1/stuck-rounds` and the `sigill_stuck_rounds` gauge read it.
 *
 * The partial index serves every stuck-round question, which starts from the open rounds: a handful beside
 * all the finished ones a deployment keeps.
 */
export class ActivityFailures1763922000000 implements MigrationInterface {
  name = 'ActivityFailures1763922000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      CREATE TABLE activity_failures (
        workflow_id text NOT NULL,
        activity_type text NOT NULL,
        request_id uuid NOT NULL REFERENCES signing_requests (id) ON DELETE CASCADE,
        attempts integer NOT NULL CHECK (attempts >= 1),
        first_failed_at timestamptz NOT NULL,
        last_failed_at timestamptz NOT NULL,
        error_kind text NOT NULL CHECK (length(error_kind) BETWEEN 1 AND 100),
        PRIMARY KEY (workflow_id, activity_type)
      )`);
    await db.query(`CREATE INDEX activity_failures_request_idx ON activity_failures (request_id)`);
    await db.query(`CREATE INDEX signing_requests_open_idx ON signing_requests (expires_at) WHERE status = 'pending'`);
  }

  async down(): Promise<void> {
    throw new Error('migrations are forward-only');
  }
}
