/**
 * Calendar days and wall-clock times in the organisation's time zone as instants, for the list's date filters
 * and the webhook log's "failed since". Pure (no DOM, no Preact), so a unit test runs it under Node:
 * test/unit/console-dates.test.ts.
 */

/** Milliseconds the zone is ahead of UTC at `instant`. */
function zoneOffsetMs(instant: number, timeZone: string): number {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat('en-US', { timeZone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' })
      .formatToParts(new Date(instant))
      .map((part) => [part.type, part.value]),
  );
  const wall = Date.UTC(Number(parts.year), Number(parts.month) - 1, Number(parts.day), Number(parts.hour), Number(parts.minute), Number(parts.second));
  return wall - Math.floor(instant / 1000) * 1000;
}

/**
 * The instant a calendar day (`YYYY-MM-DD`, as a date input gives it) starts in the organisation's zone, plus
 * `addDays`: "created from 3 March" in Helsinki means from midnight in Helsinki.
 */
export function dayStartInZone(day: string, timeZone: string, addDays = 0): string | undefined {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(day);
  if (!match) return undefined;
  return instantOfWallTime(Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3]) + addDays), timeZone);
}

/**
 * The instant a wall-clock time (`YYYY-MM-DDTHH:MM`, as a datetime-local input gives it) is in the
 * organisation's zone: "failed since 09:00" in Helsinki means 09:00 in Helsinki.
 */
export function wallTimeInZone(wallTime: string, timeZone: string): string | undefined {
  const match = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})$/.exec(wallTime);
  if (!match) return undefined;
  const [, year, month, day, hour, minute] = match.map(Number) as [number, number, number, number, number, number];
  return instantOfWallTime(Date.UTC(year, month - 1, day, hour, minute), timeZone);
}

/** The wall-clock time (`YYYY-MM-DDTHH:MM`) of an instant in the zone, to fill a datetime-local input. */
export function wallTimeOf(instant: Date | string, timeZone: string): string {
  const at = new Date(instant).getTime();
  return new Date(at + zoneOffsetMs(at, timeZone)).toISOString().slice(0, 16);
}

/** `wallAsUtc` is the wall-clock reading written as if it were UTC. */
function instantOfWallTime(wallAsUtc: number, timeZone: string): string {
  let instant = wallAsUtc - zoneOffsetMs(wallAsUtc, timeZone);
  instant = wallAsUtc - zoneOffsetMs(instant, timeZone); // once more, in case the time is across a DST change
  return new Date(instant).toISOString();
}
