// @peculiar/x509 (imported below for reading certificates) needs the polyfill before it loads.
import 'reflect-metadata';
import { X509Certificate, constants, verify } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import * as x509 from '@peculiar/x509';
import { inspectPdf } from '../../../src/documents/inspect-pdf';
import { sealDocument } from '../../../src/documents/seal-document';
import { loadOrCreateLocalSealKey, loadP12SealKey, type SealKey } from '../../../src/documents/seal-key';
import { createTestPdf, sealInputFor, temporaryDirectory } from '../../support/pdf-factories';
import { pdfsig, pyhankoValidate, runTool } from '../../support/pdf-validators';

const workspace = temporaryDirectory('seal-key');
afterAll(() => workspace.remove());

let dirCounter = 0;
function freshDir(): string {
  return path.join(workspace.dir, `case-${++dirCounter}`, 'keys');
}

function signatureVerifies(key: SealKey, data: Buffer, signature: Buffer): boolean {
  const publicKey = new X509Certificate(key.certificateChain[0]!).publicKey;
  return verify('sha256', data, { key: publicKey, padding: constants.RSA_PKCS1_PADDING }, signature);
}

describe('the local seal key', () => {
  test('is created once: an RSA-3072 self-signed certificate for signatures, files private', async () => {
    const dir = freshDir();
    const key = await loadOrCreateLocalSealKey(dir, 'Sigill seal — Acme, Oy');

    expect(fs.statSync(dir).mode & 0o777).toBe(0o700);
    expect(fs.statSync(path.join(dir, 'seal-key.pem')).mode & 0o777).toBe(0o600);
    expect(fs.readdirSync(dir).sort()).toEqual(['seal-cert.pem', 'seal-key.pem']);

    expect(key.certificateChain).toHaveLength(1);
    const certificate = new x509.X509Certificate(key.certificateChain[0]!);
    expect(certificate.subjectName.getField('CN')).toEqual(['Sigill seal — Acme, Oy']);
    expect(certificate.subjectName.getField('O')).toEqual(['Sigill seal']);
    expect(certificate.subject).toBe(certificate.issuer);
    expect(new X509Certificate(key.certificateChain[0]!).publicKey.asymmetricKeyDetails?.modulusLength).toBe(3072);
    const usage = certificate.getExtension(x509.KeyUsagesExtension)!;
    expect(usage.critical).toBe(true);
    expect(usage.usages).toBe(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.nonRepudiation);
    const years = (certificate.notAfter.getTime() - certificate.notBefore.getTime()) / (365.25 * 86_400_000);
    expect(Math.round(years)).toBe(10);

    const data = Buffer.from('signed attributes');
    expect(signatureVerifies(key, data, await key.sign(data))).toBe(true);
  });

  test('is loaded, not replaced, on later calls', async () => {
    const dir = freshDir();
    const first = await loadOrCreateLocalSealKey(dir, 'Acme');
    const second = await loadOrCreateLocalSealKey(dir, 'Acme');
    expect(second.certificateChain[0]!.equals(first.certificateChain[0]!)).toBe(true);
    const data = Buffer.from('x');
    expect(signatureVerifies(first, data, await second.sign(data))).toBe(true);
  });

  test('calls racing on the first start agree on one certificate', async () => {
    const dir = freshDir();
    const keys = await Promise.all([1, 2, 3].map(() => loadOrCreateLocalSealKey(dir, 'Acme')));
    for (const key of keys) expect(key.certificateChain[0]!.equals(keys[0]!.certificateChain[0]!)).toBe(true);
    expect(fs.readdirSync(dir).sort()).toEqual(['seal-cert.pem', 'seal-key.pem']);
  });

  test('a key left without its certificate (a crash between the two writes) gets one', async () => {
    const dir = freshDir();
    const original = await loadOrCreateLocalSealKey(dir, 'Acme');
    fs.rmSync(path.join(dir, 'seal-cert.pem'));
    const healed = await loadOrCreateLocalSealKey(dir, 'Acme');
    const data = Buffer.from('x');
    expect(signatureVerifies(healed, data, await original.sign(data))).toBe(true);
  });

  test('a certificate that belongs to another key is refused', async () => {
    const dir = freshDir();
    const other = freshDir();
    await loadOrCreateLocalSealKey(dir, 'Acme');
    await loadOrCreateLocalSealKey(other, 'Other');
    fs.copyFileSync(path.join(other, 'seal-cert.pem'), path.join(dir, 'seal-cert.pem'));
    await expect(loadOrCreateLocalSealKey(dir, 'Acme')).rejects.toThrow('does not belong');
  });
});

describe('a PKCS#12 seal key', () => {
  const pki = path.join(workspace.dir, 'pki');
  const file = (name: string) => path.join(pki, name);
  const openssl = (...args: string[]) => {
    const run = runTool('openssl', args);
    if (run.status !== 0) throw new Error(`openssl ${args[0]} failed: ${run.output}`);
  };

  beforeAll(() => {
    // A small CA and a seal certificate issued by it, as a certificate authority would deliver them.
    fs.mkdirSync(pki, { recursive: true });
    openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', file('ca.key'), '-out', file('ca.pem'),
      '-subj', '/O=Test Trust Services/CN=Test Seal CA', '-days', '3');
    openssl('req', '-newkey', 'rsa:3072', '-nodes', '-keyout', file('seal.key'), '-out', file('seal.csr'),
      '-subj', '/O=Acme Oy/CN=Acme Oy seal');
    fs.writeFileSync(file('seal.ext'), 'keyUsage = critical, digitalSignature, nonRepudiation\n');
    openssl('x509', '-req', '-in', file('seal.csr'), '-CA', file('ca.pem'), '-CAkey', file('ca.key'),
      '-set_serial', '4242', '-days', '2', '-extfile', file('seal.ext'), '-out', file('seal.pem'));
  });

  function exportP12(name: string, ...options: string[]): Buffer {
    openssl('pkcs12', '-export', '-inkey', file('seal.key'), '-in', file('seal.pem'), '-certfile', file('ca.pem'),
      '-passout', 'pass:correct horse', '-out', file(name), ...options);
    return fs.readFileSync(file(name));
  }

  test('from OpenSSL 3 defaults (PBES2/AES-256, SHA-256 MAC) seals documents that validate up to its CA', async () => {
    const key = await loadP12SealKey(exportP12('modern.p12'), 'correct horse');

    expect(key.certificateChain.map((der) => new X509Certificate(der).subject)).toEqual([
      'O=Acme Oy\nCN=Acme Oy seal',
      'O=Test Trust Services\nCN=Test Seal CA',
    ]);
    const original = await createTestPdf([{}]);
    const { pdf: sealed } = await sealDocument(sealInputFor(original, key, (await inspectPdf(original)).sha256));
    const sealedFile = file('sealed-with-p12.pdf');
    fs.writeFileSync(sealedFile, sealed);

    expect(pdfsig(sealedFile).output).toContain('Signature Validation: Signature is Valid.');
    const pyhanko = pyhankoValidate(sealedFile, file('ca.pem'));
    expect(pyhanko.output).toContain("The signer's certificate is trusted.");
    expect(pyhanko.output).toContain('The signature is judged VALID.');
  });

  test('with the older triple-DES encryption and a SHA-1 MAC still loads', async () => {
    const p12 = exportP12('triple-des.p12', '-certpbe', 'PBE-SHA1-3DES', '-keypbe', 'PBE-SHA1-3DES', '-macalg', 'sha1');
    const key = await loadP12SealKey(p12, 'correct horse');
    expect(key.certificateChain).toHaveLength(2);
    const data = Buffer.from('x');
    expect(signatureVerifies(key, data, await key.sign(data))).toBe(true);
  });

  test('is refused with the wrong password', async () => {
    await expect(loadP12SealKey(exportP12('wrong.p12'), 'battery staple')).rejects.toThrow('password is wrong');
  });

  test('is refused when the file is not PKCS#12', async () => {
    await expect(loadP12SealKey(fs.readFileSync(file('seal.pem')), 'x')).rejects.toThrow('not a PKCS#12 file');
  });
});
