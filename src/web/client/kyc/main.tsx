/**
 * The customer's KYC page at PUBLIC_URL/k/<token> (issue 13, mobile first): the link's state, identification
 * (the PIN, or eID through the broker), the questionnaire with its draft saved as the customer goes, the
 * handoff to the signer page for the declaration, and a page for every state a case can end in. It only
 * calls the public customer API (/v1/kyc/customer/*). The language is the case's, told by the link.
 */
import { render } from 'preact';
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { formatDate, translator, type Locale, type Translate } from '../../../i18n';
import type { CustomerCaseView, KycCaseStatus, KycIdentification } from '../../../contract/kyc-cases';
import { readBootstrap } from '../shared/bootstrap';
import { ApiError, callApi } from '../shared/http';
import { describeFailure, Frame, readerZone } from './customer-parts';
import { QuestionnaireForm } from './questionnaire-form';

interface Bootstrap {
  token: string;
  locale: Locale;
}

interface LinkAnswer {
  state: 'unknown' | 'ended' | 'locked' | 'open';
  locale?: Locale;
  identification?: KycIdentification;
}

type EidOutcome = 'ok' | 'mismatch' | 'cancelled' | 'failed';

type Screen =
  | { kind: 'starting' }
  | { kind: 'unknown' | 'ended' | 'locked' }
  | { kind: 'pin'; notice?: string }
  | { kind: 'eid'; notice?: string }
  | { kind: 'case'; view: CustomerCaseView };

const { token, locale: startLocale } = readBootstrap<Bootstrap>();
const sessionKey = `sigill.kyc.${token}`;

/** The eID broker sends the browser back with `?eid=<outcome>`; read once, then taken out of the address. */
function takeEidOutcome(): EidOutcome | undefined {
  const outcome = new URLSearchParams(location.search).get('eid');
  if (outcome === null) return undefined;
  history.replaceState(null, '', location.pathname);
  return (['ok', 'mismatch', 'cancelled', 'failed'] as const).find((known) => known === outcome) ?? 'failed';
}

function App() {
  const [locale, setShownLocale] = useState<Locale>(startLocale);
  // Read by callbacks made before the case's language was known (a closure would speak the browser's).
  const currentLocale = useRef<Locale>(startLocale);
  const setLocale = (chosen: Locale) => {
    currentLocale.current = chosen;
    setShownLocale(chosen);
  };
  const t = useMemo(() => translator(locale), [locale]);
  const [screen, setScreen] = useState<Screen>({ kind: 'starting' });
  const [session, setSession] = useState<string | undefined>(() => sessionStorage.getItem(sessionKey) ?? undefined);
  const identification = useRef<KycIdentification>('pin');
  /**
   * The status the workflow confirmed for a submission: the case's read model hears of it a moment later, so
   * until it does the page shows the confirmed status rather than the questionnaire again.
   */
  const confirmed = useRef<KycCaseStatus | undefined>();

  // The server spoke the browser's language; once the case's is known, the whole page speaks it.
  useEffect(() => {
    document.documentElement.lang = locale;
    document.title = t('kyc:customer.pageTitle');
  }, [locale]);

  const remember = (value: string | undefined) => {
    if (value) sessionStorage.setItem(sessionKey, value);
    else sessionStorage.removeItem(sessionKey);
    setSession(value);
  };

  /** Back to identifying, saying why (a session that expired is not an error the customer made). */
  const identifyAgain = (notice?: string) => {
    remember(undefined);
    setScreen({ kind: identification.current, notice });
  };

  const loadCase = async (sessionToken: string) => {
    try {
      const view = await callApi<CustomerCaseView>('/v1/kyc/customer/case', { bearer: sessionToken });
      setLocale(view.locale);
      const lagging = confirmed.current !== undefined && answeringStatuses.includes(view.status);
      if (!lagging) confirmed.current = undefined;
      setScreen({ kind: 'case', view: lagging ? { ...view, status: confirmed.current! } : view });
    } catch (error) {
      if (error instanceof ApiError && error.status === 401) identifyAgain(translator(currentLocale.current)('kyc:customer.sessionEnded'));
      else if (error instanceof ApiError && (error.status === 404 || error.status === 410)) setScreen({ kind: 'ended' });
      else throw error;
    }
  };

  useEffect(() => {
    void (async () => {
      const eid = takeEidOutcome();
      let speak = translator(locale);
      try {
        const link = await callApi<LinkAnswer>('/v1/kyc/customer/link', { body: { token } });
        if (link.locale) {
          setLocale(link.locale);
          speak = translator(link.locale);
        }
        identification.current = link.identification ?? 'pin';
        if (link.state !== 'open') {
          remember(undefined);
          setScreen({ kind: link.state });
          return;
        }
        // A broker's answer means something only on an eID link; on a PIN link it is ignored.
        const outcome = identification.current === 'eid' ? eid : undefined;
        if (outcome === 'ok') {
          const { sessionToken } = await callApi<{ sessionToken: string }>('/v1/kyc/customer/eid/session', { body: { token } });
          remember(sessionToken);
          await loadCase(sessionToken);
        } else if (outcome) {
          setScreen({ kind: 'eid', notice: speak(`kyc:customer.eid.${outcome}`) });
        } else if (session) {
          await loadCase(session);
        } else {
          setScreen({ kind: identification.current });
        }
      } catch (error) {
        const notice = error instanceof ApiError && (error.status === 401 || error.status === 403) && eid === 'ok' ? speak('kyc:customer.eid.failed') : describeFailure(error, speak);
        setScreen({ kind: identification.current, notice });
      }
    })();
  }, []);

  switch (screen.kind) {
    case 'starting':
      return (
        <Frame heading={t('kyc:customer.pageTitle')}>
          <p role="status" class="muted">
            {t('common:loading')}
          </p>
        </Frame>
      );
    case 'unknown':
    case 'ended':
    case 'locked':
      return (
        <Frame heading={t(`kyc:customer.link.${screen.kind}.heading`)}>
          <p>{t(`kyc:customer.link.${screen.kind}.body`)}</p>
        </Frame>
      );
    case 'pin':
      return (
        <PinForm
          t={t}
          notice={screen.notice}
          onOpened={async (sessionToken) => {
            remember(sessionToken);
            await loadCase(sessionToken);
          }}
          onLocked={() => setScreen({ kind: 'locked' })}
          onEnded={() => setScreen({ kind: 'ended' })}
        />
      );
    case 'eid':
      return <EidStart t={t} notice={screen.notice} />;
    case 'case':
      return (
        <CasePage
          t={t}
          view={screen.view}
          session={session!}
          reload={() => loadCase(session!)}
          onSubmitted={(status) => {
            confirmed.current = answeringStatuses.includes(status) ? undefined : status;
            return loadCase(session!);
          }}
          onSessionEnded={() => identifyAgain(t('kyc:customer.sessionEnded'))}
        />
      );
  }
}

function PinForm({ t, notice, onOpened, onLocked, onEnded }: { t: Translate; notice?: string; onOpened(session: string): Promise<void>; onLocked(): void; onEnded(): void }) {
  const [pin, setPin] = useState('');
  const [error, setError] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);
  const submit = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      const { sessionToken } = await callApi<{ sessionToken: string }>('/v1/kyc/customer/session', { body: { token, pin } });
      await onOpened(sessionToken);
    } catch (failure) {
      if (failure instanceof ApiError && failure.status === 423) return onLocked();
      if (failure instanceof ApiError && (failure.status === 404 || failure.status === 409 || failure.status === 410)) return onEnded();
      if (failure instanceof ApiError && failure.status === 401) {
        const details = failure.body.error?.details as unknown as { attemptsLeft?: number } | undefined;
        const left = typeof failure.body.attemptsLeft === 'number' ? failure.body.attemptsLeft : details?.attemptsLeft;
        setError(typeof left === 'number' ? t('kyc:customer.pin.wrongWithAttempts', { count: left }) : t('kyc:customer.pin.wrong'));
      } else setError(describeFailure(failure, t));
      setPin('');
    } finally {
      setBusy(false);
    }
  };
  return (
    <Frame heading={t('kyc:customer.pin.heading')}>
      <p>{t('kyc:customer.pin.intro')}</p>
      {notice && (
        <p class="notice" role="status">
          {notice}
        </p>
      )}
      <form onSubmit={submit}>
        <label for="pin">{t('kyc:customer.pin.label')}</label>
        <input
          id="pin"
          name="pin"
          inputMode="numeric"
          autoComplete="one-time-code"
          pattern="[0-9]{6}"
          maxLength={6}
          required
          value={pin}
          onInput={(event) => setPin((event.target as HTMLInputElement).value.replace(/\D/g, '').slice(0, 6))}
          aria-invalid={error ? 'true' : undefined}
          aria-describedby={error ? 'pin-error' : 'pin-hint'}
        />
        <p id="pin-hint" class="hint">
          {t('kyc:customer.pin.hint')}
        </p>
        {error && (
          <p id="pin-error" class="error" role="alert">
            {error}
          </p>
        )}
        <div class="actions">
          <button type="submit" disabled={busy}>
            {t('kyc:customer.pin.submit')}
          </button>
        </div>
      </form>
    </Frame>
  );
}

/** eID: the broker's page identifies the customer and sends the browser back here with the outcome. */
function EidStart({ t, notice }: { t: Translate; notice?: string }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | undefined>();
  return (
    <Frame heading={t('kyc:customer.eid.heading')}>
      <p>{t('kyc:customer.eid.intro')}</p>
      {notice && (
        <p class="error" role="alert">
          {notice}
        </p>
      )}
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      <div class="actions eid-actions">
        <button
          type="button"
          disabled={busy}
          onClick={async () => {
            setBusy(true);
            setError(undefined);
            try {
              const { authorizationUrl } = await callApi<{ authorizationUrl: string }>('/v1/kyc/customer/eid/start', { body: { token } });
              location.assign(authorizationUrl);
            } catch (failure) {
              setError(describeFailure(failure, t));
              setBusy(false);
            }
          }}
        >
          {t('kyc:customer.eid.start')}
        </button>
      </div>
    </Frame>
  );
}

/** How often a case waiting on Sigill (the declaration being prepared, the review) is read again. */
const refreshEveryMs = 4000;

const answeringStatuses: KycCaseStatus[] = ['invited', 'in_progress', 'changes_requested'];

function CasePage({
  t,
  view,
  session,
  reload,
  onSubmitted,
  onSessionEnded,
}: {
  t: Translate;
  view: CustomerCaseView;
  session: string;
  reload(): Promise<void>;
  onSubmitted(status: KycCaseStatus): Promise<void>;
  onSessionEnded(): void;
}) {
  const waiting = view.status === 'signing' || view.status === 'in_review';
  useEffect(() => {
    if (!waiting) return;
    const timer = setInterval(() => {
      if (document.visibilityState === 'visible') void reload().catch(() => undefined);
    }, refreshEveryMs);
    return () => clearInterval(timer);
  }, [waiting]);

  switch (view.status) {
    case 'invited':
    case 'in_progress':
    case 'changes_requested':
      return (
        <Frame heading={localizedTitle(view)} wide>
          <QuestionnaireForm t={t} view={view} session={session} onSubmitted={onSubmitted} onSessionEnded={onSessionEnded} />
        </Frame>
      );
    case 'signing':
      return <DeclarationHandoff t={t} view={view} session={session} onSessionEnded={onSessionEnded} />;
    case 'in_review':
      return (
        <Frame heading={t('kyc:customer.inReview.heading')}>
          <p>{t('kyc:customer.inReview.body', { organization: view.organization.name })}</p>
        </Frame>
      );
    default:
      return (
        <Frame heading={t(`kyc:customer.ended.${view.status}.heading`)}>
          <p>{t(`kyc:customer.ended.${view.status}.body`, { organization: view.organization.name })}</p>
        </Frame>
      );
  }
}

const localizedTitle = (view: CustomerCaseView) => view.questionnaire.definition.title[view.locale] || view.questionnaire.definition.title.en;

/**
 * The declaration is signed on the signer page: a session for it is opened here and handed over through
 * sessionStorage under the key the signer page reads, so the customer does not enter a PIN twice.
 */
function DeclarationHandoff({ t, view, session, onSessionEnded }: { t: Translate; view: CustomerCaseView; session: string; onSessionEnded(): void }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | undefined>();
  // The case says `preparing` until the declaration's signing round exists.
  const ready = view.declaration !== undefined && view.declaration.status !== 'preparing';
  const open = async () => {
    setBusy(true);
    setError(undefined);
    try {
      const { signingUrl, sessionToken } = await callApi<{ signingUrl: string; sessionToken: string }>('/v1/kyc/customer/declaration-session', { bearer: session, body: {} });
      const signerToken = new URL(signingUrl, location.href).pathname.split('/').filter(Boolean).pop()!;
      sessionStorage.setItem(`sigill.signer.${signerToken}`, sessionToken);
      location.assign(signingUrl);
    } catch (failure) {
      if (failure instanceof ApiError && failure.status === 401) return onSessionEnded();
      setError(failure instanceof ApiError && failure.status === 409 ? t('kyc:customer.declaration.notReady') : describeFailure(failure, t));
      setBusy(false);
    }
  };
  return (
    <Frame heading={t('kyc:customer.declaration.heading')}>
      <p>{t('kyc:customer.declaration.body', { organization: view.organization.name })}</p>
      <p class="deadline">{t('kyc:customer.deadline', { date: formatDate(view.expiresAt, view.locale, readerZone()) })}</p>
      <p class="muted" role="status" id="declaration-state">
        {ready ? '' : t('kyc:customer.declaration.preparing')}
      </p>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      <div class="actions">
        <button type="button" disabled={busy || !ready} aria-describedby="declaration-state" onClick={() => void open()}>
          {t('kyc:customer.declaration.open')}
        </button>
      </div>
    </Frame>
  );
}

render(<App />, document.getElementById('app')!);
