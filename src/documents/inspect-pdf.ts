/**
 * The gate every uploaded document passes before it is stored: it must be a PDF that pdf-lib can read
 * (sealing stamps its pages with pdf-lib later), it must not be encrypted (stamping would need the
 * password, and a sealed copy of an encrypted file could not be verified by others), and it must not be
 * certified against every change (DocMDP P=1: sealing would break the certification it carries).
 *
 * Bytes before the `%PDF-` header (a mail gateway's or a scanner's prefix) are something every mainstream
 * viewer skips within the first kilobyte; so does this gate, and the file without them is what is stored,
 * shown to signers and fingerprinted as the original.
 */
import { createHash } from 'node:crypto';
import { PDFArray, PDFDict, PDFDocument, PDFName, PDFNumber, type PDFObject } from 'pdf-lib';
import { AppError } from '../errors';

export interface PdfFacts {
  /** What is stored and sealed: the upload itself, or the upload without bytes before its header. */
  pdf: Uint8Array;
  /** Set when `pdf` is not byte for byte the upload, and why. */
  repaired?: 'leading_bytes';
  pageCount: number;
  /** Lowercase hex SHA-256 of `pdf`: the fingerprint the audit trail quotes. */
  sha256: string;
}

const pdfHeader = Buffer.from('%PDF-', 'latin1');
/** How far into a file viewers look for the header (as Acrobat does). */
const headerSearchBytes = 1024;

export async function inspectPdf(upload: Uint8Array): Promise<PdfFacts> {
  const head = Buffer.from(upload.buffer, upload.byteOffset, Math.min(upload.byteLength, headerSearchBytes));
  const headerAt = head.indexOf(pdfHeader);
  if (headerAt < 0) throw new AppError('invalid_document', 'The document is not a PDF.');
  const bytes = headerAt === 0 ? upload : upload.subarray(headerAt);
  const document = await loadLeniently(bytes);
  // pdf-lib's EncryptedPDFError is compiled to ES5 and fails `instanceof`, so loading with
  // ignoreEncryption and asking the document is the reliable way to tell encryption from corruption.
  if (document.isEncrypted) {
    throw new AppError('encrypted_document', 'The PDF is encrypted or password-protected; upload an unprotected copy.');
  }
  const pageCount = countPages(document);
  if (pageCount === 0) throw new AppError('invalid_document', 'The PDF has no pages.');
  if (docMdpPermission(document) === 1) {
    throw new AppError(
      'document_certified_no_changes',
      'The PDF is certified with no changes permitted (DocMDP level 1): sealing it would invalidate its certification. Ask its author for an uncertified copy, or one certified to allow signatures.',
    );
  }
  return {
    pdf: bytes,
    ...(headerAt === 0 ? {} : { repaired: 'leading_bytes' as const }),
    pageCount,
    sha256: createHash('sha256').update(bytes).digest('hex'),
  };
}

/**
 * The certification level of a certified PDF (ISO 32000-1, 12.8.2.2): the catalog's /Perms /DocMDP
 * signature names, in a /Reference with /TransformMethod /DocMDP, its /TransformParams /P (default 2).
 * Undefined for a document that is not certified.
 */
function docMdpPermission(document: PDFDocument): number | undefined {
  try {
    return readDocMdpPermission(document);
  } catch {
    throw malformed(); // a catalog pdf-lib cannot walk: refused like any unreadable structure
  }
}

function readDocMdpPermission(document: PDFDocument): number | undefined {
  const lookup = (object: PDFObject | undefined) => (object ? document.context.lookup(object) : undefined);
  const perms = lookup(document.catalog.get(PDFName.of('Perms')));
  const signature = perms instanceof PDFDict ? lookup(perms.get(PDFName.of('DocMDP'))) : undefined;
  const references = signature instanceof PDFDict ? lookup(signature.get(PDFName.of('Reference'))) : undefined;
  if (!(signature instanceof PDFDict)) return undefined;
  if (!(references instanceof PDFArray)) return 2;
  for (let index = 0; index < references.size(); index++) {
    const reference = lookup(references.get(index));
    if (!(reference instanceof PDFDict) || lookup(reference.get(PDFName.of('TransformMethod'))) !== PDFName.of('DocMDP')) continue;
    const params = lookup(reference.get(PDFName.of('TransformParams')));
    const level = params instanceof PDFDict ? lookup(params.get(PDFName.of('P'))) : undefined;
    return level instanceof PDFNumber ? level.asNumber() : 2;
  }
  return 2;
}

async function loadLeniently(bytes: Uint8Array): Promise<PDFDocument> {
  try {
    return await PDFDocument.load(bytes, { ignoreEncryption: true, updateMetadata: false });
  } catch {
    throw malformed();
  }
}

function countPages(document: PDFDocument): number {
  try {
    // Reading every page's size walks the whole page tree, which a broken tree fails here rather than
    // later, while sealing, after the signers have already signed.
    const pages = document.getPages();
    for (const page of pages) page.getSize();
    return pages.length;
  } catch {
    throw malformed();
  }
}

function malformed(): AppError {
  return new AppError('invalid_document', 'The PDF is malformed and cannot be read.');
}
