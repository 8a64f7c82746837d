/**
 * How a data subject's verified identifiers are compared with what records hold: emails case-insensitively
 * (trimmed, Unicode NFC), phone numbers by their digits in international form (`+46 70-123 45 67`,
 * `0046701234567` and `+46701234567` are one number; a local form without country code matches nothing).
 * National ids are compared by each country's rules (src/identity/national-id.ts) after decryption.
 */
import type { DataSubject } from './subject-record';

export const normalizedEmail = (email: string) => email.normalize('NFC').trim().toLowerCase();

/** The number's digits with its country code (E.164 without the plus), or undefined for a local form. */
export function normalizedPhone(phone: string): string | undefined {
  const compact = phone.replace(/[\s().-]/g, '');
  const international = compact.startsWith('+') ? compact.slice(1) : compact.startsWith('00') ? compact.slice(2) : undefined;
  if (international === undefined || !/^[1-9]\d{6,14}$/.test(international)) return undefined;
  return international;
}

/**
 * The same normalisation as `normalizedPhone`, in SQL, for a phone column: digits of an international number
 * (`+` or `00` prefix), else NULL. Phones Sigill stores are validated E.164 already; this also covers rows
 * written before that or typed with spaces.
 */
export const phoneSql = (column: string) =>
  `(CASE WHEN ${column} ~ '^\\s*(\\+|00)' THEN regexp_replace(regexp_replace(${column}, '^\\s*(\\+|00)', ''), '[^0-9]', '', 'g') END)`;

export interface SubjectKeys {
  emails: string[];
  phones: string[];
  nationalIds: string[];
}

export function subjectKeys(subject: DataSubject): SubjectKeys {
  const unique = (values: Array<string | undefined>) => [...new Set(values.filter((value): value is string => !!value))];
  return {
    emails: unique(subject.emails.map(normalizedEmail)),
    phones: unique(subject.phones.map(normalizedPhone)),
    nationalIds: unique(subject.nationalIds.map((id) => id.trim()).filter((id) => id.length > 0)),
  };
}
