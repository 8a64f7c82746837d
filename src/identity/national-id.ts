/**
 * National identity numbers as Nordic eIDs carry them: checked when a sender gives one, compared with the
 * eID's by each country's rules, and shown only masked, with the birth-date part kept (what the sealed
 * audit page and the console may show).
 *
 * - Sweden (personnummer): YYYYMMDDNNNN as brokers send it; senders also type YYMMDD-NNNN, where `+`
 *   instead of `-` means the person is 100 or older.
 * - Finland (henkilötunnus): DDMMYY, a century sign (`+` 1800s, `-`/U–Y 1900s, A–F 2000s), NNN and a check
 *   character. The sign is part of the number: 010180-123A and 010180+123A are two people.
 * - Denmark (CPR): DDMMYY-NNNN. Norway (fødselsnummer): DDMMYYNNNNN.
 */

const finnish = /^(\d{6})([-+A-FU-Y])(\d{3}[0-9A-Y])$/;
const swedishLong = /^(\d{8})-?(\d{4})$/;
const shortWithSign = /^(\d{6})([-+]?)(\d{4})$/;
const norwegian = /^\d{11}$/;

const compact = (value: string) => value.replace(/\s+/g, '').toUpperCase();

/** Whether a sender's value is a national identity number of a form we can compare (SE, FI, DK, NO). */
export function isNationalIdFormat(value: string): boolean {
  const id = compact(value);
  return finnish.test(id) || swedishLong.test(id) || shortWithSign.test(id) || norwegian.test(id);
}

/**
 * Whether the eID's number (`actual`, as the broker sent it) is the one the sender expected. `country` is
 * the eID's (the broker's `country` claim), when known: the Swedish short forms are compared with a
 * 12-digit number only for a Swedish (or unknown) eID, and a Finnish eID's number only exactly.
 */
export function nationalIdsMatch(expected: string, actual: string | undefined | null, country?: string | null): boolean {
  if (!actual) return false;
  const want = compact(expected);
  const got = compact(actual);
  if (want === '' || got === '') return false;
  if (want === got) return true;
  const finnishEid = country?.toUpperCase() === 'FI' || /[A-FU-Y]/.test(got.slice(6, 7)) || /[A-Y]$/.test(got);
  // Finnish numbers match only as written with their century sign.
  if (finnishEid || /[A-FU-Y]/.test(want.slice(6, 7)) || /[A-Y]$/.test(want)) return false;

  const digits = (value: string) => value.replace(/\D/g, '');
  const longWant = swedishLong.exec(want);
  const longGot = swedishLong.exec(got);
  if (longWant && longGot) return digits(want) === digits(got);
  // A short Swedish form against the full number: same last ten digits, and the sign agreeing with the age.
  const swedishEid = !country || country.toUpperCase() === 'SE';
  const short = shortWithSign.exec(want) ?? shortWithSign.exec(got);
  const long = longGot ?? longWant;
  if (short && long && swedishEid && (shortWithSign.test(want) !== shortWithSign.test(got))) {
    const full = digits(long[0]);
    if (full.slice(2) !== `${short[1]}${short[3]}`) return false;
    const age = new Date().getUTCFullYear() - Number(full.slice(0, 4));
    return short[2] === '+' ? age >= 100 : age < 100;
  }
  // Two short forms (Swedish or Danish), or Norwegian numbers: the same digits, the same sign.
  const signOf = (value: string) => shortWithSign.exec(value)?.[2] || '-';
  return digits(want) === digits(got) && digits(want).length === digits(got).length && signOf(want) === signOf(got);
}

export function maskNationalId(value: string): string {
  const id = compact(value);
  const fi = finnish.exec(id);
  if (fi) return `${fi[1]}${fi[2]}****`;
  const long = swedishLong.exec(id);
  if (long) return `${long[1]}-****`;
  const short = shortWithSign.exec(id);
  if (short) return `${short[1]}${short[2] || '-'}****`;
  if (norwegian.test(id)) return `${id.slice(0, 6)}*****`;
  return '*'.repeat(Math.min(Math.max(id.replace(/[^0-9A-Z]/g, '').length, 4), 20));
}
