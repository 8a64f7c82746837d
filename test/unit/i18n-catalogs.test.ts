import { catalogs, namespaces } from '../../src/i18n/catalogs';
import { formatDateTime, locales, pickLocale, translator } from '../../src/i18n';

/** Every leaf key of a catalog, dotted (`requestStatus.pending`). */
function keysOf(value: unknown, prefix = ''): string[] {
  if (typeof value !== 'object' || value === null) return [prefix];
  return Object.entries(value).flatMap(([key, child]) => keysOf(child, prefix ? `${prefix}.${key}` : key));
}

/** `{{name}}` placeholders of a message: a translation that drops one loses a fact the reader needs. */
const placeholders = (text: string) => [...text.matchAll(/\{\{\s*([\w.]+)[^}]*\}\}/g)].map((m) => m[1]).sort();

describe('message catalogs', () => {
  it.each(namespaces.flatMap((ns) => locales.filter((l) => l !== 'en').map((locale) => [ns, locale] as const)))(
    'namespace %s in %s has exactly the English keys, with the same placeholders',
    (namespace, locale) => {
      const english = catalogs.en[namespace] as Record<string, unknown>;
      const translated = catalogs[locale][namespace] as Record<string, unknown>;
      expect(keysOf(translated).sort()).toEqual(keysOf(english).sort());
      const get = (catalog: unknown, key: string) => key.split('.').reduce<unknown>((node, part) => (node as Record<string, unknown>)[part], catalog);
      for (const key of keysOf(english)) {
        const source = get(english, key);
        const target = get(translated, key);
        expect({ key, type: typeof target }).toEqual({ key, type: typeof source });
        if (typeof source === 'string') expect({ key, placeholders: placeholders(String(target)) }).toEqual({ key, placeholders: placeholders(source) });
      }
    },
  );

  it('has no empty message in any language', () => {
    for (const locale of locales) {
      for (const namespace of namespaces) {
        const flat = keysOf(catalogs[locale][namespace]);
        const get = (key: string) => key.split('.').reduce<unknown>((node, part) => (node as Record<string, unknown>)[part], catalogs[locale][namespace]);
        for (const key of flat) if (key) expect({ locale, namespace, key, empty: String(get(key)).trim() === '' }).toEqual({ locale, namespace, key, empty: false });
      }
    }
  });

  it('translates with the reader’s language and falls back to English only for unknown keys', () => {
    expect(translator('sv')('common:requestStatus.completed')).toBe('Underskrivet av alla');
    expect(translator('fi')('common:requestStatus.completed')).toBe('Kaikki ovat allekirjoittaneet');
    expect(translator('en')('common:requestStatus.completed')).toBe('Signed by everyone');
  });

  it('picks the language from Accept-Language by preference, defaulting to English', () => {
    expect(pickLocale('fi-FI,fi;q=0.9,en;q=0.8')).toBe('fi');
    expect(pickLocale('de-DE,sv;q=0.5,en;q=0.7')).toBe('en');
    expect(pickLocale('sv-FI')).toBe('sv');
    expect(pickLocale('nb-NO,da;q=0.9')).toBe('en');
    expect(pickLocale(undefined)).toBe('en');
    expect(pickLocale('en;q=0,fi;q=0.1')).toBe('fi');
  });

  it('writes times in the organisation’s zone and the reader’s conventions', () => {
    const instant = '2026-07-01T10:30:00Z';
    expect(formatDateTime(instant, 'sv', 'Europe/Stockholm')).toContain('12:30');
    expect(formatDateTime(instant, 'fi', 'Europe/Helsinki')).toContain('13.30');
    expect(formatDateTime(instant, 'en', 'UTC')).toContain('10:30');
  });
});
