/**
 * The words Sigill sends to people, in the reader's language (catalogs `email` and `sms`, src/i18n):
 * signers in their own `locale`, senders and members in the organisation's default language, dates in
 * the organisation's time zone. Each function is pure, so tests can assert what a person reads.
 *
 * An email is written once as a list of blocks and rendered twice: as plain text (it survives every mail
 * client, and a PIN or link never hides behind markup) and as HTML. The HTML is escaped by construction:
 * blocks hold plain text only, and the renderer escapes every piece of it, catalog text and interpolated
 * values alike; no markup ever comes from a catalog or a caller.
 */
import { escapeHtml } from '../api/html';
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

export interface Email {
  subject: string;
  text: string;
  html: string;
}

type Block =
  | { kind: 'paragraph'; text: string }
  /** Someone's own words (the sender's message, a decline reason): quoted, line by line. */
  | { kind: 'quote'; label: string; text: string }
  | { kind: 'action'; label: string; url: string }
  | { kind: 'note'; text: string };

/** The person or, failing one, the organisation: which variant of a sentence to use, and its values. */
function bySender(request: RequestFacts) {
  const variant = request.senderName ? 'person' : 'organization';
  return { variant, values: { sender: request.senderName ?? '', organization: request.organizationName, title: request.title } };
}

function render(locale: Locale, subject: string, greetingName: string, blocks: Block[], footer: string): Email {
  const t = translator(locale);
  const greeting = t('email:greeting', { name: greetingName });
  const text = [greeting, ...blocks.map(textOf), `-- \n${footer}`].join('\n\n');
  const html = [
    '<!DOCTYPE html>',
    `<html lang="${escapeHtml(locale)}"><head><meta charset="utf-8">`,
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${escapeHtml(subject)}</title></head>`,
    '<body style="margin:0;padding:0;background:#f3f4f6;">',
    '<div style="max-width:36rem;margin:0 auto;padding:24px 16px;font-family:system-ui,-apple-system,\'Segoe UI\',Roboto,sans-serif;font-size:16px;line-height:1.5;color:#1f2328;background:#ffffff;">',
    `<p style="margin:0 0 16px;">${escapeHtml(greeting)}</p>`,
    ...blocks.map(htmlOf),
    `<p style="margin:32px 0 0;font-size:13px;color:#4b5563;">${escapeHtml(footer)}</p>`,
    '</div></body></html>',
  ].join('\n');
  return { subject, text, html };
}

const quoteLines = (text: string) => text.split(/\r\n|\r|\n/).map((line) => (line ? `> ${line}` : '>'));

function textOf(block: Block): string {
  switch (block.kind) {
    case 'paragraph':
    case 'note':
      return block.text;
    case 'quote':
      return [block.label, ...quoteLines(block.text)].join('\n');
    case 'action':
      // The link alone on its line: mail clients make it clickable, and nothing glues onto its end.
      return `${block.label}:\n${block.url}`;
  }
}

function htmlOf(block: Block): string {
  switch (block.kind) {
    case 'paragraph':
      return `<p style="margin:0 0 16px;">${escapeHtml(block.text)}</p>`;
    case 'note':
      return `<p style="margin:0 0 16px;font-size:14px;color:#4b5563;">${escapeHtml(block.text)}</p>`;
    case 'quote': {
      const lines = block.text.split(/\r\n|\r|\n/).map(escapeHtml).join('<br>');
      return (
        `<p style="margin:0 0 4px;">${escapeHtml(block.label)}</p>` +
        `<blockquote style="margin:0 0 16px;padding:4px 12px;border-left:4px solid #d0d7de;color:#1f2328;">${lines}</blockquote>`
      );
    }
    case 'action': {
      const href = escapeHtml(block.url);
      return (
        `<p style="margin:24px 0;"><a href="${href}" style="display:inline-block;padding:12px 20px;background:#1d4ed8;color:#ffffff;` +
        `text-decoration:none;border-radius:6px;font-weight:600;">${escapeHtml(block.label)}</a></p>` +
        `<p style="margin:0 0 16px;font-size:13px;color:#4b5563;word-break:break-all;">${href}</p>`
      );
    }
  }
}

function footerOf(t: Translate, request: RequestFacts): string {
  const { variant, values } = bySender(request);
  return t(`email:sentOnBehalf.${variant}`, values);
}

function requestBlocks(t: Translate, locale: Locale, request: RequestFacts, pinDelivery: 'sms' | 'sender', intro: string, action: string, link: string): Block[] {
  const { variant, values } = bySender(request);
  return [
    { kind: 'paragraph', text: intro },
    ...(request.message ? [{ kind: 'quote', label: t(`email:messageFrom.${variant}`, values), text: request.message } as const] : []),
    { kind: 'action', label: action, url: link },
    { kind: 'paragraph', text: `${t(`email:pinHint.${pinDelivery}`)} ${t('email:expires', { date: formatDate(request.expiresAt, locale, request.timeZone) })}` },
    { kind: 'note', text: t('email:personalLink') },
  ];
}

export interface SignerFacts {
  name: string;
  pinDelivery: 'sms' | 'sender';
  locale: Locale;
}

export function invitationEmail(request: RequestFacts, signer: SignerFacts, link: string): Email {
  const t = translator(signer.locale);
  const { variant, values } = bySender(request);
  const blocks = requestBlocks(t, signer.locale, request, signer.pinDelivery, t(`email:askedBy.${variant}`, values), t('email:invitation.action'), link);
  return render(signer.locale, t('email:invitation.subject', { title: request.title }), signer.name, blocks, footerOf(t, request));
}

export function reminderEmail(request: RequestFacts, signer: SignerFacts, link: string): Email {
  const t = translator(signer.locale);
  const { variant, values } = bySender(request);
  const blocks = requestBlocks(t, signer.locale, request, signer.pinDelivery, t(`email:reminder.stillWaiting.${variant}`, values), t('email:reminder.action'), link);
  return render(signer.locale, t('email:reminder.subject', { title: request.title }), signer.name, blocks, footerOf(t, request));
}

/** Short enough for one SMS in most cases: the title is cut, the PIN never is. */
export function pinSms(request: { title: string; organizationName: string }, pin: string, locale: Locale): string {
  return translator(locale)('sms:pin', { title: request.title.slice(0, 60), organization: request.organizationName.slice(0, 60), pin });
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
