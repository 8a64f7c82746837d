/** The console's date filters: a calendar day starts at midnight in the organisation's zone, daylight saving included. */
import { dayStartInZone, wallTimeInZone, wallTimeOf } from '../../src/web/client/console/requests/zoned-days';

describe('dayStartInZone', () => {
  test.each([
    ['2026-01-15', 'UTC', 0, '2026-01-15T00:00:00.000Z'],
    ['2026-01-15', 'Europe/Stockholm', 0, '2026-01-14T23:00:00.000Z'],
    ['2026-07-01', 'Europe/Helsinki', 0, '2026-06-30T21:00:00.000Z'],
    // The "to" day is included: the filter ends where the next day starts, across the change to summer time.
    ['2026-03-28', 'Europe/Stockholm', 1, '2026-03-28T23:00:00.000Z'],
    ['2026-03-29', 'Europe/Stockholm', 1, '2026-03-29T22:00:00.000Z'],
    ['2026-12-31', 'Europe/Helsinki', 1, '2026-12-31T22:00:00.000Z'],
  ])('%s in %s (+%d days) starts at %s', (day, zone, addDays, instant) => {
    expect(dayStartInZone(day, zone, addDays)).toBe(instant);
  });

  test('anything but YYYY-MM-DD is no filter', () => {
    expect(dayStartInZone('15.1.2026', 'UTC')).toBeUndefined();
    expect(dayStartInZone('', 'UTC')).toBeUndefined();
  });
});

describe('wall-clock times in a zone', () => {
  test.each([
    ['2026-01-15T09:30', 'UTC', '2026-01-15T09:30:00.000Z'],
    ['2026-01-15T09:30', 'Europe/Helsinki', '2026-01-15T07:30:00.000Z'],
    ['2026-07-01T00:15', 'Europe/Stockholm', '2026-06-30T22:15:00.000Z'],
  ])('%s in %s is %s, and back', (wall, zone, instant) => {
    expect(wallTimeInZone(wall, zone)).toBe(instant);
    expect(wallTimeOf(instant, zone)).toBe(wall);
  });

  test('anything but YYYY-MM-DDTHH:MM is no time', () => {
    expect(wallTimeInZone('2026-01-15', 'UTC')).toBeUndefined();
    expect(wallTimeInZone('15.1.2026 09:30', 'UTC')).toBeUndefined();
  });
});
