/**
 * The organisation's settings: its default language (signers given none, and what members receive) and its
 * time zone (dates in emails, in the console and on the sealed audit page), from the zones this browser knows.
 */
import { useMemo, useState } from 'preact/hooks';
import { locales, type Locale } from '../../../../i18n';
import type { ConsoleContext } from '../context';
import { AdminFrame, Announcement, FailureAlert, NotReady, useLoaded } from './admin-frame';
import { SelectField, SubmitButton, useSubmission } from './admin-form';
import type { OrganizationSettings } from './admin-api';
import { LeavingSection } from './leaving-section';

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
      {loaded.kind !== 'ready' ? (
        <NotReady ctx={ctx} state={loaded} retry={reload} />
      ) : (
        <>
          <SettingsForm ctx={ctx} organization={loaded.data} />
          <LeavingSection ctx={ctx} organizationName={loaded.data.name} />
        </>
      )}
    </AdminFrame>
  );
}

function SettingsForm({ ctx, organization }: { ctx: ConsoleContext; organization: OrganizationSettings }) {
  const { t } = ctx;
  const [saved, setSaved] = useState(organization);
  const [defaultLocale, setDefaultLocale] = useState<Locale>(organization.defaultLocale);
  const [timeZone, setTimeZone] = useState(organization.timeZone);
  const { busy, errors, failure, submit } = useSubmission(t);
  const [announcement, setAnnouncement] = useState<string | undefined>();
  const zones = useMemo(() => knownTimeZones(organization.timeZone), [organization.timeZone]);
  const unchanged = defaultLocale === saved.defaultLocale && timeZone === saved.timeZone;

  const save = (event: Event) => {
    event.preventDefault();
    setAnnouncement(undefined);
    void submit(async () => {
      const changed = await ctx.api.patch<OrganizationSettings>('/v1/organization', {
        ...(defaultLocale !== saved.defaultLocale ? { defaultLocale } : {}),
        ...(timeZone !== saved.timeZone ? { timeZone } : {}),
      });
      setSaved(changed);
      setAnnouncement(t('console:admin.settings.saved'));
    });
  };

  return (
    <form class="card admin-form" onSubmit={save} aria-labelledby="settings-heading">
      <h2 id="settings-heading">{saved.name}</h2>
      <SelectField
        id="default-locale"
        label={t('console:admin.settings.defaultLocale')}
        error={errors.defaultLocale}
        hint={t('console:admin.settings.defaultLocaleHint')}
        value={defaultLocale}
        choices={locales.map((code) => ({ value: code, label: t(`console:admin.languages.${code}`) }))}
        onChange={setDefaultLocale}
      />
      <SelectField
        id="time-zone"
        label={t('console:admin.settings.timeZone')}
        error={errors.timeZone}
        hint={t('console:admin.settings.timeZoneHint')}
        value={timeZone}
        choices={zones.map((zone) => ({ value: zone, label: zone.replace(/_/g, ' ') }))}
        onChange={setTimeZone}
      />
      <FailureAlert failure={failure} />
      <Announcement message={announcement} />
      <SubmitButton disabled={busy || unchanged}>{t('console:admin.settings.save')}</SubmitButton>
    </form>
  );
}
