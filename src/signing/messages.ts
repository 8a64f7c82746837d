/**
 * The words Sigill sends to people, in the reader's language (catalogs `email` and `sms`, src/i18n):
 * signers in their own `locale`, senders and members in the organisation's default language, dates in
 * the organisation's time zone. Each function is pure, so tests can assert what a person reads.
 *
 * An email is written once as a list of blocks and rendered as plain text and HTML, escaped by construction
 * (src/email/render-email.ts, shared with the account emails).
 */
import type { IdentificationMethod } from '../contract/identification';
import { renderEmail, type Block, type Email } from '../email/render-email';
import { formatDate, formatDateTime, translator, type Locale, type Translate } from '../i18n';
import type { RoundStatus } from '../workflows/signing-round';

export interface RequestFacts {
  title: string;
  organizationName: string;
  /** The member who created the request; null when an API key did (the organisation alone is named). */
  senderName: string | null;
  message: string | null;
  expiresAt: Date;
  /** IANA name: every date is written in the organisation's zone. */
  timeZone: string;
}

export type { Email } from '../email/render-email';

/** The person or, failing one, the organisation: which variant of a sentence to use, and its values. */
function bySender(request: RequestFacts) {
  const variant = request.senderName ? 'person' : 'organization';
  return { variant, values: { sender: request.senderName ?? '', organization: request.organizationName, title: request.title } };
}

function render(locale: Locale, subject: string, greetingName: string, blocks: Block[], footer: string): Email {
  return renderEmail(locale, subject, translator(locale)('email:greeting', { name: greetingName }), blocks, footer);
}

function footerOf(t: Translate, request: RequestFacts): string {
  const { variant, values } = bySender(request);
  return t(`email:sentOnBehalf.${variant}`, values);
}

/** How the signer will get in: the PIN's way, eID instead, or the PIN then eID. */
function accessHint(t: Translate, signer: SignerFacts): string {
  const method = signer.identificationMethod ?? 'pin';
  if (method === 'eid') return t('email:pinHint.eid');
  const pin = t(`email:pinHint.${signer.pinDelivery}`);
  return method === 'pin+eid' ? `${pin} ${t('email:pinHint.pinAndEid')}` : pin;
}

function requestBlocks(t: Translate, locale: Locale, request: RequestFacts, signer: SignerFacts, intro: string, action: string, link: string): Block[] {
  const { variant, values } = bySender(request);
  return [
    { kind: 'paragraph', text: intro },
    ...(request.message ? [{ kind: 'quote', label: t(`email:messageFrom.${variant}`, values), text: request.message } as const] : []),
    { kind: 'action', label: action, url: link },
    { kind: 'paragraph', text: `${accessHint(t, signer)} ${t('email:expires', { date: formatDate(request.expiresAt, locale, request.timeZone) })}` },
    { kind: 'note', text: t('email:personalLink') },
  ];
}

export interface SignerFacts {
  name: string;
  pinDelivery: 'sms' | 'sender';
  locale: Locale;
  identificationMethod?: IdentificationMethod;
}

export function invitationEmail(request: RequestFacts, signer: SignerFacts, link: string): Email {
  const t = translator(signer.locale);
  const { variant, values } = bySender(request);
  const blocks = requestBlocks(t, signer.locale, request, signer, t(`email:askedBy.${variant}`, values), t('email:invitation.action'), link);
  return render(signer.locale, t('email:invitation.subject', { title: request.title }), signer.name, blocks, footerOf(t, request));
}

export function reminderEmail(request: RequestFacts, signer: SignerFacts, link: string): Email {
  const t = translator(signer.locale);
  const { variant, values } = bySender(request);
  const blocks = requestBlocks(t, signer.locale, request, signer, t(`email:reminder.stillWaiting.${variant}`, values), t('email:reminder.action'), link);
  return render(signer.locale, t('email:reminder.subject', { title: request.title }), signer.name, blocks, footerOf(t, request));
}

/** Short enough for one SMS in most cases: the title is cut, the PIN never is. */
export function pinSms(request: { title: string; organizationName: string }, pin: string, locale: Locale): string {
  return translator(locale)('sms:pin', { title: request.title.slice(0, 60), organization: request.organizationName.slice(0, 60), pin });
}

/** Senders hear when an identity was refused as not the expected person (no data of that identity in it). */
export function identityMismatchEmail(
  request: RequestFacts,
  recipient: Recipient,
  attempt: { name: string; email: string; at: Date },
  consoleLink: string,
): Email {
  const { locale } = recipient;
  const t = translator(locale);
  const blocks: Block[] = [
    {
      kind: 'paragraph',
      text: t('email:identityMismatch.what', { name: attempt.name, email: attempt.email, title: request.title, date: formatDateTime(attempt.at, locale, request.timeZone) }),
    },
    { kind: 'paragraph', text: t('email:identityMismatch.todo', { name: attempt.name }) },
    { kind: 'action', label: t('email:identityMismatch.action'), url: consoleLink },
  ];
  return render(locale, t('email:identityMismatch.subject', { title: request.title }), recipient.name, blocks, footerOf(t, request));
}

/** Who ended a declined round, and the reason they gave: read from the audit trail's `declined` event. */
export interface DeclineFacts {
  signerName: string;
  reason: string;
}

export interface Recipient {
  name: string;
  locale: Locale;
}

export interface OutcomeOptions {
  /** For a completed round: the signer's own signing page (`signer`) or the request's console page (`sender`). */
  link?: { url: string; audience: 'signer' | 'sender' };
  decline?: DeclineFacts;
  /** The decliner reads "declined by you", as a record of what the others were told. */
  recipientIsDecliner?: boolean;
  signerCount?: number;
  /** When the round ended (an expiry names its date). */
  endedAt?: Date;
}

export function outcomeEmail(request: RequestFacts, recipient: Recipient, status: RoundStatus, options: OutcomeOptions = {}): Email {
  const { locale } = recipient;
  const t = translator(locale);
  const about = { title: request.title, organization: request.organizationName };
  const blocks: Block[] = [];
  if (status === 'completed') {
    blocks.push({ kind: 'paragraph', text: t('email:outcome.completed', { ...about, count: options.signerCount ?? 1 }) });
    if (options.link?.audience === 'signer') {
      blocks.push({ kind: 'paragraph', text: t('email:outcome.signerDocument') }, { kind: 'action', label: t('email:outcome.signerAction'), url: options.link.url });
    } else if (options.link?.audience === 'sender') {
      blocks.push({ kind: 'paragraph', text: t('email:outcome.senderDocument') }, { kind: 'action', label: t('email:outcome.senderAction'), url: options.link.url });
    }
  } else if (status === 'declined') {
    const { decline } = options;
    if (!decline) blocks.push({ kind: 'paragraph', text: t('email:outcome.declinedBySomeone', about) });
    else {
      const sentence = options.recipientIsDecliner ? t('email:outcome.declinedByYou', about) : t('email:outcome.declinedBy', { ...about, name: decline.signerName });
      // The reason is the decliner's own words: quoted, so a reader tells them from Sigill's text.
      blocks.push({ kind: 'paragraph', text: sentence }, { kind: 'quote', label: t('email:outcome.reason'), text: decline.reason });
    }
  } else if (status === 'expired') {
    blocks.push({ kind: 'paragraph', text: t('email:outcome.expired', { ...about, date: formatDate(options.endedAt ?? request.expiresAt, locale, request.timeZone) }) });
  } else {
    blocks.push({ kind: 'paragraph', text: t(`email:outcome.${status}`, about) });
  }
  const subject = t(status === 'completed' ? 'email:outcome.subjectCompleted' : 'email:outcome.subjectNotCompleted', { title: request.title });
  return render(locale, subject, recipient.name, blocks, footerOf(t, request));
}

/** To the request's sender(s) when a signer's link locks after too many wrong PINs: who, when, what to do. */
export function lockedEmail(
  request: RequestFacts,
  recipient: Recipient,
  locked: { name: string; email: string; at: Date; attempts: number },
  consoleLink: string,
): Email {
  const { locale } = recipient;
  const t = translator(locale);
  const blocks: Block[] = [
    {
      kind: 'paragraph',
      text: t('email:locked.what', {
        name: locked.name,
        email: locked.email,
        title: request.title,
        date: formatDateTime(locked.at, locale, request.timeZone),
        count: locked.attempts,
      }),
    },
    { kind: 'paragraph', text: t('email:locked.todo', { name: locked.name }) },
    { kind: 'action', label: t('email:locked.action'), url: consoleLink },
  ];
  return render(locale, t('email:locked.subject', { title: request.title }), recipient.name, blocks, footerOf(t, request));
}
