/**
 * Turns the original PDF into the sealed one the signers receive: every original page carries the document
 * code (so a printed page leads back to its record), an audit trail is appended, and the whole file is
 * signed with the organisation's seal as a PAdES signature covering the entire document: B-B, or B-T when a
 * timestamp authority vouches for the signing time. The document code is also written into the document
 * information dictionary, where /v1/verify finds it even in a copy whose pages were changed.
 *
 * Retry-safe: everything that varies between runs is either taken from the input (`sealedAt` is the time
 * on the stamp and the /M signing time) or not part of what a verifier checks, so a retried activity
 * produces an equally valid seal.
 */
import { PDFDict, PDFDocument, PDFName, PDFString, PageSizes, StandardFonts, degrees, rgb, type PDFFont, type PDFPage } from 'pdf-lib';
import { pdflibAddPlaceholder } from '@signpdf/placeholder-pdf-lib';
import { SignPdf } from '@signpdf/signpdf';
import { SUBFILTER_ETSI_CADES_DETACHED } from '@signpdf/utils';
import { CadesDetachedSigner, type SignatureTimestamper } from './cades-signer';
import type { SealKey } from './seal-key';
import { formatDateTime, formatUtc as formatUtcSeconds, translator, type Locale, type Translate } from '../i18n';

export interface AuditTrailEntry {
  name: string;
  email: string;
  /** How the signer was reached: `sms` (link by email, PIN by SMS), `sender` (PIN from the sender), else printed as given. */
  channel: string;
  ip?: string;
  userAgent?: string;
  /** ISO 8601. */
  signedAt: string;
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

export interface SealInput {
  /** The original, already validated by inspectPdf. */
  pdf: Uint8Array;
  /** e.g. 'SGL-7K3M-Q9XD-2PLA'; stamped on every page. */
  documentCode: string;
  title: string;
  originalSha256: string;
  /**
   * The hash of the last audit event before sealing (hex SHA-256, see src/signing/audit-chain.ts): printed
   * on the audit page so the sealed document pins the trail as it stood.
   */
  auditChainHead?: string;
  signers: AuditTrailEntry[];
  /** Optional timeline lines for the audit trail. */
  events?: AuditEvent[];
  /** The time on the stamp and the PDF /M signing time; fixed by the caller so retries agree. */
  sealedAt: Date;
  key: SealKey;
  /** Makes the seal PAdES B-T; without it B-B. */
  timestamper?: SignatureTimestamper;
  /** Printed on every page, e.g. 'https://sign.example.com/verify'. */
  verifyUrl?: string;
  /** e.g. 'Sigill seal — Acme Oy'. */
  signerName: string;
  /** The language of the audit page and stamps (the organisation's default); English when absent. */
  locale?: Locale;
  /** IANA zone of the times on the audit page (the organisation's), UTC printed beside each; UTC when absent. */
  timeZone?: string;
}

/** The document information entry that carries the document code (see findDocumentCodes in verify-document.ts). */
export const documentCodeInfoKey = 'SigillDocumentCode';

/**
 * Room kept in the file for the CMS: an RSA-3072 signature with a certificate chain needs 2-5 KiB, and an
 * RFC 3161 timestamp token for a later B-T level adds up to ~6 KiB more. The placeholder is hex, hence ×2.
 */
const reservedCmsBytes = 16_384;

export async function sealDocument(input: SealInput): Promise<Uint8Array> {
  // updateMetadata off: pdf-lib would otherwise stamp its own producer and the machine's clock.
  const document = await PDFDocument.load(input.pdf, { updateMetadata: false });
  document.setModificationDate(input.sealedAt);
  // setModificationDate made sure the information dictionary exists.
  document.context.lookup(document.context.trailerInfo.Info, PDFDict).set(PDFName.of(documentCodeInfoKey), PDFString.of(input.documentCode));
  const fonts = {
    regular: await document.embedFont(StandardFonts.Helvetica),
    bold: await document.embedFont(StandardFonts.HelveticaBold),
    monospace: await document.embedFont(StandardFonts.Courier),
  };

  const t = translator(input.locale ?? 'en');
  const sealedOn = formatUtc(input.sealedAt);
  const stamp = t('audit:stamp', { code: input.documentCode, sealedAt: sealedOn, url: input.verifyUrl ?? '/verify' });
  for (const page of document.getPages()) stampFooter(page, winAnsiSafe(stamp, fonts.regular), fonts.regular);

  const auditPages = appendAuditTrail(document, input, fonts, t);

  pdflibAddPlaceholder({
    pdfDoc: document,
    // The invisible signature widget sits on the audit trail, the page that describes what was sealed.
    pdfPage: auditPages[0],
    reason: pdfTextString('Sealed by Sigill'),
    name: pdfTextString(input.signerName),
    contactInfo: '',
    location: '',
    signingTime: input.sealedAt,
    signatureLength: reservedCmsBytes * 2,
    subFilter: SUBFILTER_ETSI_CADES_DETACHED,
    appName: 'Sigill',
  });
  // Object streams off: signpdf finds the /ByteRange and /Contents placeholders by scanning plain text.
  const prepared = await document.save({ useObjectStreams: false });
  const sealed = await new SignPdf().sign(Buffer.from(prepared), new CadesDetachedSigner(input.key, { signatureTimestamper: input.timestamper }), input.sealedAt);
  return sealed;
}

// ---------------------------------------------------------------------------------------------------------
// The footer on every original page
// ---------------------------------------------------------------------------------------------------------

const footerGrey = rgb(0.45, 0.45, 0.45);
const footerMaxFontSize = 7;

/**
 * Draws `text` centred near the bottom edge of the page as the reader sees it, whatever the page's /Rotate
 * and wherever its crop box starts. The font shrinks to fit narrow pages instead of running off them.
 */
function stampFooter(page: PDFPage, text: string, font: PDFFont): void {
  const box = visibleBox(page);
  const rotation = quarterTurns(page) * 90;
  const sideways = rotation === 90 || rotation === 270;
  const viewWidth = sideways ? box.height : box.width;
  const viewHeight = sideways ? box.width : box.height;

  const margin = Math.max(2, Math.min(18, viewWidth * 0.05, viewHeight * 0.05));
  const widthAtOnePoint = font.widthOfTextAtSize(text, 1);
  const size = Math.max(1, Math.min(footerMaxFontSize, (viewWidth - 2 * margin) / widthAtOnePoint));
  // (u, v): position as seen by the reader, from the bottom-left corner of the displayed page.
  const u = Math.max(margin, (viewWidth - widthAtOnePoint * size) / 2);
  const v = margin;
  const { x, y } = {
    0: { x: box.x + u, y: box.y + v },
    90: { x: box.x + box.width - v, y: box.y + u },
    180: { x: box.x + box.width - u, y: box.y + box.height - v },
    270: { x: box.x + v, y: box.y + box.height - u },
  }[rotation as 0 | 90 | 180 | 270];
  page.drawText(text, { x, y, size, font, color: footerGrey, rotate: degrees(rotation) });
}

interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** The crop box (what viewers show), normalised; a page without a usable box is treated as US Letter. */
function visibleBox(page: PDFPage): Box {
  for (const read of [() => page.getCropBox(), () => page.getMediaBox()]) {
    try {
      const { x, y, width, height } = read();
      if ([x, y, width, height].every(Number.isFinite) && width !== 0 && height !== 0) {
        return {
          x: Math.min(x, x + width),
          y: Math.min(y, y + height),
          width: Math.abs(width),
          height: Math.abs(height),
        };
      }
    } catch {
      // A missing or malformed box: try the next one.
    }
  }
  return { x: 0, y: 0, width: 612, height: 792 };
}

/** /Rotate as 0-3 clockwise quarter turns; odd values (negative, over 360, not a multiple of 90) folded in. */
function quarterTurns(page: PDFPage): number {
  let angle = 0;
  try {
    angle = page.getRotation().angle;
  } catch {
    // A non-numeric /Rotate: viewers ignore it, so do we.
  }
  if (!Number.isFinite(angle)) return 0;
  return (((Math.round(angle / 90) % 4) + 4) % 4);
}

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

function appendAuditTrail(document: PDFDocument, input: SealInput, fonts: Fonts, t: Translate): PDFPage[] {
  const originalPageCount = document.getPageCount();
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
  writer.field(t('audit:originalPages'), String(originalPageCount));
  writer.field(t('audit:sealed'), when(input.sealedAt.toISOString()));
  writer.field(t('audit:seal'), truncate(input.signerName, maxChars.short));
  writer.field(t('audit:timeZone'), timeZone === 'UTC' ? 'UTC' : t('audit:timesNote', { zone: timeZone }));

  writer.gap(14);
  writer.subheading(t('audit:signers', { count: input.signers.length }));
  input.signers.forEach((signer, index) => {
    writer.keepTogether(6 * lineHeight(bodySize) + 8);
    writer.paragraph(`${index + 1}. ${truncate(signer.name, maxChars.short)}`, { font: fonts.bold });
    writer.field(t('audit:email'), truncate(signer.email, maxChars.short));
    writer.field(t('audit:signedVia'), truncate(t(`audit:channel.${signer.channel}`, { defaultValue: signer.channel }), maxChars.short));
    writer.field(t('audit:signedAt'), signer.signedAt ? when(signer.signedAt) : t('audit:notSigned'));
    writer.field(t('audit:ipAddress'), signer.ip ? truncate(signer.ip, maxChars.short) : t('audit:notRecorded'));
    writer.field(t('audit:userAgent'), signer.userAgent ? truncate(signer.userAgent, maxChars.userAgent) : t('audit:notRecorded'));
    writer.gap(8);
  });

  if (input.events?.length) {
    writer.gap(6);
    writer.subheading(t('audit:events'));
    for (const event of input.events) {
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

/**
 * The body of a PDF literal string for the signature dictionary, which @signpdf writes verbatim: ASCII as
 * is, anything else as UTF-16BE with a byte order mark (PDF text strings allow only that or PDFDocEncoding),
 * with the bytes that end or corrupt a literal string escaped.
 */
function pdfTextString(text: string): string {
  const isAscii = /^[\x20-\x7e]*$/.test(text);
  const bytes = isAscii
    ? Buffer.from(text, 'latin1')
    : Buffer.concat([Buffer.from([0xfe, 0xff]), Buffer.from(text, 'utf16le').swap16()]);
  const escapes: Record<number, string> = { 0x5c: '\\\\', 0x28: '\\(', 0x29: '\\)', 0x0d: '\\r', 0x0a: '\\n' };
  let literal = '';
  for (const byte of bytes) literal += escapes[byte] ?? String.fromCharCode(byte);
  return literal;
}

function formatUtc(date: Date): string {
  return `${date.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}


