/**
 * The organisation's sealing key: what the CAdES signer needs (a certificate chain and a way to sign), and
 * nothing that ties it to where the private key lives. A local PEM pair (created on first use, for
 * development and single-machine installs) and a PKCS#12 file are here; an AWS KMS asymmetric key fits the
 * same interface later (KMS `Sign` with RSASSA_PKCS1_V1_5_SHA_256 over the raw message).
 */
// @peculiar/x509 resolves its services through tsyringe, which throws at load time without this polyfill.
import 'reflect-metadata';
import {
  constants,
  createHash,
  createDecipheriv,
  createHmac,
  createPrivateKey,
  createPublicKey,
  generateKeyPair,
  pbkdf2Sync,
  randomBytes,
  sign,
  timingSafeEqual,
  webcrypto,
  X509Certificate,
  type KeyObject,
} from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { ContentInfo, EncryptedContentInfo } from '@peculiar/asn1-cms';
import {
  AuthenticatedSafe,
  CertBag,
  PFX,
  SafeContents,
  id_certBag,
  id_keyBag,
  id_pkcs8ShroudedKeyBag,
} from '@peculiar/asn1-pfx';
import { AsnConvert, AsnProp, AsnPropTypes, OctetString } from '@peculiar/asn1-schema';
import { AlgorithmIdentifier } from '@peculiar/asn1-x509';
import * as x509 from '@peculiar/x509';

export interface SealKey {
  /** DER of the signing certificate, then any intermediates. */
  certificateChain: Buffer[];
  /** Signs with RSASSA-PKCS1-v1_5 / SHA-256 over `data` (the DER of the CMS signed attributes). */
  sign(data: Buffer): Promise<Buffer>;
}

/** A private key held in this process, with the chain that certifies it. */
class InProcessSealKey implements SealKey {
  constructor(
    readonly certificateChain: Buffer[],
    private readonly privateKey: KeyObject,
  ) {
    // The CMS names sha256WithRSAEncryption as its signature algorithm, so only an RSA key can honour it.
    if (privateKey.asymmetricKeyType !== 'rsa') {
      throw new Error(`the seal key must be an RSA key, not ${privateKey.asymmetricKeyType ?? 'unknown'}`);
    }
    if (!new X509Certificate(certificateChain[0]!).checkPrivateKey(privateKey)) {
      throw new Error('the seal certificate does not belong to the seal private key');
    }
  }

  async sign(data: Buffer): Promise<Buffer> {
    return sign('sha256', data, { key: this.privateKey, padding: constants.RSA_PKCS1_PADDING });
  }
}

// ---------------------------------------------------------------------------------------------------------
// Local key: seal-key.pem + seal-cert.pem, created on first use
// ---------------------------------------------------------------------------------------------------------

const rsaModulusBits = 3072;
const generateRsaKeyPair = promisify(generateKeyPair);
const certificateValidityYears = 10;
const signatureAlgorithm = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' } as const;

export async function loadOrCreateLocalSealKey(dir: string, subjectName: string): Promise<SealKey> {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const keyFile = path.join(dir, 'seal-key.pem');
  const certificateFile = path.join(dir, 'seal-cert.pem');

  const keyPem = readIfExists(keyFile) ?? publishOnce(keyFile, await generateRsaPrivateKeyPem(), 0o600);
  const privateKey = createPrivateKey(keyPem);
  // Created from the key file rather than together with it, so a crash between the two writes heals on the
  // next start instead of leaving a key without a certificate.
  const certificatePem =
    readIfExists(certificateFile) ??
    publishOnce(certificateFile, await createSelfSignedCertificate(privateKey, subjectName), 0o644);
  return new InProcessSealKey([new X509Certificate(certificatePem).raw], privateKey);
}

/** Off the event loop: an RSA-3072 key takes about a second, which would stall a worker's other tasks. */
async function generateRsaPrivateKeyPem(): Promise<string> {
  const { privateKey } = await generateRsaKeyPair('rsa', { modulusLength: rsaModulusBits });
  return privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
}

function readIfExists(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/**
 * Creates `file` with `contents` unless another process got there first, and returns what the file holds.
 * The contents go to a private temporary file ('wx': never reuse one) that is then hard-linked into place:
 * the link either appears complete or fails with EEXIST, so two processes starting together agree on one
 * key and neither can read a half-written file.
 */
function publishOnce(file: string, contents: string, mode: number): string {
  const temporary = `${file}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  fs.writeFileSync(temporary, contents, { flag: 'wx', mode });
  try {
    fs.linkSync(temporary, file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  } finally {
    fs.rmSync(temporary, { force: true });
  }
  return fs.readFileSync(file, 'utf8');
}

/** Node's webcrypto, typed as the DOM `Crypto` that @peculiar/x509 expects (this project has no DOM lib). */
const x509Crypto = webcrypto as unknown as Parameters<typeof x509.X509CertificateGenerator.createSelfSigned>[1];

async function createSelfSignedCertificate(privateKey: KeyObject, subjectName: string): Promise<string> {
  const keys = {
    privateKey: await webcrypto.subtle.importKey(
      'pkcs8',
      privateKey.export({ type: 'pkcs8', format: 'der' }),
      signatureAlgorithm,
      false,
      ['sign'],
    ),
    publicKey: await webcrypto.subtle.importKey(
      'spki',
      createPublicKey(privateKey).export({ type: 'spki', format: 'der' }),
      signatureAlgorithm,
      true,
      ['verify'],
    ),
  };
  // Back-dated an hour so a verifier whose clock runs a little behind does not see a not-yet-valid seal.
  const notBefore = new Date(Date.now() - 3_600_000);
  const notAfter = new Date(notBefore);
  notAfter.setUTCFullYear(notAfter.getUTCFullYear() + certificateValidityYears);
  const serial = randomBytes(16);
  // Positive and without a leading zero byte, so the DER INTEGER is exactly these 16 bytes.
  serial[0] = (serial[0]! & 0x7f) | 0x40;

  const certificate = await x509.X509CertificateGenerator.createSelfSigned(
    {
      serialNumber: serial.toString('hex'),
      // JSON form, not a string: an organisation name may hold commas or '=' that a DN string would split.
      name: [{ O: ['Sigill seal'] }, { CN: [subjectName] }],
      notBefore,
      notAfter,
      signingAlgorithm: signatureAlgorithm,
      keys,
      extensions: [
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.nonRepudiation, true),
        await x509.SubjectKeyIdentifierExtension.create(keys.publicKey, false, x509Crypto),
      ],
    },
    x509Crypto,
  );
  return certificate.toString('pem') + '\n';
}

// ---------------------------------------------------------------------------------------------------------
// PKCS#12 (.p12 / .pfx) from a certificate authority
// ---------------------------------------------------------------------------------------------------------

/**
 * Reads the first private key of a PKCS#12 file and the certificates that chain from it. Supports what
 * OpenSSL 3 writes by default (PBES2: PBKDF2 + AES-CBC, SHA-256 MAC) and the older
 * pbeWithSHAAnd3-KeyTripleDES-CBC; RC2-encrypted files (`openssl pkcs12 -legacy`, old Windows exports) are
 * refused because OpenSSL 3 no longer ships RC2 by default.
 */
export async function loadP12SealKey(p12: Buffer, password: string): Promise<SealKey> {
  let pfx: PFX;
  try {
    pfx = AsnConvert.parse(p12, PFX);
  } catch {
    throw new Error('the seal key file is not a PKCS#12 file');
  }
  if (pfx.authSafe.contentType !== oid.data) {
    throw new Error('PKCS#12 files protected with a public key (not a password) are not supported');
  }
  const authenticatedSafeDer = Buffer.from(AsnConvert.parse(pfx.authSafe.content, OctetString).buffer);
  verifyPkcs12Mac(pfx, authenticatedSafeDer, password);

  const certificates: X509Certificate[] = [];
  const privateKeys: KeyObject[] = [];
  for (const contentInfo of AsnConvert.parse(authenticatedSafeDer, AuthenticatedSafe)) {
    for (const bag of AsnConvert.parse(safeContentsDer(contentInfo, password), SafeContents)) {
      if (bag.bagId === id_certBag) {
        const certBag = AsnConvert.parse(bag.bagValue, CertBag);
        if (certBag.certId !== oid.x509CertificateBagType) continue;
        certificates.push(new X509Certificate(Buffer.from(AsnConvert.parse(certBag.certValue, OctetString).buffer)));
      } else if (bag.bagId === id_pkcs8ShroudedKeyBag) {
        privateKeys.push(
          createPrivateKey({ key: Buffer.from(bag.bagValue), format: 'der', type: 'pkcs8', passphrase: password }),
        );
      } else if (bag.bagId === id_keyBag) {
        privateKeys.push(createPrivateKey({ key: Buffer.from(bag.bagValue), format: 'der', type: 'pkcs8' }));
      }
    }
  }

  for (const privateKey of privateKeys) {
    const signing = certificates.find((certificate) => certificate.checkPrivateKey(privateKey));
    if (signing) return new InProcessSealKey(chainFrom(signing, certificates).map((c) => c.raw), privateKey);
  }
  throw new Error('the PKCS#12 file holds no private key together with its certificate');
}

/** The signing certificate, then each issuer found among `pool`, up to a self-signed one or a gap. */
function chainFrom(signing: X509Certificate, pool: X509Certificate[]): X509Certificate[] {
  const chain = [signing];
  for (;;) {
    const last = chain[chain.length - 1]!;
    if (last.checkIssued(last)) return chain;
    const issuer = pool.find((candidate) => !chain.includes(candidate) && last.checkIssued(candidate));
    if (!issuer) return chain;
    chain.push(issuer);
  }
}

const oid = {
  data: '1.2.840.113549.1.7.1',
  encryptedData: '1.2.840.113549.1.7.6',
  x509CertificateBagType: '1.2.840.113549.1.9.22.1',
  pbes2: '1.2.840.113549.1.5.13',
  pbkdf2: '1.2.840.113549.1.5.12',
  pbeWithSha1And3KeyTripleDesCbc: '1.2.840.113549.1.12.1.3',
  pbeWithSha1And2KeyTripleDesCbc: '1.2.840.113549.1.12.1.4',
} as const;

/** Hash algorithms PKCS#12 MACs and PBKDF2 PRFs use: node name, and the block size the PKCS#12 KDF needs. */
const digests: Record<string, { name: string; blockBytes: number }> = {
  '1.3.14.3.2.26': { name: 'sha1', blockBytes: 64 },
  '2.16.840.1.101.3.4.2.1': { name: 'sha256', blockBytes: 64 },
  '2.16.840.1.101.3.4.2.2': { name: 'sha384', blockBytes: 128 },
  '2.16.840.1.101.3.4.2.3': { name: 'sha512', blockBytes: 128 },
};
const hmacPrfs: Record<string, string> = {
  '1.2.840.113549.2.7': 'sha1',
  '1.2.840.113549.2.9': 'sha256',
  '1.2.840.113549.2.10': 'sha384',
  '1.2.840.113549.2.11': 'sha512',
};
const pbes2Ciphers: Record<string, { name: string; keyBytes: number }> = {
  '2.16.840.1.101.3.4.1.2': { name: 'aes-128-cbc', keyBytes: 16 },
  '2.16.840.1.101.3.4.1.22': { name: 'aes-192-cbc', keyBytes: 24 },
  '2.16.840.1.101.3.4.1.42': { name: 'aes-256-cbc', keyBytes: 32 },
  '1.2.840.113549.3.7': { name: 'des-ede3-cbc', keyBytes: 24 },
};

function verifyPkcs12Mac(pfx: PFX, authenticatedSafeDer: Buffer, password: string): void {
  // Without a MAC a wrong password shows up later as a padding error, or worse as garbage that parses.
  if (!pfx.macData) throw new Error('PKCS#12 files without an integrity MAC are not supported');
  const digest = digests[pfx.macData.mac.digestAlgorithm.algorithm];
  if (!digest) throw new Error(`unsupported PKCS#12 MAC algorithm ${pfx.macData.mac.digestAlgorithm.algorithm}`);
  const macKeyBytes = createHash(digest.name).digest().length;
  const salt = Buffer.from(pfx.macData.macSalt.buffer);
  const key = pkcs12Kdf(digest, bmpPassword(password), salt, 3, pfx.macData.iterations, macKeyBytes);
  const expected = Buffer.from(pfx.macData.mac.digest.buffer);
  const actual = createHmac(digest.name, key).update(authenticatedSafeDer).digest();
  if (expected.length !== actual.length || !timingSafeEqual(expected, actual)) {
    throw new Error('the PKCS#12 password is wrong or the file is damaged');
  }
}

/** CMS EncryptedData (RFC 5652 §8); the pieces inside come from @peculiar/asn1-cms. */
class CmsEncryptedData {
  @AsnProp({ type: AsnPropTypes.Integer })
  version = 0;
  @AsnProp({ type: EncryptedContentInfo })
  encryptedContentInfo = new EncryptedContentInfo();
}

/** PBES2-params (RFC 8018 A.4). */
class Pbes2Parameters {
  @AsnProp({ type: AlgorithmIdentifier })
  keyDerivationFunc = new AlgorithmIdentifier();
  @AsnProp({ type: AlgorithmIdentifier })
  encryptionScheme = new AlgorithmIdentifier();
}

/** PBKDF2-params (RFC 8018 A.2), with the salt given directly (the only form in use). */
class Pbkdf2Parameters {
  @AsnProp({ type: OctetString })
  salt = new OctetString();
  @AsnProp({ type: AsnPropTypes.Integer })
  iterationCount = 0;
  @AsnProp({ type: AsnPropTypes.Integer, optional: true })
  keyLength?: number;
  @AsnProp({ type: AlgorithmIdentifier, optional: true })
  prf?: AlgorithmIdentifier;
}

/** pkcs-12PbeParams (RFC 7292 C). */
class Pkcs12PbeParameters {
  @AsnProp({ type: OctetString })
  salt = new OctetString();
  @AsnProp({ type: AsnPropTypes.Integer })
  iterations = 0;
}

function safeContentsDer(contentInfo: ContentInfo, password: string): Buffer {
  if (contentInfo.contentType === oid.data) {
    return Buffer.from(AsnConvert.parse(contentInfo.content, OctetString).buffer);
  }
  if (contentInfo.contentType !== oid.encryptedData) {
    throw new Error(`unsupported PKCS#12 content type ${contentInfo.contentType}`);
  }
  const { encryptedContentInfo } = AsnConvert.parse(contentInfo.content, CmsEncryptedData);
  const content = encryptedContentInfo.encryptedContent;
  const ciphertext = content?.value
    ? Buffer.from(content.value.buffer)
    : Buffer.concat((content?.constructedValue ?? []).map((part) => Buffer.from(part.buffer)));
  return decryptWithPassword(encryptedContentInfo.contentEncryptionAlgorithm, ciphertext, password);
}

const noParameters = new ArrayBuffer(0);

function decryptWithPassword(algorithm: AlgorithmIdentifier, ciphertext: Buffer, password: string): Buffer {
  const parameters = algorithm.parameters ?? noParameters;
  if (algorithm.algorithm === oid.pbes2) {
    const pbes2 = AsnConvert.parse(parameters, Pbes2Parameters);
    if (pbes2.keyDerivationFunc.algorithm !== oid.pbkdf2) {
      throw new Error(`unsupported PKCS#12 key derivation ${pbes2.keyDerivationFunc.algorithm}`);
    }
    const kdf = AsnConvert.parse(pbes2.keyDerivationFunc.parameters ?? noParameters, Pbkdf2Parameters);
    const cipher = pbes2Ciphers[pbes2.encryptionScheme.algorithm];
    const prf = hmacPrfs[kdf.prf?.algorithm ?? '1.2.840.113549.2.7'];
    if (!cipher || !prf) throw new Error('unsupported PKCS#12 encryption (PBES2 with an unknown cipher or PRF)');
    const iv = Buffer.from(AsnConvert.parse(pbes2.encryptionScheme.parameters ?? noParameters, OctetString).buffer);
    // OpenSSL feeds PBES2 the password as UTF-8 bytes (the PKCS#12 PBEs use BMPString instead).
    const key = pbkdf2Sync(
      Buffer.from(password, 'utf8'),
      Buffer.from(kdf.salt.buffer),
      kdf.iterationCount,
      kdf.keyLength ?? cipher.keyBytes,
      prf,
    );
    return decipher(cipher.name, key, iv, ciphertext);
  }
  const threeKey = algorithm.algorithm === oid.pbeWithSha1And3KeyTripleDesCbc;
  if (threeKey || algorithm.algorithm === oid.pbeWithSha1And2KeyTripleDesCbc) {
    const { salt, iterations } = AsnConvert.parse(parameters, Pkcs12PbeParameters);
    const sha1 = digests['1.3.14.3.2.26']!;
    const saltBytes = Buffer.from(salt.buffer);
    const key = pkcs12Kdf(sha1, bmpPassword(password), saltBytes, 1, iterations, threeKey ? 24 : 16);
    const iv = pkcs12Kdf(sha1, bmpPassword(password), saltBytes, 2, iterations, 8);
    return decipher(threeKey ? 'des-ede3-cbc' : 'des-ede-cbc', key, iv, ciphertext);
  }
  throw new Error(
    `unsupported PKCS#12 encryption ${algorithm.algorithm} (RC2/RC4?); re-export the file with OpenSSL 3 defaults`,
  );
}

function decipher(cipher: string, key: Buffer, iv: Buffer, ciphertext: Buffer): Buffer {
  const decipherer = createDecipheriv(cipher, key, iv);
  return Buffer.concat([decipherer.update(ciphertext), decipherer.final()]);
}

/** PKCS#12 passwords are BMPStrings: UTF-16 big-endian with a two-byte terminator. */
function bmpPassword(password: string): Buffer {
  const bytes = Buffer.alloc((password.length + 1) * 2);
  for (let i = 0; i < password.length; i++) bytes.writeUInt16BE(password.charCodeAt(i), i * 2);
  return bytes;
}

/** The PKCS#12 key derivation (RFC 7292 B.2); id 1 = key, 2 = IV, 3 = MAC key. */
function pkcs12Kdf(
  digest: { name: string; blockBytes: number },
  password: Buffer,
  salt: Buffer,
  id: 1 | 2 | 3,
  iterations: number,
  size: number,
): Buffer {
  const v = digest.blockBytes;
  const repeatToBlocks = (data: Buffer): Buffer => {
    const length = v * Math.ceil(data.length / v);
    const out = Buffer.alloc(length);
    for (let i = 0; i < length; i++) out[i] = data[i % data.length]!;
    return out;
  };
  const diversifier = Buffer.alloc(v, id);
  const input = Buffer.concat([repeatToBlocks(salt), repeatToBlocks(password)]);
  const output: Buffer[] = [];
  let produced = 0;
  while (produced < size) {
    let a = createHash(digest.name).update(diversifier).update(input).digest();
    for (let round = 1; round < iterations; round++) a = createHash(digest.name).update(a).digest();
    output.push(a);
    produced += a.length;
    if (produced >= size) break;
    const b = repeatToBlocks(a).subarray(0, v);
    // Each v-byte block of the input becomes (block + b + 1) mod 2^(8v).
    for (let offset = 0; offset < input.length; offset += v) {
      let carry = 1;
      for (let i = v - 1; i >= 0; i--) {
        const sum = input[offset + i]! + b[i]! + carry;
        input[offset + i] = sum & 0xff;
        carry = sum >> 8;
      }
    }
  }
  return Buffer.concat(output).subarray(0, size);
}
