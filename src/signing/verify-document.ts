/**
 * Public verification (R4): anyone holding a sealed document, or just its printed code, can check it
 * without an account. The answer tells who signed and when, never emails, IPs or the document's title.
 *
 * A file is "authentic" only when it is byte for byte a document this service sealed (its SHA-256 is on
 * record) and its seal signature checks out, so a single changed byte can never pass. A file that names a
 * sealed document's code but differs from it is "modified"; anything else is "unknown".
 */
import { createHash } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { z } from 'zod';
import { AuditEvent, SealedDocumentVersion, Signer, SigningRequest } from '../database/entities';
import { inspectSeal } from '../documents/inspect-seal';
import { AppError } from '../errors';

export type Verdict = 'authentic' | 'modified' | 'unknown';

export interface VerificationResult {
  verdict: Verdict;
  documentCode: string | null;
  sealedAt: string | null;
  /** SHA-256 of the sealed document on record (what an authentic copy hashes to). */
  sha256: string | null;
  /** SHA-256 of the file that was checked (absent when verifying by code). */
  uploadedSha256?: string;
  /** The file's last signature verifies cryptographically over the bytes it covers (absent by code). */
  signatureValid?: boolean;
  signers: Array<{ name: string; signedAt: string | null }>;
  /** How the original sits in the sealed file, for documents sealed by appending (isPrefix: checked on the upload). */
  original?: { sha256: string; byteLength: number; isPrefix?: boolean };
  /** The checked file is an earlier version whose archive timestamp was renewed since (`sha256` is the current one). */
  replacedByRenewal?: boolean;
  /** For an authentic file: the sealed document, or the separately sealed audit trail of one that could take only a signature. */
  file?: 'document' | 'evidence';
  /**
   * The request was deleted since it was sealed (src/privacy/shred-record.ts): the document existed and was sealed,
   * and its record was deleted then under this rule. Signers' names are gone with it (`signers` is empty). Not the
   * receipt's reason: it is free text a staff member typed and may name people; this answer is public.
   */
  deleted?: { at: string; rule: string };
}

/** Which sealed file of which request has this hash: current or replaced by a renewal, document or evidence. */
async function findSealedFile(dataSource: DataSource, sha256: string): Promise<{ request: SigningRequest; file: 'sealed' | 'evidence'; replaced: boolean } | undefined> {
  const requests = dataSource.getRepository(SigningRequest);
  const asDocument = await requests.findOneBy({ sealedSha256: sha256 });
  if (asDocument) return { request: asDocument, file: 'sealed', replaced: false };
  const asEvidence = await requests.findOneBy({ evidenceSha256: sha256 });
  if (asEvidence) return { request: asEvidence, file: 'evidence', replaced: false };
  const earlier = await dataSource.getRepository(SealedDocumentVersion).findOneBy({ sha256 });
  const request = earlier ? await requests.findOneBy({ id: earlier.requestId }) : null;
  return earlier && request ? { request, file: earlier.kind, replaced: true } : undefined;
}

/** Same shape as the stamp and the code generator in create-signing-request.ts (Crockford base 32). */
const documentCodePattern = /SGL-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}/g;
const pdfHeader = Buffer.from('%PDF-', 'latin1');

/** A code as a person types it (any case), for the API and the page alike. */
export const documentCodeInput = z
  .string()
  .trim()
  .regex(/^[Ss][Gg][Ll]-[0-9A-Za-z]{4}-[0-9A-Za-z]{4}-[0-9A-Za-z]{4}$/, 'must look like SGL-XXXX-XXXX-XXXX');

export async function verifyDocument(dataSource: DataSource, bytes: Buffer): Promise<VerificationResult> {
  if (!bytes.subarray(0, pdfHeader.length).equals(pdfHeader)) {
    throw new AppError('invalid_document', 'The file is not a PDF.');
  }
  const uploadedSha256 = createHash('sha256').update(bytes).digest('hex');
  const seal = inspectSeal(bytes);
  const signatureValid = seal?.signatureValid ?? false;
  const sealedRequests = dataSource.getRepository(SigningRequest);

  const onRecord = await findSealedFile(dataSource, uploadedSha256);
  // Byte for byte a file this service sealed (its hash is on record), and its seal intact. What follows the
  // seal in a PAdES B-LT/B-LTA file (validation data, document timestamps) is covered by that same hash.
  if (onRecord && signatureValid) {
    const described = await describe(dataSource, onRecord.request);
    const isDocument = onRecord.file === 'sealed';
    const original = isDocument && described.original ? { ...described.original, isPrefix: hasPrefix(bytes, described.original) } : undefined;
    return {
      ...described,
      original,
      file: isDocument ? 'document' : 'evidence',
      ...(onRecord.replaced ? { replacedByRenewal: true } : {}),
      verdict: 'authentic',
      uploadedSha256,
      signatureValid,
    };
  }
  // The code sits in the information dictionary and on every page; an edited copy usually keeps it.
  const codes = [...new Set(bytes.toString('latin1').match(documentCodePattern) ?? [])].slice(0, 20);
  for (const documentCode of codes) {
    const request = await sealedRequests.findOneBy({ documentCode });
    if (request?.sealedSha256) {
      return { ...(await describe(dataSource, request)), verdict: 'modified', uploadedSha256, signatureValid };
    }
  }
  return { verdict: 'unknown', documentCode: null, sealedAt: null, sha256: null, uploadedSha256, signatureValid, signers: [] };
}

/** By the code printed on the pages: the record, without judging any file. */
export async function verifyDocumentCode(dataSource: DataSource, documentCode: string): Promise<VerificationResult> {
  const request = await dataSource.getRepository(SigningRequest).findOneBy({ documentCode: documentCode.toUpperCase() });
  // A code that exists but is not sealed yet answers like one that does not exist: nothing to vouch for.
  if (!request?.sealedSha256) throw new AppError('not_found', 'No sealed document has this code.');
  return { ...(await describe(dataSource, request)), file: 'document', verdict: 'authentic' };
}

async function describe(dataSource: DataSource, request: SigningRequest): Promise<Omit<VerificationResult, 'verdict'>> {
  if (request.deletedAt) return describeDeleted(dataSource, request, request.deletedAt);
  const signers = await dataSource.getRepository(Signer).find({ where: { requestId: request.id }, order: { position: 'ASC' } });
  const signedEvents = await dataSource.getRepository(AuditEvent).find({ where: { requestId: request.id, type: 'signed' } });
  const signedAt = new Map(signedEvents.map((event) => [event.signerId, event.occurredAt.toISOString()]));
  return {
    documentCode: request.documentCode,
    sealedAt: request.sealedAt?.toISOString() ?? null,
    sha256: request.sealedSha256,
    signers: signers.map((signer) => ({ name: signer.name, signedAt: signedAt.get(signer.id) ?? null })),
    ...(request.sealedByAppending && request.originalByteLength !== null
      ? { original: { sha256: request.originalSha256, byteLength: request.originalByteLength } }
      : {}),
  };
}

/** A shredded request's tombstone: its hashes and times, and the deletion's rule; no names are left. */
async function describeDeleted(dataSource: DataSource, request: SigningRequest, deletedAt: Date): Promise<Omit<VerificationResult, 'verdict'>> {
  const [receipt]: Array<{ rule: string }> = await dataSource.query(`SELECT rule FROM deletion_receipts WHERE id = $1`, [
    request.deletionReceiptId,
  ]);
  return {
    documentCode: request.documentCode,
    sealedAt: request.sealedAt?.toISOString() ?? null,
    sha256: request.sealedSha256,
    signers: [],
    ...(request.sealedByAppending && request.originalByteLength !== null
      ? { original: { sha256: request.originalSha256, byteLength: request.originalByteLength } }
      : {}),
    deleted: { at: deletedAt.toISOString(), rule: receipt?.rule ?? 'unknown' },
  };
}

/** Whether the file begins with the original: its first byteLength bytes hash to the original's SHA-256. */
function hasPrefix(bytes: Buffer, original: { sha256: string; byteLength: number }): boolean {
  return bytes.byteLength > original.byteLength && createHash('sha256').update(bytes.subarray(0, original.byteLength)).digest('hex') === original.sha256;
}
