/**
 * The questionnaire as the customer fills it in: every question type, conditional questions, beneficial
 * owners as rows, uploads checked for size before they are sent. The draft is saved a moment after each
 * change and again when the page is hidden or left, so closing the browser loses nothing; the form says
 * when it was last saved. Problems are shown at their questions, whether this page or the server found them.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import { intlTag, type Locale, type Translate } from '../../../i18n';
import type { BeneficialOwnerAnswer, CustomerCaseView, KycCaseStatus, QuestionDefinition } from '../../../contract/kyc-cases';
import { ApiError, callApi, NetworkError } from '../shared/http';
import { answersForDraft, answersToSubmit, isAnswered, isRequired, localized, maxBeneficialOwners, ownerProblems, questionKeysNamed, visibleQuestions, type Answers } from './answers';
import { describeFailure } from './customer-parts';

type Upload = CustomerCaseView['uploads'][number];
type SaveState = { kind: 'idle' } | { kind: 'saving' } | { kind: 'saved'; at: string } | { kind: 'failed' };

/** A change is saved this long after the last keystroke: often enough to lose nothing, rarely enough to stay quiet. */
const saveAfterMs = 800;

export function QuestionnaireForm({ t, view, session, onSubmitted, onSessionEnded }: { t: Translate; view: CustomerCaseView; session: string; onSubmitted(status: KycCaseStatus): Promise<void>; onSessionEnded(): void }) {
  const locale = view.locale;
  const questions = view.questionnaire.definition.questions;
  const [answers, setAnswers] = useState<Answers>(() => ({ ...view.draft }));
  const [uploads, setUploads] = useState<Upload[]>(view.uploads);
  const [saved, setSaved] = useState<SaveState>({ kind: 'idle' });
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [banner, setBanner] = useState<string | undefined>();
  const [submitting, setSubmitting] = useState(false);
  const unsaved = useRef<Answers | undefined>();
  const timer = useRef<ReturnType<typeof setTimeout> | undefined>();

  const save = async () => {
    const pending = unsaved.current;
    if (!pending) return;
    unsaved.current = undefined;
    setSaved({ kind: 'saving' });
    try {
      const { savedAt } = await callApi<{ savedAt: string }>('/v1/kyc/customer/draft', { method: 'PUT', bearer: session, body: { answers: answersForDraft(questions, pending) } });
      if (!unsaved.current) setSaved({ kind: 'saved', at: savedAt });
    } catch (failure) {
      if (failure instanceof ApiError && failure.status === 401) return onSessionEnded();
      unsaved.current ??= pending; // kept for the next change or the page being left
      setSaved({ kind: 'failed' });
    }
  };

  // Leaving or hiding the page (closing the tab, switching apps on a phone) saves at once, in a request
  // the browser finishes even after the page is gone.
  useEffect(() => {
    const flush = () => {
      const pending = unsaved.current;
      if (!pending) return;
      clearTimeout(timer.current);
      unsaved.current = undefined;
      void fetch('/v1/kyc/customer/draft', {
        method: 'PUT',
        keepalive: true,
        headers: { 'content-type': 'application/json', authorization: `Bearer ${session}` },
        body: JSON.stringify({ answers: answersForDraft(questions, pending) }),
      }).catch(() => undefined);
    };
    const onHidden = () => document.visibilityState === 'hidden' && flush();
    addEventListener('pagehide', flush);
    document.addEventListener('visibilitychange', onHidden);
    return () => {
      removeEventListener('pagehide', flush);
      document.removeEventListener('visibilitychange', onHidden);
      clearTimeout(timer.current);
    };
  }, [session]);

  const answer = (key: string, value: unknown) => {
    const next = { ...answers };
    if (value === undefined) delete next[key];
    else next[key] = value;
    setAnswers(next);
    setErrors(({ [key]: _, ...rest }) => rest);
    unsaved.current = next;
    clearTimeout(timer.current);
    timer.current = setTimeout(() => void save(), saveAfterMs);
  };

  const shown = visibleQuestions(questions, answers, view.customer.type);

  /** What the page can tell before asking the server: unanswered required questions, incomplete owners. */
  const problemsFound = (): Record<string, string> => {
    const found: Record<string, string> = {};
    for (const question of shown) {
      const value = answers[question.key];
      if (isRequired(question, view.customer.type) && !isAnswered(question, value)) found[question.key] = t('kyc:customer.form.required');
      else if (question.type === 'beneficial_owners' && Array.isArray(value) && (value as BeneficialOwnerAnswer[]).some((owner) => ownerProblems(owner).length > 0))
        found[question.key] = t('kyc:customer.owners.incomplete');
    }
    return found;
  };

  const focusFirst = (keys: string[]) => {
    const first = shown.find((question) => keys.includes(question.key));
    if (first) document.getElementById(`question-${first.key}`)?.scrollIntoView({ block: 'center' });
    const control = first && document.querySelector<HTMLElement>(`#question-${CSS.escape(first.key)} input, #question-${CSS.escape(first.key)} textarea, #question-${CSS.escape(first.key)} button`);
    control?.focus();
  };

  const submit = async (event: Event) => {
    event.preventDefault();
    if (submitting) return;
    setBanner(undefined);
    const found = problemsFound();
    if (Object.keys(found).length > 0) {
      setErrors(found);
      setBanner(t('kyc:customer.form.fixErrors', { count: Object.keys(found).length }));
      focusFirst(Object.keys(found));
      return;
    }
    setSubmitting(true);
    clearTimeout(timer.current);
    unsaved.current = undefined;
    try {
      const { status } = await callApi<{ status: KycCaseStatus }>('/v1/kyc/customer/submit', { bearer: session, body: { answers: answersToSubmit(questions, answers, view.customer.type) } });
      await onSubmitted(status);
    } catch (failure) {
      if (failure instanceof ApiError && failure.status === 401) return onSessionEnded();
      if (failure instanceof ApiError && (failure.status === 422 || failure.status === 400)) {
        const keys = questionKeysNamed(failure.body.error?.details, shown.map((question) => question.key));
        setErrors(Object.fromEntries(keys.map((key) => [key, t('kyc:customer.form.checkAnswer')])));
        setBanner(keys.length > 0 ? t('kyc:customer.form.fixErrors', { count: keys.length }) : t('kyc:customer.form.refused'));
        focusFirst(keys);
      } else if (failure instanceof ApiError && failure.status === 409) {
        await onSubmitted(view.status); // the case moved on (ended, or already submitted): show where it is
      } else setBanner(describeFailure(failure, t));
    } finally {
      setSubmitting(false);
    }
  };

  return (
    <form class="questionnaire" onSubmit={submit} noValidate>
      <p>{t('kyc:customer.form.intro', { organization: view.organization.name })}</p>
      {view.changesRequested && (
        <div class="notice-box changes-requested" role="note">
          <p>
            <strong>{t('kyc:customer.form.changesRequested', { organization: view.organization.name })}</strong>
          </p>
          <blockquote>{view.changesRequested.reason}</blockquote>
        </div>
      )}
      <p class="hint">{t('kyc:customer.form.requiredHint')}</p>
      {shown.map((question) => (
        <QuestionField
          key={question.key}
          required={isRequired(question, view.customer.type)}
          t={t}
          locale={locale}
          question={question}
          value={answers[question.key]}
          error={errors[question.key]}
          uploads={uploads.filter((upload) => upload.questionKey === question.key)}
          session={session}
          onAnswer={(value) => answer(question.key, value)}
          onUploaded={(upload) => setUploads((known) => [...known, upload])}
          onRemoved={(id) => setUploads((known) => known.filter((upload) => upload.id !== id))}
          onSessionEnded={onSessionEnded}
        />
      ))}
      {banner && (
        <p class="error banner" role="alert">
          {banner}
        </p>
      )}
      <div class="actions kyc-submit">
        <button type="submit" disabled={submitting}>
          {submitting ? t('kyc:customer.form.submitting') : t('kyc:customer.form.submit')}
        </button>
        <p class="save-state muted" role="status">
          {saved.kind === 'saving'
            ? t('kyc:customer.form.saving')
            : saved.kind === 'saved'
              ? t('kyc:customer.form.saved', { time: new Intl.DateTimeFormat(intlTag(locale), { hour: '2-digit', minute: '2-digit' }).format(new Date(saved.at)) })
              : saved.kind === 'failed'
                ? t('kyc:customer.form.notSaved')
                : ''}
        </p>
      </div>
    </form>
  );
}

interface FieldProps {
  required: boolean;
  t: Translate;
  locale: Locale;
  question: QuestionDefinition;
  value: unknown;
  error?: string;
  uploads: Upload[];
  session: string;
  onAnswer(value: unknown): void;
  onUploaded(upload: Upload): void;
  onRemoved(id: string): void;
  onSessionEnded(): void;
}

function QuestionField(props: FieldProps) {
  const { t, locale, question, value, error } = props;
  const id = `q-${question.key}`;
  const label = localized(question.label, locale);
  const errorId = `${id}-error`;
  const required = props.required ? <span class="required-mark"> {t('kyc:customer.form.requiredMark')}</span> : null;
  const errorLine = error ? (
    <p id={errorId} class="error field-error" role="alert">
      {error}
    </p>
  ) : null;
  const invalid = error ? 'true' : undefined;
  const describedBy = error ? errorId : undefined;

  switch (question.type) {
    case 'text':
      return (
        <div class="question" id={`question-${question.key}`}>
          <label for={id}>
            {label}
            {required}
          </label>
          {question.multiline ? (
            <textarea
              id={id}
              rows={4}
              maxLength={question.maxLength}
              value={typeof value === 'string' ? value : ''}
              aria-invalid={invalid}
              aria-describedby={describedBy}
              aria-required={props.required}
              onInput={(event) => props.onAnswer((event.target as HTMLTextAreaElement).value || undefined)}
            />
          ) : (
            <input
              id={id}
              maxLength={question.maxLength}
              value={typeof value === 'string' ? value : ''}
              aria-invalid={invalid}
              aria-describedby={describedBy}
              aria-required={props.required}
              onInput={(event) => props.onAnswer((event.target as HTMLInputElement).value || undefined)}
            />
          )}
          {errorLine}
        </div>
      );
    case 'yes_no':
      return (
        <fieldset class="question choices-list" id={`question-${question.key}`} aria-describedby={describedBy} aria-invalid={invalid}>
          <legend>
            {label}
            {required}
          </legend>
          {([true, false] as const).map((choice) => (
            <label class="choice" key={String(choice)}>
              <input type="radio" name={id} checked={value === choice} onChange={() => props.onAnswer(choice)} />
              <span>{choice ? t('kyc:customer.form.yes') : t('kyc:customer.form.no')}</span>
            </label>
          ))}
          {errorLine}
        </fieldset>
      );
    case 'choice': {
      const chosen = Array.isArray(value) ? (value as string[]) : typeof value === 'string' ? [value] : [];
      return (
        <fieldset class="question choices-list" id={`question-${question.key}`} aria-describedby={describedBy} aria-invalid={invalid}>
          <legend>
            {label}
            {required}
          </legend>
          {question.multiple && <p class="hint">{t('kyc:customer.form.chooseAny')}</p>}
          {question.options.map((option) => (
            <label class="choice" key={option.value}>
              <input
                type={question.multiple ? 'checkbox' : 'radio'}
                name={id}
                checked={chosen.includes(option.value)}
                onChange={(event) => {
                  if (!question.multiple) return props.onAnswer(option.value);
                  const on = (event.target as HTMLInputElement).checked;
                  const next = on ? [...chosen, option.value] : chosen.filter((item) => item !== option.value);
                  props.onAnswer(next.length > 0 ? next : undefined);
                }}
              />
              <span>{localized(option.label, locale)}</span>
            </label>
          ))}
          {errorLine}
        </fieldset>
      );
    }
    case 'beneficial_owners':
      return <OwnersField {...props} label={label} requiredMark={required} errorLine={errorLine} />;
    case 'upload':
      return <UploadField {...props} label={label} requiredMark={required} errorLine={errorLine} />;
  }
}

const emptyOwner = (): BeneficialOwnerAnswer => ({ name: '', birthdate: '', ownershipPercent: 0, pep: false });

function OwnersField({ t, question, value, error, onAnswer, label, requiredMark, errorLine }: FieldProps & { label: string; requiredMark: preact.ComponentChildren; errorLine: preact.ComponentChildren }) {
  const owners = Array.isArray(value) ? (value as BeneficialOwnerAnswer[]) : [];
  const id = `q-${question.key}`;
  const change = (index: number, patch: Partial<BeneficialOwnerAnswer>) => onAnswer(owners.map((owner, at) => (at === index ? { ...owner, ...patch } : owner)));
  return (
    <fieldset class="question owners" id={`question-${question.key}`} aria-describedby={error ? `${id}-error` : `${id}-hint`}>
      <legend>
        {label}
        {requiredMark}
      </legend>
      <p class="hint" id={`${id}-hint`}>
        {t('kyc:customer.owners.hint')}
      </p>
      {owners.length === 0 && <p class="muted">{t('kyc:customer.owners.none')}</p>}
      <ol class="owner-rows">
        {owners.map((owner, index) => {
          const rowId = `${id}-${index}`;
          const problems = error ? ownerProblems(owner) : [];
          return (
            <li key={index} class="owner-row">
              <fieldset>
                <legend>{t('kyc:customer.owners.owner', { number: index + 1 })}</legend>
                <label for={`${rowId}-name`}>{t('kyc:customer.owners.name')}</label>
                <input id={`${rowId}-name`} autoComplete="off" value={owner.name} aria-invalid={problems.includes('name') ? 'true' : undefined} onInput={(event) => change(index, { name: (event.target as HTMLInputElement).value })} />
                <label for={`${rowId}-birthdate`}>{t('kyc:customer.owners.birthdate')}</label>
                <input
                  id={`${rowId}-birthdate`}
                  type="date"
                  value={owner.birthdate}
                  aria-invalid={problems.includes('birthdate') ? 'true' : undefined}
                  onInput={(event) => change(index, { birthdate: (event.target as HTMLInputElement).value })}
                />
                <label for={`${rowId}-share`}>{t('kyc:customer.owners.share')}</label>
                <input
                  id={`${rowId}-share`}
                  type="number"
                  inputMode="decimal"
                  min={25}
                  max={100}
                  step="any"
                  value={owner.ownershipPercent || ''}
                  aria-invalid={problems.includes('ownershipPercent') ? 'true' : undefined}
                  aria-describedby={`${rowId}-share-hint`}
                  onInput={(event) => change(index, { ownershipPercent: Number((event.target as HTMLInputElement).value) || 0 })}
                />
                <p class="hint" id={`${rowId}-share-hint`}>
                  {t('kyc:customer.owners.shareHint')}
                </p>
                <div class="checkbox">
                  <input id={`${rowId}-pep`} type="checkbox" checked={owner.pep} onChange={(event) => change(index, { pep: (event.target as HTMLInputElement).checked })} />
                  <label for={`${rowId}-pep`}>{t('kyc:customer.owners.pep')}</label>
                </div>
                <button type="button" class="secondary" onClick={() => onAnswer(owners.length > 1 ? owners.filter((_, at) => at !== index) : undefined)}>
                  {t('kyc:customer.owners.remove', { number: index + 1 })}
                </button>
              </fieldset>
            </li>
          );
        })}
      </ol>
      {owners.length < maxBeneficialOwners && (
        <button type="button" class="secondary" onClick={() => onAnswer([...owners, emptyOwner()])}>
          {t('kyc:customer.owners.add')}
        </button>
      )}
      {errorLine}
    </fieldset>
  );
}

/** A size in the reader's words: "2.5 MB". */
function formatBytes(bytes: number, locale: Locale): string {
  const format = (value: number, unit: string) => `${new Intl.NumberFormat(intlTag(locale), { maximumFractionDigits: 1 }).format(value)} ${unit}`;
  if (bytes >= 1024 * 1024) return format(bytes / (1024 * 1024), 'MB');
  if (bytes >= 1024) return format(bytes / 1024, 'kB');
  return format(bytes, 'B');
}

function UploadField({ t, locale, question, value, uploads, session, onAnswer, onUploaded, onRemoved, onSessionEnded, label, requiredMark, errorLine }: FieldProps & { label: string; requiredMark: preact.ComponentChildren; errorLine: preact.ComponentChildren }) {
  // Only upload questions come here; the narrowing names their accepted types and size limit.
  const definition = question as Extract<QuestionDefinition, { type: 'upload' }>;
  const id = `q-${question.key}`;
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<string | undefined>();
  const chosenIds = Array.isArray(value) ? (value as string[]) : typeof value === 'string' ? [value] : [];
  const files = uploads.filter((upload) => chosenIds.includes(upload.id));
  const limit = formatBytes(definition.maxBytes, locale);

  const send = async (file: File) => {
    setProblem(undefined);
    if (file.size > definition.maxBytes) return setProblem(t('kyc:customer.upload.tooLarge', { name: file.name, max: limit }));
    setBusy(true);
    const form = new FormData();
    form.append('questionKey', question.key);
    form.append('file', file, file.name);
    try {
      let response: Response;
      try {
        response = await fetch('/v1/kyc/customer/uploads', { method: 'POST', headers: { authorization: `Bearer ${session}`, accept: 'application/json' }, body: form });
      } catch {
        throw new NetworkError('network');
      }
      if (response.status === 401) return onSessionEnded();
      if (response.status === 413) return setProblem(t('kyc:customer.upload.tooLarge', { name: file.name, max: limit }));
      if (response.status === 415 || response.status === 422 || response.status === 400) return setProblem(t('kyc:customer.upload.refused', { name: file.name, types: acceptedKinds(definition.accept) }));
      if (!response.ok) return setProblem(t('common:genericError'));
      const stored = (await response.json()) as Upload;
      onUploaded(stored);
      onAnswer(stored.id);
    } catch (failure) {
      setProblem(describeFailure(failure, t));
    } finally {
      setBusy(false);
    }
  };

  const remove = async (upload: Upload) => {
    setProblem(undefined);
    try {
      await callApi(`/v1/kyc/customer/uploads/${encodeURIComponent(upload.id)}`, { method: 'DELETE', bearer: session });
    } catch (failure) {
      if (failure instanceof ApiError && failure.status === 401) return onSessionEnded();
      if (!(failure instanceof ApiError && failure.status === 404)) return setProblem(describeFailure(failure, t));
    }
    onRemoved(upload.id);
    onAnswer(undefined);
  };

  return (
    <div class="question upload" id={`question-${question.key}`}>
      <label for={id}>
        {label}
        {requiredMark}
      </label>
      <p class="hint" id={`${id}-hint`}>
        {t('kyc:customer.upload.hint', { types: acceptedKinds(definition.accept), max: limit })}
      </p>
      {files.length > 0 ? (
        <ul class="uploaded">
          {files.map((upload) => (
            <li key={upload.id}>
              <span class="file-name">{upload.filename}</span> <span class="muted">({formatBytes(upload.bytes, locale)})</span>
              <button type="button" class="secondary small" onClick={() => void remove(upload)}>
                {t('kyc:customer.upload.remove', { name: upload.filename })}
              </button>
            </li>
          ))}
        </ul>
      ) : (
        <input
          id={id}
          type="file"
          accept={definition.accept.join(',')}
          disabled={busy}
          aria-describedby={problem ? `${id}-problem` : `${id}-hint`}
          aria-invalid={problem ? 'true' : undefined}
          onChange={(event) => {
            const input = event.target as HTMLInputElement;
            const file = input.files?.[0];
            input.value = '';
            if (file) void send(file);
          }}
        />
      )}
      {busy && (
        <p class="muted" role="status">
          {t('kyc:customer.upload.sending')}
        </p>
      )}
      {problem && (
        <p id={`${id}-problem`} class="error field-error" role="alert">
          {problem}
        </p>
      )}
      {errorLine}
    </div>
  );
}

/** `application/pdf`, `image/*`, `.png` as a reader says them: "PDF, images, PNG". */
function acceptedKinds(accept: string[]): string {
  return accept
    .map((kind) => (kind === 'image/*' ? 'JPG/PNG' : kind.startsWith('.') ? kind.slice(1).toUpperCase() : (kind.split('/')[1] ?? kind).toUpperCase()))
    .filter((kind, index, all) => all.indexOf(kind) === index)
    .join(', ');
}
