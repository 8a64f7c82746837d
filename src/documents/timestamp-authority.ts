/**
 * An RFC 3161 client: asks a time-stamping authority (TSA) to certify that a seal's signature value existed
 * at a given time. The token goes into the CMS as the signature-time-stamp attribute, which lifts the seal
 * from PAdES B-B to B-T: the signing time is then vouched for by a third party, not by our own clock.
 *
 * The answer is checked before it is used (status granted, SHA-256 imprint of exactly our signature, our
 * nonce echoed): a token for anything else would still parse, and only a validator would later notice.
 * The token's own signature is left to validators, who must trust the TSA's certificate anyway.
 */
import { createHash, randomBytes } from 'node:crypto';
import { SignedData } from '@peculiar/asn1-cms';
import { AsnConvert } from '@peculiar/asn1-schema';
import { TSTInfo, TimeStampResp } from '@peculiar/asn1-tsp';
import type { SignatureTimestamper } from './cades-signer';
import { booleanTrue, children, integer, objectIdentifier, octetString, readElement, sequence, unsignedInteger } from './der';

export class TimestampError extends Error {
  override name = 'TimestampError';
}

const oid = {
  sha256: '2.16.840.1.101.3.4.2.1',
  signedData: '1.2.840.113549.1.7.2',
  tstInfo: '1.2.840.113549.1.9.16.1.4',
};

/** PKIStatus values that come with a token (RFC 3161 §2.4.2). */
const granted = new Set([0, 1]);

/**
 * Also libpdf's TimestampAuthority (digest in, token out), which document timestamps (PAdES B-LTA, archive
 * re-timestamping) go through; only SHA-256 is asked for there.
 */
export class Rfc3161Timestamper implements SignatureTimestamper {
  constructor(
    private readonly url: string,
    private readonly timeoutMs = 30_000,
  ) {}

  async timestampSignature(signatureValue: Buffer): Promise<Buffer> {
    return this.timestampImprint(createHash('sha256').update(signatureValue).digest());
  }

  /** libpdf's TimestampAuthority: a token over `digest` (already hashed by the caller). */
  async timestamp(digest: Uint8Array, algorithm: string): Promise<Uint8Array> {
    if (algorithm !== 'SHA-256') throw new TimestampError(`document timestamps are requested with SHA-256, not ${algorithm}`);
    return this.timestampImprint(Buffer.from(digest));
  }

  private async timestampImprint(imprint: Buffer): Promise<Buffer> {
    const nonce = randomBytes(16);
    let response: Response;
    try {
      response = await fetch(this.url, {
        method: 'POST',
        headers: { 'content-type': 'application/timestamp-query', accept: 'application/timestamp-reply' },
        body: timeStampRequest(imprint, nonce),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (error) {
      // The URL is configuration, not a secret, but it may carry a token in its query: name the host only.
      throw new TimestampError(`the timestamp authority at ${new URL(this.url).host} did not answer (${(error as Error).name})`);
    }
    if (!response.ok) {
      throw new TimestampError(`the timestamp authority at ${new URL(this.url).host} answered HTTP ${response.status}`);
    }
    return tokenFromResponse(Buffer.from(await response.arrayBuffer()), imprint, nonce);
  }
}

/** TimeStampReq: version 1, SHA-256 message imprint, a nonce, and certReq so the token carries the TSA's certificate. */
function timeStampRequest(imprint: Buffer, nonce: Buffer): Buffer {
  const messageImprint = sequence(sequence(objectIdentifier(oid.sha256)), octetString(imprint));
  return sequence(integer(1), messageImprint, unsignedInteger(nonce), booleanTrue());
}

/**
 * The TimeStampToken's exact bytes, after checking that it answers our request. The bytes are sliced out of
 * the response rather than re-encoded, so the TSA's signature over them stays intact.
 */
export function tokenFromResponse(der: Buffer, imprint: Buffer, nonce: Buffer): Buffer {
  let parsed: TimeStampResp;
  try {
    parsed = AsnConvert.parse(der, TimeStampResp);
  } catch {
    throw new TimestampError('the timestamp authority sent something that is not a TimeStampResp');
  }
  const status = parsed.status.status as number;
  if (!granted.has(status)) {
    const text = parsed.status.statusString?.map((line) => line.toString()).join('; ');
    throw new TimestampError(`the timestamp authority refused the request (status ${status}${text ? `: ${text}` : ''})`);
  }
  const token = parsed.timeStampToken;
  if (!token || token.contentType !== oid.signedData) throw new TimestampError('the timestamp authority sent no token');
  const signedData = AsnConvert.parse(token.content, SignedData);
  const content = signedData.encapContentInfo;
  // DER tokens carry TSTInfo in one primitive OCTET STRING; a constructed (BER) one is not DER and refused.
  const tstInfoDer = content.eContent?.single?.buffer;
  if (content.eContentType !== oid.tstInfo || !tstInfoDer) throw new TimestampError('the timestamp token holds no TSTInfo');
  const info = AsnConvert.parse(tstInfoDer, TSTInfo);

  if (info.messageImprint.hashAlgorithm.algorithm !== oid.sha256 || !Buffer.from(info.messageImprint.hashedMessage.buffer).equals(imprint)) {
    throw new TimestampError('the timestamp token is for different data than the seal signature');
  }
  if (!info.nonce || !sameInteger(Buffer.from(info.nonce), nonce)) {
    throw new TimestampError('the timestamp token does not echo the request nonce (a replayed or foreign answer)');
  }

  const response = readElement(der, 0);
  const tokenElement = children(der, response)[1];
  if (!tokenElement) throw new TimestampError('the timestamp authority sent no token');
  return Buffer.from(der.subarray(tokenElement.start, tokenElement.end));
}

/** INTEGER contents compared as numbers: the encoder may have added or dropped a leading zero byte. */
function sameInteger(a: Buffer, b: Buffer): boolean {
  const strip = (bytes: Buffer) => {
    let start = 0;
    while (start < bytes.length - 1 && bytes[start] === 0) start++;
    return bytes.subarray(start);
  };
  return strip(a).equals(strip(b));
}
