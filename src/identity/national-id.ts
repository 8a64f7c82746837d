/**
 * National identity numbers as Nordic eIDs carry them: compared without their punctuation, and shown only
 * masked, with the birth-date part kept (what the sealed audit page and the console may show).
 *
 * - Sweden (personnummer): YYYYMMDD-NNNN or YYMMDD-NNNN → `19800101-****`
 * - Finland (henkilötunnus): DDMMYY, a century sign (+ - A–F U–Y), NNN and a check character → `010180-****`
 * - Denmark (CPR): DDMMYY-NNNN → `010180-****`; Norway (fødselsnummer): DDMMYYNNNNN → `010180*****`
 * Anything else is masked entirely but its length: we cannot tell which part is the birth date.
 */

/** Digits and letters only, upper case: `19800101-1234`, `198001011234` and ` 19800101 1234` compare equal. */
export function normalizeNationalId(value: string): string {
  return value.replace(/[^0-9A-Za-z]/g, '').toUpperCase();
}

/**
 * Whether the identity's number is the expected one. Swedish numbers are also compared on their 10-digit
 * form (brokers send 12 digits; senders often type 10). The Finnish century sign is part of the number.
 */
export function nationalIdsMatch(expected: string, actual: string | undefined): boolean {
  if (!actual) return false;
  const a = normalizeNationalId(expected);
  const b = normalizeNationalId(actual);
  if (a.length === 0) return false;
  // Both in the Finnish (or dashed Swedish) form: the sign between date and serial tells the century.
  const finnish = /^\d{6}[-+A-FU-Y]\d{3}[0-9A-Y]$/i;
  if (finnish.test(expected.trim()) && finnish.test(actual.trim())) return expected.trim().toUpperCase() === actual.trim().toUpperCase();
  if (a === b) return true;
  const tenDigits = (value: string) => (/^\d{12}$/.test(value) ? value.slice(2) : value);
  return /^\d{10}(\d{2})?$/.test(a) && /^\d{10}(\d{2})?$/.test(b) && tenDigits(a) === tenDigits(b);
}

export function maskNationalId(value: string): string {
  const trimmed = value.trim();
  const finnish = /^(\d{6})([-+A-FU-Y])[0-9]{3}[0-9A-Y]$/i.exec(trimmed);
  if (finnish) return `${finnish[1]}${finnish[2]}****`;
  const digits = normalizeNationalId(trimmed);
  if (/^\d{12}$/.test(digits)) return `${digits.slice(0, 8)}-****`; // Swedish, with the century
  if (/^\d{10}$/.test(digits)) return `${digits.slice(0, 6)}-****`; // Swedish or Danish
  if (/^\d{11}$/.test(digits)) return `${digits.slice(0, 6)}*****`; // Norwegian
  return '*'.repeat(Math.min(Math.max(digits.length, 4), 20));
}
