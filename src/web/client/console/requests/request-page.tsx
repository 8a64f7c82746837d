/**
 * One request at `/requests/:id`: its status and facts, each signer's timeline from the audit trail (times in
 * the organisation's zone and the reader's language; IP addresses for those who send), the actions the
 * member may take (remind, cancel with a reason, a new PIN shown once), the documents (not for support
 * staff), the audit trail with its chain status, and the workflow's own history — the support view. While
 * the round runs, the page refreshes itself every few seconds, and says so when the round is in the stuck
 * list (`/stuck`) with the list's reasons.
 */
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import type { StuckRoundsPage, StuckRoundView } from '../../../../contract/stuck-rounds';
import { formatDateTime, localeNames } from '../../../../i18n';
import { eidName } from '../../shared/eid-names';
import { ApiError } from '../../shared/http';
import { describeError, type ConsoleContext } from '../context';
import { Link } from '../main';
import {
  actsOnRequests,
  readsDocuments,
  useOrganizationZone,
  usePolling,
  type AuditEvent,
  type AuditTrail,
  type RequestView,
  type RoundHistory,
} from './request-model';
import { describeStep } from './history-steps';
import { ErrorBanner, SignerIdentification, SignerProgress, StatusBadge } from './request-parts';
import { LegalHoldSection } from './legal-hold-section';
import { DeletedRequest } from './deleted-request';
import { administers } from '../admin/admin-frame';
import { StuckReason } from '../operations/stuck-rounds-page';

/** What a signer did, in the order it can happen; the rest of the trail is in the audit section. */
const signerEventTypes = [
  'invited',
  'pin_sent',
  'reminded',
  'link_opened',
  'pin_failed',
  'locked',
  'pin_reset',
  'opened',
  'identification_mismatch',
  'identified',
  'viewed',
  'last_page_reached',
  'signed',
  'declined',
];

const refreshEveryMs = 3000;
/**
 * Whether a pending round is stuck is read from the stuck list, less often than the request itself: a round
 * gets stuck over minutes, and the list is one statement over the organisation's open rounds.
 */
const stuckRefreshEveryMs = 15_000;

export function RequestPage({ ctx, id }: { ctx: ConsoleContext; id: string }) {
  const { t } = ctx;
  const { timeZone } = useOrganizationZone(ctx);
  const [request, setRequest] = useState<RequestView | undefined>();
  const [trail, setTrail] = useState<AuditTrail | undefined>();
  const [history, setHistory] = useState<RoundHistory | undefined>();
  const [historyError, setHistoryError] = useState<string | undefined>();
  const [missing, setMissing] = useState(false);
  const [error, setError] = useState<string | undefined>();
  const [stuck, setStuck] = useState<StuckRoundView | undefined>();
  const heading = useRef<HTMLHeadingElement>(null);
  const base = `/v1/signing-requests/${encodeURIComponent(id)}`;
  const when = (at: string) => formatDateTime(at, ctx.locale, timeZone);

  const load = useCallback(async () => {
    try {
      // A deleted request's trail and history answer 410: its page is the tombstone alone, asked for first.
      const view = await ctx.api.get<RequestView>(base);
      const audit = view.deletedAt ? undefined : await ctx.api.get<AuditTrail>(`${base}/audit-trail`);
      setRequest(view);
      setTrail(audit);
      setError(undefined);
    } catch (failure) {
      if (failure instanceof ApiError && (failure.status === 404 || failure.status === 400)) setMissing(true);
      else setError(describeError(failure, t));
    }
  }, [base, ctx.api]);
  const loadHistory = useCallback(() => {
    ctx.api.get<RoundHistory>(`${base}/history`).then(
      (answer) => {
        setHistory(answer);
        setHistoryError(undefined);
      },
      (failure) => setHistoryError(describeError(failure, t)),
    );
  }, [base, ctx.api]);

  useEffect(() => {
    setRequest(undefined);
    setMissing(false);
    void load();
  }, [load]);
  const deleted = request?.deletedAt !== undefined;
  const known = request !== undefined;
  useEffect(() => {
    if (known && !deleted) loadHistory();
  }, [known, deleted, loadHistory]);
  useEffect(() => {
    if (request || missing) heading.current?.focus();
  }, [Boolean(request), missing]);

  // Live while anything can still change: a pending round; a completed one whose seal is on its way; an
  // ended one whose ending the round has not yet recorded in the trail (the view hears of a cancel first).
  const endRecorded = request !== undefined && (trail?.events ?? []).some((event) => event.type === request.status);
  const live =
    request !== undefined &&
    !deleted &&
    (request.status === 'pending' || (request.status === 'completed' ? !request.sealedAt : request.status !== 'declined' && !endRecorded));
  usePolling(() => void load(), refreshEveryMs, live);
  // The list's largest page; a round further down is simply not flagged here (the list page shows it).
  const loadStuck = useCallback(() => {
    ctx.api.get<StuckRoundsPage>('/v1/stuck-rounds?limit=500').then(
      (answer) => setStuck(answer.items.find((round) => round.requestId === id)),
      () => undefined, // only a hint: the page's own refresh reports an unreachable API
    );
  }, [id, ctx.api]);
  const pending = request?.status === 'pending';
  useEffect(() => {
    if (pending) loadStuck();
    else setStuck(undefined);
  }, [pending, loadStuck]);
  usePolling(loadStuck, stuckRefreshEveryMs, pending);
  // The history follows when the status changes (a signature, the seal), not on every refresh.
  const statusKey = request && `${request.status}:${request.sealedAt ?? ''}:${request.signers.map((signer) => signer.status).join(',')}`;
  const seenStatus = useRef(statusKey);
  useEffect(() => {
    if (seenStatus.current !== undefined && statusKey !== seenStatus.current && !deleted) loadHistory();
    seenStatus.current = statusKey;
  }, [statusKey]);

  if (missing) {
    return (
      <section>
        <h1 ref={heading} tabIndex={-1}>
          {t('console:request.notFound')}
        </h1>
        <p>{t('console:request.notFoundHint')}</p>
        <p>
          <Link ctx={ctx} href="/">
            {t('console:request.backToList')}
          </Link>
        </p>
      </section>
    );
  }
  if (!request) {
    return (
      <>
        <ErrorBanner message={error} />
        {!error && (
          <p role="status" class="muted">
            {t('common:loading')}
          </p>
        )}
      </>
    );
  }

  if (request.deletedAt) return <DeletedRequest ctx={ctx} request={{ ...request, deletedAt: request.deletedAt }} when={when} headingRef={heading} />;

  const role = ctx.session.organization.role;
  const mayAct = actsOnRequests(role) && request.status === 'pending';
  const eventsOf = (signerId: string) => (trail?.events ?? []).filter((event) => event.signerId === signerId && signerEventTypes.includes(event.type));
  const signerName = (signerId?: string) => request.signers.find((signer) => signer.id === signerId)?.name;

  return (
    <article class="request" aria-labelledby="request-heading">
      <p class="breadcrumb">
        <Link ctx={ctx} href="/">
          {t('console:request.backToList')}
        </Link>
      </p>
      <div class="page-title">
        <h1 id="request-heading" ref={heading} tabIndex={-1}>
          {request.title}
        </h1>
        <StatusBadge status={request.status} t={t} />
      </div>
      <ErrorBanner message={error} />
      {stuck && (
        <div class="notice-box stuck-notice" role="note" aria-labelledby="stuck-notice-heading">
          <p id="stuck-notice-heading">
            <strong>{t('console:request.stuck')}</strong>
          </p>
          <ul class="stuck-reasons">
            {stuck.reasons.map((reason) => (
              <li key={`${reason.code}-${reason.activity ?? ''}`}>
                <StuckReason reason={reason} t={t} when={when} />
              </li>
            ))}
          </ul>
          <p>
            <Link ctx={ctx} href="/stuck">
              {t('console:request.stuckList')}
            </Link>
          </p>
        </div>
      )}

      <dl class="facts">
        <div>
          <dt>{t('console:request.documentCode')}</dt>
          <dd>
            <span class="code">{request.documentCode}</span> <CopyButton ctx={ctx} text={request.documentCode} />
          </dd>
        </div>
        <div>
          <dt>{t('console:request.created')}</dt>
          <dd>{when(request.createdAt)}</dd>
        </div>
        <div>
          <dt>{t('console:request.expires')}</dt>
          <dd>{when(request.expiresAt)}</dd>
        </div>
        <div>
          <dt>{t('console:request.routing')}</dt>
          <dd>{t(`console:request.routingKind.${request.routing}`)}</dd>
        </div>
        <div>
          <dt>{t('console:request.reminders')}</dt>
          <dd>
            {t('console:request.remindersSent', { count: request.remindersSent })}
            {request.status === 'pending' && request.nextReminderAt ? ` · ${t('console:request.nextReminder', { at: when(request.nextReminderAt) })}` : ''}
          </dd>
        </div>
        {request.sealedAt && (
          <div>
            <dt>{t('console:request.sealed')}</dt>
            <dd>{when(request.sealedAt)}</dd>
          </div>
        )}
      </dl>

      {readsDocuments(role) && (
        <section aria-labelledby="documents-heading">
          <h2 id="documents-heading">{t('console:request.documents')}</h2>
          <div class="actions">
            <a class="button-link secondary" href={`${base}/original`} download>
              {t('console:request.downloadOriginal')}
            </a>
            {request.sealedAt ? (
              <a class="button-link" href={`${base}/document`} download>
                {t('console:request.downloadSealed')}
              </a>
            ) : (
              // A round that ended without every signature has no sealed PDF to wait for.
              <p class="muted">{request.status === 'completed' ? t('console:request.sealing') : request.status === 'pending' ? t('console:request.sealedLater') : ''}</p>
            )}
          </div>
        </section>
      )}

      {mayAct && <RequestActions ctx={ctx} base={base} onChanged={() => void load()} />}

      {administers(role) && request.status !== 'pending' && (
        <LegalHoldSection ctx={ctx} requestId={request.id} hold={request.legalHold} timeZone={timeZone} onChanged={() => void load()} />
      )}

      <section aria-labelledby="signers-heading">
        <h2 id="signers-heading">{t('console:request.signers')}</h2>
        <SignerProgress signers={request.signers} t={t} />
        <ol class="signer-timelines">
          {request.signers.map((signer) => (
            <li key={signer.id} class="card signer-card">
              <h3>{signer.name}</h3>
              <p class="muted">
                {signer.email} · {t('console:request.signerLanguage', { language: localeNames[signer.locale] })} ·{' '}
                <strong>{t(`common:signerStatus.${signer.status}`)}</strong>
              </p>
              <SignerIdentification identification={signer.identification} t={t} when={when} />
              <ol class="timeline">
                {eventsOf(signer.id).map((event) => (
                  <li key={event.sequence}>
                    <time dateTime={event.at}>{when(event.at)}</time> <span class="event-name">{eventName(ctx, event)}</span>
                    <EidDetail ctx={ctx} event={event} />
                    {actsOnRequests(role) && event.ip && <span class="muted"> · {t('console:request.ip', { ip: event.ip })}</span>}
                  </li>
                ))}
                {eventsOf(signer.id).length === 0 && <li class="muted">{t('console:request.nothingYet')}</li>}
              </ol>
              {mayAct && signer.status !== 'signed' && signer.status !== 'declined' && signer.identification.method !== 'eid' && (
                <ResetPin ctx={ctx} base={base} signer={signer} onChanged={() => void load()} />
              )}
            </li>
          ))}
        </ol>
      </section>

      <section aria-labelledby="audit-heading">
        <h2 id="audit-heading">{t('console:request.auditTrail')}</h2>
        {trail && (
          <p class={trail.chainValid ? 'notice chain-status' : 'error chain-status'} role="status">
            {trail.chainValid
              ? t('console:request.chainValid', { count: trail.events.length })
              : t('console:request.chainBroken', {
                  sequence: trail.firstBrokenEvent?.sequence,
                  reason: t(`console:request.chainReason.${trail.firstBrokenEvent?.reason ?? 'hash_mismatch'}`),
                })}
          </p>
        )}
        <ul class="audit-events">
          {(trail?.events ?? []).map((event) => (
            <li key={event.sequence}>
              <span class="sequence">{event.sequence}.</span> <time dateTime={event.at}>{when(event.at)}</time>{' '}
              <span class="event-name">{eventName(ctx, event)}</span>
              {event.signerId && <span> · {signerName(event.signerId)}</span>}
              <EidDetail ctx={ctx} event={event} />
              {actsOnRequests(role) && event.ip && <span class="muted"> · {t('console:request.ip', { ip: event.ip })}</span>}
            </li>
          ))}
        </ul>
      </section>

      <WorkflowHistory ctx={ctx} request={request} history={history} error={historyError} when={when} onRefresh={loadHistory} />
    </article>
  );
}

/**
 * An audit event's name in the reader's language (the sealed audit page's words), its type if unknown. An
 * eID-only signer's opening is no "PIN accepted": the identification opened it.
 */
function eventName(ctx: ConsoleContext, event: AuditEvent): string {
  if (event.type === 'opened' && event.channel === 'eid') return ctx.t('audit:event.opened_eid');
  return ctx.t(`audit:event.${event.type}`, { defaultValue: event.type });
}

/**
 * Who the eID said the person was, beside `identified` and `identification_mismatch` (the attempt that was
 * refused): the masked number and the scheme, so the sender can see whose eID was tried.
 */
function EidDetail({ ctx, event }: { ctx: ConsoleContext; event: AuditEvent }) {
  if (event.type !== 'identified' && event.type !== 'identification_mismatch') return null;
  const detail = event.detail ?? {};
  const text = (key: string) => (typeof detail[key] === 'string' && detail[key] ? (detail[key] as string) : undefined);
  const scheme = text('scheme') ?? text('acr');
  const parts = [text('name'), text('nationalIdMasked'), scheme && eidName(scheme, ctx.t)].filter(Boolean);
  return parts.length > 0 ? <span class="muted eid-detail"> · {parts.join(' · ')}</span> : null;
}

function CopyButton({ ctx, text }: { ctx: ConsoleContext; text: string }) {
  const [copied, setCopied] = useState<boolean | undefined>();
  return (
    <>
      <button
        type="button"
        class="secondary small"
        onClick={() => {
          navigator.clipboard?.writeText(text).then(
            () => setCopied(true),
            () => setCopied(false),
          ) ?? setCopied(false);
        }}
      >
        {ctx.t('console:request.copyCode')}
      </button>
      <span role="status" class="muted">
        {copied === true ? ctx.t('console:request.copied') : copied === false ? ctx.t('console:request.copyFailed') : ''}
      </span>
    </>
  );
}

function RequestActions({ ctx, base, onChanged }: { ctx: ConsoleContext; base: string; onChanged(): void }) {
  const { t } = ctx;
  const [busy, setBusy] = useState(false);
  const [message, setMessage] = useState<string | undefined>();
  const [error, setError] = useState<string | undefined>();
  const [cancelling, setCancelling] = useState(false);
  const [reason, setReason] = useState('');
  const reasonField = useRef<HTMLTextAreaElement>(null);
  useEffect(() => {
    if (cancelling) reasonField.current?.focus();
  }, [cancelling]);

  const run = async (action: () => Promise<string>) => {
    setBusy(true);
    setError(undefined);
    setMessage(undefined);
    try {
      setMessage(await action());
      onChanged();
    } catch (failure) {
      setError(describeError(failure, t));
    } finally {
      setBusy(false);
    }
  };

  return (
    <section aria-labelledby="actions-heading">
      <h2 id="actions-heading">{t('console:request.actions')}</h2>
      <div class="actions">
        <button
          type="button"
          disabled={busy}
          onClick={() =>
            void run(async () => {
              const answer = await ctx.api.post<{ reminded: number }>(`${base}/remind`);
              return t('console:request.reminded', { count: answer.reminded });
            })
          }
        >
          {t('console:request.remind')}
        </button>
        {!cancelling && (
          <button type="button" class="secondary" disabled={busy} onClick={() => setCancelling(true)}>
            {t('console:request.cancel')}
          </button>
        )}
      </div>
      {cancelling && (
        <form
          class="card cancel-form"
          onSubmit={(event) => {
            event.preventDefault();
            void run(async () => {
              await ctx.api.post(`${base}/cancel`, { reason });
              setCancelling(false);
              return t('console:request.cancelled');
            });
          }}
        >
          <label for="cancel-reason">{t('console:request.cancelReason')}</label>
          <textarea id="cancel-reason" ref={reasonField} rows={3} required maxLength={1000} value={reason} aria-describedby="cancel-reason-hint" onInput={(event) => setReason((event.target as HTMLTextAreaElement).value)} />
          <p class="hint" id="cancel-reason-hint">
            {t('console:request.cancelReasonHint')}
          </p>
          <div class="actions">
            <button type="submit" class="danger" disabled={busy || !reason.trim()}>
              {t('console:request.confirmCancel')}
            </button>
            <button type="button" class="secondary" disabled={busy} onClick={() => setCancelling(false)}>
              {t('console:request.keepRequest')}
            </button>
          </div>
        </form>
      )}
      <p role="status" class="notice">
        {message ?? ''}
      </p>
      <ErrorBanner message={error} />
    </section>
  );
}

function ResetPin({ ctx, base, signer, onChanged }: { ctx: ConsoleContext; base: string; signer: { id: string; name: string }; onChanged(): void }) {
  const { t } = ctx;
  const [busy, setBusy] = useState(false);
  const [answer, setAnswer] = useState<{ delivery: 'sender' | 'sms'; pin?: string } | undefined>();
  const [error, setError] = useState<string | undefined>();
  return (
    <div class="reset-pin">
      <button
        type="button"
        class="secondary"
        disabled={busy}
        onClick={async () => {
          setBusy(true);
          setError(undefined);
          try {
            setAnswer(await ctx.api.post<{ delivery: 'sender' | 'sms'; pin?: string }>(`${base}/signers/${signer.id}/reset-pin`));
            onChanged();
          } catch (failure) {
            setError(describeError(failure, t));
          } finally {
            setBusy(false);
          }
        }}
      >
        {t('console:request.resetPin', { name: signer.name })}
      </button>
      <div role="status">
        {answer?.pin && (
          <p class="pin-once">
            {t('console:request.newPin', { name: signer.name })} <strong class="pin">{answer.pin}</strong>
            <br />
            <span class="hint">{t('console:request.pinShownOnce')}</span>
          </p>
        )}
        {answer?.delivery === 'sms' && <p class="notice">{t('console:request.pinBySms', { name: signer.name })}</p>}
      </div>
      <ErrorBanner message={error} />
    </div>
  );
}

/**
 * Steps a person follows; the rest (tasks scheduled and started, workflow tasks, Updates handled, the code-version
 * markers a round records for its own replay) only with "every step".
 */
const everyStepOnly = /^(WorkflowTask(Scheduled|Started|Completed)|ActivityTask(Scheduled|Started)|WorkflowExecutionUpdateCompleted|MarkerRecorded)$/;

function WorkflowHistory({
  ctx,
  request,
  history,
  error,
  when,
  onRefresh,
}: {
  ctx: ConsoleContext;
  request: RequestView;
  history?: RoundHistory;
  error?: string;
  when(at: string): string;
  onRefresh(): void;
}) {
  const { t } = ctx;
  const [everyStep, setEveryStep] = useState(false);
  const steps = (history?.steps ?? []).filter((step) => everyStep || !everyStepOnly.test(step.event));
  const setting = { signers: request.signers, expiresAt: request.expiresAt, t, when };
  return (
    <section aria-labelledby="history-heading">
      <h2 id="history-heading">{t('console:request.history')}</h2>
      <p class="hint">{t('console:request.historyHint')}</p>
      <div class="actions history-tools">
        <div class="checkbox">
          <input id="every-step" type="checkbox" checked={everyStep} onChange={(event) => setEveryStep((event.target as HTMLInputElement).checked)} />
          <label for="every-step">{t('console:request.everyStep')}</label>
        </div>
        <button type="button" class="secondary" onClick={onRefresh}>
          {t('console:request.refreshHistory')}
        </button>
      </div>
      <ErrorBanner message={error} />
      {history?.live && (
        <p class="muted">{t('console:request.liveView', { status: t(`common:requestStatus.${history.live.status}`) })}</p>
      )}
      {history && !history.live && <p class="muted">{t('console:request.noLiveView')}</p>}
      {!history && !error && (
        <p role="status" class="muted">
          {t('common:loading')}
        </p>
      )}
      <ol class="history-steps">
        {steps.map((step) => {
          const { text, untranslated } = describeStep(step, setting);
          return (
            <li key={step.eventId} class={step.failure ? 'failed-step' : undefined}>
              <time dateTime={step.at}>{when(step.at)}</time>{' '}
              <span class="step-summary" lang={untranslated ? 'en' : undefined}>
                {text}
              </span>
              {step.attempt && step.attempt > 1 ? <span class="muted"> · {t('console:request.attempt', { attempt: step.attempt })}</span> : null}
              {step.failure && (
                <div class="error" lang="en">
                  {step.failure}
                </div>
              )}
            </li>
          );
        })}
      </ol>
    </section>
  );
}
