/**
 * The gate every uploaded document passes before it is stored, and the rules for how it will be sealed.
 * It must be a PDF that opens without a password (a file encrypted with only an owner password opens for
 * everyone, as in every viewer), and it must allow the seal: a document certified against every change
 * (DocMDP P=1), or whose owner permissions forbid even adding a signature, is refused. The parser is
 * @libpdf/core's lenient one, so what pdf.js, poppler and qpdf open opens here too.
 *
 * Bytes before the `%PDF-` header (a mail gateway's or a scanner's prefix) are something every mainstream
 * viewer skips within the first kilobyte; so does this gate, and the file without them is what is stored,
 * shown to signers and fingerprinted as the original. A file whose cross-reference had to be rebuilt is
 * rewritten once here, before anyone sees it, unless it is signed: rewriting would void its signatures,
 * and a seal appended to a structure readers must reconstruct would not validate reliably either.
 */
import { createHash } from 'node:crypto';
import { PDF, PdfDict, PdfName, PdfNumber, PdfRef, type PdfObject, type SignatureField } from '@libpdf/core';
import { AppError } from '../errors';

/**
 * How the seal treats a document (docs/API.md): `stamp` — every page gets the document code, the audit
 * trail is appended as pages, then the signature; `signature_only` — the document gains a signature and
 * nothing else (it is already signed, certified DocMDP P=2/3, locked by a signature field, or its owner
 * permissions allow annotations but not changes), and the audit trail becomes a separately sealed
 * evidence PDF.
 */
export type SealTreatment = 'stamp' | 'signature_only';

export interface PdfFacts {
  /** What is stored and sealed: the upload itself, or the upload without bytes before its header, or repaired. */
  pdf: Uint8Array;
  /** Set when `pdf` is not byte for byte the upload, and why. */
  repaired?: 'leading_bytes' | 'structure';
  pageCount: number;
  /** Signatures the upload already carries (they stay valid: the seal only appends). */
  signatureCount: number;
  treatment: SealTreatment;
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
  let bytes = headerAt === 0 ? upload : upload.subarray(headerAt);
  let document = await loadLeniently(bytes);
  if (document.isEncrypted && !document.isAuthenticated) throw needsPassword();
  const signatureCount = countSignatures(document);
  if (signatureCount > 0 && headerAt > 0) {
    // Signatures name absolute byte offsets: dropping the prefix could void them, keeping it would make a
    // file that pdf.js and others read with a shifted structure. Neither is safe for someone's signature.
    throw new AppError(
      'document_damaged_signed',
      'The PDF is signed but has bytes before its %PDF- header (added by a mail gateway or a scanner, for instance), so a seal cannot be added without putting its signatures at risk. Ask its author for the file as it was signed.',
    );
  }
  let repaired: PdfFacts['repaired'] = headerAt === 0 ? undefined : 'leading_bytes';
  if (document.recoveredViaBruteForce) {
    if (signatureCount > 0) {
      throw new AppError(
        'document_damaged_signed',
        'The PDF is signed but its structure is damaged (its cross-reference table had to be rebuilt), so a seal cannot be added without putting its signatures at risk. Ask its author for an intact copy.',
      );
    }
    bytes = await rewrite(document);
    document = await loadLeniently(bytes);
    repaired = 'structure';
  }
  const pageCount = countPages(document);
  if (pageCount === 0) throw new AppError('invalid_document', 'The PDF has no pages.');
  const treatment = sealTreatment(document);
  return {
    pdf: bytes,
    ...(repaired ? { repaired } : {}),
    pageCount,
    signatureCount,
    treatment,
    sha256: createHash('sha256').update(bytes).digest('hex'),
  };
}

/**
 * What the seal may add to `document` (see SealTreatment); throws 422 when not even a signature may be
 * added. Read again at seal time from the stored original, so the rule lives in one place.
 *
 * A document that is already signed gets the signature only as well: approval signatures forbid nothing,
 * but validators (Acrobat, pyHanko) report page content added after a signature as a modification of the
 * signed document, and the seal must not make a counterparty's signature look weaker than it was.
 */
export function sealTreatment(document: PDF): SealTreatment {
  const docMdp = docMdpPermission(document);
  if (docMdp === 1) {
    throw new AppError(
      'document_certified_no_changes',
      'The PDF is certified with no changes permitted (DocMDP level 1): sealing it would invalidate its certification. Ask its author for an uncertified copy, or one certified to allow signatures.',
    );
  }
  const lock = strictestFieldLock(document);
  if (lock === 1) {
    throw new AppError(
      'document_certified_no_changes',
      'A signature in the PDF locks it against any change (its field lock permits no changes): sealing it would invalidate that signature. Ask its author for a copy that permits further signatures.',
    );
  }
  const permissions = document.isEncrypted ? document.getPermissions() : undefined;
  // Bit 6 (annotations, new form fields) or bit 9 (fill in form fields, signature fields included): what
  // viewers such as Acrobat show as "Signing: Allowed".
  if (permissions && !permissions.annotate && !permissions.fillForms) {
    throw new AppError(
      'document_permissions_forbid_seal',
      "The PDF's owner permissions forbid signing it (neither annotations nor form filling are allowed), so it cannot be sealed. Ask its author for a copy that permits signing.",
    );
  }
  if (docMdp !== undefined || lock !== undefined || countSignatures(document) > 0) return 'signature_only';
  if (permissions && !permissions.modify) return 'signature_only';
  return 'stamp';
}

/**
 * The strictest /P of the /Lock dictionaries (ISO 32000-2, 12.7.5.5: a signature field's lock, whose /P
 * takes effect once the field is signed) of the signed signature fields; undefined when none sets one.
 */
function strictestFieldLock(document: PDF): number | undefined {
  try {
    const resolve = (ref: PdfRef) => document.getObject(ref) ?? null;
    let strictest: number | undefined;
    for (const field of document.getForm()?.getFields() ?? []) {
      if (field.type !== 'signature' || !(field as SignatureField).isSigned()) continue;
      const level = field.getDict().getDict('Lock', resolve)?.get('P', resolve);
      if (level instanceof PdfNumber && (strictest === undefined || level.value < strictest)) strictest = level.value;
    }
    return strictest;
  } catch {
    throw malformed();
  }
}

/**
 * The certification level of a certified PDF (ISO 32000-1, 12.8.2.2): the catalog's /Perms /DocMDP
 * signature names, in a /Reference with /TransformMethod /DocMDP, its /TransformParams /P (default 2).
 * Undefined for a document that is not certified.
 */
function docMdpPermission(document: PDF): number | undefined {
  try {
    return readDocMdpPermission(document);
  } catch {
    throw malformed(); // a catalog that cannot be walked: refused like any unreadable structure
  }
}

function readDocMdpPermission(document: PDF): number | undefined {
  const resolve = (ref: PdfRef) => document.getObject(ref) ?? null;
  const lookup = (object: PdfObject | undefined) => (object instanceof PdfRef ? (document.getObject(object) ?? undefined) : object);
  const signature = document.getCatalog().getDict('Perms', resolve)?.getDict('DocMDP', resolve);
  if (!signature) return undefined;
  const references = signature.getArray('Reference', resolve);
  if (!references) return 2;
  for (let index = 0; index < references.length; index++) {
    const reference = lookup(references.at(index));
    if (!(reference instanceof PdfDict) || reference.getName('TransformMethod', resolve)?.value !== 'DocMDP') continue;
    const level = reference.getDict('TransformParams', resolve)?.get('P', resolve);
    return level instanceof PdfNumber ? level.value : 2;
  }
  return 2;
}

async function loadLeniently(bytes: Uint8Array): Promise<PDF> {
  try {
    return await PDF.load(bytes);
  } catch {
    // Without the user password the catalog cannot be decrypted, and libpdf reports only that the structure
    // is unreadable; an /Encrypt entry (in a trailer or an xref stream's dictionary, both plain text) says why.
    const file = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    if (file.includes('/Encrypt')) throw needsPassword();
    return await loadByScanning(file);
  }
}

/**
 * libpdf rebuilds the cross-reference by scanning the file only when the table cannot be parsed at all; a
 * table that parses but points to the wrong places (offsets shifted by an editor or a transfer) fails
 * later. Viewers scan in both cases, so the file is read again with its final `startxref` hidden, which
 * sends libpdf down that same path. Only the copy is cut; a file read this way is rewritten (repaired).
 */
async function loadByScanning(file: Buffer): Promise<PDF> {
  const startXref = file.lastIndexOf('startxref');
  if (startXref < 0) throw malformed();
  try {
    const document = await PDF.load(file.subarray(0, startXref));
    if (!document.recoveredViaBruteForce) throw malformed();
    return document;
  } catch {
    throw malformed();
  }
}

function needsPassword(): AppError {
  return new AppError('encrypted_document', 'The PDF needs a password to open; upload a copy that opens without one.');
}

/** Signed signature fields (a /Sig field with a value), wherever they hang in the form's field tree. */
function countSignatures(document: PDF): number {
  try {
    const form = document.getForm();
    return form ? form.getFields().filter((field) => field.type === 'signature' && (field as SignatureField).isSigned()).length : 0;
  } catch {
    throw malformed();
  }
}

/** A full save of the document as read: every object written anew, with a fresh cross-reference. */
async function rewrite(document: PDF): Promise<Uint8Array> {
  try {
    // libpdf hands back the input unchanged when nothing was modified; touching the catalog (with the value
    // it already has) makes it write the whole file.
    document.getCatalog().set('Type', PdfName.of('Catalog'));
    return await document.save({ incremental: false });
  } catch {
    throw malformed();
  }
}

function countPages(document: PDF): number {
  try {
    return document.getPageCount();
  } catch {
    throw malformed();
  }
}

function malformed(): AppError {
  return new AppError('invalid_document', 'The PDF is malformed and cannot be read.');
}
