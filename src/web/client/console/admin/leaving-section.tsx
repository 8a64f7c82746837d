/**
 * Export and leaving on the settings page (docs/API.md, "Export and closing"): "Export everything" with its
 * progress and a download link while the ZIP is kept; for owners, the danger zone that closes the
 * organisation after a grace period, and cancels that during the grace.
 */
import { useEffect, useState } from 'preact/hooks';
import { formatDateTime } from '../../../../i18n';
import type { ConsoleContext } from '../context';
import { describeError } from '../context';
import { Announcement, ConfirmStep, FailureAlert } from './admin-frame';
import { useOrganizationTimeZone } from './admin-api';
import { SelectField, TextField } from './admin-form';

interface OrganizationExport {
  id: string;
  status: 'queued' | 'running' | 'completed' | 'failed' | 'expired';
  itemsTotal: number;
  itemsDone: number;
  sha256?: string;
  sizeBytes?: number;
  createdAt: string;
  expiresAt?: string;
  downloadUrl?: string;
}

interface OrganizationClosing {
  state: 'open' | 'closing' | 'stopped' | 'closed';
  closesAt?: string;
  requestedAt?: string;
}

const pollEveryMs = 2000;
/** Grace periods offered (the API takes 1-90 days). */
const graceChoices = ['7', '14', '30', '60', '90'];
/** Megabytes to show: two decimals below one (a small organisation's export is a few kilobytes). */
const megabytes = (bytes: number) => (bytes / 1024 / 1024).toFixed(bytes < 1024 * 1024 ? 2 : 1);
const inProgress = (item: OrganizationExport) => item.status === 'queued' || item.status === 'running';

export function LeavingSection({ ctx, organizationName }: { ctx: ConsoleContext; organizationName: string }) {
  return (
    <>
      <ExportCard ctx={ctx} />
      {ctx.session.organization.role === 'owner' && <ClosingCard ctx={ctx} organizationName={organizationName} />}
    </>
  );
}

function ExportCard({ ctx }: { ctx: ConsoleContext }) {
  const { t } = ctx;
  const [exports, setExports] = useState<OrganizationExport[] | undefined>();
  const [failure, setFailure] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);
  const load = () =>
    ctx.api.get<{ exports: OrganizationExport[] }>('/v1/organization/exports').then(
      (answer) => setExports(answer.exports),
      (error: unknown) => setFailure(describeError(error, t)),
    );
  useEffect(() => {
    void load();
  }, [ctx.api]);
  // While one is being written, its progress is read again every few seconds.
  const running = exports?.some(inProgress) ?? false;
  useEffect(() => {
    if (!running) return undefined;
    const timer = setInterval(() => void load(), pollEveryMs);
    return () => clearInterval(timer);
  }, [running]);

  const start = async () => {
    setBusy(true);
    setFailure(undefined);
    try {
      await ctx.api.post('/v1/organization/exports');
      await load();
    } catch (error) {
      setFailure(describeError(error, t));
    } finally {
      setBusy(false);
    }
  };
  const latest = exports?.[0];
  return (
    <section class="card admin-form" aria-labelledby="export-heading">
      <h2 id="export-heading">{t('console:admin.leaving.export.heading')}</h2>
      <p class="hint">{t('console:admin.leaving.export.explain')}</p>
      {latest && <ExportStatus ctx={ctx} item={latest} />}
      <FailureAlert failure={failure} />
      <div class="actions">
        <button type="button" disabled={busy || running} onClick={() => void start()}>
          {t('console:admin.leaving.export.start')}
        </button>
      </div>
    </section>
  );
}

function ExportStatus({ ctx, item }: { ctx: ConsoleContext; item: OrganizationExport }) {
  const { t } = ctx;
  const timeZone = useOrganizationTimeZone(ctx);
  if (inProgress(item)) {
    return (
      <div role="status">
        <p>{t('console:admin.leaving.export.progress', { done: item.itemsDone, total: item.itemsTotal })}</p>
        <progress class="export-progress" max={Math.max(item.itemsTotal, 1)} value={item.itemsDone} />
      </div>
    );
  }
  if (item.status === 'completed' && item.downloadUrl) {
    return (
      <div role="status">
        <p>
          <a href={`/v1/organization/exports/${item.id}/download`} download>
            {t('console:admin.leaving.export.download', { megabytes: megabytes(item.sizeBytes ?? 0) })}
          </a>
        </p>
        <p class="hint">{t('console:admin.leaving.export.until', { date: formatDateTime(item.expiresAt!, ctx.locale, timeZone) })}</p>
        <p class="hint checksum">
          SHA-256: <code>{item.sha256}</code>
        </p>
      </div>
    );
  }
  return <p role="status">{t(`console:admin.leaving.export.${item.status === 'failed' ? 'failed' : 'expired'}`)}</p>;
}

function ClosingCard({ ctx, organizationName }: { ctx: ConsoleContext; organizationName: string }) {
  const { t } = ctx;
  const timeZone = useOrganizationTimeZone(ctx);
  const [closing, setClosing] = useState<OrganizationClosing | undefined>();
  const [confirm, setConfirm] = useState('');
  const [graceDays, setGraceDays] = useState('30');
  const [asking, setAsking] = useState(false);
  const [busy, setBusy] = useState(false);
  const [failure, setFailure] = useState<string | undefined>();
  const [announcement, setAnnouncement] = useState<string | undefined>();
  useEffect(() => {
    ctx.api.get<OrganizationClosing>('/v1/organization/closing').then(setClosing, (error: unknown) => setFailure(describeError(error, t)));
  }, [ctx.api]);

  const act = async (change: () => Promise<OrganizationClosing>, done: string) => {
    setBusy(true);
    setFailure(undefined);
    try {
      setClosing(await change());
      setAnnouncement(done);
      setAsking(false);
    } catch (error) {
      setFailure(describeError(error, t));
    } finally {
      setBusy(false);
    }
  };
  if (!closing) return <FailureAlert failure={failure} />;
  return (
    <section class="card admin-form danger-zone" aria-labelledby="closing-heading">
      <h2 id="closing-heading">{t('console:admin.leaving.closing.heading')}</h2>
      {closing.state === 'open' ? (
        <>
          <p class="hint">{t('console:admin.leaving.closing.explain')}</p>
          <TextField
            id="closing-confirm"
            label={t('console:admin.leaving.closing.confirm', { name: organizationName })}
            value={confirm}
            onInput={setConfirm}
          />
          <SelectField
            id="closing-grace"
            label={t('console:admin.leaving.closing.graceDays')}
            hint={t('console:admin.leaving.closing.graceHint')}
            value={graceDays}
            choices={graceChoices.map((days) => ({ value: days, label: t('console:admin.leaving.closing.days', { count: Number(days) }) }))}
            onChange={setGraceDays}
          />
          {asking ? (
            <ConfirmStep
              question={t('console:admin.leaving.closing.question', { name: organizationName })}
              consequence={t('console:admin.leaving.closing.consequence', { days: graceDays })}
              confirmLabel={t('console:admin.leaving.closing.close')}
              cancelLabel={t('console:admin.keep')}
              busy={busy}
              error={failure}
              onConfirm={() =>
                void act(
                  () => ctx.api.post<OrganizationClosing>('/v1/organization/close', { confirm, graceDays: Number(graceDays) }),
                  t('console:admin.leaving.closing.requested'),
                )
              }
              onCancel={() => setAsking(false)}
            />
          ) : (
            <div class="actions">
              <button type="button" class="danger" disabled={confirm.trim() !== organizationName.trim()} onClick={() => setAsking(true)}>
                {t('console:admin.leaving.closing.close')}
              </button>
            </div>
          )}
        </>
      ) : closing.state === 'closing' ? (
        <>
          <p role="status">{t('console:admin.leaving.closing.closesAt', { date: formatDateTime(closing.closesAt!, ctx.locale, timeZone) })}</p>
          <FailureAlert failure={failure} />
          <div class="actions">
            <button
              type="button"
              class="secondary"
              disabled={busy}
              onClick={() => void act(() => ctx.api.delete<OrganizationClosing>('/v1/organization/close'), t('console:admin.leaving.closing.cancelled'))}
            >
              {t('console:admin.leaving.closing.cancel')}
            </button>
          </div>
        </>
      ) : (
        <p role="status">{t('console:admin.leaving.closing.stopped')}</p>
      )}
      <Announcement message={announcement} />
    </section>
  );
}
