/**
 * Translation for pages, emails, SMS and the sealed audit page (R2), on i18next so plural rules and
 * interpolation come from a maintained library. Catalogs are JSON per language and namespace in
 * `locales/<lang>/<namespace>.json`; `test/unit/i18n-catalogs.test.ts` fails when a key is missing in any
 * language. Values are never HTML-escaped here: every caller escapes by construction (Preact, escapeHtml,
 * plain-text mail), so escaping twice would show `&amp;` to people.
 *
 * Pure and free of Node APIs: the browser bundles import it too.
 */
import i18next, { type TFunction } from 'i18next';
import { catalogs, namespaces } from './catalogs';
import { defaultLocale, locales, type Locale } from './locales';

export { defaultLocale, isLocale, localeNames, locales, pickLocale, type Locale } from './locales';
export type Translate = TFunction;

const instance = i18next.createInstance();
void instance.init({
  resources: catalogs,
  lng: defaultLocale,
  fallbackLng: defaultLocale,
  supportedLngs: [...locales],
  ns: [...namespaces],
  defaultNS: 'common',
  interpolation: { escapeValue: false },
  returnNull: false,
  initAsync: false,
  // i18next otherwise prints an advertisement on start, into our JSON logs.
  showSupportNotice: false,
});

/** The translate function of one language: `t('signer:pin.label')`, `t('email:reminder.subject', { title })`. */
export const translator = (locale: Locale): Translate => instance.getFixedT(locale);

/** The regional conventions used for each language's dates (English as read in the Nordics: day first, 24 h). */
const intlTags: Record<Locale, string> = { en: 'en-GB', sv: 'sv-SE', fi: 'fi-FI' };
export const intlTag = (locale: Locale) => intlTags[locale];

/** A date and time as the reader writes it, in the organisation's time zone, with the zone named. */
export function formatDateTime(value: Date | string, locale: Locale, timeZone: string): string {
  return formatter('date-time', locale, timeZone).format(new Date(value));
}

/** A date alone (deadlines), in the reader's language and the organisation's time zone. */
export function formatDate(value: Date | string, locale: Locale, timeZone: string): string {
  return formatter('date', locale, timeZone).format(new Date(value));
}

const formatOptions = {
  'date-time': { day: 'numeric', month: 'long', year: 'numeric', hour: '2-digit', minute: '2-digit', timeZoneName: 'short' },
  date: { dateStyle: 'long' },
} satisfies Record<string, Intl.DateTimeFormatOptions>;

/*
 * Making a formatter costs ~50 µs and every email, audit page and console row formats dates; a formatter
 * is reused per kind, language and zone (a few of each in practice). A zone Intl does not know
 * throws here, as before, and is not kept.
 */
const formatters = new Map<string, Intl.DateTimeFormat>();
const maxFormatters = 500;

function formatter(kind: keyof typeof formatOptions, locale: Locale, timeZone: string): Intl.DateTimeFormat {
  const key = `${kind} ${locale} ${timeZone}`;
  let cached = formatters.get(key);
  if (!cached) {
    cached = new Intl.DateTimeFormat(intlTags[locale], { ...formatOptions[kind], timeZone });
    // Bounded whatever spellings of zones arrive (Intl accepts any letter case).
    if (formatters.size >= maxFormatters) formatters.clear();
    formatters.set(key, cached);
  }
  return cached;
}

/** The same instant in UTC to the second, for evidence (the audit page prints it beside the local time). */
export const formatUtc = (value: Date | string) => new Date(value).toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC');
