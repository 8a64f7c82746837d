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
 */
import { X509Certificate } from 'node:crypto';
import type { PDF, RevocationProvider, SignatureField, TimestampAuthority } from '@libpdf/core';
import { ContentInfo, SignedData } from '@peculiar/asn1-cms';
import { AsnConvert } from '@peculiar/asn1-schema';
import { TSTInfo } from '@peculiar/asn1-tsp';
import { assertAppendOnly, openForAppend } from './append-pdf';
import { readElement } from './der';
import type { SealLevel } from '../config';

export interface LongTermValidationOptions {
  timestampAuthority: TimestampAuthority;
  /** Where OCSP responses and CRLs come from; libpdf's HTTP client (AIA and CRL distribution points) by default. */
  revocationProvider?: RevocationProvider;
}

/** Lifts a freshly sealed file (B-T) to `level`; B-B and B-T are returned as they are. */
export async function extendToLevel(sealed: Uint8Array, level: SealLevel, options: LongTermValidationOptions): Promise<Uint8Array> {
  if (level === 'B-B' || level === 'B-T') return sealed;
  const withValidationData = await addValidationData(sealed, options);
  return level === 'B-LTA' ? addArchiveTimestamp(withValidationData, options) : withValidationData;
}

/**
 * A document timestamp over the whole file, then the DSS completed with the validation data of that
 * timestamp (and of anything added since the last DSS). Used for B-LTA and for every archive renewal.
 */
export async function addArchiveTimestamp(before: Uint8Array, options: LongTermValidationOptions): Promise<Uint8Array> {
  const document = await openForAppend(before);
  // Not addArchivalData()/longTermValidation: those reload the file between their own two writes, and a
  // reload forgets that a linearized file may be appended to. Two separate steps keep every write checked.
  const { bytes } = await document.addTimestamp({ timestampAuthority: options.timestampAuthority, fieldName: `Sigill archive timestamp ${await timestampCount(document) + 1}` });
  assertAppendOnly(before, bytes);
  return addValidationData(bytes, options);
}

async function addValidationData(before: Uint8Array, options: LongTermValidationOptions): Promise<Uint8Array> {
  const document = await openForAppend(before);
  const { bytes } = await document.addValidationData({ ...(options.revocationProvider ? { revocationProvider: options.revocationProvider } : {}) });
  assertAppendOnly(before, bytes);
  return bytes;
}

async function timestampCount(document: PDF): Promise<number> {
  return (await documentTimestamps(document)).length;
}

export interface DocumentTimestampFacts {
  /** The time the TSA certified (genTime). */
  at: Date;
  /** When the TSA's certificate expires: the timestamp must be renewed before then. */
  certificateExpiresAt: Date;
}

/** The document timestamps (/DocTimeStamp) in the file, oldest first. */
export async function readDocumentTimestamps(pdf: Uint8Array): Promise<DocumentTimestampFacts[]> {
  return documentTimestamps(await openForAppend(pdf));
}

async function documentTimestamps(document: PDF): Promise<DocumentTimestampFacts[]> {
  const facts: DocumentTimestampFacts[] = [];
  for (const field of document.getForm()?.getFields() ?? []) {
    if (field.type !== 'signature') continue;
    const value = (field as SignatureField).getSignatureDict();
    if (value?.getName('Type')?.value !== 'DocTimeStamp') continue;
    const contents = value.getString('Contents')?.bytes;
    if (contents) facts.push(timestampFacts(contents));
  }
  return facts.sort((a, b) => a.at.getTime() - b.at.getTime());
}

/** genTime and the signer certificate's notAfter of a timestamp token (a CMS SignedData over TSTInfo). */
function timestampFacts(token: Uint8Array): DocumentTimestampFacts {
  // /Contents is the DER followed by the placeholder's zero padding.
  const der = Buffer.from(token.buffer, token.byteOffset, token.byteLength);
  const contentInfo = AsnConvert.parse(der.subarray(0, readElement(der, 0).end), ContentInfo);
  const signedData = AsnConvert.parse(contentInfo.content, SignedData);
  const tstInfo = signedData.encapContentInfo.eContent?.single?.buffer;
  if (!tstInfo) throw new Error('a document timestamp holds no TSTInfo');
  const info = AsnConvert.parse(tstInfo, TSTInfo);
  const expiries = (signedData.certificates ?? [])
    .map((choice) => choice.certificate)
    .filter((certificate) => certificate !== undefined)
    .map((certificate) => new X509Certificate(Buffer.from(AsnConvert.serialize(certificate))))
    .filter((certificate) => !certificate.ca)
    .map((certificate) => new Date(certificate.validTo));
  if (expiries.length === 0) throw new Error('a document timestamp carries no TSA certificate');
  return { at: info.genTime, certificateExpiresAt: new Date(Math.min(...expiries.map((date) => date.getTime()))) };
}
