import { addCalendarMonths, effectiveDeadline, extendedDeadline, extensionRefusal, legalDueDate } from '../../src/dsr/legal-deadline';

const at = (iso: string) => new Date(iso);

describe('GDPR Art. 12(3) deadline: one month from receipt, on the UTC calendar date, keeping the time of day', () => {
  test.each([
    ['2026-01-31T09:15:00.000Z', '2026-02-28T09:15:00.000Z'],
    ['2028-01-31T09:15:00.000Z', '2028-02-29T09:15:00.000Z'],
    ['2026-01-30T23:59:59.000Z', '2026-02-28T23:59:59.000Z'],
    ['2028-01-30T00:00:00.000Z', '2028-02-29T00:00:00.000Z'],
    ['2026-01-29T12:00:00.000Z', '2026-02-28T12:00:00.000Z'],
    ['2028-01-29T12:00:00.000Z', '2028-02-29T12:00:00.000Z'],
    ['2026-03-31T08:00:00.000Z', '2026-04-30T08:00:00.000Z'],
    ['2026-06-15T14:30:00.000Z', '2026-07-15T14:30:00.000Z'],
    ['2026-12-31T10:00:00.000Z', '2027-01-31T10:00:00.000Z'],
    ['2026-02-28T10:00:00.000Z', '2026-03-28T10:00:00.000Z'],
  ])('received %s → due %s', (received, due) => {
    expect(legalDueDate(at(received)).toISOString()).toBe(due);
  });

  test.each([
    ['0031-01-31T09:15:00.000Z', '0031-02-28T09:15:00.000Z'],
    ['0099-12-31T00:00:00.000Z', '0100-01-31T00:00:00.000Z'],
    ['0000-01-30T12:00:00.000Z', '0000-02-29T12:00:00.000Z'], // year 0 is a leap year (1900 is not)
    ['+012026-01-31T09:15:00.000Z', '+012026-02-28T09:15:00.000Z'],
  ])('any year, also below 100 (Date.UTC would read 19xx): received %s → due %s', (received, due) => {
    expect(legalDueDate(at(received)).toISOString()).toBe(due);
  });

  test('an extension counts 1 or 2 months from the original due date by the same rule', () => {
    const due = legalDueDate(at('2026-01-31T09:00:00.000Z')); // 28 Feb
    expect(extendedDeadline(due, 1).toISOString()).toBe('2026-03-28T09:00:00.000Z');
    expect(extendedDeadline(due, 2).toISOString()).toBe('2026-04-28T09:00:00.000Z');
    expect(extendedDeadline(at('2026-03-31T09:00:00.000Z'), 2).toISOString()).toBe('2026-05-31T09:00:00.000Z');
    expect(extendedDeadline(at('2026-12-31T09:00:00.000Z'), 2).toISOString()).toBe('2027-02-28T09:00:00.000Z');
    expect(addCalendarMonths(at('2026-11-30T00:00:00.000Z'), 3).toISOString()).toBe('2027-02-28T00:00:00.000Z');
  });

  test('one extension only, and only before the original deadline', () => {
    const dueAt = at('2026-02-28T09:00:00.000Z');
    expect(extensionRefusal({ dueAt, extendedUntil: null }, at('2026-02-28T08:59:59.000Z'))).toBeUndefined();
    expect(extensionRefusal({ dueAt, extendedUntil: null }, at('2026-02-28T09:00:00.000Z'))).toMatch(/first month/);
    expect(extensionRefusal({ dueAt, extendedUntil: at('2026-03-28T09:00:00.000Z') }, at('2026-02-01T00:00:00.000Z'))).toMatch(/one extension/);
    expect(effectiveDeadline({ dueAt, extendedUntil: null })).toBe(dueAt);
    expect(effectiveDeadline({ dueAt, extendedUntil: at('2026-03-28T09:00:00.000Z') }).toISOString()).toBe('2026-03-28T09:00:00.000Z');
  });
});
