/**
 * ISO 8601 durations as used in the API (`P2D`, `PT30S`). Years and months are refused: their length
 * depends on the calendar, and a reminder or expiry must mean the same span however it is read.
 */
import { parse } from 'tinyduration';
import { z } from 'zod';

export function isoDurationToMs(text: string): number {
  const d = parse(text);
  if (d.negative) throw new Error('must not be negative');
  if (d.years || d.months) throw new Error('must use weeks, days, hours, minutes or seconds (no years or months)');
  const seconds =
    (d.weeks ?? 0) * 604_800 + (d.days ?? 0) * 86_400 + (d.hours ?? 0) * 3600 + (d.minutes ?? 0) * 60 + (d.seconds ?? 0);
  return Math.round(seconds * 1000);
}

/** A zod schema for an ISO 8601 duration string, parsed to milliseconds and bounded. */
export function isoDuration(bounds: { minMs: number; maxMs: number }) {
  return z
    .string()
    .describe('ISO 8601 duration, e.g. P2D or PT30S')
    .transform((text, ctx) => {
      let ms: number;
      try {
        ms = isoDurationToMs(text);
      } catch (error) {
        const reason = error instanceof Error && error.message.startsWith('must') ? error.message : 'must be an ISO 8601 duration such as P2D or PT30S';
        ctx.addIssue({ code: 'custom', message: reason });
        return z.NEVER;
      }
      if (ms < bounds.minMs || ms > bounds.maxMs) {
        ctx.addIssue({ code: 'custom', message: `must be between ${bounds.minMs / 1000} s and ${bounds.maxMs / 86_400_000} days` });
        return z.NEVER;
      }
      return ms;
    });
}
