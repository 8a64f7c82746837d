/**
 * Knowing when a step of a signing round keeps failing (issue 12 §3). Temporal retries a failing activity
 * quietly: the round stays "pending", and only its history says that sealing has failed twelve times. A
 * worker interceptor, registered for every activity at once, keeps one row per round and activity type in
 * `activity_failures` (the attempt that failed last, when it first and last failed, the failure's kind) and
 * deletes it when the step succeeds; `GET /v1/stuck-rounds` and the `sigill_stuck_rounds` gauge read it.
 *
 * Only the failure's kind is stored (an ApplicationFailure type, an error class name, a stable code such as
 * ENOENT or a SQLSTATE), never its message: messages can carry personal data. Recording never makes an
 * activity fail or wait: the write runs beside the failure's report (a database outage is often why the
 * activity failed) and a write that fails is logged and forgotten.
 */
import type { Context as ActivityContext } from '@temporalio/activity';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import type { ActivityInterceptorsFactory } from '@temporalio/worker';
import type { DataSource } from 'typeorm';
import type { Logger } from '../logger';

const signingRoundWorkflowId = /^signing-request-([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/;
const className = /^[A-Za-z][A-Za-z0-9_]{0,63}$/;
const stableCode = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,35}$/;

/**
 * What kind of failure this is, in words that hold no data: the ApplicationFailure's type, else the error's
 * class name with its `code` when it has one (`Error:ENOENT`, `QueryFailedError:23505`, `AppError:seal_…`).
 * Anything that does not look like an identifier is dropped rather than stored.
 */
export function failureKind(error: unknown): string {
  if (error instanceof ApplicationFailure) return error.type && className.test(error.type) ? error.type : 'ApplicationFailure';
  // Duck-typed, not `instanceof Error`: errors made in another realm (Node's own, under a test runner's VM) are errors too.
  if (typeof error !== 'object' || error === null) return 'NonError';
  const { name, code: ownCode, driverError } = error as { name?: unknown; code?: unknown; driverError?: { code?: unknown } };
  const kind = typeof name === 'string' && className.test(name) ? name : 'Error';
  const code = ownCode ?? driverError?.code;
  return typeof code === 'string' && stableCode.test(code) ? `${kind}:${code}` : kind;
}

/** Whether Temporal will run this activity again after this failure. */
function willRetry(error: unknown, info: ActivityContext['info']): boolean {
  if (error instanceof ApplicationFailure && error.nonRetryable) return false;
  const policy = info.retryPolicy;
  if (policy?.maximumAttempts && info.attempt >= policy.maximumAttempts) return false;
  const type = error instanceof ApplicationFailure ? error.type : (error as { name?: unknown } | null)?.name;
  return !(typeof type === 'string' && policy?.nonRetryableErrorTypes?.includes(type));
}

/** For `Worker.create({ interceptors: { activity: [...] } })`: every worker that runs signing rounds. */
export function recordActivityFailures(dataSource: DataSource, log: Logger): ActivityInterceptorsFactory {
  const write = (what: string, sql: string, parameters: unknown[]) => {
    dataSource.query(sql, parameters).catch((error: unknown) => {
      log.warn({ err: error, what }, 'could not record an activity failure for the stuck-rounds view; the activity goes on');
    });
  };

  return (context) => ({
    inbound: {
      async execute(input, next) {
        const info = context.info;
        const requestId = signingRoundWorkflowId.exec(info.workflowExecution?.workflowId ?? '')?.[1];
        if (!requestId) return next(input);
        const workflowId = info.workflowExecution!.workflowId;
        try {
          const result = await next(input);
          // A first attempt that succeeds follows no failure of this step: no query on the common path.
          if (info.attempt > 1) {
            write('clear', `DELETE FROM activity_failures WHERE workflow_id = $1 AND activity_type = $2`, [workflowId, info.activityType]);
          }
          return result;
        } catch (error) {
          // Cancelled is not failing: the worker is shutting down or the round no longer needs the step.
          if (error instanceof CancelledFailure) throw error;
          if (!willRetry(error, info)) {
            // Nothing retries the step any more: the round has it now (it ends `failed`, or goes on without it).
            write('clear', `DELETE FROM activity_failures WHERE workflow_id = $1 AND activity_type = $2`, [workflowId, info.activityType]);
          } else {
            // An attempt number not above the stored one is a new execution of the step whose predecessor's row
            // was never cleared (its clearing write failed): the count and first failure start afresh.
            write(
              'upsert',
              `INSERT INTO activity_failures (workflow_id, activity_type, request_id, attempts, first_failed_at, last_failed_at, error_kind)
               VALUES ($1, $2, $3, $4, now(), now(), $5)
               ON CONFLICT (workflow_id, activity_type) DO UPDATE SET
                 attempts = excluded.attempts,
                 first_failed_at = CASE WHEN excluded.attempts > activity_failures.attempts
                                        THEN activity_failures.first_failed_at ELSE excluded.first_failed_at END,
                 last_failed_at = excluded.last_failed_at,
                 error_kind = excluded.error_kind`,
              [workflowId, info.activityType, requestId, info.attempt, failureKind(error)],
            );
          }
          throw error;
        }
      },
    },
  });
}
