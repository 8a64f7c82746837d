/**
 * The emails of a KYC case, in the reader's language (catalog `email`, key `kyc`): the customer's
 * invitation and reminders (their personal link; the PIN comes from the organisation, or they identify with
 * eID), the customer's outcome, and the staff's outcome (the case's creator and the organisation's owners
 * and admins, in its default language). Pure, laid out by src/email/render-email.ts.
 */
import { renderEmail, type Block, type Email } from '../email/render-email';
import { formatDate, translator, type Locale } from '../i18n';

export interface CaseFacts {
  organizationName: string;
  customerName: string;
  identification: 'pin' | 'eid';
  /** For a PIN case: the PIN comes by SMS (the customer has a phone) or from the organisation. */
  pinBySms: boolean;
  expiresAt: Date;
  timeZone: string;
}

const footer = (locale: Locale, organization: string) => translator(locale)('email:sentOnBehalf.organization', { organization });
const greeting = (locale: Locale, name: string) => translator(locale)('email:greeting', { name });

export function kycInvitationEmail(facts: CaseFacts, locale: Locale, link: string): Email {
  const t = translator(locale);
  const organization = facts.organizationName;
  const blocks: Block[] = [
    { kind: 'paragraph', text: t('email:kyc.invitation.intro', { organization }) },
    { kind: 'action', label: t('email:kyc.invitation.action'), url: link },
    { kind: 'paragraph', text: `${t(howToGetIn(facts), { organization })} ${t('email:kyc.invitation.expires', { date: formatDate(facts.expiresAt, locale, facts.timeZone) })}` },
    { kind: 'note', text: t('email:personalLink') },
  ];
  return renderEmail(locale, t('email:kyc.invitation.subject', { organization }), greeting(locale, facts.customerName), blocks, footer(locale, organization));
}

const howToGetIn = (facts: CaseFacts) =>
  facts.identification === 'eid' ? 'email:kyc.invitation.eid' : facts.pinBySms ? 'email:kyc.invitation.pinBySms' : 'email:kyc.invitation.pin';

/** Short enough for one SMS: the organisation's name is cut, the PIN never is. */
export function kycPinSms(organizationName: string, pin: string, locale: Locale): string {
  return translator(locale)('email:kyc.pinSms', { organization: organizationName.slice(0, 60), pin });
}

export function kycReminderEmail(facts: CaseFacts, locale: Locale, link: string): Email {
  const t = translator(locale);
  const organization = facts.organizationName;
  const blocks: Block[] = [
    { kind: 'paragraph', text: t('email:kyc.reminder.intro', { organization }) },
    { kind: 'action', label: t('email:kyc.reminder.action'), url: link },
    { kind: 'paragraph', text: t('email:kyc.invitation.expires', { date: formatDate(facts.expiresAt, locale, facts.timeZone) }) },
    { kind: 'note', text: t('email:personalLink') },
  ];
  return renderEmail(locale, t('email:kyc.reminder.subject', { organization }), greeting(locale, facts.customerName), blocks, footer(locale, organization));
}

/** The case was sent back for changes: the reviewer's reason, quoted, and the customer's link. */
export function kycChangesRequestedEmail(facts: CaseFacts, locale: Locale, link: string, reason: string): Email {
  const t = translator(locale);
  const organization = facts.organizationName;
  const blocks: Block[] = [
    { kind: 'paragraph', text: t('email:kyc.changesRequested.intro', { organization }) },
    { kind: 'quote', label: t('email:kyc.changesRequested.reason'), text: reason },
    { kind: 'action', label: t('email:kyc.changesRequested.action'), url: link },
    { kind: 'paragraph', text: t('email:kyc.invitation.expires', { date: formatDate(facts.expiresAt, locale, facts.timeZone) }) },
    { kind: 'note', text: t('email:personalLink') },
  ];
  return renderEmail(locale, t('email:kyc.changesRequested.subject', { organization }), greeting(locale, facts.customerName), blocks, footer(locale, organization));
}

export type KycOutcome = 'approved' | 'rejected' | 'expired' | 'cancelled' | 'failed';

export function kycCustomerOutcomeEmail(facts: CaseFacts, locale: Locale, status: KycOutcome): Email {
  const t = translator(locale);
  const organization = facts.organizationName;
  const subject = t('email:kyc.outcome.subject', { organization, status: t(`email:kyc.status.${status}`) });
  return renderEmail(locale, subject, greeting(locale, facts.customerName), [{ kind: 'paragraph', text: t(`email:kyc.outcome.${status}`, { organization }) }], footer(locale, organization));
}

export function kycStaffOutcomeEmail(facts: CaseFacts, recipient: { name: string; locale: Locale }, status: KycOutcome, consoleLink: string): Email {
  const t = translator(recipient.locale);
  const values = { customer: facts.customerName, status: t(`email:kyc.status.${status}`) };
  const blocks: Block[] = [
    { kind: 'paragraph', text: t('email:kyc.staffOutcome.text', values) },
    { kind: 'action', label: t('email:kyc.staffOutcome.action'), url: consoleLink },
  ];
  return renderEmail(recipient.locale, t('email:kyc.staffOutcome.subject', values), greeting(recipient.locale, recipient.name), blocks, footer(recipient.locale, facts.organizationName));
}
