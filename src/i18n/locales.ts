/**
 * The languages Sigill speaks (R2: Sweden and Finland first, English for everyone else). Pure and free of
 * Node APIs: the browser bundles import it too.
 */
export const locales = ['en', 'sv', 'fi'] as const;
export type Locale = (typeof locales)[number];
export const defaultLocale: Locale = 'en';

export const isLocale = (value: unknown): value is Locale => typeof value === 'string' && (locales as readonly string[]).includes(value);

/** Each language named in itself, for language switches. */
export const localeNames: Record<Locale, string> = { en: 'English', sv: 'Svenska', fi: 'Suomi' };

/**
 * The best of our languages for an Accept-Language header (or `navigator.languages`), by the client's
 * order of preference; `sv-FI` is Swedish, `nb`/`nn`/`da` readers get English (not Swedish: a guess
 * between Scandinavian languages is worse than a language people chose to read).
 */
export function pickLocale(preferences: string | readonly string[] | undefined, fallback: Locale = defaultLocale): Locale {
  const ranked =
    typeof preferences === 'string'
      ? preferences
          .split(',')
          .map((part, index) => {
            const [tag = '', ...params] = part.trim().split(';');
            const q = params.map((p) => /^\s*q=([\d.]+)\s*$/.exec(p)?.[1]).find(Boolean);
            return { tag: tag.trim(), q: q === undefined ? 1 : Number(q), index };
          })
          .filter((entry) => entry.tag && entry.q > 0)
          .sort((a, b) => b.q - a.q || a.index - b.index)
          .map((entry) => entry.tag)
      : (preferences ?? []);
  for (const tag of ranked) {
    const language = tag.toLowerCase().split('-')[0];
    if (isLocale(language)) return language;
  }
  return fallback;
}
