/**
 * The legal deadline of a data-subject request, GDPR Art. 12(3): one month from receipt, extendable once by
 * up to two further months. "One month" is counted on the UTC calendar date, keeping the time of day: the
 * same date next month, or the last day of that month when the date does not exist there (31 Jan → 28 Feb,
 * 29 Feb in a leap year; 31 Mar → 30 Apr). Pure: used by the API, the workflow (deterministic) and tests.
 */

export type ExtensionMonths = 1 | 2;

/**
 * A UTC date from its parts. Not `Date.UTC`: it reads years 0-99 as 1900-1999, which put a request received
 * in year 31 (a typo, or an old record) due in 1931; `setUTCFullYear` takes every year as given.
 */
function utcDate(year: number, monthIndex: number, day: number, time: Date = new Date(0)): Date {
  const date = new Date(time.getTime());
  date.setUTCFullYear(year, monthIndex, day);
  return date;
}

const daysInMonth = (year: number, monthIndex: number) => utcDate(year, monthIndex + 1, 0).getUTCDate();

/** `from` plus `months` calendar months (UTC), clamped to the last day of the target month. */
export function addCalendarMonths(from: Date, months: number): Date {
  const year = from.getUTCFullYear();
  const target = from.getUTCMonth() + months;
  const targetYear = year + Math.floor(target / 12);
  const targetMonth = ((target % 12) + 12) % 12;
  const day = Math.min(from.getUTCDate(), daysInMonth(targetYear, targetMonth));
  // The time of day is kept: only the date parts of `from` are replaced.
  return utcDate(targetYear, targetMonth, day, from);
}

/** When the answer is due: one month from receipt. */
export const legalDueDate = (receivedAt: Date): Date => addCalendarMonths(receivedAt, 1);

/** The deadline after an extension: 1 or 2 further months from the original due date, by the same rule. */
export const extendedDeadline = (originalDueAt: Date, months: ExtensionMonths): Date => addCalendarMonths(originalDueAt, months);

/**
 * Why an extension is refused, or undefined when it may be made: only one, and only while the original
 * deadline has not passed (the requester must be told within the first month).
 */
export function extensionRefusal(request: { dueAt: Date; extendedUntil: Date | null }, now: Date): string | undefined {
  if (request.extendedUntil) return 'The deadline was already extended once; GDPR allows one extension.';
  if (now.getTime() >= request.dueAt.getTime()) return 'The original deadline has passed: an extension must be decided and told within the first month.';
  return undefined;
}

/** The deadline that applies now: the extension's, if any. */
export const effectiveDeadline = (request: { dueAt: Date; extendedUntil: Date | null }): Date => request.extendedUntil ?? request.dueAt;
