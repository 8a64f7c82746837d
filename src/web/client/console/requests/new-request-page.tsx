/**
 * A new request at `/requests/new`: the PDF (dropped on the page or chosen), signers with their PIN
 * delivery and language, routing, reminders, expiry, message and folder, sent as one POST to
 * /v1/signing-requests. The API creates everything or nothing; the form sends one Idempotency-Key per
 * request it means to create, so a double click or a retry after a lost answer creates it once. Field errors
 * come back from the API and are shown at their fields. PINs the sender delivers are shown once, here.
 * Where the deployment has an eID broker, each signer can be asked to identify with eID (issue 13).
 */
import type { RefObject } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import type { IdentificationMethod, IdentificationMethodsView } from '../../../../contract/identification';
import { requiresEid } from '../../../../contract/identification';
import { locales, localeNames, type Locale, type Translate } from '../../../../i18n';
import { eidName } from '../../shared/eid-names';
import { NetworkError } from '../../shared/http';
import { describeError, fieldErrors, type ConsoleContext } from '../context';
import { Link } from '../main';
import { actsOnRequests, useOrganizationZone, type FolderEntry } from './request-model';
import { ErrorBanner } from './request-parts';

interface SignerDraft {
  key: number;
  name: string;
  email: string;
  phone: string;
  pinDelivery: 'sender' | 'sms';
  locale: Locale | '';
  identification: IdentificationMethod;
  /** The eID the signer must use (an `acr` value the broker offers); empty: any it offers. */
  acr: string;
  expectedNationalId: string;
}

interface Created {
  id: string;
  signers: Array<{ id: string; name: string; email: string; pin?: string }>;
}

const newKey = () => (typeof crypto.randomUUID === 'function' ? crypto.randomUUID() : `${Date.now()}-${Math.random().toString(36).slice(2)}`);
let signerKeys = 0;
const emptySigner = (): SignerDraft => ({ key: ++signerKeys, name: '', email: '', phone: '', pinDelivery: 'sender', locale: '', identification: 'pin', acr: '', expectedNationalId: '' });

/** The signer's identification as the API takes it; nothing for PIN alone, so deployments without eID see no change. */
function identificationOf(signer: SignerDraft) {
  if (signer.identification === 'pin') return {};
  const expected = signer.expectedNationalId.trim();
  const eid = { ...(signer.acr ? { acr: signer.acr } : {}), ...(expected ? { expectedNationalId: expected } : {}) };
  return { identification: { method: signer.identification, ...(Object.keys(eid).length > 0 ? { eid } : {}) } };
}

/**
 * The broker's eID choices in words; two values with the same name (MitID at two levels) keep their value
 * beside it, so the sender can tell them apart.
 */
function acrOptions(acrValues: string[], t: Translate): Array<{ value: string; label: string }> {
  const named = acrValues.map((value) => ({ value, label: eidName(value, t) }));
  return named.map(({ value, label }) => ({
    value,
    label: label !== value && named.filter((other) => other.label === label).length > 1 ? `${label} (${value})` : label,
  }));
}

/** The file's bytes as base64, in chunks (a spread of a whole PDF would overflow the call stack). */
async function base64Of(file: File): Promise<string> {
  const bytes = new Uint8Array(await file.arrayBuffer());
  let binary = '';
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary);
}

export function NewRequestPage({ ctx }: { ctx: ConsoleContext }) {
  const { t } = ctx;
  const { defaultLocale } = useOrganizationZone(ctx);
  const [title, setTitle] = useState('');
  const [file, setFile] = useState<File | undefined>();
  const [dragging, setDragging] = useState(false);
  const [signers, setSigners] = useState<SignerDraft[]>([emptySigner()]);
  const [routing, setRouting] = useState<'parallel' | 'sequential'>('parallel');
  const [reminders, setReminders] = useState({ on: true, firstAfterDays: '2', everyDays: '2', max: '3' });
  const [expiresInDays, setExpiresInDays] = useState('30');
  const [message, setMessage] = useState('');
  const [folderId, setFolderId] = useState('');
  const [folders, setFolders] = useState<FolderEntry[]>([]);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [banner, setBanner] = useState<string | undefined>();
  const [sending, setSending] = useState(false);
  const [created, setCreated] = useState<Created | undefined>();
  const [eid, setEid] = useState<IdentificationMethodsView['eid']>({ available: false, acrValues: [] });
  const idempotencyKey = useRef(newKey());
  const heading = useRef<HTMLHeadingElement>(null);

  useEffect(() => heading.current?.focus(), [created]);
  useEffect(() => {
    ctx.api.get<{ items: FolderEntry[] }>('/v1/folders').then((answer) => setFolders(answer.items), () => undefined);
    // eID is offered only where the deployment says it has a broker; an error offers PIN alone, which always works.
    ctx.api.get<IdentificationMethodsView>('/v1/identification-methods').then((answer) => setEid(answer.eid), () => undefined);
  }, [ctx.api]);

  if (!actsOnRequests(ctx.session.organization.role)) {
    return (
      <section>
        <h1 ref={heading} tabIndex={-1}>
          {t('console:newRequest.heading')}
        </h1>
        <p>{t('console:newRequest.notAllowed')}</p>
      </section>
    );
  }

  if (created) return <CreatedPanel ctx={ctx} created={created} headingRef={heading} />;

  const updateSigner = (index: number, change: Partial<SignerDraft>) => setSigners(signers.map((signer, at) => (at === index ? { ...signer, ...change } : signer)));
  const chooseFile = (chosen: File | undefined) => {
    if (!chosen) return;
    setFile(chosen);
    setErrors(({ document: _, 'document.contentBase64': __, ...rest }) => rest);
  };

  const submit = async () => {
    if (sending) return;
    setBanner(undefined);
    if (!file) {
      setErrors({ document: t('console:newRequest.choosePdf') });
      setBanner(t('console:newRequest.fixErrors'));
      return;
    }
    setSending(true);
    try {
      const days = (text: string) => `P${Math.max(0, Math.round(Number(text) || 0))}D`;
      const body = {
        title,
        ...(folderId ? { folderId } : {}),
        document: { filename: file.name, contentBase64: await base64Of(file) },
        signers: signers.map((signer) => ({
          name: signer.name,
          email: signer.email,
          ...(signer.phone.trim() ? { phone: signer.phone.trim() } : {}),
          pinDelivery: signer.pinDelivery,
          ...(signer.locale ? { locale: signer.locale } : {}),
          ...(eid.available ? identificationOf(signer) : {}),
        })),
        routing,
        reminders: reminders.on
          ? { firstAfter: days(reminders.firstAfterDays), every: days(reminders.everyDays), max: Math.round(Number(reminders.max) || 0) }
          : { firstAfter: 'P1D', every: 'P1D', max: 0 },
        expiresIn: days(expiresInDays),
        ...(message.trim() ? { message } : {}),
      };
      const answer = await ctx.api.post<Created>('/v1/signing-requests', body, { 'Idempotency-Key': idempotencyKey.current });
      setErrors({});
      setCreated(answer);
    } catch (failure) {
      // An answer means nothing was created: the next attempt is a new request. Without an answer, the
      // same key again lets the API find the request if it was created after all.
      if (!(failure instanceof NetworkError)) idempotencyKey.current = newKey();
      const byField = fieldErrors(failure, t);
      setErrors(byField);
      setBanner(Object.keys(byField).length > 0 ? t('console:newRequest.fixErrors') : describeError(failure, t));
    } finally {
      setSending(false);
    }
  };

  /** Input props with its error tied to it (aria-invalid, aria-describedby). */
  const errorOf = (path: string) => errors[path];
  const described = (id: string, path: string, hint?: string) => {
    const ids = [hint, errorOf(path) ? `${id}-error` : undefined].filter(Boolean).join(' ');
    return { id, 'aria-invalid': errorOf(path) ? true : undefined, 'aria-describedby': ids || undefined };
  };
  const FieldError = ({ id, path }: { id: string; path: string }) =>
    errorOf(path) ? (
      <p class="field-error error" id={`${id}-error`}>
        {errorOf(path)}
      </p>
    ) : null;
  const documentError = errors.document ?? errors['document.contentBase64'] ?? errors['document.filename'];

  return (
    <section aria-labelledby="new-heading">
      <p class="breadcrumb">
        <Link ctx={ctx} href="/">
          {t('console:request.backToList')}
        </Link>
      </p>
      <h1 id="new-heading" ref={heading} tabIndex={-1}>
        {t('console:newRequest.heading')}
      </h1>
      <ErrorBanner message={banner} />
      <form
        class="new-request"
        noValidate
        onSubmit={(event) => {
          event.preventDefault();
          void submit();
        }}
      >
        <div class="card">
          <label for="title">{t('console:newRequest.title')}</label>
          <input {...described('title', 'title')} value={title} maxLength={200} autoComplete="off" onInput={(event) => setTitle((event.target as HTMLInputElement).value)} />
          <FieldError id="title" path="title" />

          <label for="document">{t('console:newRequest.document')}</label>
          <div
            class={dragging ? 'drop-zone dragging' : 'drop-zone'}
            onDragOver={(event) => {
              event.preventDefault();
              setDragging(true);
            }}
            onDragLeave={() => setDragging(false)}
            onDrop={(event) => {
              event.preventDefault();
              setDragging(false);
              chooseFile(event.dataTransfer?.files[0]);
            }}
          >
            <p class="muted" aria-hidden="true">
              {t('console:newRequest.dropHere')}
            </p>
            <input
              type="file"
              accept="application/pdf,.pdf"
              id="document"
              aria-invalid={documentError ? true : undefined}
              aria-describedby={['document-hint', documentError ? 'document-error' : ''].filter(Boolean).join(' ')}
              onChange={(event) => chooseFile((event.target as HTMLInputElement).files?.[0])}
            />
            <p class="hint" id="document-hint">
              {file ? t('console:newRequest.chosen', { name: file.name, size: Math.max(1, Math.round(file.size / 1024)) }) : t('console:newRequest.documentHint')}
            </p>
          </div>
          {documentError && (
            <p class="field-error error" id="document-error">
              {documentError}
            </p>
          )}
        </div>

        <h2>{t('console:newRequest.signers')}</h2>
        <FieldError id="signers" path="signers" />
        {signers.map((signer, index) => {
          const prefix = `signers.${index}`;
          const id = (name: string) => `signer-${signer.key}-${name}`;
          return (
            <fieldset class="card signer-fields" key={signer.key}>
              <legend>{t('console:newRequest.signerLegend', { number: index + 1 })}</legend>
              <FieldError id={id('all')} path={prefix} />
              <div class="field-grid">
                <div>
                  <label for={id('name')}>{t('console:newRequest.name')}</label>
                  <input {...described(id('name'), `${prefix}.name`)} value={signer.name} autoComplete="off" onInput={(event) => updateSigner(index, { name: (event.target as HTMLInputElement).value })} />
                  <FieldError id={id('name')} path={`${prefix}.name`} />
                </div>
                <div>
                  <label for={id('email')}>{t('console:newRequest.email')}</label>
                  <input type="email" {...described(id('email'), `${prefix}.email`)} value={signer.email} autoComplete="off" onInput={(event) => updateSigner(index, { email: (event.target as HTMLInputElement).value })} />
                  <FieldError id={id('email')} path={`${prefix}.email`} />
                </div>
                <div>
                  <label for={id('phone')}>{t('console:newRequest.phone')}</label>
                  <input
                    type="tel"
                    {...described(id('phone'), `${prefix}.phone`, `${id('phone')}-hint`)}
                    value={signer.phone}
                    autoComplete="off"
                    onInput={(event) => updateSigner(index, { phone: (event.target as HTMLInputElement).value })}
                  />
                  <p class="hint" id={`${id('phone')}-hint`}>
                    {t('console:newRequest.phoneHint')}
                  </p>
                  <FieldError id={id('phone')} path={`${prefix}.phone`} />
                </div>
                {/* eID alone uses no PIN: nothing to deliver. */}
                {signer.identification !== 'eid' && (
                  <div>
                    <label for={id('pin')}>{t('console:newRequest.pinDelivery')}</label>
                    <select {...described(id('pin'), `${prefix}.pinDelivery`)} value={signer.pinDelivery} onChange={(event) => updateSigner(index, { pinDelivery: (event.target as HTMLSelectElement).value as 'sender' | 'sms' })}>
                      <option value="sender">{t('console:newRequest.pinBySender')}</option>
                      <option value="sms">{t('console:newRequest.pinBySms')}</option>
                    </select>
                    <FieldError id={id('pin')} path={`${prefix}.pinDelivery`} />
                  </div>
                )}
                <div>
                  <label for={id('locale')}>{t('console:newRequest.language')}</label>
                  <select {...described(id('locale'), `${prefix}.locale`)} value={signer.locale} onChange={(event) => updateSigner(index, { locale: (event.target as HTMLSelectElement).value as Locale | '' })}>
                    <option value="">{t('console:newRequest.organizationLanguage', { language: defaultLocale ? localeNames[defaultLocale] : '…' })}</option>
                    {locales.map((code) => (
                      <option value={code} key={code}>
                        {localeNames[code]}
                      </option>
                    ))}
                  </select>
                  <FieldError id={id('locale')} path={`${prefix}.locale`} />
                </div>
                {eid.available && (
                  <div>
                    <label for={id('identification')}>{t('console:newRequest.identification')}</label>
                    <select
                      {...described(id('identification'), `${prefix}.identification.method`, `${id('identification')}-hint`)}
                      value={signer.identification}
                      onChange={(event) => updateSigner(index, { identification: (event.target as HTMLSelectElement).value as IdentificationMethod })}
                    >
                      <option value="pin">{t('console:identification.method.pin')}</option>
                      <option value="eid">{t('console:identification.method.eid')}</option>
                      <option value="pin+eid">{t('console:identification.method.pin+eid')}</option>
                    </select>
                    <p class="hint" id={`${id('identification')}-hint`}>
                      {t(`console:newRequest.identificationHint.${signer.identification}`)}
                    </p>
                    <FieldError id={id('identification')} path={`${prefix}.identification.method`} />
                  </div>
                )}
                {eid.available && requiresEid(signer.identification) && eid.acrValues.length > 0 && (
                  <div>
                    <label for={id('acr')}>{t('console:newRequest.eidType')}</label>
                    <select {...described(id('acr'), `${prefix}.identification.eid.acr`)} value={signer.acr} onChange={(event) => updateSigner(index, { acr: (event.target as HTMLSelectElement).value })}>
                      <option value="">{t('console:newRequest.anyEid')}</option>
                      {acrOptions(eid.acrValues, t).map((option) => (
                        <option value={option.value} key={option.value}>
                          {option.label}
                        </option>
                      ))}
                    </select>
                    <FieldError id={id('acr')} path={`${prefix}.identification.eid.acr`} />
                  </div>
                )}
                {eid.available && requiresEid(signer.identification) && (
                  <div>
                    <label for={id('national-id')}>{t('console:newRequest.expectedNationalId')}</label>
                    <input
                      {...described(id('national-id'), `${prefix}.identification.eid.expectedNationalId`, `${id('national-id')}-hint`)}
                      value={signer.expectedNationalId}
                      autoComplete="off"
                      spellcheck={false}
                      maxLength={40}
                      onInput={(event) => updateSigner(index, { expectedNationalId: (event.target as HTMLInputElement).value })}
                    />
                    <p class="hint" id={`${id('national-id')}-hint`}>
                      {t('console:newRequest.expectedNationalIdHint')}
                    </p>
                    <FieldError id={id('national-id')} path={`${prefix}.identification.eid.expectedNationalId`} />
                  </div>
                )}
              </div>
              {signers.length > 1 && (
                <button type="button" class="secondary" onClick={() => setSigners(signers.filter((_, at) => at !== index))}>
                  {t('console:newRequest.removeSigner', { number: index + 1 })}
                </button>
              )}
            </fieldset>
          );
        })}
        <p>
          <button type="button" class="secondary" onClick={() => setSigners([...signers, emptySigner()])}>
            {t('console:newRequest.addSigner')}
          </button>
        </p>

        <div class="card">
          <fieldset class="plain">
            <legend>{t('console:newRequest.routing')}</legend>
            {(['parallel', 'sequential'] as const).map((kind) => (
              <div class="checkbox" key={kind}>
                <input type="radio" name="routing" id={`routing-${kind}`} value={kind} checked={routing === kind} onChange={() => setRouting(kind)} />
                <label for={`routing-${kind}`}>{t(`console:newRequest.routingKind.${kind}`)}</label>
              </div>
            ))}
          </fieldset>

          <fieldset class="plain">
            <legend>{t('console:newRequest.reminders')}</legend>
            <div class="checkbox">
              <input type="checkbox" id="reminders-on" checked={reminders.on} onChange={(event) => setReminders({ ...reminders, on: (event.target as HTMLInputElement).checked })} />
              <label for="reminders-on">{t('console:newRequest.remindersOn')}</label>
            </div>
            {reminders.on && (
              <div class="field-grid">
                <div>
                  <label for="reminder-first">{t('console:newRequest.firstAfterDays')}</label>
                  <input type="number" min={1} max={365} inputMode="numeric" {...described('reminder-first', 'reminders.firstAfter')} value={reminders.firstAfterDays} onInput={(event) => setReminders({ ...reminders, firstAfterDays: (event.target as HTMLInputElement).value })} />
                  <FieldError id="reminder-first" path="reminders.firstAfter" />
                </div>
                <div>
                  <label for="reminder-every">{t('console:newRequest.everyDays')}</label>
                  <input type="number" min={1} max={365} inputMode="numeric" {...described('reminder-every', 'reminders.every')} value={reminders.everyDays} onInput={(event) => setReminders({ ...reminders, everyDays: (event.target as HTMLInputElement).value })} />
                  <FieldError id="reminder-every" path="reminders.every" />
                </div>
                <div>
                  <label for="reminder-max">{t('console:newRequest.maxReminders')}</label>
                  <input type="number" min={0} max={20} inputMode="numeric" {...described('reminder-max', 'reminders.max')} value={reminders.max} onInput={(event) => setReminders({ ...reminders, max: (event.target as HTMLInputElement).value })} />
                  <FieldError id="reminder-max" path="reminders.max" />
                </div>
              </div>
            )}
          </fieldset>

          <div class="field-grid">
            <div>
              <label for="expires">{t('console:newRequest.expiresInDays')}</label>
              <input type="number" min={1} max={365} inputMode="numeric" {...described('expires', 'expiresIn')} value={expiresInDays} onInput={(event) => setExpiresInDays((event.target as HTMLInputElement).value)} />
              <FieldError id="expires" path="expiresIn" />
            </div>
            <div>
              <label for="folder">{t('console:newRequest.folder')}</label>
              <select {...described('folder', 'folderId')} value={folderId} onChange={(event) => setFolderId((event.target as HTMLSelectElement).value)}>
                <option value="">{t('console:newRequest.defaultFolder')}</option>
                {folders.map((folder) => (
                  <option value={folder.id} key={folder.id}>
                    {folder.name}
                  </option>
                ))}
              </select>
              <FieldError id="folder" path="folderId" />
            </div>
          </div>

          <label for="message">{t('console:newRequest.message')}</label>
          <textarea {...described('message', 'message', 'message-hint')} rows={4} maxLength={2000} value={message} onInput={(event) => setMessage((event.target as HTMLTextAreaElement).value)} />
          <p class="hint" id="message-hint">
            {t('console:newRequest.messageHint')}
          </p>
          <FieldError id="message" path="message" />
        </div>

        <div class="actions">
          <button type="submit" disabled={sending}>
            {sending ? t('console:newRequest.sending') : t('console:newRequest.send')}
          </button>
        </div>
      </form>
    </section>
  );
}

function CreatedPanel({ ctx, created, headingRef }: { ctx: ConsoleContext; created: Created; headingRef: RefObject<HTMLHeadingElement> }) {
  const { t } = ctx;
  const withPins = created.signers.filter((signer) => signer.pin);
  return (
    <section aria-labelledby="created-heading">
      <h1 id="created-heading" ref={headingRef} tabIndex={-1}>
        {t('console:newRequest.createdHeading')}
      </h1>
      <p>{t('console:newRequest.createdText')}</p>
      {withPins.length > 0 && (
        <div class="card pin-once">
          <h2>{t('console:newRequest.pinsHeading')}</h2>
          <p>{t('console:newRequest.pinsText')}</p>
          <ul class="pins">
            {withPins.map((signer) => (
              <li key={signer.id}>
                <span>
                  {signer.name} ({signer.email})
                </span>{' '}
                <strong class="pin" data-signer-email={signer.email}>
                  {signer.pin}
                </strong>
              </li>
            ))}
          </ul>
        </div>
      )}
      <div class="actions">
        <Link ctx={ctx} href={`/requests/${created.id}`} class="button-link">
          {t('console:newRequest.openRequest')}
        </Link>
        <Link ctx={ctx} href="/" class="button-link secondary">
          {t('console:request.backToList')}
        </Link>
      </div>
    </section>
  );
}
