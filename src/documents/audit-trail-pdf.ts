/**
 * The audit trail as a PDF of its own, drawn with pdf-lib (which generates new content well): what was
 * sealed, who signed how and when, and the timeline. The seal copies these pages into the sealed document
 * as an incremental update (seal-document.ts), or, where the document may not gain pages (a certification
 * that permits only signatures), seals this file on its own as the evidence travelling beside it.
 *
 * The standard 14 fonts carry WinAnsi only: text outside it is reduced to what they can show (winAnsiSafe).
 */
import { PDFDocument, PageSizes, StandardFonts, rgb, type PDFFont, type PDFPage } from 'pdf-lib';
import { formatDateTime, formatUtc as formatUtcSeconds, translator, type Locale, type Translate } from '../i18n';
// The same names the pages use for eIDs (a pure module shared with the browser code).
import { eidName } from '../web/client/shared/eid-names';

export interface AuditTrailEntry {
  name: string;
  email: string;
  /** How the signer was reached: `sms` (link by email, PIN by SMS), `sender` (PIN from the sender), else printed as given. */
  channel: string;
  ip?: string;
  userAgent?: string;
  /** ISO 8601. */
  signedAt: string;
  /** The signer's eID identification, as the audit trail recorded it (the national id masked). */
  identification?: {
    scheme: string | null;
    name: string | null;
    nationalIdMasked: string | null;
    transactionId: string | null;
    identifiedAt: string;
  };
}

export interface AuditEvent {
  /** ISO 8601. */
  at: string;
  /** The audit event type (`opened`, `viewed`, `signed`, …): printed as what happened, in the page's language. */
  type?: string;
  /** What happened in words of the caller's own, printed as given (instead of the type's label). */
  action?: string;
  /** Who acted by role: `signer`, `sender` or `system`. */
  actor: string;
  /** The person who acted, when known (a signer's name). */
  actorName?: string;
  /** `email`, `sms`, `link`. */
  channel?: string;
  ip?: string;
}


/**
 * Events of a data-subject request (GDPR Art. 16/18/21) about one signer: the organisation's API trail keeps
 * them, but the sealed page goes to every signer, and co-signers must not learn that this person asked for
 * rectification, restriction or objected. The audit chain head printed still pins them.
 */
const privateToTheDataSubject = new Set(['contact_rectified', 'contact_restricted', 'reminder_skipped']);

export interface AuditTrailInput {
  documentCode: string;
  title: string;
  originalSha256: string;
  /** The original's page count, printed so a reader can tell its pages from the audit trail's. */
  originalPageCount: number;
  /** The original's length: the sealed file begins with exactly these bytes of it. */
  originalByteLength: number;
  /**
   * The hash of the last audit event before sealing (see src/signing/audit-chain.ts): printed on the audit
   * page so the sealed document pins the trail as it stood.
   */
  auditChainHead?: string;
  signers: AuditTrailEntry[];
  /** Optional timeline lines for the audit trail. */
  events?: AuditEvent[];
  sealedAt: Date;
  /** e.g. 'Sigill seal — Acme Oy'. */
  signerName: string;
  /** Printed on every page, e.g. 'https://sign.example.com/verify'. */
  verifyUrl?: string;
  /** The language of the audit page and stamps (the organisation's default); English when absent. */
  locale?: Locale;
  /** IANA zone of the times on the audit page (the organisation's), UTC printed beside each; UTC when absent. */
  timeZone?: string;
  /**
   * Where these pages go: `appended` to the sealed document, or a `separate` evidence file (the document
   * may take only a signature: see sealTreatment), which the first page then says.
   */
  placement: 'appended' | 'separate';
}

export interface RenderedAuditTrail {
  pdf: Uint8Array;
  pageCount: number;
  /** The footer for every original page, already reduced to what the standard fonts can show. */
  stampText: string;
}

/** Renders the audit trail; deterministic for a given input (no clock, no random ids), so a retried seal agrees. */
export async function renderAuditTrail(input: AuditTrailInput): Promise<RenderedAuditTrail> {
  const document = await PDFDocument.create({ updateMetadata: false });
  document.setCreationDate(input.sealedAt);
  document.setModificationDate(input.sealedAt);
  document.setProducer('Sigill');
  document.setTitle(input.title);
  const fonts = {
    regular: await document.embedFont(StandardFonts.Helvetica),
    bold: await document.embedFont(StandardFonts.HelveticaBold),
    monospace: await document.embedFont(StandardFonts.Courier),
  };
  const t = translator(input.locale ?? 'en');
  const stamp = t('audit:stamp', { code: input.documentCode, sealedAt: formatUtcMinutes(input.sealedAt), url: input.verifyUrl ?? '/verify' });
  const pages = appendAuditTrail(document, input, fonts, t);
  return { pdf: await document.save({ useObjectStreams: false }), pageCount: pages.length, stampText: winAnsiSafe(stamp, fonts.regular) };
}

const footerGrey = rgb(0.45, 0.45, 0.45);
const footerMaxFontSize = 7;

// ---------------------------------------------------------------------------------------------------------
// The audit trail pages
// ---------------------------------------------------------------------------------------------------------

interface Fonts {
  regular: PDFFont;
  bold: PDFFont;
  monospace: PDFFont;
}

const a4 = { width: PageSizes.A4[0], height: PageSizes.A4[1] };
const pageMargin = 56;
const labelColumnWidth = 124;
const bodySize = 9.5;
const textColour = rgb(0.1, 0.1, 0.1);
const mutedColour = rgb(0.4, 0.4, 0.4);

/** Longest user-controlled strings shown in full; a user agent can run to kilobytes. */
const maxChars = { short: 200, userAgent: 300, event: 500 } as const;

function appendAuditTrail(document: PDFDocument, input: AuditTrailInput, fonts: Fonts, t: Translate): PDFPage[] {
  const locale = input.locale ?? 'en';
  const timeZone = input.timeZone ?? 'UTC';
  // Local time first, UTC beside it; in UTC itself once is enough.
  const when = (iso: string) => {
    const date = new Date(iso);
    if (Number.isNaN(date.getTime())) return truncate(iso, maxChars.short);
    return timeZone === 'UTC' ? formatUtcSeconds(date) : `${formatDateTime(date, locale, timeZone)} (${formatUtcSeconds(date)})`;
  };
  const writer = new AuditTrailWriter(document, fonts, t('audit:continued'));
  writer.heading(t('audit:heading'));
  writer.paragraph(truncate(input.title, maxChars.short), { font: fonts.bold, size: 12 });
  writer.gap(6);
  writer.field(t('audit:documentCode'), input.documentCode);
  writer.field(t('audit:originalSha256'), input.originalSha256, { font: fonts.monospace, size: 8.5 });
  if (input.auditChainHead) writer.field(t('audit:chainHead'), input.auditChainHead, { font: fonts.monospace, size: 8.5 });
  writer.field(t('audit:originalPages'), String(input.originalPageCount));
  writer.field(t('audit:originalBytes'), t('audit:originalBytesValue', { bytes: input.originalByteLength }));
  if (input.placement === 'separate') writer.field(t('audit:placement'), t('audit:placementSeparate'));
  writer.field(t('audit:sealed'), when(input.sealedAt.toISOString()));
  writer.field(t('audit:seal'), truncate(input.signerName, maxChars.short));
  writer.field(t('audit:timeZone'), timeZone === 'UTC' ? 'UTC' : t('audit:timesNote', { zone: timeZone }));

  writer.gap(14);
  writer.subheading(t('audit:signers', { count: input.signers.length }));
  input.signers.forEach((signer, index) => {
    writer.keepTogether((signer.identification ? 8 : 6) * lineHeight(bodySize) + 8);
    writer.paragraph(`${index + 1}. ${truncate(signer.name, maxChars.short)}`, { font: fonts.bold });
    writer.field(t('audit:email'), truncate(signer.email, maxChars.short));
    writer.field(t('audit:signedVia'), truncate(t(`audit:channel.${signer.channel}`, { defaultValue: signer.channel }), maxChars.short));
    writer.field(t('audit:signedAt'), signer.signedAt ? when(signer.signedAt) : t('audit:notSigned'));
    writer.field(t('audit:ipAddress'), signer.ip ? truncate(signer.ip, maxChars.short) : t('audit:notRecorded'));
    writer.field(t('audit:userAgent'), signer.userAgent ? truncate(signer.userAgent, maxChars.userAgent) : t('audit:notRecorded'));
    if (signer.identification) {
      const id = signer.identification;
      const parts = [id.scheme ? eidName(id.scheme, t) : null, id.name, id.nationalIdMasked].filter((part): part is string => Boolean(part));
      writer.field(t('audit:identifiedWith'), truncate(`${parts.join(', ')} — ${when(id.identifiedAt)}`, maxChars.event));
      if (id.transactionId) writer.field(t('audit:eidTransaction'), truncate(id.transactionId, maxChars.short), { font: fonts.monospace, size: 8.5 });
    }
    writer.gap(8);
  });

  const printedEvents = input.events?.filter((event) => !event.type || !privateToTheDataSubject.has(event.type));
  if (printedEvents?.length) {
    writer.gap(6);
    writer.subheading(t('audit:events'));
    for (const event of printedEvents) {
      const who = event.actorName ?? t(`audit:actor.${event.actor}`, { defaultValue: event.actor });
      const what = event.action ?? t(`audit:event.${event.type ?? 'unknown'}`, { defaultValue: event.type ?? '' });
      const how = event.channel ? ` (${t('audit:via', { channel: t(`audit:channelName.${event.channel}`, { defaultValue: event.channel }) })})` : '';
      const where = event.ip ? `, ${t('audit:eventIp', { ip: truncate(event.ip, maxChars.short) })}` : '';
      writer.field(when(event.at), truncate(`${who} — ${what}${how}${where}`, maxChars.event), { labelFont: fonts.regular });
    }
  }

  writer.pages.forEach((page, index) => {
    const footer = t('audit:footer', { code: input.documentCode, page: index + 1, pages: writer.pages.length });
    page.drawText(winAnsiSafe(footer, fonts.regular), {
      x: pageMargin,
      y: pageMargin / 2,
      size: footerMaxFontSize,
      font: fonts.regular,
      color: footerGrey,
    });
  });
  return writer.pages;
}

function lineHeight(size: number): number {
  return size * 1.35;
}

interface TextStyle {
  font?: PDFFont;
  size?: number;
}

/** Writes top to bottom, wrapping long text and starting a new A4 page when the current one is full. */
class AuditTrailWriter {
  readonly pages: PDFPage[] = [];
  private page!: PDFPage;
  private y = 0;

  constructor(
    private readonly document: PDFDocument,
    private readonly fonts: Fonts,
    private readonly continuedHeading: string,
  ) {
    this.addPage();
  }

  heading(text: string): void {
    this.paragraph(text, { font: this.fonts.bold, size: 18 });
    this.gap(4);
  }

  subheading(text: string): void {
    this.paragraph(text, { font: this.fonts.bold, size: 12 });
    this.gap(2);
  }

  paragraph(text: string, style: TextStyle = {}): void {
    const font = style.font ?? this.fonts.regular;
    const size = style.size ?? bodySize;
    for (const line of wrapText(winAnsiSafe(text, font), font, size, a4.width - 2 * pageMargin)) {
      this.ensureRoom(lineHeight(size));
      this.page.drawText(line, { x: pageMargin, y: this.y - size, size, font, color: textColour });
      this.y -= lineHeight(size);
    }
  }

  /** A label in the left column and its value, wrapped, in the right one. */
  field(label: string, value: string, style: TextStyle & { labelFont?: PDFFont } = {}): void {
    const labelFont = style.labelFont ?? this.fonts.bold;
    const font = style.font ?? this.fonts.regular;
    const size = style.size ?? bodySize;
    const height = lineHeight(bodySize);
    const labelLines = wrapText(winAnsiSafe(label, labelFont), labelFont, bodySize, labelColumnWidth - 8);
    const valueLines = wrapText(winAnsiSafe(value, font), font, size, a4.width - 2 * pageMargin - labelColumnWidth);
    for (let i = 0; i < Math.max(labelLines.length, valueLines.length); i++) {
      this.ensureRoom(height);
      const baseline = this.y - bodySize;
      const labelLine = labelLines[i];
      const valueLine = valueLines[i];
      if (labelLine) {
        const labelStyle = { size: bodySize, font: labelFont, color: mutedColour };
        this.page.drawText(labelLine, { x: pageMargin, y: baseline, ...labelStyle });
      }
      if (valueLine) {
        this.page.drawText(valueLine, { x: pageMargin + labelColumnWidth, y: baseline, size, font, color: textColour });
      }
      this.y -= height;
    }
  }

  gap(points: number): void {
    this.y -= points;
  }

  /** Starts a new page now unless `height` still fits, so a short block is not split across pages. */
  keepTogether(height: number): void {
    this.ensureRoom(height);
  }

  private ensureRoom(height: number): void {
    if (this.y - height < pageMargin) {
      this.addPage();
      this.paragraph(this.continuedHeading, { font: this.fonts.bold, size: 12 });
      this.gap(8);
    }
  }

  private addPage(): void {
    this.page = this.document.addPage([a4.width, a4.height]);
    this.pages.push(this.page);
    this.y = a4.height - pageMargin;
  }
}

/** Greedy word wrap; a word wider than the line (a hash, a URL, a user agent) is broken where it must be. */
function wrapText(text: string, font: PDFFont, size: number, width: number): string[] {
  const fits = (candidate: string) => font.widthOfTextAtSize(candidate, size) <= width;
  const lines: string[] = [];
  let current = '';
  for (const word of text.split(' ').filter(Boolean)) {
    const candidate = current ? `${current} ${word}` : word;
    if (fits(candidate)) {
      current = candidate;
      continue;
    }
    if (current) lines.push(current);
    current = '';
    for (const character of word) {
      if (current && !fits(current + character)) {
        lines.push(current);
        current = '';
      }
      current += character;
    }
  }
  if (current) lines.push(current);
  return lines.length ? lines : [''];
}

// ---------------------------------------------------------------------------------------------------------
// Text that the standard fonts and the PDF syntax can carry
// ---------------------------------------------------------------------------------------------------------

const encodableByFont = new WeakMap<PDFFont, Set<number>>();

/**
 * The standard 14 fonts only encode WinAnsi, and pdf-lib throws on anything else. Accents that WinAnsi lacks
 * fall back to their base letter (ř → r); what has no such fallback (emoji, CJK) becomes '?'. Control
 * characters become spaces so a name cannot break the layout.
 */
function winAnsiSafe(text: string, font: PDFFont): string {
  let encodable = encodableByFont.get(font);
  if (!encodable) {
    encodable = new Set(font.getCharacterSet());
    encodableByFont.set(font, encodable);
  }
  const canEncode = (character: string) => encodable.has(character.codePointAt(0)!);
  let safe = '';
  for (const character of text.normalize('NFC')) {
    if (/[\p{Cc}\p{Zl}\p{Zp}]/u.test(character)) {
      safe += ' ';
    } else if (canEncode(character)) {
      safe += character;
    } else {
      const baseLetters = character.normalize('NFKD').replace(/\p{M}/gu, '');
      safe += baseLetters && [...baseLetters].every(canEncode) ? baseLetters : '?';
    }
  }
  return safe;
}

function truncate(text: string, max: number): string {
  const characters = [...text];
  return characters.length <= max ? text : `${characters.slice(0, max - 1).join('')}…`;
}

function formatUtcMinutes(date: Date): string {
  return `${date.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}
