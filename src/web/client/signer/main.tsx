/**
 * The signer's page (R1, mobile first): PIN, then the request and the document itself, then sign or
 * decline; and a page for every state a link can be in. It only calls the public signer API
 * (/v1/signer/*); the server already answered unknown and ended links without this script.
 *
 * Where the sender asked for eID (issue 13), the signer is sent to the eID broker before the document is
 * shown: instead of the PIN (`eid`) or after it (`pin+eid`, told by a 403 `identification_required`). The
 * broker sends the browser back to this page with `?eid=ok|mismatch|cancelled|failed`.
 */
import { render } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { formatDateTime, translator, type Locale, type Translate } from '../../../i18n';
import type { IdentificationMethod } from '../../../contract/identification';
import type { SignerRoundView } from '../../../contract/signing-requests';
import { readBootstrap } from '../shared/bootstrap';
import { eidName } from '../shared/eid-names';
import { ApiError, callApi, fetchBytes, NetworkError } from '../shared/http';
import { DocumentViewer } from './document-viewer';

interface Bootstrap {
  token: string;
  locale: Locale;
}

type RoundView = SignerRoundView;

/** How the broker's visit ended, as it sends the browser back (`/s/<token>?eid=…`). */
type EidOutcome = 'ok' | 'mismatch' | 'cancelled' | 'failed';

type Screen =
  | { kind: 'starting' }
  | { kind: 'pin'; notice?: string }
  | { kind: 'eid'; notice?: string }
  | { kind: 'eidMismatch' }
  | { kind: 'locked' }
  | { kind: 'ended' }
  | { kind: 'unknown' }
  | { kind: 'round'; round: RoundView };

const { token, locale } = readBootstrap<Bootstrap>();
const t = translator(locale);
const sessionKey = `sigill.signer.${token}`;

/** The broker's answer in the address, read once and removed, so a reload or a shared link does not replay it. */
function takeEidOutcome(): EidOutcome | undefined {
  const url = new URL(location.href);
  const value = url.searchParams.get('eid');
  if (value === null) return undefined;
  url.searchParams.delete('eid');
  history.replaceState(history.state, '', url.pathname + url.search + url.hash);
  return (['ok', 'mismatch', 'cancelled', 'failed'] as const).find((outcome) => outcome === value) ?? 'failed';
}

/** The signer API's way of saying this session has not been through eID yet (PIN only, where PIN and eID are asked). */
const needsEid = (error: unknown) => error instanceof ApiError && error.code === 'identification_required';

/** Says what went wrong in words a signer understands; never a code or a stack. */
function describeFailure(error: unknown, t: Translate): string {
  if (error instanceof NetworkError) return t('common:offline');
  if (error instanceof ApiError) {
    if (error.status === 429) return t('signer:errors.tooManyTries');
    if (error.status === 422 || error.status === 400) return error.message;
  }
  return t('common:genericError');
}

function App() {
  const [screen, setScreen] = useState<Screen>({ kind: 'starting' });
  const [session, setSession] = useState<string | undefined>(() => sessionStorage.getItem(sessionKey) ?? undefined);

  const remember = (value: string | undefined) => {
    if (value) sessionStorage.setItem(sessionKey, value);
    else sessionStorage.removeItem(sessionKey);
    setSession(value);
  };

  const [identification, setIdentification] = useState<IdentificationMethod>('pin');

  /** Where a signer without a session starts: the PIN, or straight to eID where no PIN is used. */
  const firstStep = (method: IdentificationMethod, notice?: string): Screen => (method === 'eid' ? { kind: 'eid', notice } : { kind: 'pin', notice });
  const sessionEndedNotice = (method: IdentificationMethod) => t(method === 'eid' ? 'signer:eid.sessionEnded' : 'signer:pin.sessionEnded');

  /**
   * Reads the round; a session that expired (or was ended by a new PIN) goes back to the first step, not to
   * an error; a PIN session that still needs eID goes on to the eID step.
   */
  const loadRound = async (sessionToken: string, notice?: string, method = identification) => {
    try {
      const round = await callApi<RoundView>('/v1/signer/round', { bearer: sessionToken });
      setScreen({ kind: 'round', round });
    } catch (error) {
      if (error instanceof ApiError && error.status === 401) {
        remember(undefined);
        setScreen(firstStep(method, notice ?? sessionEndedNotice(method)));
      } else if (needsEid(error)) setScreen({ kind: 'eid' });
      else throw error;
    }
  };

  /** Back from the broker with an identity that matched: the result cookie it left becomes a signer session. */
  const openEidSession = async (method: IdentificationMethod) => {
    try {
      const { sessionToken } = await callApi<{ sessionToken: string }>('/v1/signer/eid/session', { body: { token } });
      remember(sessionToken);
      await loadRound(sessionToken, undefined, method);
    } catch (error) {
      if (error instanceof ApiError && error.status === 423) setScreen({ kind: 'locked' });
      else if (error instanceof ApiError && (error.status === 404 || error.status === 409)) setScreen({ kind: 'ended' });
      // pin+eid: the PIN was renewed while the signer was at the broker.
      else if (error instanceof ApiError && error.status === 401) endSession();
      // No identification for this link in this browser: it took too long, or began in another browser.
      else if (needsEid(error)) setScreen({ kind: 'eid', notice: t('signer:eid.expired') });
      else setScreen({ kind: 'eid', notice: error instanceof NetworkError ? t('common:offline') : t('signer:eid.failed') });
    }
  };

  const endSession = () => {
    remember(undefined);
    setScreen(firstStep(identification, sessionEndedNotice(identification)));
  };

  useEffect(() => {
    const outcome = takeEidOutcome();
    void (async () => {
      try {
        const link = await callApi<{ state: 'unknown' | 'ended' | 'locked' | 'open'; identification?: IdentificationMethod }>('/v1/signer/link', { body: { token } });
        if (link.state !== 'open') {
          remember(undefined);
          setScreen({ kind: link.state });
          return;
        }
        const method = link.identification ?? 'pin';
        setIdentification(method);
        // A link that asks for no eID has nothing to take from the broker's answer.
        const eidOutcome = method === 'pin' ? undefined : outcome;
        if (eidOutcome === 'ok') await openEidSession(method);
        else if (eidOutcome === 'mismatch') setScreen({ kind: 'eidMismatch' });
        else if (eidOutcome) setScreen({ kind: 'eid', notice: t(`signer:eid.${eidOutcome}`) });
        else if (session) await loadRound(session, sessionEndedNotice(method), method);
        else setScreen(firstStep(method));
      } catch (error) {
        setScreen({ kind: 'pin', notice: describeFailure(error, t) });
      }
    })();
  }, []);

  switch (screen.kind) {
    case 'starting':
      return <Frame heading={t('signer:pageTitle')}><p role="status" class="muted">{t('common:loading')}</p></Frame>;
    case 'unknown':
    case 'ended':
    case 'locked':
      return (
        <Frame heading={t(`signer:link.${screen.kind}.heading`)}>
          <p>{t(`signer:link.${screen.kind}.body`)}</p>
        </Frame>
      );
    case 'pin':
      return (
        <PinForm
          notice={screen.notice}
          onOpened={async (sessionToken) => {
            remember(sessionToken);
            await loadRound(sessionToken);
          }}
          onLocked={() => setScreen({ kind: 'locked' })}
          onEnded={() => setScreen({ kind: 'ended' })}
        />
      );
    case 'eid':
      return <EidStep session={session} notice={screen.notice} onSessionEnded={endSession} onLinkClosed={setScreen} />;
    case 'eidMismatch':
      return <EidMismatch session={session} onSessionEnded={endSession} onLinkClosed={setScreen} />;
    case 'round':
      return (
        <RoundPage
          round={screen.round}
          session={session!}
          reload={() => loadRound(session!)}
          onSessionEnded={endSession}
          onIdentificationRequired={() => setScreen({ kind: 'eid' })}
        />
      );
  }
}

/**
 * Off to the broker: the API gives the authorization URL (with a PIN session where PIN comes first, so the
 * identification is bound to the session that entered it); the browser leaves this page.
 */
/** What the eID step needs from the page: where to go when the PIN session ended, or the link closed meanwhile. */
interface EidStepProps {
  session?: string;
  onSessionEnded(): void;
  onLinkClosed(screen: { kind: 'locked' | 'ended' }): void;
}

function useEidStart({ session, onSessionEnded, onLinkClosed }: EidStepProps) {
  const [error, setError] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);
  const start = async () => {
    setBusy(true);
    setError(undefined);
    try {
      const { authorizationUrl } = await callApi<{ authorizationUrl: string }>('/v1/signer/eid/start', { body: { token }, bearer: session });
      location.assign(authorizationUrl);
    } catch (failure) {
      setBusy(false);
      // The PIN session the eID was to follow has ended (pin+eid): the PIN again, then eID.
      if (failure instanceof ApiError && failure.status === 401) return onSessionEnded();
      if (failure instanceof ApiError && failure.status === 423) return onLinkClosed({ kind: 'locked' });
      if (failure instanceof ApiError && (failure.status === 404 || failure.status === 409)) return onLinkClosed({ kind: 'ended' });
      setError(failure instanceof ApiError && failure.status === 503 ? t('signer:eid.unavailable') : describeFailure(failure, t));
    }
  };
  return { error, busy, start };
}

function EidStep({ notice, ...props }: EidStepProps & { notice?: string }) {
  const { error, busy, start } = useEidStart(props);
  return (
    <Frame heading={t('signer:eid.heading')}>
      <p>{t('signer:eid.intro')}</p>
      {notice && (
        <p class="notice" role="status">
          {notice}
        </p>
      )}
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      <div class="actions eid-actions">
        <button type="button" disabled={busy} onClick={() => void start()}>
          {t('signer:eid.start')}
        </button>
      </div>
      <p class="hint">{t('signer:eid.hint')}</p>
    </Frame>
  );
}

/** Someone other than the person the sender named identified: they cannot sign, and are told why plainly. */
function EidMismatch(props: EidStepProps) {
  const { error, busy, start } = useEidStart(props);
  return (
    <Frame heading={t('signer:eid.mismatchHeading')}>
      <p>{t('signer:eid.mismatchBody')}</p>
      <p>{t('signer:eid.mismatchSenderTold')}</p>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      <div class="actions eid-actions">
        <button type="button" class="secondary" disabled={busy} onClick={() => void start()}>
          {t('signer:eid.tryAnother')}
        </button>
      </div>
    </Frame>
  );
}

/** "Identified as … with Swedish BankID": the signer sees who the page believes them to be. */
function IdentifiedAs({ round }: { round: RoundView }) {
  const evidence = round.you.identification.evidence;
  if (!evidence) return null;
  const scheme = evidence.scheme ?? evidence.acr;
  const name = evidence.name ?? round.you.name;
  return <p class="identified-as">{scheme ? t('signer:eid.identifiedAs', { name, scheme: eidName(scheme, t) }) : t('signer:eid.identifiedAsName', { name })}</p>;
}

/** The page frame; its heading takes focus when the screen changes, so a screen reader hears the new state. */
function Frame({ heading, children }: { heading: string; children: preact.ComponentChildren }) {
  const title = useRef<HTMLHeadingElement>(null);
  useEffect(() => title.current?.focus(), [heading]);
  return (
    <main class="page">
      <p class="brand">Sigill</p>
      <div class="card">
        <h1 ref={title} tabIndex={-1}>
          {heading}
        </h1>
        {children}
      </div>
    </main>
  );
}

function PinForm({ notice, onOpened, onLocked, onEnded }: { notice?: string; onOpened(session: string): Promise<void>; onLocked(): void; onEnded(): void }) {
  const [pin, setPin] = useState('');
  const [error, setError] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);
  const submit = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      const { sessionToken } = await callApi<{ sessionToken: string }>('/v1/signer/session', { body: { token, pin } });
      await onOpened(sessionToken);
    } catch (failure) {
      if (failure instanceof ApiError && failure.status === 423) return onLocked();
      if (failure instanceof ApiError && failure.status === 409) return onEnded();
      if (failure instanceof ApiError && failure.status === 404) return onEnded();
      if (failure instanceof ApiError && failure.status === 401) {
        const left = typeof failure.body.attemptsLeft === 'number' ? failure.body.attemptsLeft : undefined;
        setError(left === undefined ? t('signer:pin.wrong') : t('signer:pin.wrongWithAttempts', { count: left }));
      } else setError(describeFailure(failure, t));
      setPin('');
    } finally {
      setBusy(false);
    }
  };
  return (
    <Frame heading={t('signer:pin.heading')}>
      <p>{t('signer:pin.intro')}</p>
      {notice && <p class="notice" role="status">{notice}</p>}
      <form onSubmit={submit} noValidate={false}>
        <label for="pin">{t('signer:pin.label')}</label>
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
        <p id="pin-hint" class="hint">{t('signer:pin.hint')}</p>
        {error && (
          <p id="pin-error" class="error" role="alert">
            {error}
          </p>
        )}
        <button type="submit" disabled={busy}>
          {t('signer:pin.submit')}
        </button>
      </form>
    </Frame>
  );
}

function RoundPage({
  round,
  session,
  reload,
  onSessionEnded,
  onIdentificationRequired,
}: {
  round: RoundView;
  session: string;
  reload(): Promise<void>;
  onSessionEnded(): void;
  onIdentificationRequired(): void;
}) {
  const zone = round.organization.timeZone;
  const intro = (
    <>
      <p class="from">
        {round.sender
          ? t('signer:round.fromPerson', { organization: round.organization.name, sender: round.sender })
          : t('signer:round.from', { organization: round.organization.name })}
      </p>
      {round.message && (
        <figure class="message">
          <figcaption>{t('signer:round.messageCaption')}</figcaption>
          <blockquote>{round.message}</blockquote>
        </figure>
      )}
    </>
  );

  // The round is waiting for others: look again now and then, so the page moves on when it completes.
  useEffect(() => {
    if (round.status !== 'pending' || round.you.status !== 'signed') return;
    const timer = setInterval(() => {
      if (document.visibilityState === 'visible') void reload().catch(() => undefined);
    }, 15_000);
    return () => clearInterval(timer);
  }, [round.status, round.you.status]);

  if (round.status === 'completed') {
    return (
      <Frame heading={t('signer:done.completedHeading')}>
        <p>{t('signer:done.completedBody', { title: round.title })}</p>
        <DownloadButton session={session} filename={round.document.filename.replace(/(\.pdf)?$/i, '-sealed.pdf')} label={t('signer:done.downloadSealed')} onSessionEnded={onSessionEnded} />
      </Frame>
    );
  }
  if (round.status !== 'pending') {
    const body =
      round.status === 'declined'
        ? round.you.status === 'declined'
          ? t('signer:ended.declinedByYou', { title: round.title })
          : t('signer:ended.declinedBy', { title: round.title, name: round.declinedBy ?? '' })
        : t(`signer:ended.${round.status}`, { title: round.title, organization: round.organization.name });
    return (
      <Frame heading={t(`common:requestStatus.${round.status}`)}>
        <p>{body}</p>
      </Frame>
    );
  }
  if (round.you.status === 'signed') {
    // The last signature needed (the only signer's, or the last of several): nobody is left to wait for, only the seal.
    const lastNeeded = round.signers.every((signer) => signer.status === 'signed');
    return (
      <Frame heading={t('signer:done.signedHeading')}>
        <p>{t(lastNeeded ? 'signer:done.signedBodyLast' : 'signer:done.signedBody', { title: round.title })}</p>
        {round.signers.length > 1 && <Progress round={round} />}
        <p class="muted">{t(lastNeeded ? 'signer:done.emailWhenSealed' : 'signer:done.emailLater')}</p>
      </Frame>
    );
  }
  return (
    <Frame heading={round.title}>
      {intro}
      <IdentifiedAs round={round} />
      <p class="deadline">{t('signer:round.deadline', { dateTime: formatDateTime(round.expiresAt, round.locale, zone) })}</p>
      <ReadAndSign round={round} session={session} reload={reload} onSessionEnded={onSessionEnded} onIdentificationRequired={onIdentificationRequired} />
    </Frame>
  );
}

function Progress({ round }: { round: RoundView }) {
  return (
    <ul class="progress" aria-label={t('signer:done.progressLabel')}>
      {round.signers.map((signer, index) => (
        <li key={index}>
          <span>{signer.you ? t('signer:done.you', { name: signer.name }) : signer.name}</span>
          <span class={`status status-${signer.status}`}>{t(`common:signerStatus.${signer.status}`)}</span>
        </li>
      ))}
    </ul>
  );
}

function ReadAndSign({
  round,
  session,
  reload,
  onSessionEnded,
  onIdentificationRequired,
}: {
  round: RoundView;
  session: string;
  reload(): Promise<void>;
  onSessionEnded(): void;
  onIdentificationRequired(): void;
}) {
  const [bytes, setBytes] = useState<Uint8Array | undefined>();
  const [loadError, setLoadError] = useState<string | undefined>();
  const [displayed, setDisplayed] = useState(Boolean(round.you.displayedAt));
  const [viewerFailed, setViewerFailed] = useState(false);
  const [typedName, setTypedName] = useState('');
  const [consent, setConsent] = useState(false);
  const [declining, setDeclining] = useState(false);
  const [reason, setReason] = useState('');
  const [error, setError] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    fetchBytes('/v1/signer/document', session)
      .then(setBytes)
      .catch((failure) =>
        failure instanceof ApiError && failure.status === 401 ? onSessionEnded() : needsEid(failure) ? onIdentificationRequired() : setLoadError(describeFailure(failure, t)),
      );
  }, [session]);

  /**
   * Tells the server what the page showed, retrying while the network fails: consent is enabled only once
   * the server has it on record, so one lost report cannot leave a signer unable to sign.
   */
  const report = async (event: 'document_displayed' | 'last_page_reached' | 'document_downloaded', page: number, pageCount: number): Promise<boolean> => {
    for (let attempt = 0; attempt < 6; attempt++) {
      try {
        await callApi('/v1/signer/reading-events', { bearer: session, body: { event, page, pageCount } });
        return true;
      } catch (failure) {
        if (failure instanceof ApiError && failure.status === 401) {
          onSessionEnded();
          return false;
        }
        if (needsEid(failure)) {
          onIdentificationRequired();
          return false;
        }
        if (failure instanceof ApiError && failure.status < 500 && failure.status !== 429) return false;
        await new Promise((resolve) => setTimeout(resolve, 500 * 2 ** attempt));
      }
    }
    setError(t('common:offline'));
    return false;
  };

  const documentShown = async (event: 'document_displayed' | 'document_downloaded', page: number, pageCount: number) => {
    if (await report(event, page, pageCount)) setDisplayed(true);
  };

  const act = async (path: string, body: unknown) => {
    setBusy(true);
    setError(undefined);
    try {
      await callApi(path, { bearer: session, body });
      await reload();
    } catch (failure) {
      if (failure instanceof ApiError && failure.status === 401) return onSessionEnded();
      if (needsEid(failure)) return onIdentificationRequired();
      if (failure instanceof ApiError && failure.code === 'document_not_displayed') {
        // Consent is enabled only once the display is on record, so this is a session that changed underneath.
        setError(t('signer:sign.notDisplayedYet'));
        return;
      }
      if (failure instanceof ApiError && failure.status === 409) return reload(); // the round moved on: show where it is
      setError(describeFailure(failure, t));
    } finally {
      setBusy(false);
    }
  };

  return (
    <>
      {loadError ? (
        <p class="error" role="alert">
          {loadError}
        </p>
      ) : bytes ? (
        <>
          <DocumentViewer
            bytes={bytes}
            t={t}
            onDisplayed={(page, pageCount) => void documentShown('document_displayed', page, pageCount)}
            onLastPageReached={(pageCount) => void report('last_page_reached', pageCount, pageCount)}
            onFailed={() => setViewerFailed(true)}
          />
          <p>
            <DownloadLink
              bytes={bytes}
              filename={round.document.filename}
              label={t('signer:round.download')}
              onDownload={
                viewerFailed
                  ? // Where this device cannot display it, reading the download is how the signer gets the document: recorded as such.
                    () => void documentShown('document_downloaded', 1, round.document.pageCount)
                  : undefined
              }
            />
          </p>
        </>
      ) : (
        <p class="muted" role="status">
          {t('signer:viewer.loading')}
        </p>
      )}

      {!declining ? (
        <form
          class="sign-form"
          onSubmit={(event) => {
            event.preventDefault();
            void act('/v1/signer/sign', { typedName: typedName.trim(), consent });
          }}
        >
          <h2>{t('signer:sign.heading')}</h2>
          <label for="typed-name">{t('signer:sign.typedNameLabel')}</label>
          <input id="typed-name" autoComplete="name" required maxLength={200} value={typedName} onInput={(event) => setTypedName((event.target as HTMLInputElement).value)} />
          <div class="checkbox">
            <input
              id="consent"
              type="checkbox"
              required
              disabled={!displayed}
              checked={consent}
              onChange={(event) => setConsent((event.target as HTMLInputElement).checked)}
              aria-describedby="consent-hint"
            />
            <label for="consent">{t('signer:sign.consent')}</label>
          </div>
          <p id="consent-hint" class="hint">
            {displayed ? t('signer:sign.consentHintReady') : viewerFailed ? t('signer:sign.consentHintDownload') : t('signer:sign.consentHintWaiting')}
          </p>
          {error && (
            <p class="error" role="alert">
              {error}
            </p>
          )}
          <div class="actions">
            <button type="submit" disabled={busy || !displayed}>
              {t('signer:sign.submit')}
            </button>
            <button type="button" class="secondary" onClick={() => setDeclining(true)}>
              {t('signer:decline.start')}
            </button>
          </div>
        </form>
      ) : (
        <form
          class="decline-form"
          onSubmit={(event) => {
            event.preventDefault();
            void act('/v1/signer/decline', { reason: reason.trim() });
          }}
        >
          <h2>{t('signer:decline.heading')}</h2>
          <p>{t('signer:decline.explain', { organization: round.organization.name })}</p>
          <label for="reason">{t('signer:decline.reasonLabel')}</label>
          <textarea id="reason" required maxLength={1000} rows={4} value={reason} onInput={(event) => setReason((event.target as HTMLTextAreaElement).value)} />
          {error && (
            <p class="error" role="alert">
              {error}
            </p>
          )}
          <div class="actions">
            <button type="submit" class="danger" disabled={busy}>
              {t('signer:decline.confirm')}
            </button>
            <button type="button" class="secondary" onClick={() => setDeclining(false)}>
              {t('signer:decline.back')}
            </button>
          </div>
        </form>
      )}
    </>
  );
}

function DownloadLink({ bytes, filename, label, onDownload }: { bytes: Uint8Array; filename: string; label: string; onDownload?(): void }) {
  const [url, setUrl] = useState<string>();
  useEffect(() => {
    const created = URL.createObjectURL(new Blob([bytes.slice()], { type: 'application/pdf' }));
    setUrl(created);
    return () => URL.revokeObjectURL(created);
  }, [bytes]);
  return url ? (
    <a href={url} download={filename} onClick={onDownload}>
      {label}
    </a>
  ) : null;
}

function DownloadButton({ session, filename, label, onSessionEnded }: { session: string; filename: string; label: string; onSessionEnded(): void }) {
  const [bytes, setBytes] = useState<Uint8Array | undefined>();
  const [error, setError] = useState<string | undefined>();
  useEffect(() => {
    fetchBytes('/v1/signer/document', session)
      .then(setBytes)
      .catch((failure) => (failure instanceof ApiError && failure.status === 401 ? onSessionEnded() : setError(describeFailure(failure, t))));
  }, [session]);
  if (error)
    return (
      <p class="error" role="alert">
        {error}
      </p>
    );
  return bytes ? (
    <p>
      <DownloadLink bytes={bytes} filename={filename} label={label} />
    </p>
  ) : (
    <p class="muted" role="status">
      {t('common:loading')}
    </p>
  );
}

render(<App />, document.getElementById('app')!);
