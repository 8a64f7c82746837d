/**
 * An organisation's public privacy page (issue 14 part 4, mobile first). At /privacy/<slug>: the intake form
 * (what the requester wants, in plain words; how to reach them), then "check your email". At
 * /privacy/<slug>/r/<token> (the link in that email): the code entry, then the request's status (deadline,
 * extension and its reason, what happens next, the answer) and, for an access request, the download of the
 * package after confirming again with a fresh code. It only calls the public requester API (/v1/privacy/*).
 */
import type { ComponentChildren } from 'preact';
import { render } from 'preact';
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { formatDate, localeNames, locales, translator, type Locale, type Translate } from '../../../i18n';
import { dataSubjectRequestTypes, type DataSubjectRequestType, type PublicDataSubjectRequestReceipt, type RequesterStatusView } from '../../../contract/data-subject-requests';
import { readBootstrap } from '../shared/bootstrap';
import { ApiError, callApi, NetworkError } from '../shared/http';

interface Bootstrap {
  slug: string;
  organizationName: string;
  locale: Locale;
  token?: string;
  /** eID is offered next to the code (an eID broker is configured). */
  eidAvailable?: boolean;
}

const boot = readBootstrap<Bootstrap>();
/** Set once this tab confirmed the link's code: only then is the session cookie (one per browser) this link's. */
const confirmedKey = boot.token ? `sigill.privacy.${boot.token.slice(0, 64)}` : '';
const readerZone = () => Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';

/**
 * A message kept as its catalog key (and values) and said with the page's current language when shown: a
 * sentence kept in state would stay in the language it was written in after the reader switches.
 */
interface Said {
  key: string;
  values?: Record<string, unknown>;
}
const said = (key: string, values?: Record<string, unknown>): Said => ({ key, values });
const say = (t: Translate, message: Said): string => t(message.key, message.values ?? {});

function describeFailure(error: unknown): Said {
  if (error instanceof NetworkError) return said('common:offline');
  if (error instanceof ApiError && error.status === 429) return said('privacy:code.tooMany');
  return said('common:genericError');
}

/** The page frame; its heading takes focus when the screen changes, so a screen reader hears the new state. */
function Frame(props: { heading: string; locale: Locale; onLocale(locale: Locale): void; t: Translate; children: ComponentChildren }) {
  const title = useRef<HTMLHeadingElement>(null);
  useEffect(() => title.current?.focus(), [props.heading]);
  return (
    <main class="page privacy-page">
      <div class="privacy-top">
        <p class="brand">{boot.organizationName}</p>
        <nav class="privacy-languages" aria-label={props.t('privacy:language')}>
          {locales.map((code) => (
            <button type="button" class="link-button" key={code} lang={code} aria-pressed={code === props.locale} onClick={() => props.onLocale(code)}>
              {localeNames[code]}
            </button>
          ))}
        </nav>
      </div>
      <div class="card">
        <h1 ref={title} tabIndex={-1}>
          {props.heading}
        </h1>
        {props.children}
      </div>
    </main>
  );
}

function App() {
  const [locale, setLocale] = useState<Locale>(boot.locale);
  const t = useMemo(() => translator(locale), [locale]);
  useEffect(() => {
    document.documentElement.lang = locale;
    document.title = t('privacy:pageTitle');
  }, [locale]);
  const frame = (heading: string, children: ComponentChildren) => (
    <Frame heading={heading} locale={locale} onLocale={setLocale} t={t}>
      {children}
    </Frame>
  );
  return boot.token ? <StatusFlow token={boot.token} t={t} locale={locale} setLocale={setLocale} frame={frame} /> : <Intake t={t} locale={locale} frame={frame} />;
}

type FrameOf = (heading: string, children: ComponentChildren) => ComponentChildren;

// ---------------------------------------------------------------------------------------------------------
// Intake

interface IntakeFields {
  type: DataSubjectRequestType | '';
  name: string;
  email: string;
  phone: string;
  details: string;
}

const emptyFields: IntakeFields = { type: '', name: '', email: '', phone: '', details: '' };

/** Field errors of a 422 answer, by field path without `body.` and `requester.`. */
function issuesOf(error: unknown): Record<string, string> {
  if (!(error instanceof ApiError)) return {};
  const details = error.body.error?.details as unknown as { issues?: Array<{ path?: string; message?: string }> } | Array<{ path?: string; message?: string }> | undefined;
  const issues = Array.isArray(details) ? details : (details?.issues ?? []);
  const byField: Record<string, string> = {};
  for (const issue of issues) if (issue.path && issue.message) byField[issue.path.replace(/^body\./, '').replace(/^requester\./, '')] ??= issue.message;
  return byField;
}

function Intake({ t, locale, frame }: { t: Translate; locale: Locale; frame: FrameOf }) {
  const [fields, setFields] = useState<IntakeFields>(emptyFields);
  const [errors, setErrors] = useState<Partial<Record<keyof IntakeFields, Said>>>({});
  const [failure, setFailure] = useState<Said | undefined>();
  const [sending, setSending] = useState(false);
  const [receipt, setReceipt] = useState<{ email: string; view: PublicDataSubjectRequestReceipt } | undefined>();
  const summary = useRef<HTMLParagraphElement>(null);

  const set = (name: keyof IntakeFields) => (event: Event) => setFields({ ...fields, [name]: (event.target as HTMLInputElement).value });

  const submit = async (event: Event) => {
    event.preventDefault();
    const missing: Partial<Record<keyof IntakeFields, Said>> = {};
    if (!fields.type) missing.type = said('privacy:intake.chooseType');
    if (!fields.name.trim()) missing.name = said('privacy:intake.required');
    if (!fields.email.trim()) missing.email = said('privacy:intake.required');
    setErrors(missing);
    setFailure(undefined);
    if (Object.keys(missing).length > 0) {
      focusFirstInvalid(missing);
      return;
    }
    setSending(true);
    try {
      const view = await callApi<PublicDataSubjectRequestReceipt>(`/v1/privacy/${encodeURIComponent(boot.slug)}/requests`, {
        body: {
          type: fields.type,
          requester: { name: fields.name.trim(), email: fields.email.trim(), ...(fields.phone.trim() ? { phone: fields.phone.replace(/[\s-]/g, '') } : {}), locale },
          ...(fields.details.trim() ? { details: fields.details.trim() } : {}),
        },
      });
      setReceipt({ email: fields.email.trim(), view });
    } catch (error) {
      const byField = issuesOf(error);
      // The API's words are English; each field's problem is said in the reader's language instead.
      const problem = (name: string) => said(name === 'email' ? 'privacy:intake.emailInvalid' : name === 'phone' ? 'privacy:intake.phoneInvalid' : 'privacy:intake.invalid');
      const known = Object.fromEntries(Object.keys(byField).filter((name) => name in emptyFields).map((name) => [name, problem(name)])) as Partial<Record<keyof IntakeFields, Said>>;
      if (Object.keys(known).length > 0) {
        setErrors(known);
        setFailure(said('privacy:intake.fixErrors'));
        focusFirstInvalid(known);
      } else {
        setFailure(describeFailure(error));
        summary.current?.focus();
      }
    } finally {
      setSending(false);
    }
  };

  if (receipt) {
    const zone = readerZone();
    return frame(
      t('privacy:intake.sentHeading'),
      <>
        <p role="status">{t('privacy:intake.sentBody', { email: receipt.email })}</p>
        <p>
          {t('privacy:intake.sentDeadline', {
            organization: boot.organizationName,
            received: formatDate(receipt.view.receivedAt, locale, zone),
            due: formatDate(receipt.view.dueAt, locale, zone),
          })}
        </p>
        <div class="actions">
          <button
            type="button"
            class="secondary"
            onClick={() => {
              setFields(emptyFields);
              setReceipt(undefined);
            }}
          >
            {t('privacy:intake.anotherRequest')}
          </button>
        </div>
      </>,
    );
  }

  const fieldError = (name: keyof IntakeFields) =>
    errors[name] ? (
      <p class="error field-error" id={`${name}-error`}>
        {say(t, errors[name])}
      </p>
    ) : null;
  const described = (name: keyof IntakeFields, hint?: boolean) => [hint ? `${name}-hint` : '', errors[name] ? `${name}-error` : ''].filter(Boolean).join(' ') || undefined;

  return frame(
    t('privacy:intake.heading', { organization: boot.organizationName }),
    <form class="privacy-form" noValidate onSubmit={(event) => void submit(event)}>
      <p>{t('privacy:intake.intro', { organization: boot.organizationName })}</p>
      {failure && (
        <p class="banner" role="alert" tabIndex={-1} ref={summary}>
          {say(t, failure)}
        </p>
      )}
      <fieldset class="question choices-list" id="field-type" aria-invalid={errors.type ? true : undefined} aria-describedby={described('type')}>
        <legend>{t('privacy:intake.typeLegend')}</legend>
        {dataSubjectRequestTypes.map((type) => (
          <label class="choice privacy-type" key={type}>
            <input type="radio" name="type" value={type} checked={fields.type === type} onChange={() => setFields({ ...fields, type })} aria-describedby={`type-${type}-hint`} />
            <span>
              <strong>{t(`privacy:type.${type}`)}</strong>
              <span class="hint" id={`type-${type}-hint`}>
                {t(`privacy:typeHint.${type}`)}
              </span>
            </span>
          </label>
        ))}
        {fieldError('type')}
      </fieldset>
      <label for="field-name">{t('privacy:intake.name')}</label>
      <input id="field-name" autoComplete="name" value={fields.name} onInput={set('name')} aria-invalid={errors.name ? true : undefined} aria-describedby={described('name')} required />
      {fieldError('name')}
      <label for="field-email">{t('privacy:intake.email')}</label>
      <p class="hint" id="email-hint">
        {t('privacy:intake.emailHint')}
      </p>
      <input id="field-email" type="email" autoComplete="email" value={fields.email} onInput={set('email')} aria-invalid={errors.email ? true : undefined} aria-describedby={described('email', true)} required />
      {fieldError('email')}
      <label for="field-phone">{t('privacy:intake.phone')}</label>
      <p class="hint" id="phone-hint">
        {t('privacy:intake.phoneHint')}
      </p>
      <input id="field-phone" type="tel" autoComplete="tel" value={fields.phone} onInput={set('phone')} aria-invalid={errors.phone ? true : undefined} aria-describedby={described('phone', true)} />
      {fieldError('phone')}
      <label for="field-details">{t('privacy:intake.details')}</label>
      <p class="hint" id="details-hint">
        {t('privacy:intake.detailsHint')}
      </p>
      <textarea id="field-details" rows={4} value={fields.details} onInput={set('details')} aria-invalid={errors.details ? true : undefined} aria-describedby={described('details', true)} />
      {fieldError('details')}
      <div class="actions">
        <button type="submit" disabled={sending}>
          {sending ? t('privacy:intake.sending') : t('privacy:intake.submit')}
        </button>
      </div>
    </form>,
  );
}

/** Moves focus to the first field with an error, after the errors rendered. */
function focusFirstInvalid(errors: Partial<Record<keyof IntakeFields, Said>>) {
  const order: Array<keyof IntakeFields> = ['type', 'name', 'email', 'phone', 'details'];
  const first = order.find((name) => errors[name]);
  if (!first) return;
  setTimeout(() => {
    const target = first === 'type' ? document.querySelector<HTMLInputElement>('#field-type input') : document.getElementById(`field-${first}`);
    target?.focus();
  });
}

// ---------------------------------------------------------------------------------------------------------
// The requester's link: code, status, download

type Screen = { kind: 'starting' } | { kind: 'unknown' } | { kind: 'code'; notice?: Said } | { kind: 'status'; view: RequesterStatusView };

function StatusFlow({ token, t, locale, setLocale, frame }: { token: string; t: Translate; locale: Locale; setLocale(locale: Locale): void; frame: FrameOf }) {
  const [screen, setScreen] = useState<Screen>({ kind: 'starting' });

  const show = (view: RequesterStatusView) => {
    setLocale(view.locale);
    setScreen({ kind: 'status', view });
  };

  // Right after the code the request's workflow records the identity a moment later than the answer came:
  // the page asks again for a short while rather than show "waiting for your code" to someone who just sent it.
  const catchUps = useRef(0);
  const waitingForWorkflow = screen.kind === 'status' && screen.view.status === 'awaiting_identity';
  useEffect(() => {
    if (!waitingForWorkflow || catchUps.current >= 30) return;
    const timer = setTimeout(() => {
      catchUps.current += 1;
      callApi<RequesterStatusView>('/v1/privacy/requests/status').then(show, () => undefined);
    }, 1000);
    return () => clearTimeout(timer);
  }, [screen]);

  useEffect(() => {
    // Back from the eID broker: `?eid=ok` trades this browser's identification for the status session.
    const eid = new URLSearchParams(location.search).get('eid');
    if (eid) history.replaceState(null, '', location.pathname);
    if (eid === 'ok') {
      callApi<RequesterStatusView>('/v1/privacy/requests/eid/session', { body: { token } }).then(
        (view) => {
          sessionStorage.setItem(confirmedKey, '1');
          show(view);
        },
        (error: unknown) => {
          if (error instanceof ApiError && error.status === 404) setScreen({ kind: 'unknown' });
          else setScreen({ kind: 'code', notice: said('privacy:eid.failed') });
        },
      );
      return;
    }
    if (eid === 'cancelled' || eid === 'failed') {
      setScreen({ kind: 'code', notice: said(`privacy:eid.${eid}`) });
      return;
    }
    if (!sessionStorage.getItem(confirmedKey)) {
      setScreen({ kind: 'code' });
      return;
    }
    callApi<RequesterStatusView>('/v1/privacy/requests/status').then(show, (error: unknown) => {
      sessionStorage.removeItem(confirmedKey);
      setScreen({ kind: 'code', notice: error instanceof ApiError && error.status === 401 ? said('privacy:status_page.sessionEnded') : undefined });
    });
  }, []);

  switch (screen.kind) {
    case 'starting':
      return frame(
        t('privacy:pageTitle'),
        <p role="status" class="muted">
          {t('common:loading')}
        </p>,
      );
    case 'unknown':
      return frame(t('privacy:link.unknownHeading'), <p>{t('privacy:link.unknownBody')}</p>);
    case 'code':
      return frame(
        t('privacy:code.heading'),
        <>
          <CodeForm
            t={t}
            notice={screen.notice}
            intro={t('privacy:code.intro')}
            submitLabel={t('privacy:code.confirm')}
            token={token}
            onUnknownLink={() => setScreen({ kind: 'unknown' })}
            onCode={async (code) => {
              const view = await callApi<RequesterStatusView>('/v1/privacy/requests/confirm', { body: { token, code } });
              sessionStorage.setItem(confirmedKey, '1');
              show(view);
            }}
          />
          {boot.eidAvailable && <EidButton t={t} token={token} onUnknownLink={() => setScreen({ kind: 'unknown' })} />}
        </>,
      );
    case 'status':
      return frame(
        t('privacy:status_page.heading', { type: t(`privacy:type.${screen.view.type}`).toLowerCase() }),
        <StatusView view={screen.view} t={t} locale={locale} token={token} onSessionEnded={() => setScreen({ kind: 'code', notice: said('privacy:status_page.sessionEnded') })} />,
      );
  }
}

/** Instead of the code: identify with eID at the broker, which sends the browser back here with `?eid=…`. */
function EidButton(props: { t: Translate; token: string; onUnknownLink(): void }) {
  const { t } = props;
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<Said | undefined>();
  const start = async () => {
    setBusy(true);
    setError(undefined);
    try {
      const started = await callApi<{ authorizationUrl: string }>('/v1/privacy/requests/eid/start', { body: { token: props.token } });
      location.assign(started.authorizationUrl);
    } catch (failure) {
      setBusy(false);
      if (failure instanceof ApiError && failure.status === 404) return props.onUnknownLink();
      setError(failure instanceof ApiError && failure.status === 422 ? said('privacy:eid.unavailable') : describeFailure(failure));
    }
  };
  return (
    <section class="privacy-eid" aria-labelledby="privacy-eid-heading">
      <h2 id="privacy-eid-heading">{t('privacy:eid.heading')}</h2>
      <p>{t('privacy:eid.intro')}</p>
      {error && (
        <p class="error" role="alert">
          {say(t, error)}
        </p>
      )}
      <button type="button" class="secondary" disabled={busy} onClick={() => void start()}>
        {t('privacy:eid.button')}
      </button>
    </section>
  );
}

/** The 8-digit code, with "send a new code"; wrong codes, a lock and an expired code said in words next to the field. */
function CodeForm(props: {
  t: Translate;
  token: string;
  intro: string;
  submitLabel: string;
  notice?: Said;
  onCode(code: string): Promise<void>;
  onUnknownLink(): void;
}) {
  const { t } = props;
  const [code, setCode] = useState('');
  const [error, setError] = useState<Said | undefined>();
  const [notice, setNotice] = useState<Said | undefined>(props.notice);
  const [busy, setBusy] = useState(false);
  const input = useRef<HTMLInputElement>(null);

  const failed = (failure: unknown) => {
    if (failure instanceof ApiError && failure.status === 404) return props.onUnknownLink();
    if (failure instanceof ApiError && failure.status === 401) setError(said('privacy:code.wrong', { count: Number(failure.body.attemptsLeft ?? 0) }));
    else if (failure instanceof ApiError && failure.status === 423) setError(said('privacy:code.locked'));
    else if (failure instanceof ApiError && failure.status === 409) setError(said('privacy:code.expired'));
    else setError(describeFailure(failure));
    input.current?.focus();
  };

  const submit = async (event: Event) => {
    event.preventDefault();
    const digits = code.replace(/\s/g, '');
    if (!/^\d{8}$/.test(digits)) {
      setError(said('privacy:code.wrongFormat'));
      input.current?.focus();
      return;
    }
    setBusy(true);
    setError(undefined);
    setNotice(undefined);
    try {
      await props.onCode(digits);
    } catch (failure) {
      failed(failure);
    } finally {
      setBusy(false);
    }
  };

  const resend = async () => {
    setBusy(true);
    setError(undefined);
    try {
      await callApi('/v1/privacy/requests/resend-code', { body: { token: props.token } });
      setNotice(said('privacy:code.resent'));
      setCode('');
      input.current?.focus();
    } catch (failure) {
      failed(failure);
    } finally {
      setBusy(false);
    }
  };

  return (
    <form class="privacy-code" noValidate onSubmit={(event) => void submit(event)}>
      <p>{props.intro}</p>
      {notice && (
        <p class="notice" role="status">
          {say(t, notice)}
        </p>
      )}
      <label for="privacy-code">{t('privacy:code.label')}</label>
      <input
        id="privacy-code"
        ref={input}
        inputMode="numeric"
        autoComplete="one-time-code"
        maxLength={12}
        value={code}
        onInput={(event) => setCode((event.target as HTMLInputElement).value)}
        aria-invalid={error ? true : undefined}
        aria-describedby={error ? 'privacy-code-error' : undefined}
      />
      {error && (
        <p class="error field-error" id="privacy-code-error" role="alert">
          {say(t, error)}
        </p>
      )}
      <div class="actions">
        <button type="submit" disabled={busy}>
          {props.submitLabel}
        </button>
        <button type="button" class="secondary" disabled={busy} onClick={() => void resend()}>
          {t('privacy:code.resend')}
        </button>
      </div>
    </form>
  );
}

const sizeText = (bytes: number, locale: Locale) =>
  bytes >= 1024 * 1024
    ? `${new Intl.NumberFormat(locale, { maximumFractionDigits: 1 }).format(bytes / 1024 / 1024)} MB`
    : `${new Intl.NumberFormat(locale, { maximumFractionDigits: 0 }).format(Math.max(1, bytes / 1024))} kB`;

function StatusView({ view, t, locale, token, onSessionEnded }: { view: RequesterStatusView; t: Translate; locale: Locale; token: string; onSessionEnded(): void }) {
  const zone = readerZone();
  const date = (value: string) => formatDate(value, locale, zone);
  const deadline = view.extendedUntil ?? view.dueAt;
  const kept = view.handledRecords.filter((record) => record.action === 'kept' && record.legalBasis);
  const keptLines = [...new Set(kept.map((record) => `${record.legalBasis}: ${record.explanation ?? ''}`.trim()))];
  const erased = view.handledRecords.filter((record) => record.action === 'erased').length;
  return (
    <>
      <dl class="facts privacy-facts">
        <div>
          <dt>{t('privacy:status_page.organization')}</dt>
          <dd>{view.organization.name}</dd>
        </div>
        <div>
          <dt>{t('privacy:status_page.type')}</dt>
          <dd>{t(`privacy:type.${view.type}`)}</dd>
        </div>
        <div>
          <dt>{t('privacy:status_page.status')}</dt>
          <dd data-status={view.status}>{t(`privacy:status.${view.status}`)}</dd>
        </div>
        <div>
          <dt>{t('privacy:status_page.received')}</dt>
          <dd>{date(view.receivedAt)}</dd>
        </div>
        <div>
          <dt>{t('privacy:status_page.deadline')}</dt>
          <dd>{date(view.dueAt)}</dd>
        </div>
        {view.extendedUntil && (
          <div>
            <dt>{t('privacy:status_page.extendedUntil')}</dt>
            <dd>{date(view.extendedUntil)}</dd>
          </div>
        )}
        {view.extensionReason && (
          <div>
            <dt>{t('privacy:status_page.extensionReason')}</dt>
            <dd class="answer-text">{view.extensionReason}</dd>
          </div>
        )}
        {view.identityConfirmedAt && (
          <div>
            <dt>{t('privacy:status_page.identityConfirmed')}</dt>
            <dd>{date(view.identityConfirmedAt)}</dd>
          </div>
        )}
        {view.completedAt && (
          <div>
            <dt>{t('privacy:status_page.completed')}</dt>
            <dd>{date(view.completedAt)}</dd>
          </div>
        )}
      </dl>
      <h2>{t('privacy:status_page.nextHeading')}</h2>
      <p>{t(`privacy:status_page.next.${view.status}`, { organization: view.organization.name, deadline: date(deadline) })}</p>
      {view.answer && (
        <>
          <h2>{t('privacy:status_page.answer')}</h2>
          <p class="answer-text">{view.answer}</p>
        </>
      )}
      {view.rejectionReason && (
        <>
          <h2>{t('privacy:status_page.rejectionReason')}</h2>
          <p class="answer-text">{view.rejectionReason}</p>
        </>
      )}
      {view.type === 'erasure' && view.status === 'completed' && <p>{t('privacy:status_page.erasedCount', { count: erased })}</p>}
      {keptLines.length > 0 && (
        <>
          <h2>{t('privacy:status_page.keptHeading')}</h2>
          <ul>
            {keptLines.map((line) => (
              <li key={line}>{line}</li>
            ))}
          </ul>
        </>
      )}
      {view.accessPackage && <AccessPackage pkg={view.accessPackage} t={t} locale={locale} date={date} token={token} onSessionEnded={onSessionEnded} />}
    </>
  );
}

/** The access package: a fresh code first (re-confirmation), then the ZIP, while the download is valid. */
function AccessPackage(props: { pkg: NonNullable<RequesterStatusView['accessPackage']>; t: Translate; locale: Locale; date(value: string): string; token: string; onSessionEnded(): void }) {
  const { pkg, t } = props;
  const [stage, setStage] = useState<'idle' | 'code' | 'done'>('idle');
  const [error, setError] = useState<Said | undefined>();
  const [busy, setBusy] = useState(false);
  if (pkg.expired) {
    return (
      <>
        <h2>{t('privacy:status_page.packageHeading')}</h2>
        <p>{t('privacy:status_page.packageExpired', { expires: props.date(pkg.expiresAt) })}</p>
      </>
    );
  }
  const askForCode = async () => {
    setBusy(true);
    setError(undefined);
    try {
      await callApi('/v1/privacy/requests/resend-code', { body: { token: props.token } });
      setStage('code');
    } catch (failure) {
      setError(describeFailure(failure));
    } finally {
      setBusy(false);
    }
  };
  return (
    <section aria-labelledby="package-heading">
      <h2 id="package-heading">{t('privacy:status_page.packageHeading')}</h2>
      <p>{t('privacy:status_page.packageBody', { size: sizeText(pkg.size, props.locale), expires: props.date(pkg.expiresAt) })}</p>
      {error && (
        <p class="error" role="alert">
          {say(t, error)}
        </p>
      )}
      {stage === 'done' && (
        <p class="notice" role="status">
          {t('privacy:status_page.downloaded')}
        </p>
      )}
      {stage !== 'code' && (
        <div class="actions">
          <button type="button" disabled={busy} onClick={() => void askForCode()}>
            {t('privacy:status_page.download')}
          </button>
        </div>
      )}
      {stage === 'code' && (
        <CodeForm
          t={t}
          token={props.token}
          intro={t('privacy:status_page.downloadCodeIntro')}
          submitLabel={t('privacy:status_page.downloadConfirm')}
          onUnknownLink={props.onSessionEnded}
          onCode={async (code) => {
            await downloadPackage(code, props.onSessionEnded);
            setStage('done');
          }}
        />
      )}
    </section>
  );
}

async function downloadPackage(code: string, onSessionEnded: () => void): Promise<void> {
  let response: Response;
  try {
    response = await fetch('/v1/privacy/requests/access-package', {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/zip, application/json' },
      body: JSON.stringify({ code }),
      credentials: 'same-origin',
    });
  } catch {
    throw new NetworkError('network');
  }
  if (!response.ok) {
    const body = ((await response.json().catch(() => undefined)) ?? {}) as ConstructorParameters<typeof ApiError>[2];
    const error = new ApiError(response.status, body.error?.code ?? `http_${response.status}`, body);
    // A 401 without attempts left is a missing session, not a wrong code.
    if (response.status === 401 && body.attemptsLeft === undefined) onSessionEnded();
    throw error;
  }
  const name = /filename="?([^";]+)"?/.exec(response.headers.get('content-disposition') ?? '')?.[1] ?? 'personal-data.zip';
  const url = URL.createObjectURL(await response.blob());
  const anchor = document.createElement('a');
  anchor.href = url;
  anchor.download = name;
  document.body.append(anchor);
  anchor.click();
  anchor.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

render(<App />, document.getElementById('app')!);
