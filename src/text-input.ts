/**
 * What text Sigill accepts from outside, decided once. Every string that reaches PostgreSQL, a workflow, an
 * email or a sealed PDF passes through here: a NUL cannot be stored in PostgreSQL's text or jsonb (so it
 * would make an activity fail for ever), other control characters have no business in names or reasons and
 * can forge lines in emails and audit pages, and a lone surrogate is not Unicode text at all.
 *
 * - `singleLineText` for names, titles, filenames: no control characters at all.
 * - `multilineText` for messages and reasons: tab, line feed and carriage return allowed.
 * - `forbiddenCharacterIn` is the same rule for strings that are not free text (tokens, cursors, emails,
 *   passwords): the API applies it to every string of every request before its own schema runs.
 */
import { z } from 'zod';

/** C0 controls, DEL and C1 controls. */
const controlCharacter = /[\u0000-\u001F\u007F-\u009F]/;
const controlCharacterExceptLineBreaksAndTab = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]/;
const loneSurrogate = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Marks the zod issues raised by this rule, so the API answers them with 422 (the value, not its shape). */
export const invalidTextIssue = 'sigill_invalid_text';

export type ForbiddenCharacter = 'control_character' | 'lone_surrogate';

/** Why `text` cannot be accepted, or undefined when it can. */
export function forbiddenCharacterIn(text: string, options: { lineBreaks: boolean }): ForbiddenCharacter | undefined {
  if (loneSurrogate.test(text)) return 'lone_surrogate';
  const pattern = options.lineBreaks ? controlCharacterExceptLineBreaksAndTab : controlCharacter;
  return pattern.test(text) ? 'control_character' : undefined;
}

export const forbiddenCharacterMessage: Record<ForbiddenCharacter, string> = {
  control_character: 'must not contain control characters',
  lone_surrogate: 'must be valid Unicode text (it contains a lone surrogate)',
};

/** Trimmed first: a trailing newline pasted into a name is whitespace, not a forbidden character. */
function cleanText(options: { lineBreaks: boolean }) {
  return z.string().trim().superRefine((text, context) => {
    const problem = forbiddenCharacterIn(text, options);
    if (problem) context.addIssue({ code: 'custom', message: forbiddenCharacterMessage[problem], params: { [invalidTextIssue]: true } });
  });
}

interface TextBounds {
  /** Characters after trimming; default 1 (an empty or blank value is refused). Use 0 for optional prose. */
  min?: number;
  max: number;
}

/** One line of text, trimmed: names, titles, filenames. */
export function singleLineText(bounds: TextBounds) {
  return withBounds(cleanText({ lineBreaks: false }), bounds);
}

/** Prose, trimmed, with line breaks and tabs: messages, reasons. */
export function multilineText(bounds: TextBounds) {
  return withBounds(cleanText({ lineBreaks: true }), bounds);
}

function withBounds(schema: z.ZodString, { min = 1, max }: TextBounds) {
  return (min > 0 ? schema.min(min, min === 1 ? 'must not be empty' : `must be at least ${min} characters`) : schema).max(max);
}

/** Whether a zod issue came from this module's rule. */
export function isInvalidTextIssue(issue: z.core.$ZodIssue): boolean {
  return issue.code === 'custom' && (issue.params as Record<string, unknown> | undefined)?.[invalidTextIssue] === true;
}
