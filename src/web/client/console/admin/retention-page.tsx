/**
 * Retention (R13) at `/admin/retention`: the organisation's policy — how many days each kind of ended record is
 * kept, and the notice before deletion — and what the daily sweep has noticed for deletion, with when. An empty
 * field means "the default" (shown as its placeholder). A legal hold on a noticed request is placed from its row.
 */
import { useState } from 'preact/hooks';
import { formatDateTime } from '../../../../i18n';
import type { ConsoleContext } from '../context';
import { Link } from '../main';
import { AdminFrame, AdminTable, Announcement, FailureAlert, NotReady, useLoaded, useRowChange } from './admin-frame';
import { Field, SubmitButton, useSubmission } from './admin-form';
import { useOrganizationTimeZone } from './admin-api';
import { describeError } from '../context';

const settings = ['completedDays', 'unfinishedDays', 'failedDays', 'kycDays', 'dsrDays', 'noticeDays'] as const;
type Setting = (typeof settings)[number];

interface RetentionPolicy {
  settings: Record<Setting, number | null>;
  effective: Record<Setting, number>;
  defaults: Record<Setting, number>;
}

interface UpcomingDeletion {
  kind: 'signing_request' | 'kyc_case' | 'data_subject_request';
  id: string;
  title: string | null;
  status: string;
  deleteNotBefore: string;
  reason: string;
}

export function RetentionPage({ ctx }: { ctx: ConsoleContext }) {
  const [policy, reloadPolicy] = useLoaded(ctx, () => ctx.api.get<RetentionPolicy>('/v1/retention-policy'));
  const [upcoming, reloadUpcoming] = useLoaded(ctx, () => ctx.api.get<{ items: UpcomingDeletion[] }>('/v1/retention/upcoming'));
  return (
    <AdminFrame ctx={ctx} page="retention">
      <p>{ctx.t('console:admin.retention.intro')}</p>
      {policy.kind !== 'ready' ? <NotReady ctx={ctx} state={policy} retry={reloadPolicy} /> : <PolicyForm ctx={ctx} policy={policy.data} />}
      {upcoming.kind !== 'ready' ? (
        <NotReady ctx={ctx} state={upcoming} retry={reloadUpcoming} />
      ) : (
        <Upcoming ctx={ctx} items={upcoming.data.items} reload={reloadUpcoming} />
      )}
    </AdminFrame>
  );
}

function PolicyForm({ ctx, policy }: { ctx: ConsoleContext; policy: RetentionPolicy }) {
  const { t } = ctx;
  const asText = (value: number | null) => (value === null ? '' : String(value));
  const [values, setValues] = useState<Record<Setting, string>>(
    Object.fromEntries(settings.map((setting) => [setting, asText(policy.settings[setting])])) as Record<Setting, string>,
  );
  const { busy, errors, failure, submit } = useSubmission(t);
  // Kept as a fact, not a sentence, so a language switch after saving says it in the new language.
  const [saved, setSaved] = useState(false);

  const save = (event: Event) => {
    event.preventDefault();
    setSaved(false);
    void submit(async () => {
      const body = Object.fromEntries(settings.map((setting) => [setting, values[setting].trim() === '' ? null : Number(values[setting])]));
      const saved = await ctx.api.put<RetentionPolicy>('/v1/retention-policy', body);
      setValues(Object.fromEntries(settings.map((setting) => [setting, asText(saved.settings[setting])])) as Record<Setting, string>);
      setSaved(true);
    });
  };

  return (
    <form class="card admin-form" onSubmit={save} aria-labelledby="retention-policy-heading">
      <h2 id="retention-policy-heading">{t('console:admin.retention.policyHeading')}</h2>
      {settings.map((setting) => (
        <Field
          key={setting}
          id={`retention-${setting}`}
          label={t(`console:admin.retention.${setting}`)}
          error={errors[setting]}
          hint={t('console:admin.retention.defaultHint', { count: policy.defaults[setting] })}
        >
          {(describedBy, invalid) => (
            <input
              id={`retention-${setting}`}
              type="number"
              inputMode="numeric"
              min={1}
              max={setting === 'noticeDays' ? 365 : 36500}
              step={1}
              placeholder={String(policy.defaults[setting])}
              value={values[setting]}
              onInput={(event) => {
                const value = (event.target as HTMLInputElement).value;
                setValues((current) => ({ ...current, [setting]: value }));
              }}
              aria-describedby={describedBy}
              aria-invalid={invalid}
            />
          )}
        </Field>
      ))}
      <FailureAlert failure={failure} />
      <Announcement message={saved ? t('console:admin.retention.saved') : undefined} />
      <SubmitButton disabled={busy}>{t('console:admin.retention.save')}</SubmitButton>
    </form>
  );
}

const statusCatalog = { signing_request: 'common:requestStatus', kyc_case: 'kyc:status', data_subject_request: 'privacy:status' } as const;

function Upcoming({ ctx, items, reload }: { ctx: ConsoleContext; items: UpcomingDeletion[]; reload(): Promise<void> }) {
  const { t } = ctx;
  const timeZone = useOrganizationTimeZone(ctx);
  const { busy, error, change } = useRowChange((failure) => describeError(failure, t));
  const hold = (item: UpcomingDeletion) =>
    change(async () => {
      const path = item.kind === 'signing_request' ? `/v1/signing-requests/${item.id}/legal-hold` : `/v1/kyc-cases/${item.id}/legal-hold`;
      await ctx.api.put(path, { reason: t('console:admin.retention.holdReason') });
      await reload();
    });
  return (
    <section class="card" aria-labelledby="retention-upcoming-heading">
      <h2 id="retention-upcoming-heading">{t('console:admin.retention.upcomingHeading')}</h2>
      <p class="muted">{t('console:admin.retention.upcomingIntro')}</p>
      <FailureAlert failure={error} />
      {items.length === 0 ? (
        <p>{t('console:admin.retention.none')}</p>
      ) : (
        <AdminTable
          labelledBy="retention-upcoming-heading"
          columns={[t('console:admin.retention.record'), t('console:admin.retention.deleteFrom'), t('console:admin.retention.why'), t('console:admin.actions')]}
        >
          {items.map((item) => (
            <tr key={item.id}>
              <th scope="row">
                {item.kind === 'signing_request' ? (
                  <Link ctx={ctx} href={`/requests/${item.id}`}>
                    {item.title || item.id}
                  </Link>
                ) : item.kind === 'kyc_case' ? (
                  <Link ctx={ctx} href={`/kyc/${item.id}`}>
                    {t('console:admin.retention.kycCase')}
                  </Link>
                ) : (
                  <Link ctx={ctx} href={`/privacy-requests/${item.id}`}>
                    {t('console:admin.retention.dataSubjectRequest')}
                  </Link>
                )}{' '}
                <span class="muted">
                  ({t(`${statusCatalog[item.kind]}.${item.status}`, { defaultValue: item.status })})
                </span>
              </th>
              <td>{formatDateTime(item.deleteNotBefore, ctx.locale, timeZone)}</td>
              <td>{item.reason}</td>
              <td>
                {/* Data-subject requests take no legal hold: a longer period keeps them. */}
                {item.kind !== 'data_subject_request' && (
                  <button type="button" class="secondary" disabled={busy} onClick={() => void hold(item)}>
                    {t('console:admin.retention.hold')}
                  </button>
                )}
              </td>
            </tr>
          ))}
        </AdminTable>
      )}
    </section>
  );
}
