/**
 * Turns the original PDF into the sealed one the signers receive, only ever by appending to it
 * (append-pdf.ts): the sealed file is the original byte for byte, then one incremental update with the
 * document code stamped on every original page (so a printed page leads back to its record), the audit
 * trail's pages and the seal's PAdES signature over the whole file (B-B, or B-T when a timestamp authority
 * vouches for the time), then, for B-LT and B-LTA, the validation data and a document timestamp
 * (long-term-validation.ts). Every signature the original carried stays valid.
 *
 * A document certified to permit signatures only (DocMDP P=2/3), or whose owner permissions allow signing
 * but not changes, gets the signature alone: its audit trail becomes a separately sealed evidence PDF.
 *
 * Retry-safe: everything that varies between runs is either taken from the input (`sealedAt` is the time
 * on the stamp and the /M signing time) or not part of what a verifier checks, so a retried activity
 * produces an equally valid seal.
 */
import { PDF, PdfArray, PdfDict, PdfNumber, PdfRef, PdfString, Standard14Font, rgb, type PdfObject, type PDFPage } from '@libpdf/core';
import { appendSealSignature, openForAppend } from './append-pdf';
import { renderAuditTrail, type AuditEvent, type AuditTrailEntry } from './audit-trail-pdf';
import type { SignatureTimestamper } from './cades-signer';
import { sealTreatment, type SealTreatment } from './inspect-pdf';
import { extendToLevel, readDocumentTimestamps, type LongTermValidationOptions } from './long-term-validation';
import type { SealKey } from './seal-key';
import type { Locale } from '../i18n';

export type { AuditEvent, AuditTrailEntry } from './audit-trail-pdf';

export interface SealInput {
  /** The original, already validated by inspectPdf. */
  pdf: Uint8Array;
  /** e.g. 'SGL-7K3M-Q9XD-2PLA'; stamped on every page. */
  documentCode: string;
  title: string;
  originalSha256: string;
  /**
   * The hash of the last audit event before sealing (see src/signing/audit-chain.ts): printed on the audit
   * page so the sealed document pins the trail as it stood.
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
  /** Lifts the seal to B-LT (validation data) or B-LTA (and a document timestamp); needs `timestamper`. */
  longTerm?: { level: 'B-LT' | 'B-LTA' } & LongTermValidationOptions;
  /** Printed on every page, e.g. 'https://sign.example.com/verify'. */
  verifyUrl?: string;
  /** e.g. 'Sigill seal — Acme Oy'. */
  signerName: string;
  /** The language of the audit page and stamps (the organisation's default); English when absent. */
  locale?: Locale;
  /** IANA zone of the times on the audit page (the organisation's), UTC printed beside each; UTC when absent. */
  timeZone?: string;
}

export interface SealedDocument {
  /** The original, then the seal's incremental update(s). */
  pdf: Uint8Array;
  treatment: SealTreatment;
  /** For `signature_only`: the audit trail as its own sealed PDF, stored and served beside the document. */
  evidencePdf?: Uint8Array;
  /** B-LTA: when the first of the files' document timestamps can no longer be renewed (its TSA certificate expires). */
  archiveTimestampExpiresAt?: Date;
}

/** The document information entry that carries the document code (see findDocumentCodes in verify-document.ts). */
export const documentCodeInfoKey = 'SigillDocumentCode';

const sealReason = 'Sealed by Sigill';
const sealFieldName = 'Sigill seal';

export async function sealDocument(input: SealInput): Promise<SealedDocument> {
  const document = await openForAppend(input.pdf);
  const treatment = sealTreatment(document);
  const audit = await renderAuditTrail({
    ...input,
    originalPageCount: document.getPageCount(),
    originalByteLength: input.pdf.byteLength,
    placement: treatment === 'stamp' ? 'appended' : 'separate',
  });
  const signature = {
    fieldName: sealFieldName,
    key: input.key,
    timestamper: input.timestamper,
    signingTime: input.sealedAt,
    name: input.signerName,
    reason: sealReason,
  };

  if (treatment === 'stamp') {
    document.setModificationDate(input.sealedAt);
    // setModificationDate made sure the information dictionary exists.
    const infoRef = document.context.info.trailer.getRef('Info');
    const info = infoRef ? document.getObject(infoRef) : undefined;
    if (info instanceof PdfDict) info.set(documentCodeInfoKey, PdfString.fromString(input.documentCode));
    for (const page of document.getPages()) stampFooter(document, page, audit.stampText);
    const auditTrail = await PDF.load(audit.pdf);
    const auditPages = await document.copyPagesFrom(auditTrail, range(audit.pageCount));
    // The invisible signature widget sits on the audit trail, the page that describes what was sealed.
    const sealed = await appendSealSignature(input.pdf, document, { ...signature, page: auditPages[0]! });
    const pdf = await longTerm(sealed, input.pdf.byteLength);
    return { pdf, treatment, ...(await expiryOfArchiveTimestamps([[pdf, input.pdf.byteLength]])) };
  }

  const sealed = await appendSealSignature(input.pdf, document, { ...signature, page: document.getPage(0)! });
  const evidence = await openForAppend(audit.pdf);
  const evidenceSealed = await appendSealSignature(audit.pdf, evidence, { ...signature, page: evidence.getPage(0)! });
  // The evidence PDF is ours from its first byte.
  const [pdf, evidencePdf] = [await longTerm(sealed, input.pdf.byteLength), await longTerm(evidenceSealed, 0)];
  return { pdf, treatment, evidencePdf, ...(await expiryOfArchiveTimestamps([[pdf, input.pdf.byteLength], [evidencePdf, 0]])) };

  // Only B-LTA adds document timestamps; below it there is nothing to find, and looking (parsing every
  // signature appended) was a sixth of a small file's seal.
  function expiryOfArchiveTimestamps(files: Array<[pdf: Uint8Array, originalLength: number]>): Promise<{ archiveTimestampExpiresAt?: Date }> {
    return input.longTerm?.level === 'B-LTA' ? archiveExpiry(files) : Promise.resolve({});
  }

  function longTerm(sealed: Uint8Array, originalLength: number): Promise<Uint8Array> {
    return input.longTerm ? extendToLevel(sealed, input.longTerm.level, { ...input.longTerm, originalLength }) : Promise.resolve(sealed);
  }
}

/**
 * For B-LTA files: the earliest expiry among each file's last document timestamp (this service's, after the
 * original): the archive renewal schedule acts before then.
 */
export async function archiveExpiry(files: Array<[pdf: Uint8Array, originalLength: number]>): Promise<{ archiveTimestampExpiresAt?: Date }> {
  let earliest: Date | undefined;
  for (const [pdf, originalLength] of files) {
    const latest = (await readDocumentTimestamps(pdf, { originalLength })).at(-1);
    if (latest && (!earliest || latest.certificateExpiresAt < earliest)) earliest = latest.certificateExpiresAt;
  }
  return earliest ? { archiveTimestampExpiresAt: earliest } : {};
}

function range(count: number): number[] {
  return Array.from({ length: count }, (_, index) => index);
}

// ---------------------------------------------------------------------------------------------------------
// The footer on every original page
// ---------------------------------------------------------------------------------------------------------

const footerGrey = rgb(0.45, 0.45, 0.45);
const footerMaxFontSize = 7;
const footerFont = 'Helvetica';
const footerMetrics = Standard14Font.of(footerFont);

/**
 * Draws `text` centred near the bottom edge of the page as the reader sees it, whatever the page's /Rotate
 * and wherever its crop box starts. The font shrinks to fit narrow pages instead of running off them.
 */
function stampFooter(document: PDF, page: PDFPage, text: string): void {
  const box = visibleBox(document, page);
  const rotation = quarterTurns(document, page) * 90;
  const sideways = rotation === 90 || rotation === 270;
  const viewWidth = sideways ? box.height : box.width;
  const viewHeight = sideways ? box.width : box.height;

  const margin = Math.max(2, Math.min(18, viewWidth * 0.05, viewHeight * 0.05));
  const widthAtOnePoint = footerMetrics.widthOfTextAtSize(text, 1);
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
  page.drawText(text, { x, y, size, font: footerFont, color: footerGrey, rotate: { angle: rotation } });
}

interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}

/**
 * The crop box (what viewers show), normalised, else the media box; a page without a usable box is treated
 * as US Letter, as viewers do. Both may be inherited from the page tree (ISO 32000-1, table 30), which
 * libpdf's page boxes do not look up.
 */
function visibleBox(document: PDF, page: PDFPage): Box {
  for (const name of ['CropBox', 'MediaBox']) {
    const box = inheritedPageAttribute(document, page, name);
    if (!(box instanceof PdfArray) || box.length < 4) continue;
    const [x1, y1, x2, y2] = [0, 1, 2, 3].map((index) => {
      const item = box.at(index);
      const value = item instanceof PdfRef ? document.getObject(item) : item;
      return value instanceof PdfNumber ? value.value : Number.NaN;
    }) as [number, number, number, number];
    if ([x1, y1, x2, y2].every(Number.isFinite) && x1 !== x2 && y1 !== y2) {
      return { x: Math.min(x1, x2), y: Math.min(y1, y2), width: Math.abs(x2 - x1), height: Math.abs(y2 - y1) };
    }
  }
  return { x: 0, y: 0, width: 612, height: 792 };
}

/** /Rotate as 0-3 clockwise quarter turns; odd values (negative, over 360, not a multiple of 90) folded in. */
function quarterTurns(document: PDF, page: PDFPage): number {
  const rotate = inheritedPageAttribute(document, page, 'Rotate');
  const angle = rotate instanceof PdfNumber ? rotate.value : 0;
  if (!Number.isFinite(angle)) return 0;
  return ((Math.round(angle / 90) % 4) + 4) % 4;
}

/** An inheritable page attribute: the page's own, else the nearest ancestor's in the page tree. */
function inheritedPageAttribute(document: PDF, page: PDFPage, key: string): PdfObject | undefined {
  const resolve = (ref: PdfRef) => document.getObject(ref) ?? null;
  let node: PdfDict | undefined = page.dict;
  // A cyclic /Parent chain in a broken file must not loop forever.
  for (let depth = 0; node && depth < 64; depth++) {
    const value = node.get(key, resolve);
    if (value !== undefined) return value;
    node = node.getDict('Parent', resolve);
  }
  return undefined;
}
