/**
 * The shape of `GET /v1/stuck-rounds`: rounds that need a person (R17), written once for the server and
 * the console (types only). Times are ISO 8601 UTC strings.
 */

/**
 * - `past_deadline`: the round is still open although its deadline passed (its expiry did not happen).
 * - `seal_retrying`: sealing has failed and been retried more than the configured number of times.
 * - `activity_failing`: another step of the round keeps failing (same threshold).
 * - `no_progress`: nothing happened for longer than the round's schedule allows (e.g. everyone signed but
 *   no seal followed).
 */
export type StuckReasonCode = 'past_deadline' | 'seal_retrying' | 'activity_failing' | 'no_progress';

export interface StuckReasonView {
  code: StuckReasonCode;
  /** Since when the condition holds. */
  since: string;
  /** The failing step (activity name), for `seal_retrying` and `activity_failing`. */
  activity: string | null;
  /** Attempts so far, for `seal_retrying` and `activity_failing`. */
  attempts: number | null;
  /** The last failure's kind (an error type or code, never its message: messages can carry data). */
  lastError: string | null;
}

export interface StuckRoundView {
  requestId: string;
  title: string;
  status: string;
  folderId: string;
  createdAt: string;
  expiresAt: string | null;
  lastEventAt: string | null;
  reasons: StuckReasonView[];
}

export interface StuckRoundsPage {
  items: StuckRoundView[];
}
