/**
 * Calendar days in the organisation's time zone as instants, for the list's date filters. Pure (no DOM, no
 * Preact), so a unit test runs it under Node: test/unit/console-dates.test.ts.
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
  const midnightAsUtc = Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3]) + addDays);
  let instant = midnightAsUtc - zoneOffsetMs(midnightAsUtc, timeZone);
  instant = midnightAsUtc - zoneOffsetMs(instant, timeZone); // once more, in case midnight is across a DST change
  return new Date(instant).toISOString();
}
