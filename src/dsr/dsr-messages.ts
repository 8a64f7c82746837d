/**
 * The messages of a data-subject request, in the reader's language (catalog `email`, key `dsr`): the
 * requester's confirmation code (email, and SMS when a phone was given) with their status link, the
 * extension notice, the answer (what was done; for erasure what was kept and under which legal basis) or the
 * refusal; and the handler's deadline reminder. Pure, laid out by src/email/render-email.ts.
 */
import type { DataSubjectRequestType, HandledRecordView } from '../contract/data-subject-requests';
import { renderEmail, type Block, type Email } from '../email/render-email';
import { formatDate, translator, type Locale } from '../i18n';

export interface RequestFacts {
  organizationName: string;
  requesterName: string;
  type: DataSubjectRequestType;
  deadline: Date;
  timeZone: string;
}

const footer = (locale: Locale, organization: string) => translator(locale)('email:sentOnBehalf.organization', { organization });
const greeting = (locale: Locale, name: string) => translator(locale)('email:greeting', { name });
const typeName = (locale: Locale, type: DataSubjectRequestType) => translator(locale)(`email:dsr.type.${type}`);

export function dsrCodeEmail(facts: RequestFacts, locale: Locale, code: string, link: string): Email {
  const t = translator(locale);
  const organization = facts.organizationName;
  const blocks: Block[] = [
    { kind: 'paragraph', text: t('email:dsr.code.intro', { organization, type: typeName(locale, facts.type) }) },
    { kind: 'code', label: t('email:dsr.code.label'), code },
    { kind: 'action', label: t('email:dsr.code.action'), url: link },
    { kind: 'paragraph', text: t('email:dsr.code.deadline', { date: formatDate(facts.deadline, locale, facts.timeZone) }) },
    { kind: 'note', text: t('email:dsr.code.notYou') },
  ];
  return renderEmail(locale, t('email:dsr.code.subject', { organization }), greeting(locale, facts.requesterName), blocks, footer(locale, organization));
}

/** Short enough for one SMS: the organisation's name is cut, the code never is. */
export function dsrCodeSms(organizationName: string, code: string, locale: Locale): string {
  return translator(locale)('email:dsr.codeSms', { organization: organizationName.slice(0, 60), code });
}

export function dsrExtensionEmail(facts: RequestFacts, locale: Locale, reason: string, link: string): Email {
  const t = translator(locale);
  const organization = facts.organizationName;
  const blocks: Block[] = [
    { kind: 'paragraph', text: t('email:dsr.extended.intro', { organization, date: formatDate(facts.deadline, locale, facts.timeZone) }) },
    { kind: 'quote', label: t('email:dsr.extended.reason'), text: reason },
    { kind: 'action', label: t('email:dsr.statusAction'), url: link },
  ];
  return renderEmail(locale, t('email:dsr.extended.subject', { organization }), greeting(locale, facts.requesterName), blocks, footer(locale, organization));
}

export function dsrAnswerEmail(
  facts: RequestFacts,
  locale: Locale,
  outcome: { status: 'completed' | 'rejected'; text: string | null; handled: HandledRecordView[] },
  link: string,
): Email {
  const t = translator(locale);
  const organization = facts.organizationName;
  const blocks: Block[] = [];
  if (outcome.status === 'rejected') {
    blocks.push({ kind: 'paragraph', text: t('email:dsr.rejected.intro', { organization, type: typeName(locale, facts.type) }) });
    if (outcome.text) blocks.push({ kind: 'quote', label: t('email:dsr.rejected.reason'), text: outcome.text });
  } else {
    blocks.push({ kind: 'paragraph', text: t(`email:dsr.done.${facts.type}`, { organization }) });
    const count = (action: HandledRecordView['action']) => outcome.handled.filter((record) => record.action === action).length;
    if (facts.type === 'erasure') {
      blocks.push({ kind: 'paragraph', text: t('email:dsr.done.erasedCount', { records: count('erased') }) });
      const kept = outcome.handled.filter((record) => record.action === 'kept' && record.legalBasis);
      if (kept.length > 0) {
        blocks.push({
          kind: 'quote',
          label: t('email:dsr.done.kept'),
          text: kept.map((record) => `${record.legalBasis}: ${record.explanation ?? ''}`.trim()).filter((line, index, all) => all.indexOf(line) === index).join('\n'),
        });
      }
    }
    if (outcome.text) blocks.push({ kind: 'quote', label: t('email:dsr.done.answer'), text: outcome.text });
  }
  blocks.push({ kind: 'action', label: t('email:dsr.statusAction'), url: link });
  const subject = t(`email:dsr.${outcome.status === 'rejected' ? 'rejected' : 'done'}.subject`, { organization });
  return renderEmail(locale, subject, greeting(locale, facts.requesterName), blocks, footer(locale, organization));
}

export function dsrDeadlineReminderEmail(facts: RequestFacts, recipient: { name: string; locale: Locale }, consoleLink: string): Email {
  const t = translator(recipient.locale);
  const values = { type: typeName(recipient.locale, facts.type), date: formatDate(facts.deadline, recipient.locale, facts.timeZone) };
  const blocks: Block[] = [
    { kind: 'paragraph', text: t('email:dsr.reminder.text', values) },
    { kind: 'action', label: t('email:dsr.reminder.action'), url: consoleLink },
  ];
  return renderEmail(recipient.locale, t('email:dsr.reminder.subject', values), greeting(recipient.locale, recipient.name), blocks, footer(recipient.locale, facts.organizationName));
}
