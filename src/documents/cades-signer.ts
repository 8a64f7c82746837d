/**
 * Builds the CMS that goes into a PDF's /Contents: a detached SignedData following the PAdES baseline
 * B-B profile (ETSI EN 319 142-1 / EN 319 122-1). Signed attributes are exactly content-type,
 * message-digest and signing-certificate-v2; the signing-time attribute is forbidden in PAdES (the claimed
 * time lives in the signature dictionary's /M), which is why neither @signpdf's P12Signer nor libpdf's CMS builder is used.
 *
 * The DER is written by hand, not through an ASN.1 library: the certificates and the issuer name must be
 * copied byte for byte from the certificate (NSS, behind pdfsig, finds the signer by comparing DER), and
 * re-encoding them through a schema library risks changing a byte. pkijs 4 would fit but is ESM-only,
 * which jest on Node 20 cannot load from CommonJS.
 */
import { createHash } from 'node:crypto';
import {
  children,
  derSortedSetContents,
  integer,
  nullValue,
  objectIdentifier,
  octetString,
  readElement,
  sequence,
  tag,
  tlv,
} from './der';
import type { SealKey } from './seal-key';

/**
 * Where a B-T signature will get its RFC 3161 timestamp: given the signature value, return the DER of a
 * TimeStampToken (a CMS ContentInfo) whose message imprint is the SHA-256 of that value. It goes into the
 * unsigned attribute signature-time-stamp, which makes the seal PAdES B-T (see timestamp-authority.ts).
 */
export interface SignatureTimestamper {
  timestampSignature(signatureValue: Buffer): Promise<Buffer>;
}

export interface CadesSignerOptions {
  signatureTimestamper?: SignatureTimestamper;
}

export async function buildDetachedCades(
  signedBytes: Buffer,
  key: SealKey,
  options: CadesSignerOptions = {},
): Promise<Buffer> {
  return buildDetachedCadesForDigest(sha256(signedBytes), key, options);
}

/** The same CMS from the SHA-256 of the signed bytes, for a caller that hashes them where they lie. */
export async function buildDetachedCadesForDigest(messageDigest: Buffer, key: SealKey, options: CadesSignerOptions = {}): Promise<Buffer> {
  const signingCertificate = key.certificateChain[0];
  if (!signingCertificate) throw new Error('the seal key has no certificate');
  const { issuer, serialNumber } = readIssuerAndSerial(signingCertificate);

  const signedAttributes = derSortedSetContents([
    attribute(oid.contentType, objectIdentifier(oid.data)),
    attribute(oid.messageDigest, octetString(messageDigest)),
    attribute(oid.signingCertificateV2, signingCertificateV2(signingCertificate, issuer, serialNumber)),
  ]);
  // The signature covers the attributes with their universal SET tag, not the [0] they are stored under.
  const signatureValue = await key.sign(tlv(tag.set, signedAttributes));

  const unsignedAttributes: Buffer[] = [];
  if (options.signatureTimestamper) {
    const token = await options.signatureTimestamper.timestampSignature(signatureValue);
    unsignedAttributes.push(attribute(oid.signatureTimeStampToken, token));
  }

  const signerInfo = sequence(
    integer(1),
    sequence(issuer, serialNumber),
    sha256AlgorithmIdentifier(),
    tlv(tag.contextConstructed(0), signedAttributes),
    sequence(objectIdentifier(oid.sha256WithRsaEncryption), nullValue()),
    octetString(signatureValue),
    ...(unsignedAttributes.length ? [tlv(tag.contextConstructed(1), derSortedSetContents(unsignedAttributes))] : []),
  );
  const signedData = sequence(
    integer(1),
    tlv(tag.set, sha256AlgorithmIdentifier()),
    // Detached: the encapsulated content names its type and carries no content.
    sequence(objectIdentifier(oid.data)),
    tlv(tag.contextConstructed(0), ...key.certificateChain),
    tlv(tag.set, signerInfo),
  );
  return sequence(objectIdentifier(oid.signedData), tlv(tag.contextConstructed(0), signedData));
}

/**
 * ESS signing-certificate-v2 (RFC 5035): binds the signature to this exact certificate, which is what
 * stops a different certificate for the same key from being substituted. hashAlgorithm is left out because
 * it defaults to SHA-256 and DER omits default values.
 */
function signingCertificateV2(certificate: Buffer, issuer: Buffer, serialNumber: Buffer): Buffer {
  const issuerSerial = sequence(sequence(tlv(tag.contextConstructed(4), issuer)), serialNumber);
  const essCertIdV2 = sequence(octetString(sha256(certificate)), issuerSerial);
  return sequence(sequence(essCertIdV2));
}

function attribute(type: string, value: Buffer): Buffer {
  return sequence(objectIdentifier(type), tlv(tag.set, value));
}

function sha256AlgorithmIdentifier(): Buffer {
  // RFC 5754: parameters absent for the SHA-2 family.
  return sequence(objectIdentifier(oid.sha256));
}

function sha256(data: Buffer): Buffer {
  return createHash('sha256').update(data).digest();
}

const oid = {
  data: '1.2.840.113549.1.7.1',
  signedData: '1.2.840.113549.1.7.2',
  contentType: '1.2.840.113549.1.9.3',
  messageDigest: '1.2.840.113549.1.9.4',
  signingCertificateV2: '1.2.840.113549.1.9.16.2.47',
  signatureTimeStampToken: '1.2.840.113549.1.9.16.2.14',
  sha256: '2.16.840.1.101.3.4.2.1',
  sha256WithRsaEncryption: '1.2.840.113549.1.1.11',
} as const;

/** The issuer Name and serialNumber INTEGER of a certificate, as their exact DER (tag included). */
function readIssuerAndSerial(certificate: Buffer): { issuer: Buffer; serialNumber: Buffer } {
  const tbsCertificate = children(certificate, readElement(certificate, 0))[0];
  if (!tbsCertificate) throw new Error('the seal certificate is not a DER certificate');
  // TBSCertificate: [0] version (absent for v1), serialNumber, signature, issuer, ...
  const fields = children(certificate, tbsCertificate);
  const firstAfterVersion = fields[0]?.tag === tag.contextConstructed(0) ? 1 : 0;
  const serialNumber = fields[firstAfterVersion];
  const issuer = fields[firstAfterVersion + 2];
  if (serialNumber?.tag !== tag.integer || issuer?.tag !== tag.sequence) {
    throw new Error('the seal certificate is not a DER certificate');
  }
  return {
    issuer: certificate.subarray(issuer.start, issuer.end),
    serialNumber: certificate.subarray(serialNumber.start, serialNumber.end),
  };
}
