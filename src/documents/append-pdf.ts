/**
 * Changing a PDF only by appending to it (ISO 32000-1 §7.5.6, incremental updates): every byte of the file
 * as it came stays where it was, so every signature in it stays valid and its SHA-256 stays provable as a
 * prefix of the result. The structure work is @libpdf/core's (lenient parser, incremental writer, DSS and
 * document timestamps); the CMS of our own seal is cades-signer.ts's, because libpdf always adds the CMS
 * signing-time attribute that PAdES baseline forbids. The placeholder is filled in place, in the appended
 * tail (`fillSignature`): @signpdf/signpdf's sign() does the same job but scans the whole file and copies
 * it four times, which dominated the seal of a 10 MB scan (npm run bench:seal).
 *
 * Every write goes through `appendTo`, which refuses a result that does not begin with the bytes it was
 * given: whatever a library decides internally, a rewrite can never leave this module.
 */
import { PDF, PdfArray, PdfDict, PdfName, PdfNumber, PdfString, type PdfObject, type PdfRef, type PDFPage } from '@libpdf/core';
import { createHash } from 'node:crypto';
import { DEFAULT_BYTE_RANGE_PLACEHOLDER, SUBFILTER_ETSI_CADES_DETACHED } from '@signpdf/utils';
import { buildDetachedCadesForDigest, type SignatureTimestamper } from './cades-signer';
import type { SealKey } from './seal-key';

export class AppendOnlyViolation extends Error {
  override name = 'AppendOnlyViolation';
}

/**
 * Opens a PDF to append to it. libpdf declines incremental saves of linearized files (and would silently
 * rewrite them), though the specification allows them (ISO 32000-1 Annex F.2: an update only makes the
 * linearization hints stale, and readers then read the file as any other; Acrobat signs such files this
 * way). The flag is cleared so linearized uploads, often already signed, are appended to like the rest;
 * `appendTo` still guards the result.
 */
export async function openForAppend(bytes: Uint8Array): Promise<PDF> {
  const pdf = await PDF.load(bytes);
  allowAppendingToLinearized(pdf);
  return pdf;
}

function allowAppendingToLinearized(pdf: PDF): void {
  if (pdf.isLinearized) (pdf as unknown as { _isLinearized: boolean })._isLinearized = false;
}

/** Saves what was changed in `pdf` as one incremental update after `before` (the bytes it was opened from). */
export async function appendTo(before: Uint8Array, pdf: PDF): Promise<Uint8Array> {
  const blocker = pdf.canSaveIncrementally();
  if (blocker) throw new AppendOnlyViolation(`the PDF cannot be appended to (${blocker})`);
  const after = await pdf.save({ incremental: true });
  assertAppendOnly(before, after);
  return after;
}

/** Throws unless `after` begins with `before`, byte for byte. */
export function assertAppendOnly(before: Uint8Array, after: Uint8Array): void {
  if (after.byteLength < before.byteLength || Buffer.compare(Buffer.from(after.buffer, after.byteOffset, before.byteLength), Buffer.from(before.buffer, before.byteOffset, before.byteLength)) !== 0) {
    throw new AppendOnlyViolation('the update rewrote the document instead of appending to it');
  }
}

export interface SealSignatureOptions {
  /** The field's name; unique in the document (a second seal of the same file gets another). */
  fieldName: string;
  /** The page the invisible signature widget is attached to. */
  page: PDFPage;
  key: SealKey;
  timestamper?: SignatureTimestamper;
  /** The /M signing time, fixed by the caller so retries agree. */
  signingTime: Date;
  name: string;
  reason: string;
}

/**
 * Room kept for the CMS: an RSA-3072 signature with a certificate chain needs 2-5 KiB, and an RFC 3161
 * token for B-T adds up to ~6 KiB more. The placeholder is hex, hence twice as many characters.
 */
const reservedCmsBytes = 16_384;

/**
 * Appends a signature field and an ETSI.CAdES.detached signature over the whole file, including whatever
 * was changed in `pdf` since it was opened (page stamps, pages), in one incremental update.
 */
export async function appendSealSignature(before: Uint8Array, pdf: PDF, options: SealSignatureOptions): Promise<Uint8Array> {
  const signature = PdfDict.of({
    Type: PdfName.of('Sig'),
    Filter: PdfName.of('Adobe.PPKLite'),
    SubFilter: PdfName.of(SUBFILTER_ETSI_CADES_DETACHED),
    // The shapes @signpdf and fillSignature look for: /ByteRange placeholder names, then /Contents.
    ByteRange: new PdfArray([PdfNumber.of(0), ...Array.from({ length: 3 }, () => PdfName.of(DEFAULT_BYTE_RANGE_PLACEHOLDER))]),
    // The PdfObject union is closed in libpdf's declarations; its writer only needs `toBytes`.
    Contents: new VerbatimBytes(`<${'0'.repeat(reservedCmsBytes * 2)}>`) as unknown as PdfObject,
    M: PdfString.fromString(pdfDate(options.signingTime)),
    Name: PdfString.fromString(options.name),
    Reason: PdfString.fromString(options.reason),
  });
  const form = pdf.getOrCreateForm();
  const taken = new Set(form.getFields().map((field) => field.name));
  let fieldName = options.fieldName;
  for (let n = 2; taken.has(fieldName); n++) fieldName = `${options.fieldName} ${n}`;
  // One object is both the field and its invisible widget (/F 132: print + locked), as signing tools write it.
  const fieldRef = pdf.register(
    PdfDict.of({
      FT: PdfName.of('Sig'),
      T: PdfString.fromString(fieldName),
      V: pdf.register(signature),
      Type: PdfName.of('Annot'),
      Subtype: PdfName.of('Widget'),
      F: PdfNumber.of(132),
      P: options.page.ref,
      Rect: new PdfArray([0, 0, 0, 0].map((n) => PdfNumber.of(n))),
    }),
  );
  const resolve = (ref: PdfRef) => pdf.getObject(ref);
  const acroForm = pdf.getCatalog().getDict('AcroForm', resolve);
  if (!acroForm) throw new Error('the interactive form is missing after it was created');
  const fields = acroForm.getArray('Fields', resolve);
  if (fields) fields.push(fieldRef);
  else acroForm.set('Fields', new PdfArray([fieldRef]));
  // SignaturesExist | AppendOnly: tells editors to append from now on.
  acroForm.set('SigFlags', PdfNumber.of(3));
  const annotations = options.page.dict.getArray('Annots', resolve);
  if (annotations) annotations.push(fieldRef);
  else options.page.dict.set('Annots', new PdfArray([fieldRef]));

  const prepared = await appendTo(before, pdf);
  await fillSignature(prepared, before.byteLength, (digest) =>
    buildDetachedCadesForDigest(digest, options.key, { signatureTimestamper: options.timestamper }),
  );
  return prepared;
}

const byteRangePlaceholder = /\/ByteRange\s*\[\s*0\s+\/\*+\s+\/\*+\s+\/\*+\s*\]/g;

/**
 * Signs `file` in place: finds the one /ByteRange placeholder after `from` (the appended update), writes the
 * ranges around its /Contents, hashes those two ranges where they lie and writes the CMS into /Contents.
 * The bytes before `from` are read, never written.
 */
async function fillSignature(file: Uint8Array, from: number, cmsFor: (digest: Buffer) => Promise<Buffer>): Promise<void> {
  const bytes = Buffer.from(file.buffer, file.byteOffset, file.byteLength);
  const tail = bytes.toString('latin1', from);
  const placeholders = [...tail.matchAll(byteRangePlaceholder)];
  if (placeholders.length !== 1) throw new Error(`expected one signature placeholder in the update, found ${placeholders.length}`);
  const rangeAt = from + placeholders[0]!.index!;
  const rangeText = placeholders[0]![0];
  const contentsKey = bytes.indexOf('/Contents', rangeAt + rangeText.length, 'latin1');
  if (contentsKey < 0) throw new Error('the signature placeholder has no /Contents');
  const contentsStart = bytes.indexOf('<', contentsKey, 'latin1');
  const contentsEnd = contentsStart < 0 ? -1 : bytes.indexOf('>', contentsStart, 'latin1') + 1;
  if (contentsStart < 0 || contentsEnd <= contentsStart) throw new Error('the signature placeholder has no /Contents');

  const byteRange = [0, contentsStart, contentsEnd, bytes.byteLength - contentsEnd];
  const rangeValue = `/ByteRange [${byteRange.join(' ')}]`;
  if (rangeValue.length > rangeText.length) throw new Error('the /ByteRange placeholder is too short for this file');
  bytes.write(rangeValue.replace(/]$/, `${' '.repeat(rangeText.length - rangeValue.length)}]`), rangeAt, 'latin1');

  const digest = createHash('sha256').update(bytes.subarray(0, contentsStart)).update(bytes.subarray(contentsEnd)).digest();
  const cms = (await cmsFor(digest)).toString('hex');
  const room = contentsEnd - contentsStart - 2;
  if (cms.length > room) throw new Error(`the signature needs ${cms.length / 2} bytes but ${room / 2} were reserved`);
  bytes.write(cms, contentsStart + 1, 'latin1');
}

/**
 * Bytes written into the file as they are, never encrypted: the /Contents placeholder of a signature
 * dictionary is exempt from a document's encryption (ISO 32000-1 §7.6.1), and fillSignature overwrites it in
 * place. libpdf keeps its own such type internal; this implements the same documented PdfPrimitive shape.
 */
class VerbatimBytes {
  readonly type = 'raw';
  private readonly bytes: Uint8Array;

  constructor(text: string) {
    this.bytes = Buffer.from(text, 'latin1');
  }

  toBytes(writer: { writeBytes(bytes: Uint8Array): void }): void {
    writer.writeBytes(this.bytes);
  }
}

/** D:YYYYMMDDHHmmSSZ, in UTC. */
function pdfDate(date: Date): string {
  const iso = date.toISOString();
  return `D:${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}${iso.slice(11, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)}Z`;
}
