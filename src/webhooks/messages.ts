/**
 * The email an organisation's owners and administrators get when Sigill disables a webhook endpoint that
 * kept failing (catalog `email:webhookDisabled`, in the organisation's default language). Pure, so tests
 * can assert what a person reads.
 */
import { renderEmail, type Email } from '../email/render-email';
import { formatDateTime, translator, type Locale } from '../i18n';

export interface DisabledEndpointFacts {
  url: string;
  organizationName: string;
  failingSince: Date;
  disabledAt: Date;
  timeZone: string;
}

export function webhookDisabledEmail(facts: DisabledEndpointFacts, recipient: { name: string; locale: Locale }, consoleLink: string): Email {
  const { locale } = recipient;
  const t = translator(locale);
  // The URL without its query: receivers sometimes put a token there, and mail is read in many places.
  const url = new URL(facts.url);
  const shown = `${url.origin}${url.pathname}`;
  return renderEmail(
    locale,
    t('email:webhookDisabled.subject', { host: url.host }),
    t('email:greeting', { name: recipient.name }),
    [
      {
        kind: 'paragraph',
        text: t('email:webhookDisabled.what', {
          url: shown,
          organization: facts.organizationName,
          since: formatDateTime(facts.failingSince, locale, facts.timeZone),
          date: formatDateTime(facts.disabledAt, locale, facts.timeZone),
        }),
      },
      { kind: 'paragraph', text: t('email:webhookDisabled.todo') },
      { kind: 'action', label: t('email:webhookDisabled.action'), url: consoleLink },
    ],
    t('email:sentOnBehalf.organization', { organization: facts.organizationName }),
  );
}
