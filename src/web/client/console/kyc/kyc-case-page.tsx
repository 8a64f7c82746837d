/**
 * One KYC case at `/kyc/:id`: the customer, the case's state, the eID identification, the answers under their
 * questions' labels, the declaration and its signing request, the review decisions so far, the actions a
 * member may take (approve, reject or send back with a reason, cancel, remind; each confirmed first), the
 * evidence package once approved, and the audit trail. Four eyes: when the answers need a second reviewer,
 * the page says who approved first and that another member must approve. Refreshed every few seconds while
 * the case can still change.
 */
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { formatDateTime, localeNames, type Translate } from '../../../../i18n';
import type { BeneficialOwnerAnswer, KycReviewDecisionView, QuestionDefinition } from '../../../../contract/kyc-cases';
import { ApiError } from '../../shared/http';
import { localized } from '../../kyc/answers';
import { describeError, type ConsoleContext } from '../context';
import { Link } from '../main';
import { readsDocuments, useOrganizationZone, usePolling, type AuditTrail } from '../requests/request-model';
import { ErrorBanner } from '../requests/request-parts';
import { actsOnCases, customerActs, isEnded, type KycCaseView, type QuestionnaireView } from './kyc-model';
import { KycStatusBadge } from './kyc-parts';

const refreshEveryMs = 4000;

export function KycCasePage({ ctx, id }: { ctx: ConsoleContext; id: string }) {
  const { t } = ctx;
  const { timeZone } = useOrganizationZone(ctx);
  const [view, setView] = useState<KycCaseView | undefined>();
  const [trail, setTrail] = useState<AuditTrail | undefined>();
  const [questionnaires, setQuestionnaires] = useState<QuestionnaireView[]>([]);
  const [missing, setMissing] = useState(false);
  const [error, setError] = useState<string | undefined>();
  const heading = useRef<HTMLHeadingElement>(null);
  const base = `/v1/kyc-cases/${encodeURIComponent(id)}`;
  const when = (at: string) => formatDateTime(at, ctx.locale, timeZone);

  const load = useCallback(async () => {
    try {
      const [caseView, audit] = await Promise.all([ctx.api.get<KycCaseView>(base), ctx.api.get<AuditTrail>(`${base}/audit-trail`).catch(() => undefined)]);
      setView(caseView);
      if (audit) setTrail(audit);
      setError(undefined);
    } catch (failure) {
      if (failure instanceof ApiError && (failure.status === 404 || failure.status === 400)) setMissing(true);
      else setError(describeError(failure, t));
    }
  }, [base, ctx.api]);

  useEffect(() => {
    setView(undefined);
    setMissing(false);
    void load();
    ctx.api.get<{ items: QuestionnaireView[] }>('/v1/questionnaires').then((answer) => setQuestionnaires(answer.items), () => undefined);
  }, [load]);
  useEffect(() => {
    if (view || missing) heading.current?.focus();
  }, [Boolean(view), missing]);

  // Live while the case can change, and after approval until its evidence package is ready.
  const live = view !== undefined && (!isEnded(view.status) || (view.status === 'approved' && !view.evidencePackage));
  usePolling(() => void load(), refreshEveryMs, live);

  if (missing) {
    return (
      <section>
        <h1 ref={heading} tabIndex={-1}>
          {t('kyc:case.notFound')}
        </h1>
        <p>{t('kyc:case.notFoundHint')}</p>
        <p>
          <Link ctx={ctx} href="/kyc">
            {t('kyc:case.backToList')}
          </Link>
        </p>
      </section>
    );
  }
  if (!view) {
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

  const definition =
    questionnaires.find((questionnaire) => questionnaire.id === view.questionnaire.id && questionnaire.version === view.questionnaire.version) ??
    questionnaires.find((questionnaire) => questionnaire.id === view.questionnaire.id);
  const firstApproval = view.reviews.find((review) => review.decision === 'approved' && review.round === 1);
  const waitingForSecond = view.status === 'in_review' && view.secondReviewReasons.length > 0 && firstApproval !== undefined;
  const mayAct = actsOnCases(ctx.session.organization.role);

  return (
    <article class="request kyc-case" aria-labelledby="kyc-case-heading">
      <p class="breadcrumb">
        <Link ctx={ctx} href="/kyc">
          {t('kyc:case.backToList')}
        </Link>
      </p>
      <div class="page-title">
        <h1 id="kyc-case-heading" ref={heading} tabIndex={-1}>
          {view.customer.name}
        </h1>
        <KycStatusBadge status={view.status} t={t} />
      </div>
      <ErrorBanner message={error} />
      {waitingForSecond && (
        <div class="notice-box second-review-notice" role="note">
          <p>
            <strong>{t('kyc:case.waitingForSecond')}</strong>
          </p>
          <p>{t('kyc:case.firstApprovalBy', { name: firstApproval.reviewer.name ?? t('kyc:case.someone'), at: when(firstApproval.at) })}</p>
        </div>
      )}
      {view.secondReviewReasons.length > 0 && (
        <p class="notice-box">
          {t('kyc:case.secondReviewBecause', { reasons: view.secondReviewReasons.map((reason) => t(`kyc:case.reviewReason.${reason}`, { defaultValue: reason })).join(', ') })}
        </p>
      )}

      <dl class="facts">
        <Fact label={t('kyc:case.customerType')} value={t(`kyc:customerType.${view.customer.type}`)} />
        <Fact label={t('kyc:case.email')} value={view.customer.email} />
        {view.customer.phone && <Fact label={t('kyc:case.phone')} value={view.customer.phone} />}
        {view.customer.businessId && <Fact label={t('kyc:case.businessId')} value={view.customer.businessId} />}
        {view.customer.type === 'person' && <Fact label={t('kyc:case.nationalId')} value={view.customer.hasNationalId ? t('kyc:case.nationalIdGiven') : t('kyc:case.nationalIdNotGiven')} />}
        <Fact label={t('kyc:case.language')} value={localeNames[view.customer.locale]} />
        <Fact label={t('kyc:case.identification')} value={t(`kyc:identification.${view.identification}`)} />
        <Fact label={t('kyc:case.questionnaire')} value={t('kyc:new.questionnaireOption', { title: definition ? localized(definition.definition.title, ctx.locale) : view.questionnaire.title, version: view.questionnaire.version })} />
        <Fact label={t('kyc:case.created')} value={when(view.createdAt)} />
        <Fact label={isEnded(view.status) ? t('kyc:case.expiredAt') : t('kyc:case.expires')} value={when(view.expiresAt)} />
        {view.submittedAt && <Fact label={t('kyc:case.submitted')} value={when(view.submittedAt)} />}
        {view.endedAt && <Fact label={t('kyc:case.ended')} value={when(view.endedAt)} />}
        <Fact label={t('kyc:case.reminders')} value={t('kyc:case.remindersSent', { count: view.remindersSent })} />
      </dl>

      {mayAct && !isEnded(view.status) && <CaseActions ctx={ctx} base={base} view={view} onChanged={() => void load()} />}

      {view.evidencePackage && (
        <section aria-labelledby="kyc-evidence-heading">
          <h2 id="kyc-evidence-heading">{t('kyc:case.evidence')}</h2>
          <p class="muted">{t('kyc:case.evidenceCreated', { at: when(view.evidencePackage.createdAt) })}</p>
          <p class="muted">
            {t('kyc:case.sha256')} <span class="code hash">{view.evidencePackage.sha256}</span>
          </p>
          {/* Support staff see no documents: the API refuses them the package too. */}
          {readsDocuments(ctx.session.organization.role) && (
            <div class="actions">
              <a class="button-link" href={`${base}/evidence`} download>
                {t('kyc:case.downloadEvidence')}
              </a>
            </div>
          )}
        </section>
      )}

      {view.identificationEvidence && (
        <section aria-labelledby="kyc-identified-heading">
          <h2 id="kyc-identified-heading">{t('kyc:case.identifiedHeading')}</h2>
          <dl class="facts">
            <Fact label={t('kyc:case.eid.name')} value={view.identificationEvidence.name ?? '—'} />
            <Fact label={t('kyc:case.eid.birthdate')} value={view.identificationEvidence.birthdate ?? '—'} />
            <Fact label={t('kyc:case.eid.nationalId')} value={view.identificationEvidence.nationalIdMasked ?? '—'} />
            <Fact label={t('kyc:case.eid.country')} value={view.identificationEvidence.country ?? '—'} />
            <Fact label={t('kyc:case.eid.scheme')} value={view.identificationEvidence.scheme ?? '—'} />
            <Fact label={t('kyc:case.eid.transaction')} value={view.identificationEvidence.transactionId ?? '—'} />
            <Fact label={t('kyc:case.eid.at')} value={when(view.identificationEvidence.identifiedAt)} />
          </dl>
        </section>
      )}

      <section aria-labelledby="kyc-answers-heading">
        <h2 id="kyc-answers-heading">{t('kyc:case.answers')}</h2>
        {view.answers ? <AnswerList t={t} ctx={ctx} answers={view.answers} questions={definition?.definition.questions ?? []} /> : <p class="muted">{t('kyc:case.noAnswers')}</p>}
      </section>

      <section aria-labelledby="kyc-declaration-heading">
        <h2 id="kyc-declaration-heading">{t('kyc:case.declaration')}</h2>
        {view.declaration ? (
          <p>
            {t('kyc:case.declarationStatus', { status: t(`common:requestStatus.${view.declaration.status}`, { defaultValue: view.declaration.status }) })}
            {view.declaration.sealedAt ? ` · ${t('kyc:case.declarationSealed', { at: when(view.declaration.sealedAt) })}` : ''} ·{' '}
            <Link ctx={ctx} href={`/requests/${view.declaration.requestId}`}>
              {t('kyc:case.declarationLink')}
            </Link>
          </p>
        ) : (
          <p class="muted">{t('kyc:case.noDeclaration')}</p>
        )}
      </section>

      <section aria-labelledby="kyc-reviews-heading">
        <h2 id="kyc-reviews-heading">{t('kyc:case.reviews')}</h2>
        {view.reviews.length === 0 ? (
          <p class="muted">{t('kyc:case.noReviews')}</p>
        ) : (
          <ol class="kyc-reviews">
            {view.reviews.map((review, index) => (
              <li key={index}>
                <ReviewLine t={t} review={review} when={when} />
              </li>
            ))}
          </ol>
        )}
      </section>

      <section aria-labelledby="kyc-audit-heading">
        <h2 id="kyc-audit-heading">{t('kyc:case.auditTrail')}</h2>
        {trail && (
          <p class={trail.chainValid ? 'notice chain-status' : 'error chain-status'} role="status">
            {trail.chainValid ? t('console:request.chainValid', { count: trail.events.length }) : t('kyc:case.chainBroken')}
          </p>
        )}
        <ul class="audit-events">
          {(trail?.events ?? []).map((event) => (
            <li key={event.sequence}>
              <span class="sequence">{event.sequence}.</span> <time dateTime={event.at}>{when(event.at)}</time>{' '}
              <span class="event-name">{t(`kyc:event.${event.type}`, { defaultValue: t(`audit:event.${event.type}`, { defaultValue: event.type }) })}</span>
              {actorName(t, event, view.reviews) && <span class="muted"> · {actorName(t, event, view.reviews)}</span>}
            </li>
          ))}
        </ul>
      </section>
    </article>
  );
}

/** Who took a step, in words: the customer, a reviewer by name, an API key; nothing for Sigill's own steps. */
function actorName(t: Translate, event: { actor: string; detail?: Record<string, unknown> }, reviews: KycReviewDecisionView[]): string | undefined {
  if (event.actor === 'customer') return t('kyc:case.actor.customer');
  if (event.actor.startsWith('api-key:')) return t('kyc:case.actor.apiKey');
  if (event.actor.startsWith('user:')) {
    const named = typeof event.detail?.reviewerName === 'string' ? event.detail.reviewerName : reviews.find((review) => review.reviewer.id === event.actor || `user:${review.reviewer.id}` === event.actor)?.reviewer.name;
    return named ?? t('kyc:case.someone');
  }
  return undefined;
}

function Fact({ label, value }: { label: string; value: string }) {
  return (
    <div>
      <dt>{label}</dt>
      <dd>{value}</dd>
    </div>
  );
}

function ReviewLine({ t, review, when }: { t: Translate; review: KycReviewDecisionView; when(at: string): string }) {
  const who = review.reviewer.name ?? t('kyc:case.someone');
  return (
    <>
      <strong>{t(`kyc:case.decision.${review.decision}`)}</strong>
      {review.round === 2 && <span class="tag review-round">{t('kyc:case.secondApproval')}</span>} · {who} · <time dateTime={review.at}>{when(review.at)}</time>
      {review.reason && <blockquote class="review-reason">{review.reason}</blockquote>}
    </>
  );
}

/** The answers in the questionnaire's order under their labels; answers to questions it no longer has come last, by key. */
function AnswerList({ t, ctx, answers, questions }: { t: Translate; ctx: ConsoleContext; answers: Record<string, unknown>; questions: QuestionDefinition[] }) {
  const known = questions.filter((question) => question.key in answers);
  const others = Object.keys(answers).filter((key) => !questions.some((question) => question.key === key));
  return (
    <dl class="answers card">
      {known.map((question) => (
        <div key={question.key} class="answer">
          <dt>{localized(question.label, ctx.locale)}</dt>
          <dd>
            <AnswerValue t={t} ctx={ctx} question={question} value={answers[question.key]} />
          </dd>
        </div>
      ))}
      {others.map((key) => (
        <div key={key} class="answer">
          <dt class="code">{key}</dt>
          <dd>{typeof answers[key] === 'string' ? (answers[key] as string) : JSON.stringify(answers[key])}</dd>
        </div>
      ))}
    </dl>
  );
}

function AnswerValue({ t, ctx, question, value }: { t: Translate; ctx: ConsoleContext; question: QuestionDefinition; value: unknown }) {
  switch (question.type) {
    case 'yes_no':
      return <>{value === true ? t('kyc:customer.form.yes') : value === false ? t('kyc:customer.form.no') : '—'}</>;
    case 'choice': {
      const values = Array.isArray(value) ? (value as string[]) : [String(value)];
      return <>{values.map((chosen) => localized(question.options.find((option) => option.value === chosen)?.label, ctx.locale) || chosen).join(', ')}</>;
    }
    case 'beneficial_owners':
      return (
        <ul class="owner-answers">
          {(Array.isArray(value) ? (value as BeneficialOwnerAnswer[]) : []).map((owner, index) => (
            <li key={index}>
              {t('kyc:case.owner', { name: owner.name, birthdate: owner.birthdate, share: owner.ownershipPercent })}
              {owner.pep && <span class="tag">{t('kyc:case.ownerPep')}</span>}
            </li>
          ))}
        </ul>
      );
    case 'upload':
      return <>{t('kyc:case.filesUploaded', { count: Array.isArray(value) ? value.length : value ? 1 : 0 })}</>;
    case 'text':
      return <span class="answer-text">{String(value ?? '')}</span>;
  }
}

type Action = 'approve' | 'reject' | 'request-changes' | 'cancel' | 'remind';

/** Which actions the case's state allows; the API refuses the rest with 409 all the same. */
function actionsFor(view: KycCaseView): Action[] {
  const actions: Action[] = [];
  if (view.status === 'in_review') actions.push('approve', 'reject', 'request-changes');
  if (customerActs(view.status)) actions.push('remind');
  actions.push('cancel');
  return actions;
}

/** Whether the action needs words: a reason for refusing, sending back or cancelling; a note for approving. */
const reasonOf: Record<Action, 'required' | 'optional' | 'none'> = { approve: 'optional', reject: 'required', 'request-changes': 'required', cancel: 'required', remind: 'none' };

function CaseActions({ ctx, base, view, onChanged }: { ctx: ConsoleContext; base: string; view: KycCaseView; onChanged(): void }) {
  const { t } = ctx;
  const [chosen, setChosen] = useState<Action | undefined>();
  const [text, setText] = useState('');
  const [busy, setBusy] = useState(false);
  const [message, setMessage] = useState<string | undefined>();
  const [error, setError] = useState<string | undefined>();
  const field = useRef<HTMLTextAreaElement>(null);
  const confirmButton = useRef<HTMLButtonElement>(null);
  useEffect(() => {
    if (chosen) (field.current ?? confirmButton.current)?.focus();
  }, [chosen]);

  const run = async (action: Action) => {
    setBusy(true);
    setError(undefined);
    setMessage(undefined);
    const words = text.trim();
    const body = action === 'approve' ? (words ? { note: words } : {}) : action === 'remind' ? {} : { reason: words };
    try {
      await ctx.api.post(`${base}/${action}`, body);
      setMessage(t(`kyc:case.done.${action}`));
      setChosen(undefined);
      setText('');
      onChanged();
    } catch (failure) {
      // A reviewer is named as the API's actor (`user:<id>`); older answers may give the bare id.
      const me = [ctx.session.user.id, `user:${ctx.session.user.id}`];
      const approvedFirst = view.reviews.some((review) => review.decision === 'approved' && me.includes(review.reviewer.id));
      if (failure instanceof ApiError && failure.status === 409 && action === 'approve' && approvedFirst) setError(t('kyc:case.errors.sameReviewer'));
      else if (failure instanceof ApiError && failure.status === 409) setError(t('kyc:case.errors.conflict', { detail: failure.message }));
      else setError(describeError(failure, t));
      if (failure instanceof ApiError && failure.status === 409) onChanged();
    } finally {
      setBusy(false);
    }
  };

  const needs = chosen ? reasonOf[chosen] : 'none';
  return (
    <section aria-labelledby="kyc-actions-heading">
      <h2 id="kyc-actions-heading">{t('kyc:case.actions')}</h2>
      <div class="actions">
        {actionsFor(view).map((action) => (
          <button
            type="button"
            key={action}
            class={action === 'approve' ? undefined : 'secondary'}
            disabled={busy}
            aria-expanded={chosen === action}
            onClick={() => {
              setChosen(action);
              setText('');
              setError(undefined);
            }}
          >
            {t(`kyc:case.action.${action}`)}
          </button>
        ))}
      </div>
      {chosen && (
        <form
          class="confirm-step kyc-confirm"
          onSubmit={(event) => {
            event.preventDefault();
            void run(chosen);
          }}
        >
          <p class="confirm-question">{t(`kyc:case.confirm.${chosen}`, { name: view.customer.name })}</p>
          {needs !== 'none' && (
            <>
              <label for="kyc-action-text">{needs === 'required' ? t('kyc:case.reason') : t('kyc:case.note')}</label>
              <textarea id="kyc-action-text" ref={field} rows={3} maxLength={1000} required={needs === 'required'} value={text} onInput={(event) => setText((event.target as HTMLTextAreaElement).value)} />
            </>
          )}
          <div class="actions">
            <button type="submit" ref={confirmButton} class={chosen === 'reject' || chosen === 'cancel' ? 'danger' : undefined} disabled={busy || (needs === 'required' && !text.trim())}>
              {t(`kyc:case.confirmButton.${chosen}`)}
            </button>
            <button type="button" class="secondary" disabled={busy} onClick={() => setChosen(undefined)}>
              {t('kyc:case.back')}
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
