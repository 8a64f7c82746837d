/**
 * The gate every uploaded document passes before it is stored: it must be a PDF that pdf-lib can read
 * (sealing stamps its pages with pdf-lib later) and it must not be encrypted (stamping would need the
 * password, and a sealed copy of an encrypted file could not be verified by others).
 */
import { createHash } from 'node:crypto';
import { PDFDocument } from 'pdf-lib';
import { AppError } from '../errors';

export interface PdfFacts {
  pageCount: number;
  /** Lowercase hex SHA-256 of the bytes as uploaded: the fingerprint the audit trail quotes. */
  sha256: string;
}

const pdfHeader = Buffer.from('%PDF-', 'latin1');

export async function inspectPdf(bytes: Uint8Array): Promise<PdfFacts> {
  if (!Buffer.from(bytes.buffer, bytes.byteOffset, Math.min(bytes.byteLength, pdfHeader.length)).equals(pdfHeader)) {
    throw new AppError('invalid_document', 'The document is not a PDF.');
  }
  const document = await loadLeniently(bytes);
  // pdf-lib's EncryptedPDFError is compiled to ES5 and fails `instanceof`, so loading with
  // ignoreEncryption and asking the document is the reliable way to tell encryption from corruption.
  if (document.isEncrypted) {
    throw new AppError('encrypted_document', 'The PDF is encrypted or password-protected; upload an unprotected copy.');
  }
  const pageCount = countPages(document);
  if (pageCount === 0) throw new AppError('invalid_document', 'The PDF has no pages.');
  return { pageCount, sha256: createHash('sha256').update(bytes).digest('hex') };
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
