/**
 * Checks the seal, the last signature in a PDF that is not a document timestamp (B-LTA and archive
 * renewals append those, and validation data, after it), the way a validator's first steps do: the CMS message digest must be
 * the SHA-256 of the bytes the /ByteRange names, the signing-certificate-v2 attribute must name the embedded
 * certificate, and the signature over the signed attributes must verify with that certificate's key. It does not judge trust (whose certificate it is): public
 * verification answers that by matching the whole file against the seals this service made.
 */
import { constants, createHash, verify, X509Certificate } from 'node:crypto';
import { children, readElement, tag, type DerElement } from './der';

export interface SealInspection {
  /** The CMS digest matches the signed byte ranges and the signature verifies with the embedded certificate. */
  signatureValid: boolean;
  /**
   * The byte ranges cover the whole file except the signature itself: nothing was appended after signing
   * (false for PAdES B-LT/B-LTA seals, which validation data and document timestamps follow).
   */
  coversWholeFile: boolean;
  signerCertificate?: X509Certificate;
}

/** Attribute types as their DER OBJECT IDENTIFIER encodings. */
const oid = {
  messageDigest: '06092a864886f70d010904',
  signingCertificateV2: '060b2a864886f70d010910022f',
  tstInfo: '060b2a864886f70d0109100104',
};

export function inspectSeal(pdf: Buffer): SealInspection | undefined {
  const text = pdf.toString('latin1');
  const byteRanges = [...text.matchAll(/\/ByteRange\s*\[\s*(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s*\]/g)];
  if (byteRanges.length === 0) return undefined;
  for (const range of byteRanges.reverse()) {
    const [start1, length1, start2, length2] = range.slice(1, 5).map(Number) as [number, number, number, number];
    if (start1 !== 0 || start2 < length1 || start2 + length2 > pdf.length) return invalid(false);
    const coversWholeFile = start2 + length2 === pdf.length;
    // Between the two ranges sits /Contents <hex>, zero-padded after the DER.
    const hex = text.slice(length1, start2).replace(/^</, '').replace(/>$/, '');
    if (!/^[0-9a-fA-F]*$/.test(hex)) return invalid(coversWholeFile);
    const cms = Buffer.from(hex, 'hex');
    if (isDocumentTimestamp(cms)) continue;
    const signedBytes = Buffer.concat([pdf.subarray(start1, length1), pdf.subarray(start2, start2 + length2)]);
    try {
      return { ...verifyDetachedCms(cms, signedBytes), coversWholeFile };
    } catch {
      return invalid(coversWholeFile);
    }
  }
  return undefined;

  function invalid(coversWholeFile: boolean): SealInspection {
    return { signatureValid: false, coversWholeFile };
  }
}

/** id-ct-TSTInfo as the encapsulated content type: a document timestamp's token, not a signature. */
function isDocumentTimestamp(cms: Buffer): boolean {
  try {
    const [, explicitContent] = children(cms, readElement(cms, 0));
    const signedData = children(cms, requireTag(explicitContent, tag.contextConstructed(0)))[0];
    const encapsulated = children(cms, requireTag(signedData, tag.sequence))[2];
    const contentType = children(cms, requireTag(encapsulated, tag.sequence))[0];
    return contentType !== undefined && slice(cms, contentType).toString('hex') === oid.tstInfo;
  } catch {
    return false;
  }
}

/** SignedData → first SignerInfo: digest and signature checks against the first certificate. */
function verifyDetachedCms(cms: Buffer, signedBytes: Buffer): Omit<SealInspection, 'coversWholeFile'> {
  const contentInfo = readElement(cms, 0);
  const [, explicitContent] = children(cms, contentInfo);
  const signedData = children(cms, requireTag(explicitContent, tag.contextConstructed(0)))[0];
  const signedDataFields = children(cms, requireTag(signedData, tag.sequence));
  const certificates = signedDataFields.find((field) => field.tag === tag.contextConstructed(0));
  const signerInfos = signedDataFields.at(-1);
  const signerInfo = children(cms, requireTag(signerInfos, tag.set))[0];
  const signerFields = children(cms, requireTag(signerInfo, tag.sequence));
  const signedAttributes = requireTag(signerFields[3], tag.contextConstructed(0));
  const signature = signerFields.find((field, index) => index > 3 && field.tag === tag.octetString);
  const firstCertificate = children(cms, requireTag(certificates, tag.contextConstructed(0)))[0];

  const certificate = new X509Certificate(slice(cms, requireTag(firstCertificate, tag.sequence)));
  const attributeValue = (type: string) => {
    for (const attribute of children(cms, signedAttributes)) {
      const [attributeType, values] = children(cms, attribute);
      if (attributeType && values && slice(cms, attributeType).toString('hex') === type) return children(cms, values)[0];
    }
    return undefined;
  };
  const messageDigest = attributeValue(oid.messageDigest);
  const digestMatches =
    messageDigest !== undefined && cms.subarray(messageDigest.contentStart, messageDigest.end).equals(createHash('sha256').update(signedBytes).digest());
  // signing-certificate-v2 binds the signature to this exact certificate: SEQUENCE { SEQUENCE OF { ESSCertIDv2 { hash, ... } } }.
  const essCertIds = attributeValue(oid.signingCertificateV2);
  const firstCertId = essCertIds && children(cms, requireTag(children(cms, essCertIds)[0], tag.sequence))[0];
  const certificateHash = firstCertId && children(cms, firstCertId)[0];
  const certificateBound =
    certificateHash?.tag === tag.octetString &&
    cms.subarray(certificateHash.contentStart, certificateHash.end).equals(createHash('sha256').update(certificate.raw).digest());
  // The signature covers the attributes re-tagged as a universal SET (RFC 5652 §5.4).
  const attributesAsSet = Buffer.from(slice(cms, signedAttributes));
  attributesAsSet[0] = tag.set;
  const signatureVerifies = verify(
    'sha256',
    attributesAsSet,
    { key: certificate.publicKey, padding: constants.RSA_PKCS1_PADDING },
    cms.subarray(requireTag(signature, tag.octetString).contentStart, signature!.end),
  );
  return { signatureValid: digestMatches && certificateBound && signatureVerifies, signerCertificate: certificate };
}

function requireTag(element: DerElement | undefined, wanted: number): DerElement {
  if (!element || element.tag !== wanted) throw new Error('unexpected CMS structure');
  return element;
}

function slice(der: Buffer, element: DerElement): Buffer {
  return der.subarray(element.start, element.end);
}
