/**
 * The seal key in AWS KMS (moto's real KMS endpoint): the private key never leaves KMS, every seal is a
 * KMS Sign call, and the certificate is either self-signed through KMS once and shared through the
 * database, or issued by a CA for the KMS key. Loaded through config → signing context, as the worker does.
 */
import { createPublicKey, X509Certificate } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { GetPublicKeyCommand } from '@aws-sdk/client-kms';
import type { DataSource } from 'typeorm';
import { sealDocument } from '../../src/documents/seal-document';
import { harness, openTestDataSource, testConfig, testSigningContext } from '../support/harness';
import { createMotoSigningKey, motoAwsEnv, motoKmsClient, motoUrl, useMotoCredentials } from '../support/moto';
import { createTestPdf } from '../support/pdf-factories';
import { pdfsig, pyhankoValidate, runTool } from '../support/pdf-validators';

useMotoCredentials();

let dataSource: DataSource;
beforeAll(async () => {
  dataSource = await openTestDataSource();
});
afterAll(() => dataSource?.destroy());

const kmsSealEnv = (keyId: string, extra: Record<string, string> = {}) => ({
  SEAL_KMS_KEY_ID: keyId,
  KMS_ENDPOINT: motoUrl(),
  ...motoAwsEnv,
  ...extra,
});

async function sealWith(env: Record<string, string>): Promise<string> {
  const signing = await testSigningContext(dataSource, testConfig(env));
  const { pdf: sealed } = await sealDocument({
    pdf: await createTestPdf([{}]),
    documentCode: 'SGL-7K3M-Q9XD-2PLA',
    title: 'KMS sealed',
    originalSha256: '0'.repeat(64),
    signers: [{ name: 'Aino Virtanen', email: 'aino@example.test', channel: 'email link + PIN from sender', signedAt: '2026-11-22T10:00:00.000Z' }],
    sealedAt: new Date('2026-11-22T10:05:00Z'),
    key: await signing.sealKey(),
    signerName: 'Sigill seal - Acme Oy',
  });
  const file = path.join(harness.tempDir('kms-sealed'), 'sealed.pdf');
  fs.writeFileSync(file, sealed);
  return file;
}

function openssl(...args: string[]): void {
  const run = runTool('openssl', args);
  if (run.status !== 0) throw new Error(`openssl ${args[0]} failed: ${run.output}`);
}

test('without a configured certificate, one self-signed certificate is made through KMS and shared by every worker', async () => {
  const keyId = await createMotoSigningKey();
  // Several workers loading at once agree on one certificate (first writer wins in the database).
  const keys = await Promise.all([1, 2, 3].map(async () => (await testSigningContext(dataSource, testConfig(kmsSealEnv(keyId)))).sealKey()));
  const certificates = new Set(keys.map((key) => key.certificateChain[0]!.toString('base64')));
  expect(certificates.size).toBe(1);

  const certificate = new X509Certificate(keys[0]!.certificateChain[0]!);
  const kms = motoKmsClient();
  const publicKey = await kms.send(new GetPublicKeyCommand({ KeyId: keyId }));
  kms.destroy();
  expect(certificate.publicKey.equals(createPublicKey({ key: Buffer.from(publicKey.PublicKey!), format: 'der', type: 'spki' }))).toBe(true);
  expect(certificate.verify(certificate.publicKey)).toBe(true); // self-signed by the KMS key itself

  const file = await sealWith(kmsSealEnv(keyId));
  expect(pdfsig(file).output).toContain('Signature Validation: Signature is Valid.');
  const trusted = path.join(harness.tempDir('kms-cert'), 'seal.pem');
  fs.writeFileSync(trusted, certificate.toString());
  expect(pyhankoValidate(file, trusted).output).toContain('The signature is judged VALID.');
});

test('a certificate a CA issued for the KMS key is used, and pyHanko trusts the seal through the CA alone', async () => {
  const keyId = await createMotoSigningKey();
  const kms = motoKmsClient();
  const publicKey = await kms.send(new GetPublicKeyCommand({ KeyId: keyId }));
  kms.destroy();
  const dir = harness.tempDir('kms-ca');
  const at = (name: string) => path.join(dir, name);
  fs.writeFileSync(at('kms.pub'), createPublicKey({ key: Buffer.from(publicKey.PublicKey!), format: 'der', type: 'spki' }).export({ type: 'spki', format: 'pem' }));
  fs.writeFileSync(at('leaf.ext'), 'keyUsage = critical, digitalSignature, nonRepudiation\n');
  openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', at('ca.key'), '-out', at('ca.pem'), '-subj', '/CN=Test Seal CA', '-days', '2');
  // The CSR's own key is throwaway: -force_pubkey puts the KMS public key into the issued certificate.
  openssl('req', '-new', '-newkey', 'rsa:2048', '-nodes', '-keyout', at('throwaway.key'), '-out', at('leaf.csr'), '-subj', '/O=Acme Oy/CN=Sigill seal');
  openssl('x509', '-req', '-in', at('leaf.csr'), '-force_pubkey', at('kms.pub'), '-CA', at('ca.pem'), '-CAkey', at('ca.key'), '-set_serial', '9',
    '-days', '2', '-extfile', at('leaf.ext'), '-out', at('leaf.pem'));
  fs.writeFileSync(at('chain.pem'), fs.readFileSync(at('leaf.pem'), 'utf8') + fs.readFileSync(at('ca.pem'), 'utf8'));

  const file = await sealWith(kmsSealEnv(keyId, { SEAL_CERTIFICATE_PATH: at('chain.pem') }));
  const validation = pyhankoValidate(file, at('ca.pem'));
  expect(validation.output).toContain("The signer's certificate is trusted.");
  expect(validation.output).toContain('The signature is judged VALID.');
  expect(pdfsig(file).output).toContain('Signer Certificate Common Name: Sigill seal');

  // The same certificate does not fit another KMS key: refused at load, not discovered by a validator later.
  const otherKey = await createMotoSigningKey();
  const other = await testSigningContext(dataSource, testConfig(kmsSealEnv(otherKey, { SEAL_CERTIFICATE_PATH: at('chain.pem') })));
  await expect(other.sealKey()).rejects.toThrow('the configured seal certificate was not issued for the KMS key');
});

test('a KMS key that cannot make an RSA seal is refused with a message naming what it is', async () => {
  const eccKey = await createMotoSigningKey('ECC_NIST_P256');
  const signing = await testSigningContext(dataSource, testConfig(kmsSealEnv(eccKey)));
  await expect(signing.sealKey()).rejects.toThrow(/must be an RSA signing key .* it is ECC_NIST_P256\/SIGN_VERIFY/);
});
