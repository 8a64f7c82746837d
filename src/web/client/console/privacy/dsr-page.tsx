/**
 * One privacy (data-subject) request at `/privacy-requests/:id`: the requester (left out for support staff:
 * the API decides), when identity was confirmed, the deadline and its extension, the handler, the records
 * about the verified person with each one's erasure decision and legal basis, the type's fulfilment, the
 * answer (complete) or refusal (reject), and the audit trail. Actions show only when the member may act and
 * the request allows them; what the API still refuses (409/422) is said in words next to the form.
 */
import type { ComponentChildren } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { formatDate, formatDateTime } from '../../../../i18n';
import type { DataSubjectRequestView, SubjectRecordView } from '../../../../contract/data-subject-requests';
import type { MemberView } from '../../../../contract/members';
import { describeError, fieldErrors, type ConsoleContext } from '../context';
import { Link } from '../main';
import { actsOnRequests, readsDocuments, useOrganizationZone, usePolling, type AuditTrail } from '../requests/request-model';
import { ErrorBanner } from '../requests/request-parts';
import { DsrStatusBadge, isOpen, OverdueBadge } from './dsr-parts';

const refreshEveryMs = 4000;

export function DsrPage({ ctx, id }: { ctx: ConsoleContext; id: string }) {
  const { t } = ctx;
  const { timeZone } = useOrganizationZone(ctx);
  const [view, setView] = useState<DataSubjectRequestView | undefined>();
  const [error, setError] = useState<string | undefined>();
  const [records, setRecords] = useState<SubjectRecordView[] | undefined>();
  const [trail, setTrail] = useState<AuditTrail | undefined>();
  const heading = useRef<HTMLHeadingElement>(null);
  const role = ctx.session.organization.role;
  const base = `/v1/data-subject-requests/${id}`;

  const load = () =>
    ctx.api.get<DataSubjectRequestView>(base).then(
      (answer) => {
        setView(answer);
        setError(undefined);
      },
      (failure) => setError(describeError(failure, t)),
    );
  const loadTrail = () => ctx.api.get<AuditTrail>(`${base}/audit-trail`).then(setTrail, () => undefined);
  useEffect(() => {
    void load();
    void loadTrail();
  }, [ctx.api, id]);
  usePolling(
    () => {
      void load();
      void loadTrail();
    },
    refreshEveryMs,
    view !== undefined,
  );
  useEffect(() => {
    if (view) heading.current?.focus();
  }, [view !== undefined]);
  // Discovery once identity is confirmed (the API refuses before), and again after a fulfilment changed things.
  const identityConfirmed = view?.identityConfirmedAt !== undefined;
  useEffect(() => {
    if (!identityConfirmed || !readsDocuments(role)) return;
    ctx.api.get<{ items: SubjectRecordView[] }>(`${base}/records`).then(
      (answer) => setRecords(answer.items),
      () => setRecords(undefined),
    );
  }, [identityConfirmed, view?.fulfilledAt]);

  const when = (at: string) => formatDateTime(at, ctx.locale, timeZone);
  const date = (at: string) => formatDate(at, ctx.locale, timeZone);
  const acted = (next: DataSubjectRequestView) => {
    setView(next);
    void loadTrail();
  };

  if (!view) {
    return (
      <section>
        <p class="breadcrumb">
          <Link ctx={ctx} href="/privacy-requests">
            {t('privacy:console.back')}
          </Link>
        </p>
        <ErrorBanner message={error} />
        {!error && (
          <p role="status" class="muted">
            {t('common:loading')}
          </p>
        )}
      </section>
    );
  }

  const mayAct = actsOnRequests(role) && isOpen(view.status);
  const mayExtend = mayAct && !view.extendedUntil && Date.now() < new Date(view.dueAt).getTime();
  const typeName = t(`privacy:type.${view.type}`);
  return (
    <section class="dsr-page" aria-labelledby="dsr-page-heading">
      <p class="breadcrumb">
        <Link ctx={ctx} href="/privacy-requests">
          {t('privacy:console.back')}
        </Link>
      </p>
      <div class="page-title">
        <h1 id="dsr-page-heading" ref={heading} tabIndex={-1}>
          {t('privacy:console.detailHeading', { type: typeName })}
        </h1>
        <span>
          <DsrStatusBadge status={view.status} t={t} /> {view.overdue && <OverdueBadge t={t} />}
        </span>
      </div>
      <ErrorBanner message={error} />

      <dl class="facts dsr-facts">
        <Fact label={t('privacy:console.receivedAt')}>{when(view.receivedAt)}</Fact>
        <Fact label={t('privacy:console.channel')}>{t(`privacy:console.channelName.${view.channel}`)}</Fact>
        <Fact label={t('privacy:console.identityConfirmedAt')}>{view.identityConfirmedAt ? when(view.identityConfirmedAt) : t('privacy:console.identityPending')}</Fact>
        <Fact label={t('privacy:console.dueAt')}>{date(view.dueAt)}</Fact>
        {view.extendedUntil && (
          <Fact label={t('privacy:console.extendedUntil')} testId="extended-until">
            {date(view.extendedUntil)}
          </Fact>
        )}
        {view.extensionReason && (
          <Fact label={t('privacy:console.extensionReason')}>
            <span class="answer-text">{view.extensionReason}</span>
          </Fact>
        )}
        <Fact label={t('privacy:console.assignee')}>{view.assignee ? (view.assignee.name ?? view.assignee.email) : t('privacy:console.unassigned')}</Fact>
        {view.completedAt && <Fact label={t('privacy:console.completedAt')}>{when(view.completedAt)}</Fact>}
        {view.answer && (
          <Fact label={t('privacy:console.answerGiven')}>
            <span class="answer-text">{view.answer}</span>
          </Fact>
        )}
        {view.rejectionReason && (
          <Fact label={t('privacy:console.rejectionReason')}>
            <span class="answer-text">{view.rejectionReason}</span>
          </Fact>
        )}
      </dl>

      {view.requester && (
        <>
          <h2>{t('privacy:console.requester')}</h2>
          <dl class="facts">
            <Fact label={t('privacy:console.requesterName')}>{view.requester.name}</Fact>
            <Fact label={t('privacy:console.requesterEmail')}>{view.requester.email}</Fact>
            {view.requester.phone && <Fact label={t('privacy:console.requesterPhone')}>{view.requester.phone}</Fact>}
            {view.details && (
              <Fact label={t('privacy:console.details')}>
                <span class="answer-text">{view.details}</span>
              </Fact>
            )}
          </dl>
        </>
      )}

      {mayExtend && <ExtendForm ctx={ctx} base={base} onDone={acted} />}
      {mayAct && <AssignForm ctx={ctx} base={base} current={view.assignee?.id} onDone={acted} />}

      {readsDocuments(role) && (
        <section aria-labelledby="dsr-records">
          <h2 id="dsr-records">{t('privacy:console.recordsHeading')}</h2>
          {!identityConfirmed ? (
            <p class="muted">{t('privacy:console.recordsAfterIdentity')}</p>
          ) : (
            <>
              <p class="hint">{t('privacy:console.recordsHint')}</p>
              {records === undefined && (
                <p role="status" class="muted">
                  {t('common:loading')}
                </p>
              )}
              {records?.length === 0 && <p class="empty">{t('privacy:console.recordsNone')}</p>}
              {records && records.length > 0 && (
                <ul class="request-list">
                  {records.map((record) => (
                    <li class="card" key={`${record.kind}:${record.id}`}>
                      <p class="request-meta">
                        <strong>{t(`privacy:console.recordKind.${record.kind}`)}</strong>
                        {record.title ? ` · ${record.title}` : ''} · {record.role} · {record.status}
                      </p>
                      <p class="muted request-meta">
                        {when(record.createdAt)} · {t('privacy:console.matchedBy', { fields: record.matchedBy.join(', ') })}
                      </p>
                      <p class="request-meta">
                        {record.erasure.action === 'erase'
                          ? t('privacy:console.erase')
                          : `${t('privacy:console.keep', { basis: record.erasure.legalBasis })} — ${record.erasure.explanation}${record.erasure.keepUntil ? ` (${t('privacy:console.keepUntil', { at: date(record.erasure.keepUntil) })})` : ''}`}
                      </p>
                    </li>
                  ))}
                </ul>
              )}
            </>
          )}
        </section>
      )}

      {view.handledRecords.length > 0 && (
        <section aria-labelledby="dsr-handled">
          <h2 id="dsr-handled">{t('privacy:console.handledHeading')}</h2>
          <ul>
            {view.handledRecords.map((record) => (
              <li key={`${record.kind}:${record.id}:${record.action}`}>
                {t(`privacy:console.handledAction.${record.action}`)} · {t(`privacy:console.recordKind.${record.kind}`)} <span class="code">{record.id.slice(0, 8)}</span>
                {record.legalBasis ? ` · ${record.legalBasis}` : ''}
              </li>
            ))}
          </ul>
        </section>
      )}

      {mayAct && identityConfirmed && <FulfilForm ctx={ctx} base={base} view={view} when={when} date={date} onDone={acted} />}
      {mayAct && <FinishForms ctx={ctx} base={base} fulfilled={view.fulfilledAt !== undefined} onDone={acted} />}

      <section aria-labelledby="dsr-trail">
        <h2 id="dsr-trail">{t('privacy:console.trailHeading')}</h2>
        {trail && (
          <>
            <p class={trail.chainValid ? 'notice' : 'error'}>{trail.chainValid ? t('privacy:console.chainValid') : t('privacy:console.chainBroken')}</p>
            <ol class="audit-events">
              {trail.events.map((event) => (
                <li key={event.sequence}>
                  <span class="event-name">{event.type.replace(/_/g, ' ')}</span> · {when(event.at)} · {event.actor}
                </li>
              ))}
            </ol>
          </>
        )}
      </section>
    </section>
  );
}

function Fact({ label, children, testId }: { label: string; children: ComponentChildren; testId?: string }) {
  return (
    <div data-fact={testId}>
      <dt>{label}</dt>
      <dd>{children}</dd>
    </div>
  );
}

/** A form's state: busy, the banner, and errors by field (422's issues, or a 409's reason). */
function useAction(ctx: ConsoleContext, onDone: (view: DataSubjectRequestView) => void) {
  const [busy, setBusy] = useState(false);
  const [failure, setFailure] = useState<string | undefined>();
  const [errors, setErrors] = useState<Record<string, string>>({});
  const run = async (path: string, body: unknown) => {
    setBusy(true);
    setFailure(undefined);
    setErrors({});
    try {
      onDone(await ctx.api.post<DataSubjectRequestView>(path, body));
      return true;
    } catch (error) {
      const byField = fieldErrors(error, ctx.t);
      setErrors(byField);
      if (Object.keys(byField).length === 0) setFailure(describeError(error, ctx.t));
      return false;
    } finally {
      setBusy(false);
    }
  };
  return { busy, failure, errors, run };
}

const FieldError = ({ id, message }: { id: string; message?: string }) =>
  message ? (
    <p class="error field-error" id={id}>
      {message}
    </p>
  ) : null;

function ExtendForm({ ctx, base, onDone }: { ctx: ConsoleContext; base: string; onDone(view: DataSubjectRequestView): void }) {
  const { t } = ctx;
  const [months, setMonths] = useState<1 | 2>(1);
  const [reason, setReason] = useState('');
  const action = useAction(ctx, onDone);
  const reasonError = action.errors.reason;
  return (
    <form
      class="card dsr-form"
      aria-labelledby="dsr-extend"
      onSubmit={(event) => {
        event.preventDefault();
        void action.run(`${base}/extend`, { months, reason });
      }}
    >
      <h2 id="dsr-extend">{t('privacy:console.extendHeading')}</h2>
      <p class="hint">{t('privacy:console.extendHint')}</p>
      <label for="dsr-months">{t('privacy:console.months')}</label>
      <select id="dsr-months" value={String(months)} onChange={(event) => setMonths((event.target as HTMLSelectElement).value === '2' ? 2 : 1)}>
        <option value="1">{t('privacy:console.monthsValue', { count: 1 })}</option>
        <option value="2">{t('privacy:console.monthsValue', { count: 2 })}</option>
      </select>
      <label for="dsr-extend-reason">{t('privacy:console.reason')}</label>
      <textarea
        id="dsr-extend-reason"
        rows={3}
        value={reason}
        onInput={(event) => setReason((event.target as HTMLTextAreaElement).value)}
        aria-invalid={reasonError ? true : undefined}
        aria-describedby={reasonError ? 'dsr-extend-reason-error' : undefined}
      />
      <FieldError id="dsr-extend-reason-error" message={reasonError} />
      {action.failure && (
        <p class="error" role="alert">
          {action.failure}
        </p>
      )}
      <div class="actions">
        <button type="submit" disabled={action.busy}>
          {t('privacy:console.extend')}
        </button>
      </div>
    </form>
  );
}

function AssignForm({ ctx, base, current, onDone }: { ctx: ConsoleContext; base: string; current?: string; onDone(view: DataSubjectRequestView): void }) {
  const { t } = ctx;
  const [members, setMembers] = useState<MemberView[] | undefined>();
  const [chosen, setChosen] = useState(current ?? '');
  const action = useAction(ctx, onDone);
  // Only admins may list the members; everyone else who may act can take the request themselves.
  useEffect(() => {
    ctx.api.get<{ items: MemberView[] }>('/v1/members').then(
      (answer) => setMembers(answer.items.filter((member) => member.role !== 'viewer' && member.role !== 'support')),
      () => setMembers(undefined),
    );
  }, [ctx.api]);
  const me = ctx.session.user.id;
  return (
    <form
      class="card dsr-form"
      aria-labelledby="dsr-assign"
      onSubmit={(event) => {
        event.preventDefault();
        if (chosen) void action.run(`${base}/assign`, { memberId: chosen });
      }}
    >
      <h2 id="dsr-assign">{t('privacy:console.assignHeading')}</h2>
      {members ? (
        <>
          <label for="dsr-assignee">{t('privacy:console.assignMember')}</label>
          <select id="dsr-assignee" value={chosen} onChange={(event) => setChosen((event.target as HTMLSelectElement).value)}>
            <option value="">{t('privacy:console.unassigned')}</option>
            {members.map((member) => (
              <option value={member.userId} key={member.userId}>
                {member.name ? `${member.name} (${member.email})` : member.email}
              </option>
            ))}
          </select>
        </>
      ) : null}
      {action.failure && (
        <p class="error" role="alert">
          {action.failure}
        </p>
      )}
      <div class="actions">
        {members && (
          <button type="submit" disabled={action.busy || !chosen || chosen === current}>
            {t('privacy:console.assign')}
          </button>
        )}
        {current !== me && (
          <button type="button" class="secondary" disabled={action.busy} onClick={() => void action.run(`${base}/assign`, { memberId: me })}>
            {t('privacy:console.assignMe')}
          </button>
        )}
      </div>
    </form>
  );
}

function FulfilForm(props: { ctx: ConsoleContext; base: string; view: DataSubjectRequestView; when(at: string): string; date(at: string): string; onDone(view: DataSubjectRequestView): void }) {
  const { ctx, view } = props;
  const { t } = ctx;
  const [change, setChange] = useState({ name: '', email: '', phone: '' });
  const action = useAction(ctx, props.onDone);
  const rectification = view.type === 'rectification';
  const body = rectification
    ? { change: Object.fromEntries(Object.entries(change).filter(([, value]) => value.trim()).map(([key, value]) => [key, value.trim()])) }
    : {};
  const field = (name: 'name' | 'email' | 'phone', label: string) => {
    const message = action.errors[`change.${name}`];
    return (
      <>
        <label for={`dsr-change-${name}`}>{label}</label>
        <input
          id={`dsr-change-${name}`}
          value={change[name]}
          onInput={(event) => setChange({ ...change, [name]: (event.target as HTMLInputElement).value })}
          aria-invalid={message ? true : undefined}
          aria-describedby={message ? `dsr-change-${name}-error` : undefined}
        />
        <FieldError id={`dsr-change-${name}-error`} message={message} />
      </>
    );
  };
  return (
    <form
      class="card dsr-form"
      aria-labelledby="dsr-fulfil"
      onSubmit={(event) => {
        event.preventDefault();
        void action.run(`${props.base}/fulfil`, body);
      }}
    >
      <h2 id="dsr-fulfil">{t('privacy:console.fulfilHeading')}</h2>
      <p class="hint">{t(`privacy:console.fulfilHint.${view.type}`)}</p>
      {view.fulfilledAt && <p class="notice">{t('privacy:console.fulfilledAt', { at: props.when(view.fulfilledAt) })}</p>}
      {view.fulfilmentRefusal && (
        <p class="error" data-testid="dsr-fulfilment-refusal">
          {t(`privacy:console.fulfilmentRefused.${view.fulfilmentRefusal.code}`, { at: props.when(view.fulfilmentRefusal.at) })}
        </p>
      )}
      {view.accessPackage && <p>{t('privacy:console.accessPackage', { count: view.accessPackage.recordCount, at: props.date(view.accessPackage.expiresAt) })}</p>}
      {rectification && (
        <>
          {field('name', t('privacy:console.newName'))}
          {field('email', t('privacy:console.newEmail'))}
          {field('phone', t('privacy:console.newPhone'))}
        </>
      )}
      {action.failure && (
        <p class="error" role="alert">
          {action.failure}
        </p>
      )}
      <div class="actions">
        <button type="submit" disabled={action.busy}>
          {t('privacy:console.fulfil')}
        </button>
      </div>
    </form>
  );
}

/**
 * Complete only once the request was fulfilled (which needs the requester's confirmed identity): the API
 * refuses it before, and the answer tells the requester what was done. Rejecting is open to the end.
 */
function FinishForms({ ctx, base, fulfilled, onDone }: { ctx: ConsoleContext; base: string; fulfilled: boolean; onDone(view: DataSubjectRequestView): void }) {
  const { t } = ctx;
  const [answer, setAnswer] = useState('');
  const [reason, setReason] = useState('');
  const complete = useAction(ctx, onDone);
  const reject = useAction(ctx, onDone);
  const reasonError = reject.errors.reason;
  return (
    <section class="card dsr-form" aria-labelledby="dsr-finish">
      <h2 id="dsr-finish">{t('privacy:console.finishHeading')}</h2>
      {!fulfilled && <p class="hint">{t('privacy:console.completeAfterFulfil')}</p>}
      {fulfilled && (
        <form
          onSubmit={(event) => {
            event.preventDefault();
            void complete.run(`${base}/complete`, answer.trim() ? { answer: answer.trim() } : {});
          }}
        >
          <label for="dsr-answer">{t('privacy:console.answer')}</label>
          <textarea id="dsr-answer" rows={3} value={answer} onInput={(event) => setAnswer((event.target as HTMLTextAreaElement).value)} />
          {complete.failure && (
            <p class="error" role="alert">
              {complete.failure}
            </p>
          )}
          <div class="actions">
            <button type="submit" disabled={complete.busy}>
              {t('privacy:console.complete')}
            </button>
          </div>
        </form>
      )}
      <form
        onSubmit={(event) => {
          event.preventDefault();
          void reject.run(`${base}/reject`, { reason });
        }}
      >
        <label for="dsr-reject-reason">{t('privacy:console.rejectReason')}</label>
        <textarea
          id="dsr-reject-reason"
          rows={3}
          value={reason}
          onInput={(event) => setReason((event.target as HTMLTextAreaElement).value)}
          aria-invalid={reasonError ? true : undefined}
          aria-describedby={reasonError ? 'dsr-reject-reason-error' : undefined}
        />
        <FieldError id="dsr-reject-reason-error" message={reasonError} />
        {reject.failure && (
          <p class="error" role="alert">
            {reject.failure}
          </p>
        )}
        <div class="actions">
          <button type="submit" class="danger" disabled={reject.busy}>
            {t('privacy:console.reject')}
          </button>
        </div>
      </form>
    </section>
  );
}
