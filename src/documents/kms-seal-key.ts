/**
 * A seal whose private key lives in AWS KMS and never leaves it: every seal is one KMS `Sign` call over the
 * CMS signed attributes (a few hundred bytes, well under KMS's 4 KiB limit for RAW messages).
 *
 * The certificate is either one a certificate authority issued for the KMS key's public key (configured,
 * checked against the key at load), or a self-signed one made once through KMS `Sign` and kept in the
 * database, so every worker seals with the same certificate and a verifier can pin it.
 */
import { createHash, createPublicKey, randomBytes, X509Certificate } from 'node:crypto';
import type { KMSClient } from '@aws-sdk/client-kms';
import { KMS } from '../adapters/aws-sdk';
import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import {
  AlgorithmIdentifier,
  AttributeTypeAndValue,
  AttributeValue,
  Certificate,
  Extension,
  Extensions,
  KeyUsage,
  KeyUsageFlags,
  Name,
  RelativeDistinguishedName,
  SubjectKeyIdentifier,
  SubjectPublicKeyInfo,
  TBSCertificate,
  Validity,
  Version,
  id_ce_keyUsage,
  id_ce_subjectKeyIdentifier,
} from '@peculiar/asn1-x509';
import type { SealKey } from './seal-key';

/** Where the self-signed certificate of a KMS key is kept once made (the database, in the service). */
export interface SealCertificateStore {
  /** The stored certificate for `keyRef`, or the one `create` makes if none is stored yet (first writer wins). */
  getOrCreate(keyRef: string, create: () => Promise<Buffer>): Promise<Buffer>;
}

export interface KmsSealKeyOptions {
  kms: KMSClient;
  keyId: string;
  /** PEM certificates issued for the KMS key (leaf first); without them a self-signed one is made. */
  certificateChainPem?: string;
  certificateStore: SealCertificateStore;
  subjectName: string;
}

const signingAlgorithm = 'RSASSA_PKCS1_V1_5_SHA_256';
const oid = { sha256WithRsaEncryption: '1.2.840.113549.1.1.11', commonName: '2.5.4.3', organizationName: '2.5.4.10' };
const certificateValidityYears = 10;

export async function loadKmsSealKey(options: KmsSealKeyOptions): Promise<SealKey> {
  const { kms, keyId } = options;
  const publicKey = await kms.send(new KMS.GetPublicKeyCommand({ KeyId: keyId }));
  if (publicKey.KeyUsage !== 'SIGN_VERIFY' || !publicKey.SigningAlgorithms?.includes(signingAlgorithm)) {
    throw new Error(`the KMS seal key must be an RSA signing key (KeyUsage SIGN_VERIFY, ${signingAlgorithm}); it is ${publicKey.KeySpec ?? publicKey.CustomerMasterKeySpec ?? 'unknown'}/${publicKey.KeyUsage ?? 'unknown'}`);
  }
  const spki = Buffer.from(publicKey.PublicKey!);
  const sign = async (data: Buffer): Promise<Buffer> => {
    const signed = await kms.send(new KMS.SignCommand({ KeyId: keyId, Message: data, MessageType: 'RAW', SigningAlgorithm: signingAlgorithm }));
    return Buffer.from(signed.Signature!);
  };

  let chain: Buffer[];
  if (options.certificateChainPem) {
    chain = pemCertificates(options.certificateChainPem);
  } else {
    // Keyed by the public key, not the key id: an alias that is re-pointed to another key gets its own certificate.
    const keyRef = `kms:${createHash('sha256').update(spki).digest('hex')}`;
    chain = [await options.certificateStore.getOrCreate(keyRef, () => selfSignedCertificate(spki, options.subjectName, sign))];
  }
  const leaf = new X509Certificate(chain[0]!);
  const kmsPublicKey = createPublicKey({ key: spki, format: 'der', type: 'spki' });
  if (!leaf.publicKey.equals(kmsPublicKey)) {
    throw new Error('the configured seal certificate was not issued for the KMS key (their public keys differ)');
  }
  return { certificateChain: chain, sign };
}

function pemCertificates(pem: string): Buffer[] {
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  if (blocks.length === 0) throw new Error('the seal certificate file holds no PEM certificate');
  return blocks.map((block) => new X509Certificate(block).raw);
}

/** A v3 certificate for the KMS public key, signed by the KMS key itself. */
async function selfSignedCertificate(spki: Buffer, subjectName: string, sign: (data: Buffer) => Promise<Buffer>): Promise<Buffer> {
  const name = new Name([
    rdn(oid.organizationName, 'Sigill seal'),
    rdn(oid.commonName, subjectName),
  ]);
  const notBefore = new Date(Date.now() - 3_600_000);
  const notAfter = new Date(notBefore);
  notAfter.setUTCFullYear(notAfter.getUTCFullYear() + certificateValidityYears);
  const serial = randomBytes(16);
  serial[0] = (serial[0]! & 0x7f) | 0x40;
  const algorithm = new AlgorithmIdentifier({ algorithm: oid.sha256WithRsaEncryption, parameters: null });
  const keyUsage = new KeyUsage(KeyUsageFlags.digitalSignature | KeyUsageFlags.nonRepudiation);
  const subjectKeyIdentifier = new SubjectKeyIdentifier(createHash('sha1').update(spki).digest());

  const tbsCertificate = new TBSCertificate({
    version: Version.v3,
    serialNumber: arrayBuffer(serial),
    signature: algorithm,
    issuer: name,
    subject: name,
    validity: new Validity({ notBefore, notAfter }),
    subjectPublicKeyInfo: AsnConvert.parse(spki, SubjectPublicKeyInfo),
    extensions: new Extensions([
      new Extension({ extnID: id_ce_keyUsage, critical: true, extnValue: new OctetString(AsnConvert.serialize(keyUsage)) }),
      new Extension({ extnID: id_ce_subjectKeyIdentifier, critical: false, extnValue: new OctetString(AsnConvert.serialize(subjectKeyIdentifier)) }),
    ]),
  });
  const signatureValue = await sign(Buffer.from(AsnConvert.serialize(tbsCertificate)));
  const certificate = new Certificate({ tbsCertificate, signatureAlgorithm: algorithm, signatureValue: arrayBuffer(signatureValue) });
  return Buffer.from(AsnConvert.serialize(certificate));
}

function rdn(type: string, value: string): RelativeDistinguishedName {
  return new RelativeDistinguishedName([new AttributeTypeAndValue({ type, value: new AttributeValue({ utf8String: value }) })]);
}

/** A copy as a standalone ArrayBuffer (what the ASN.1 schema classes take for raw bytes). */
function arrayBuffer(bytes: Buffer): ArrayBuffer {
  return new Uint8Array(bytes).buffer;
}
