import { isoDuration, isoDurationToMs } from '../../src/durations';

test.each([
  ['PT30S', 30_000],
  ['P2D', 2 * 86_400_000],
  ['P1W', 7 * 86_400_000],
  ['P1DT12H', 36 * 3_600_000],
  ['PT1.5S', 1500],
])('%s is %d ms', (text, ms) => {
  expect(isoDurationToMs(text)).toBe(ms);
});

test.each(['P1M', 'P1Y', '-P1D', '2 days', ''])('%s is refused', (text) => {
  expect(() => isoDurationToMs(text)).toThrow();
});

test('the zod schema enforces bounds and explains what is wrong', () => {
  const schema = isoDuration({ minMs: 1000, maxMs: 86_400_000 });
  expect(schema.parse('PT1M')).toBe(60_000);
  expect(schema.safeParse('P2D').error?.issues[0]?.message).toMatch(/between 1 s and 1 days/);
  expect(schema.safeParse('P1M').error?.issues[0]?.message).toMatch(/no years or months/);
  expect(schema.safeParse('soon').error?.issues[0]?.message).toMatch(/ISO 8601/);
});
