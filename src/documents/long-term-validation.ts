/**
 * Making a seal verifiable after its certificates expire (PAdES, ETSI EN 319 142-1):
 *
 * - B-LT: a Document Security Store (DSS) with the certificates and revocation data (OCSP responses or
 *   CRLs, fetched from the URLs the certificates name) of every signature in the file, ours and the TSA's
 *   included, so a validator needs nothing from the network.
 * - B-LTA: then a document timestamp over everything, and the validation data of that timestamp's own TSA.
 * - Archive renewal: the same step again, before the last timestamp's certificate expires
 *   (src/workflows/archive-renewal.ts).
 *
 * Each step is an incremental update through libpdf; each is reopened from the bytes before it (so a
 * linearized original is appended to as well, see append-pdf.ts) and checked to have only appended.
 *
 * "Ours" is what lies after the original's bytes: the seal and the document timestamps this service
 * appended. Only their certificates get revocation data fetched (revocation-data.ts), and only their
 * timestamps count for renewal: an upload's own document timestamps are its signers' business.
 */
import { X509Certificate } from 'node:crypto';
import type { TimestampAuthority } from '@libpdf/core';
import { ContentInfo, SignedData } from '@peculiar/asn1-cms';
import { AsnConvert } from '@peculiar/asn1-schema';
import { TSTInfo } from '@peculiar/asn1-tsp';
import { assertAppendOnly, openForAppend } from './append-pdf';
import { readElement } from './der';
import { OwnCertificatesRevocation } from './revocation-data';
import type { SealLevel } from '../config';

export interface LongTermValidationOptions {
  timestampAuthority: TimestampAuthority;
}

/** Where the original ends in the file: everything after it was appended by this service. */
export interface AppendedSince {
  originalLength: number;
}

/** Lifts a freshly sealed file (B-T) to `level`; B-B and B-T are returned as they are. */
export async function extendToLevel(sealed: Uint8Array, level: SealLevel, options: LongTermValidationOptions & AppendedSince): Promise<Uint8Array> {
  if (level === 'B-B' || level === 'B-T') return sealed;
  const withValidationData = await addValidationData(sealed, options);
  return level === 'B-LTA' ? addTimestampWithValidationData(withValidationData, options) : withValidationData;
}

/**
 * Archive renewal: the validation data as it stands now (fresh revocation status of the timestamp about to
 * expire), then a document timestamp over it, then the validation data of that new timestamp.
 */
export async function addArchiveTimestamp(before: Uint8Array, options: LongTermValidationOptions & AppendedSince): Promise<Uint8Array> {
  return addTimestampWithValidationData(await addValidationData(before, options), options);
}

/** A document timestamp over the whole file, then the DSS completed with that timestamp's validation data. */
async function addTimestampWithValidationData(before: Uint8Array, options: LongTermValidationOptions & AppendedSince): Promise<Uint8Array> {
  const document = await openForAppend(before);
  const fieldName = `Sigill archive timestamp ${(await readDocumentTimestamps(before, options)).length + 1}`;
  // Not addArchivalData()/longTermValidation: those reload the file between their own two writes, and a
  // reload forgets that a linearized file may be appended to. Separate steps keep every write checked.
  const { bytes } = await document.addTimestamp({ timestampAuthority: options.timestampAuthority, fieldName });
  assertAppendOnly(before, bytes);
  return addValidationData(bytes, options);
}

async function addValidationData(before: Uint8Array, options: AppendedSince): Promise<Uint8Array> {
  const revocation = new OwnCertificatesRevocation(certificatesWeAdded(before, options.originalLength));
  const document = await openForAppend(before);
  const { bytes } = await document.addValidationData({ revocationProvider: revocation });
  revocation.assertComplete();
  assertAppendOnly(before, bytes);
  return bytes;
}

export interface DocumentTimestampFacts {
  /** The time the TSA certified (genTime). */
  at: Date;
  /** When the TSA's certificate expires: the timestamp must be renewed before then. */
  certificateExpiresAt: Date;
}

/** The document timestamps this service appended (after the original), in file order. */
export async function readDocumentTimestamps(pdf: Uint8Array, since: AppendedSince): Promise<DocumentTimestampFacts[]> {
  const facts: DocumentTimestampFacts[] = [];
  for (const cms of signaturesAfter(pdf, since.originalLength)) {
    const token = parseSignedData(cms);
    if (token?.encapContentInfo.eContentType !== oid.tstInfo) continue;
    const fact = timestampFacts(token);
    if (fact) facts.push(fact);
  }
  return facts;
}

/**
 * Every certificate inside the signatures appended after the original: the seal's chain, the TSA
 * certificates in its signature timestamp and in our document timestamps.
 */
function certificatesWeAdded(pdf: Uint8Array, originalLength: number): Uint8Array[] {
  const certificates: Uint8Array[] = [];
  const collect = (signedData: SignedData | undefined) => {
    for (const choice of signedData?.certificates ?? []) {
      if (choice.certificate) certificates.push(new Uint8Array(AsnConvert.serialize(choice.certificate)));
    }
    for (const signerInfo of signedData?.signerInfos ?? []) {
      for (const attribute of signerInfo.unsignedAttrs ?? []) {
        if (attribute.attrType !== oid.signatureTimeStampToken) continue;
        for (const value of attribute.attrValues) collect(parseSignedData(new Uint8Array(value)));
      }
    }
  };
  for (const cms of signaturesAfter(pdf, originalLength)) collect(parseSignedData(cms));
  return certificates;
}

/** The /Contents of every signature whose byte ranges show it lies after `from`, in file order. */
function* signaturesAfter(pdf: Uint8Array, from: number): Generator<Uint8Array> {
  const bytes = Buffer.from(pdf.buffer, pdf.byteOffset, pdf.byteLength);
  const text = bytes.toString('latin1', from);
  for (const range of text.matchAll(/\/ByteRange\s*\[\s*0\s+(\d+)\s+(\d+)\s+\d+\s*\]/g)) {
    const [contentsStart, contentsEnd] = [Number(range[1]), Number(range[2])];
    if (contentsStart < from || contentsEnd > bytes.byteLength || contentsEnd <= contentsStart) continue;
    const hex = bytes.toString('latin1', contentsStart + 1, contentsEnd - 1);
    if (/^[0-9a-fA-F]*$/.test(hex)) yield Buffer.from(hex, 'hex');
  }
}

/** A CMS ContentInfo holding SignedData, without the zero padding after it; undefined when it is not one. */
function parseSignedData(der: Uint8Array): SignedData | undefined {
  try {
    const buffer = Buffer.from(der.buffer, der.byteOffset, der.byteLength);
    const contentInfo = AsnConvert.parse(buffer.subarray(0, readElement(buffer, 0).end), ContentInfo);
    return contentInfo.contentType === oid.signedData ? AsnConvert.parse(contentInfo.content, SignedData) : undefined;
  } catch {
    return undefined;
  }
}

/** genTime and the earliest expiry of the TSA's (non-CA) certificates; undefined for a token that says neither. */
function timestampFacts(token: SignedData): DocumentTimestampFacts | undefined {
  try {
    const tstInfo = token.encapContentInfo.eContent?.single?.buffer;
    if (!tstInfo) return undefined;
    const info = AsnConvert.parse(tstInfo, TSTInfo);
    const expiries = (token.certificates ?? [])
      .map((choice) => choice.certificate)
      .filter((certificate) => certificate !== undefined)
      .map((certificate) => new X509Certificate(Buffer.from(AsnConvert.serialize(certificate))))
      .filter((certificate) => !certificate.ca)
      .map((certificate) => new Date(certificate.validTo).getTime());
    if (expiries.length === 0) return undefined;
    return { at: info.genTime, certificateExpiresAt: new Date(Math.min(...expiries)) };
  } catch {
    return undefined;
  }
}

const oid = {
  signedData: '1.2.840.113549.1.7.2',
  tstInfo: '1.2.840.113549.1.9.16.1.4',
  signatureTimeStampToken: '1.2.840.113549.1.9.16.2.14',
};
