/**
 * The organisation's settings: its default language (signers given none, and what members receive) and its
 * time zone (dates in emails, in the console and on the sealed audit page), from the zones this browser knows.
 */
import { useMemo, useState } from 'preact/hooks';
import { locales, type Locale } from '../../../../i18n';
import { describeError, fieldErrors, type ConsoleContext } from '../context';
import { AdminFrame, Announcement, Field, NotReady, useLoaded } from './admin-frame';
import type { OrganizationSettings } from './admin-api';

/** Every IANA zone the browser knows, UTC first (some browsers leave it out of the list). */
function knownTimeZones(current: string): string[] {
  const zones = new Set<string>(['UTC', ...Intl.supportedValuesOf('timeZone')]);
  zones.add(current);
  return [...zones];
}

export function SettingsPage({ ctx }: { ctx: ConsoleContext }) {
  const [loaded, reload] = useLoaded(ctx, () => ctx.api.get<OrganizationSettings>('/v1/organization'));
  return (
    <AdminFrame ctx={ctx} page="settings">
      {loaded.kind !== 'ready' ? <NotReady ctx={ctx} state={loaded} retry={reload} /> : <SettingsForm ctx={ctx} organization={loaded.data} />}
    </AdminFrame>
  );
}

function SettingsForm({ ctx, organization }: { ctx: ConsoleContext; organization: OrganizationSettings }) {
  const { t } = ctx;
  const [saved, setSaved] = useState(organization);
  const [defaultLocale, setDefaultLocale] = useState<Locale>(organization.defaultLocale);
  const [timeZone, setTimeZone] = useState(organization.timeZone);
  const [busy, setBusy] = useState(false);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [failure, setFailure] = useState<string | undefined>();
  const [announcement, setAnnouncement] = useState<string | undefined>();
  const zones = useMemo(() => knownTimeZones(organization.timeZone), [organization.timeZone]);
  const unchanged = defaultLocale === saved.defaultLocale && timeZone === saved.timeZone;

  const submit = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    setErrors({});
    setFailure(undefined);
    setAnnouncement(undefined);
    try {
      const changed = await ctx.api.patch<OrganizationSettings>('/v1/organization', {
        ...(defaultLocale !== saved.defaultLocale ? { defaultLocale } : {}),
        ...(timeZone !== saved.timeZone ? { timeZone } : {}),
      });
      setSaved(changed);
      setAnnouncement(t('console:admin.settings.saved'));
    } catch (error) {
      const byField = fieldErrors(error);
      setErrors(byField);
      if (Object.keys(byField).length === 0) setFailure(describeError(error, t));
    } finally {
      setBusy(false);
    }
  };

  return (
    <form class="card admin-form" onSubmit={submit} aria-labelledby="settings-heading">
      <h2 id="settings-heading">{saved.name}</h2>
      <Field id="default-locale" label={t('console:admin.settings.defaultLocale')} error={errors.defaultLocale} hint={t('console:admin.settings.defaultLocaleHint')}>
        {(describedBy, invalid) => (
          <select
            id="default-locale"
            value={defaultLocale}
            onChange={(event) => setDefaultLocale((event.target as HTMLSelectElement).value as Locale)}
            aria-describedby={describedBy}
            aria-invalid={invalid}
          >
            {locales.map((code) => (
              <option key={code} value={code}>
                {t(`console:admin.languages.${code}`)}
              </option>
            ))}
          </select>
        )}
      </Field>
      <Field id="time-zone" label={t('console:admin.settings.timeZone')} error={errors.timeZone} hint={t('console:admin.settings.timeZoneHint')}>
        {(describedBy, invalid) => (
          <select id="time-zone" value={timeZone} onChange={(event) => setTimeZone((event.target as HTMLSelectElement).value)} aria-describedby={describedBy} aria-invalid={invalid}>
            {zones.map((zone) => (
              <option key={zone} value={zone}>
                {zone.replace(/_/g, ' ')}
              </option>
            ))}
          </select>
        )}
      </Field>
      {failure && (
        <p class="error" role="alert">
          {failure}
        </p>
      )}
      <Announcement message={announcement} />
      <div class="actions">
        <button type="submit" disabled={busy || unchanged}>
          {t('console:admin.settings.save')}
        </button>
      </div>
    </form>
  );
}
