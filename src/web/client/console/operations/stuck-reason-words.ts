/**
 * Why a round is stuck, in the reader's words (the `/stuck` page and the notice on a request's page). The API
 * names the failing step by its activity and the failure by its kind (`Error:ESOCKET`, never a message);
 * the step is said with the workflow history's names (console:history.activity.*.task), and a kind we
 * recognise is explained, the raw kind staying beside it for support staff. Pure (no DOM, no Preact), so a
 * unit test reads it exactly as the console does.
 */
import type { StuckReasonView } from '../../../../contract/stuck-rounds';
import type { Translate } from '../../../../i18n';

export interface StuckReasonText {
  /** What is wrong and since when, with the failing step in words. */
  text: string;
  /** The last failure in words, when its kind is one we recognise. */
  explanation?: string;
  /** The last failure's kind as the API gives it (`Error:ENOENT`), for support staff. */
  errorKind?: string;
}

/**
 * Activities whose history name needs a signer or an audit event the stuck list does not carry (a failing
 * step is one row per round and activity, whoever it was for): these have names of their own.
 */
const stepsWithoutHistoryName = new Set(['sendInvitation', 'sendReminder', 'sendPin', 'notifySignerLocked', 'recordAuditEvent']);

/** Error codes (after the class name, `Error:ESOCKET`) and class names, by what they mean to an operator. */
const errorMeanings: Array<[meaning: string, codes: RegExp]> = [
  // Sockets and DNS (Node, nodemailer's ESOCKET/ECONNECTION/EDNS, undici), the AWS SDK's timeouts.
  ['unreachable', /^(ESOCKET|ECONNECTION|EDNS|ETIMEDOUT|ETIMEOUT|ECONNREFUSED|ECONNRESET|ECONNABORTED|EPIPE|EHOSTUNREACH|ENETUNREACH|ENOTFOUND|EAI_AGAIN|UND_ERR_[A-Z_]+|TimeoutError)$/],
  // SQLSTATE of a database that is down, restarting or out of connections.
  ['database', /^(08[0-9A-Z]{3}|57P0[123]|53300)$/],
  ['mailSignIn', /^EAUTH$/],
  ['fileMissing', /^ENOENT$/],
  ['filePermission', /^(EACCES|EPERM|EROFS)$/],
  ['diskFull', /^(ENOSPC|EDQUOT)$/],
  // The AWS SDK names refusals by class (KMS, S3).
  ['accessDenied', /^(AccessDenied|AccessDeniedException|UnrecognizedClientException|InvalidAccessKeyId|SignatureDoesNotMatch|ExpiredToken|ExpiredTokenException)$/],
  ['sealKey', /^seal_[a-z_]+$/],
];

/** The meaning of a failure kind (`Error:ECONNREFUSED`, `QueryFailedError:57P01`, `AccessDeniedException`), if known. */
export function errorMeaning(kind: string): string | undefined {
  const [name, code] = kind.includes(':') ? [kind.slice(0, kind.indexOf(':')), kind.slice(kind.indexOf(':') + 1)] : [kind, ''];
  for (const [meaning, pattern] of errorMeanings) {
    if (pattern.test(code) || pattern.test(name)) return meaning;
  }
  return undefined;
}

/** The failing step in words: its history name, a name of its own, or the activity as the API gives it. */
export function stepName(activity: string, t: Translate): string {
  const key = stepsWithoutHistoryName.has(activity) ? `console:stuck.step.${activity}` : `console:history.activity.${activity}.task`;
  return t(key, { defaultValue: activity });
}

export function describeStuckReason(reason: StuckReasonView, t: Translate, when: (at: string) => string): StuckReasonText {
  const since = when(reason.since);
  const repeated = reason.code === 'seal_retrying' || reason.code === 'activity_failing';
  const text = t(`console:stuck.reason.${reason.code}`, repeated ? { since, count: reason.attempts ?? 0, activity: stepName(reason.activity ?? '', t) } : { since });
  if (!reason.lastError) return { text };
  const meaning = errorMeaning(reason.lastError);
  return { text, errorKind: reason.lastError, ...(meaning ? { explanation: t(`console:stuck.errorMeaning.${meaning}`) } : {}) };
}
