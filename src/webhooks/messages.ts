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
  // Scheme, host and port only: receivers put tokens in paths (Slack-style URLs) and queries, and mail is
  // read in many places. The console link shows the rest to those who may see it.
  const url = new URL(facts.url);
  return renderEmail(
    locale,
    t('email:webhookDisabled.subject', { host: url.host }),
    t('email:greeting', { name: recipient.name }),
    [
      {
        kind: 'paragraph',
        text: t('email:webhookDisabled.what', {
          address: url.origin,
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
