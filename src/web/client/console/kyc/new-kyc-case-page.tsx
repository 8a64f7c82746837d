/**
 * A new KYC case at `/kyc/new`: the customer (a person or a company, with its national or business id), the
 * questionnaire, how the customer identifies (eID only where this deployment has a broker), expiry and
 * folder, sent as one POST to /v1/kyc-cases. Field errors come back from the API and show at their fields.
 * A PIN for the sender to deliver is shown once, here.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import { localeNames, locales, type Locale } from '../../../../i18n';
import type { CreateKycCaseBody, CreatedKycCase, KycCustomerType, KycIdentification } from '../../../../contract/kyc-cases';
import type { IdentificationMethodsView } from '../../../../contract/identification';
import { localized } from '../../kyc/answers';
import { describeError, fieldErrors, type ConsoleContext } from '../context';
import { Link } from '../main';
import { useOrganizationZone, type FolderEntry } from '../requests/request-model';
import { ErrorBanner } from '../requests/request-parts';
import { actsOnCases, type QuestionnaireView } from './kyc-model';

interface Draft {
  type: KycCustomerType;
  name: string;
  email: string;
  phone: string;
  nationalId: string;
  businessId: string;
  locale: Locale | '';
  questionnaireId: string;
  identification: KycIdentification;
  expiresInDays: string;
  folderId: string;
}

const emptyDraft = (): Draft => ({
  type: 'person',
  name: '',
  email: '',
  phone: '',
  nationalId: '',
  businessId: '',
  locale: '',
  questionnaireId: '',
  identification: 'pin',
  expiresInDays: '30',
  folderId: '',
});

export function NewKycCasePage({ ctx }: { ctx: ConsoleContext }) {
  const { t } = ctx;
  const { defaultLocale } = useOrganizationZone(ctx);
  const [draft, setDraft] = useState<Draft>(emptyDraft);
  const [questionnaires, setQuestionnaires] = useState<QuestionnaireView[]>([]);
  const [eidAvailable, setEidAvailable] = useState(false);
  const [folders, setFolders] = useState<FolderEntry[]>([]);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [banner, setBanner] = useState<string | undefined>();
  const [sending, setSending] = useState(false);
  const [created, setCreated] = useState<CreatedKycCase | undefined>();
  const heading = useRef<HTMLHeadingElement>(null);

  useEffect(() => heading.current?.focus(), [created]);
  useEffect(() => {
    ctx.api.get<{ items: FolderEntry[] }>('/v1/folders').then((answer) => setFolders(answer.items), () => undefined);
    ctx.api.get<{ items: QuestionnaireView[] }>('/v1/questionnaires').then(
      (answer) => setQuestionnaires(answer.items),
      (failure) => setBanner(describeError(failure, t)),
    );
    // Not offered unless the deployment says so; an older server without the route has no eID either.
    ctx.api.get<IdentificationMethodsView>('/v1/identification-methods').then(
      (answer) => setEidAvailable(Boolean(answer.eid?.available)),
      () => setEidAvailable(false),
    );
  }, [ctx.api]);

  if (!actsOnCases(ctx.session.organization.role)) {
    return (
      <section>
        <h1 ref={heading} tabIndex={-1}>
          {t('kyc:new.heading')}
        </h1>
        <p>{t('kyc:new.notAllowed')}</p>
      </section>
    );
  }

  if (created) {
    return (
      <section aria-labelledby="kyc-created-heading">
        <h1 id="kyc-created-heading" ref={heading} tabIndex={-1}>
          {t('kyc:new.createdHeading')}
        </h1>
        <p>{t('kyc:new.createdBody', { name: draft.name })}</p>
        {created.customer.pin && (
          <p class="pin-once" role="status">
            {t('kyc:new.pin', { name: draft.name })} <strong class="pin">{created.customer.pin}</strong>
            <br />
            <span class="hint">{t('kyc:new.pinShownOnce')}</span>
          </p>
        )}
        <div class="actions">
          <Link ctx={ctx} href={`/kyc/${created.id}`} class="button-link">
            {t('kyc:new.openCase')}
          </Link>
          <Link ctx={ctx} href="/kyc" class="button-link secondary">
            {t('kyc:new.backToList')}
          </Link>
        </div>
      </section>
    );
  }

  const set = (change: Partial<Draft>) => {
    setDraft({ ...draft, ...change });
    setErrors((known) => Object.fromEntries(Object.entries(known).filter(([field]) => !Object.keys(change).some((name) => field.endsWith(name)))));
  };

  const submit = async (event: Event) => {
    event.preventDefault();
    if (sending) return;
    setSending(true);
    setBanner(undefined);
    const days = Math.max(1, Math.round(Number(draft.expiresInDays) || 30));
    const body: CreateKycCaseBody = {
      customer: {
        type: draft.type,
        name: draft.name.trim(),
        email: draft.email.trim(),
        ...(draft.phone.trim() ? { phone: draft.phone.trim() } : {}),
        ...(draft.type === 'person' && draft.nationalId.trim() ? { nationalId: draft.nationalId.trim() } : {}),
        ...(draft.type === 'company' && draft.businessId.trim() ? { businessId: draft.businessId.trim() } : {}),
        ...(draft.locale ? { locale: draft.locale } : {}),
      },
      ...(draft.questionnaireId ? { questionnaireId: draft.questionnaireId } : {}),
      identification: draft.identification,
      expiresIn: `P${days}D`,
      ...(draft.folderId ? { folderId: draft.folderId } : {}),
    };
    try {
      setCreated(await ctx.api.post<CreatedKycCase>('/v1/kyc-cases', body));
    } catch (failure) {
      const byField = fieldErrors(failure, t);
      setErrors(byField);
      setBanner(Object.keys(byField).length > 0 ? t('kyc:new.fixErrors') : describeError(failure, t));
    } finally {
      setSending(false);
    }
  };

  const field = (name: 'name' | 'email' | 'phone' | 'nationalId' | 'businessId', path: string, extra: Record<string, unknown> = {}) => ({
    id: `kyc-${name}`,
    name,
    value: draft[name],
    'aria-invalid': errors[path] ? ('true' as const) : undefined,
    'aria-describedby': errors[path] ? `kyc-${name}-error` : undefined,
    onInput: (event: Event) => set({ [name]: (event.target as HTMLInputElement).value } as Partial<Draft>),
    ...extra,
  });
  const errorOf = (name: string, path: string) =>
    errors[path] ? (
      <p id={`kyc-${name}-error`} class="error field-error">
        {errors[path]}
      </p>
    ) : null;

  return (
    <section class="new-request new-kyc" aria-labelledby="kyc-new-heading">
      <p class="breadcrumb">
        <Link ctx={ctx} href="/kyc">
          {t('kyc:new.backToList')}
        </Link>
      </p>
      <h1 id="kyc-new-heading" ref={heading} tabIndex={-1}>
        {t('kyc:new.heading')}
      </h1>
      <form onSubmit={submit} noValidate>
        <div class="card">
          <fieldset class="plain">
            <legend>{t('kyc:new.customerType')}</legend>
            {(['person', 'company'] as const).map((type) => (
              <div class="checkbox" key={type}>
                <input id={`kyc-type-${type}`} type="radio" name="type" checked={draft.type === type} onChange={() => set({ type })} />
                <label for={`kyc-type-${type}`}>{t(`kyc:customerType.${type}`)}</label>
              </div>
            ))}
          </fieldset>
          <div class="field-grid">
            <div>
              <label for="kyc-name">{draft.type === 'company' ? t('kyc:new.companyName') : t('kyc:new.personName')}</label>
              <input {...field('name', 'customer.name', { required: true, maxLength: 200, autoComplete: 'off' })} />
              {errorOf('name', 'customer.name')}
            </div>
            <div>
              <label for="kyc-email">{t('kyc:new.email')}</label>
              <input {...field('email', 'customer.email', { type: 'email', required: true, autoComplete: 'off' })} />
              {errorOf('email', 'customer.email')}
            </div>
            <div>
              <label for="kyc-phone">{t('kyc:new.phone')}</label>
              <input {...field('phone', 'customer.phone', { type: 'tel', autoComplete: 'off', 'aria-describedby': errors['customer.phone'] ? 'kyc-phone-error' : 'kyc-phone-hint' })} />
              <p class="hint" id="kyc-phone-hint">
                {t('kyc:new.phoneHint')}
              </p>
              {errorOf('phone', 'customer.phone')}
            </div>
            {draft.type === 'person' ? (
              <div>
                <label for="kyc-nationalId">{t('kyc:new.nationalId')}</label>
                <input {...field('nationalId', 'customer.nationalId', { autoComplete: 'off', 'aria-describedby': errors['customer.nationalId'] ? 'kyc-nationalId-error' : 'kyc-nationalId-hint' })} />
                <p class="hint" id="kyc-nationalId-hint">
                  {t('kyc:new.nationalIdHint')}
                </p>
                {errorOf('nationalId', 'customer.nationalId')}
              </div>
            ) : (
              <div>
                <label for="kyc-businessId">{t('kyc:new.businessId')}</label>
                <input {...field('businessId', 'customer.businessId', { autoComplete: 'off' })} />
                {errorOf('businessId', 'customer.businessId')}
              </div>
            )}
            <div>
              <label for="kyc-locale">{t('kyc:new.language')}</label>
              <select id="kyc-locale" value={draft.locale} onChange={(event) => set({ locale: (event.target as HTMLSelectElement).value as Locale | '' })}>
                <option value="">{t('kyc:new.languageDefault', { language: localeNames[defaultLocale ?? 'en'] })}</option>
                {locales.map((code) => (
                  <option value={code} key={code}>
                    {localeNames[code]}
                  </option>
                ))}
              </select>
            </div>
          </div>
        </div>

        <div class="card">
          <label for="kyc-questionnaire">{t('kyc:new.questionnaire')}</label>
          <select id="kyc-questionnaire" value={draft.questionnaireId} onChange={(event) => set({ questionnaireId: (event.target as HTMLSelectElement).value })}>
            <option value="">{t('kyc:new.questionnaireDefault')}</option>
            {questionnaires.map((questionnaire) => (
              <option value={questionnaire.id} key={questionnaire.id}>
                {t('kyc:new.questionnaireOption', { title: localized(questionnaire.definition.title, ctx.locale), version: questionnaire.version })}
              </option>
            ))}
          </select>
          {errorOf('questionnaire', 'questionnaireId')}
          <fieldset class="plain">
            <legend>{t('kyc:new.identification')}</legend>
            <div class="checkbox">
              <input id="kyc-identification-pin" type="radio" name="identification" checked={draft.identification === 'pin'} onChange={() => set({ identification: 'pin' })} />
              <label for="kyc-identification-pin">{t('kyc:identification.pin')}</label>
            </div>
            {eidAvailable && (
              <div class="checkbox">
                <input id="kyc-identification-eid" type="radio" name="identification" checked={draft.identification === 'eid'} onChange={() => set({ identification: 'eid' })} />
                <label for="kyc-identification-eid">{t('kyc:identification.eid')}</label>
              </div>
            )}
            {!eidAvailable && <p class="hint">{t('kyc:new.eidUnavailable')}</p>}
          </fieldset>
          <div class="field-grid">
            <div>
              <label for="kyc-expires">{t('kyc:new.expiresInDays')}</label>
              <input id="kyc-expires" type="number" inputMode="numeric" min={1} max={365} value={draft.expiresInDays} onInput={(event) => set({ expiresInDays: (event.target as HTMLInputElement).value })} />
              {errorOf('expires', 'expiresIn')}
            </div>
            <div>
              <label for="kyc-folder">{t('kyc:new.folder')}</label>
              <select id="kyc-folder" value={draft.folderId} onChange={(event) => set({ folderId: (event.target as HTMLSelectElement).value })}>
                <option value="">{t('kyc:new.folderDefault')}</option>
                {folders.map((folder) => (
                  <option value={folder.id} key={folder.id}>
                    {folder.name}
                  </option>
                ))}
              </select>
              {errorOf('folder', 'folderId')}
            </div>
          </div>
        </div>
        <ErrorBanner message={banner} />
        <div class="actions">
          <button type="submit" disabled={sending}>
            {sending ? t('kyc:new.sending') : t('kyc:new.submit')}
          </button>
        </div>
      </form>
    </section>
  );
}
