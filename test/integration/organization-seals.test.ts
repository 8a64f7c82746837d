/**
 * Per-organisation seals (issue 11, part 3), through the API against the real parts: an owner uploads a
 * PKCS#12 made here with openssl, a round completes in that organisation and in one on the deployment
 * seal, and the two sealed PDFs carry different certificates, each validated by pyHanko against its own
 * certificate as the only trust root (and not against the other's). Owners only, audited, no key material
 * in any answer or in the clear in the database; a change reaches another process's next seal.
 *
 * A seal is one organisation's alone: a KMS key must carry the tag sigill:organization=<its id>, the
 * deployment's own keys and seal are refused, no key or certificate is two organisations' seal, and what
 * AWS says about a refused key (its account id, ARNs) reaches the server log, never the answer.
 */
import 'reflect-metadata';
import { randomUUID, webcrypto, X509Certificate } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Writable } from 'node:stream';
import { CreateKeyCommand, TagResourceCommand } from '@aws-sdk/client-kms';
import * as x509 from '@peculiar/x509';
import type { DataSource } from 'typeorm';
import { workflowIdForRequest } from '../../src/signing/create-signing-request';
import { apiClient, type Json } from '../support/api-client';
import { TestBrowser } from '../support/browser';
import { createTestOrganization } from '../support/factories';
import { harness, openTestDataSource, startTestApi, testConfig, testSigningContext, type TestApi } from '../support/harness';
import { deviceCodeIn, goodPassword, passwordLinkIn, tokenOf } from '../support/members';
import { createLogger } from '../../src/logger';
import { setOrganizationSeal } from '../../src/signing/organization-seals';
import { createMotoKmsKey, createMotoSigningKey, motoAwsEnv, motoKmsClient, motoUrl, useMotoCredentials } from '../support/moto';
import { createTestPdf } from '../support/pdf-factories';
import { pdfsig, pyhankoValidate, runTool } from '../support/pdf-validators';
import { reportDocumentDisplayed } from '../support/signer-reading';
import { signingTokenIn, startSmtpCatcher } from '../support/smtp-catcher';
import { sealDocument } from '../../src/documents/seal-document';

useMotoCredentials();

let dataSource: DataSource;
let smtp: Awaited<ReturnType<typeof startSmtpCatcher>>;
let api: TestApi;
let pdf: Buffer;

beforeAll(async () => {
  dataSource = await openTestDataSource();
  smtp = await startSmtpCatcher();
  api = await startTestApi(dataSource, { env: { SMTP_URL: smtp.url } });
  pdf = Buffer.from(await createTestPdf([{}]));
});

afterAll(async () => {
  await api?.close();
  await smtp?.close();
  await dataSource?.destroy();
});

const anonymous = apiClient(() => api.url, () => null);
const sealPassword = `p12-${randomUUID()}`;

function openssl(...args: string[]): void {
  const run = runTool('openssl', args);
  if (run.status !== 0) throw new Error(`openssl ${args[0]} failed: ${run.output}`);
}

interface MadeSeal {
  p12: Buffer;
  certificatePem: string;
  certificateFile: string;
}

/** A key and a self-signed certificate naming `subjectOrganization`, packed as a PKCS#12 by openssl. */
function makePkcs12(subjectOrganization: string, options: { password?: string; keyAlgorithm?: 'rsa' | 'ec' } = {}): MadeSeal {
  const dir = harness.tempDir('org-seal');
  const key = path.join(dir, 'key.pem');
  const certificate = path.join(dir, 'cert.pem');
  const p12 = path.join(dir, 'seal.p12');
  const newKey = options.keyAlgorithm === 'ec' ? ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'] : ['-newkey', 'rsa:2048'];
  openssl('req', '-x509', ...newKey, '-nodes', '-keyout', key, '-out', certificate, '-days', '30', '-subj', `/O=${subjectOrganization}/CN=${subjectOrganization} seal`);
  openssl('pkcs12', '-export', '-inkey', key, '-in', certificate, '-out', p12, '-passout', `pass:${options.password ?? sealPassword}`);
  return { p12: fs.readFileSync(p12), certificatePem: fs.readFileSync(certificate, 'utf8'), certificateFile: certificate };
}

/** An RSA certificate whose validity ended yesterday, packed with its key by openssl. */
async function makeExpiredPkcs12(): Promise<Buffer> {
  const algorithm = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256', publicExponent: new Uint8Array([1, 0, 1]), modulusLength: 2048 };
  const crypto = webcrypto as unknown as Parameters<typeof x509.X509CertificateGenerator.createSelfSigned>[1];
  const keys = (await webcrypto.subtle.generateKey(algorithm, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
  const certificate = await x509.X509CertificateGenerator.createSelfSigned(
    {
      serialNumber: '01',
      name: 'CN=Expired seal',
      notBefore: new Date(Date.now() - 10 * 86_400_000),
      notAfter: new Date(Date.now() - 86_400_000),
      signingAlgorithm: algorithm,
      keys: keys as unknown as Parameters<typeof x509.X509CertificateGenerator.createSelfSigned>[0]['keys'],
    },
    crypto,
  );
  const dir = harness.tempDir('org-seal-expired');
  const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey));
  fs.writeFileSync(path.join(dir, 'key.pem'), `-----BEGIN PRIVATE KEY-----\n${pkcs8.toString('base64').replace(/.{64}/g, '$&\n')}\n-----END PRIVATE KEY-----\n`);
  fs.writeFileSync(path.join(dir, 'cert.pem'), certificate.toString('pem'));
  openssl('pkcs12', '-export', '-inkey', path.join(dir, 'key.pem'), '-in', path.join(dir, 'cert.pem'), '-out', path.join(dir, 'seal.p12'), '-passout', `pass:${sealPassword}`);
  return fs.readFileSync(path.join(dir, 'seal.p12'));
}

type Caller = (pathname: string, init?: { method?: string; body?: unknown }) => Promise<{ status: number; body: Json; text?: string }>;

/** Sets a password from the link mailed to `email` (an invitation or a reset), then signs in with the mailed device code. */
async function signInByMail(email: string, linkSubject: string): Promise<Caller> {
  const [mail] = await smtp.waitForMail(email, linkSubject);
  const token = tokenOf(passwordLinkIn(mail!.text));
  expect((await anonymous('/v1/auth/password', { body: { token, password: goodPassword } })).status).toBe(200);
  const browser = new TestBrowser(api.url);
  let login = await browser.call('/v1/auth/login', { body: { email, password: goodPassword } });
  if (login.status === 202) {
    const [codeMail] = await smtp.waitForMail(email, 'sign-in code');
    login = await browser.call('/v1/auth/login/verify', { body: { challengeId: login.body.challengeId, code: deviceCodeIn(codeMail!.text) } });
  }
  expect(login.status).toBe(200);
  return (pathname, init = {}) => browser.call(pathname, init);
}

interface TestOrganization {
  id: string;
  name: string;
  apiKey: string;
  key: ReturnType<typeof apiClient>;
  owner: Caller;
}

async function organizationWithOwner(name: string): Promise<TestOrganization> {
  const ownerEmail = `owner-${randomUUID()}@example.test`;
  const created = await createTestOrganization(dataSource, { name, ownerEmail });
  const key = apiClient(() => api.url, () => created.apiKey);
  expect((await anonymous('/v1/auth/password-reset', { body: { email: ownerEmail } })).status).toBe(202);
  return { id: created.orgId, name, apiKey: created.apiKey, key, owner: await signInByMail(ownerEmail, 'Reset your Sigill password') };
}

/** One signer, PIN to the sender: create, open, read, sign; the sealed PDF written to a file. */
async function completeRoundIn(organization: TestOrganization): Promise<string> {
  const signerEmail = `signer-${randomUUID()}@example.test`;
  const created = await organization.key('/v1/signing-requests', {
    body: {
      title: 'Supply agreement',
      document: { filename: 'agreement.pdf', contentBase64: pdf.toString('base64') },
      signers: [{ name: 'Aino Virtanen', email: signerEmail, pinDelivery: 'sender' }],
    },
  });
  expect(created.status).toBe(201);
  const [invitation] = await smtp.waitForMail(signerEmail, 'Please sign');
  const session = await anonymous('/v1/signer/session', { body: { token: signingTokenIn(invitation!), pin: created.body.signers[0].pin } });
  expect(session.status).toBe(200);
  await reportDocumentDisplayed(anonymous, session.body.sessionToken);
  const signed = await anonymous('/v1/signer/sign', {
    headers: { authorization: `Bearer ${session.body.sessionToken}` },
    body: { typedName: 'Aino Virtanen', consent: true },
  });
  expect(signed.status).toBe(200);
  expect((await api.client.workflow.getHandle(workflowIdForRequest(created.body.id)).result()).status).toBe('completed');
  const sealed = await organization.key(`/v1/signing-requests/${created.body.id}/document`);
  expect(sealed.status).toBe(200);
  const file = path.join(harness.tempDir('org-sealed'), 'sealed.pdf');
  fs.writeFileSync(file, sealed.body);
  return file;
}

function signerDistinguishedName(file: string): string {
  const run = pdfsig(file);
  expect(run.stdout).toContain('Signature Validation: Signature is Valid.');
  const name = /Signer full Distinguished Name: (.*)/.exec(run.stdout)?.[1];
  if (!name) throw new Error(`pdfsig names no signer: ${run.output}`);
  return name.trim();
}

function writePem(certificate: Buffer | string, name: string): string {
  const file = path.join(harness.tempDir('trust'), name);
  fs.writeFileSync(file, typeof certificate === 'string' ? certificate : new X509Certificate(certificate).toString());
  return file;
}

const validVerdict = 'The signature is judged VALID.';

describe('an organisation with its own PKCS#12 seal and one on the deployment seal', () => {
  let own: TestOrganization;
  let plain: TestOrganization;
  let seal: MadeSeal;

  beforeAll(async () => {
    const unique = randomUUID().slice(0, 8);
    own = await organizationWithOwner(`Nordljus Oy ${unique}`);
    plain = await organizationWithOwner(`Plain Ab ${unique}`);
    seal = makePkcs12(own.name);
  });

  test('owners alone set it; a wrong password, an EC key, an expired certificate are 422 with their codes; the password is never echoed', async () => {
    // An administrator who is not an owner, and the organisation's admin API key: 403.
    const adminEmail = `admin-${randomUUID()}@example.test`;
    expect((await own.key('/v1/members', { body: { email: adminEmail, role: 'admin' } })).status).toBe(201);
    const admin = await signInByMail(adminEmail, 'You have been invited');
    const body = { pkcs12: seal.p12.toString('base64'), password: sealPassword };
    const byAdmin = await admin('/v1/organization/seal', { method: 'PUT', body });
    expect(byAdmin.status).toBe(403);
    expect(byAdmin.body.error.code).toBe('forbidden');
    expect((await own.key('/v1/organization/seal', { method: 'PUT', body })).status).toBe(403);
    expect((await admin('/v1/organization/seal', { method: 'DELETE' })).status).toBe(403);
    // Administrators may read which seal is in use.
    expect((await admin('/v1/organization/seal')).body).toMatchObject({ source: 'deployment' });

    const wrongPassword = `wrong-${randomUUID()}`;
    const refused = await own.owner('/v1/organization/seal', { method: 'PUT', body: { ...body, password: wrongPassword } });
    expect(refused.status).toBe(422);
    expect(refused.body.error.code).toBe('seal_password_wrong');
    expect(refused.text).not.toContain(wrongPassword);

    const ec = makePkcs12(own.name, { keyAlgorithm: 'ec' });
    const ecRefused = await own.owner('/v1/organization/seal', { method: 'PUT', body: { pkcs12: ec.p12.toString('base64'), password: sealPassword } });
    expect(ecRefused).toMatchObject({ status: 422, body: { error: { code: 'seal_key_unsupported' } } });

    const expired = await own.owner('/v1/organization/seal', { method: 'PUT', body: { pkcs12: (await makeExpiredPkcs12()).toString('base64'), password: sealPassword } });
    expect(expired).toMatchObject({ status: 422, body: { error: { code: 'seal_certificate_expired' } } });

    const notPkcs12 = await own.owner('/v1/organization/seal', { method: 'PUT', body: { pkcs12: pdf.toString('base64'), password: sealPassword } });
    expect(notPkcs12).toMatchObject({ status: 422, body: { error: { code: 'seal_pkcs12_invalid' } } });
    expect((await own.owner('/v1/organization/seal', { method: 'PUT', body: { ...body, kmsKeyId: 'alias/x' } })).status).toBe(400);

    // None of the refusals changed anything.
    expect((await own.owner('/v1/organization/seal')).body.source).toBe('deployment');
    expect((await dataSource.query(`SELECT 1 FROM organization_seals WHERE organization_id = $1`, [own.id])).length).toBe(0);
  });

  test('set by the owner: described without key material, stored only encrypted, and audited', async () => {
    const set = await own.owner('/v1/organization/seal', { method: 'PUT', body: { pkcs12: seal.p12.toString('base64'), password: sealPassword } });
    expect(set.status).toBe(200);
    const certificate = new X509Certificate(seal.certificatePem);
    const expected = {
      source: 'organization',
      kind: 'pkcs12',
      certificate: {
        subject: `O=${own.name}, CN=${own.name} seal`,
        issuer: `O=${own.name}, CN=${own.name} seal`,
        serialNumber: certificate.serialNumber.toLowerCase(),
        notAfter: new Date(certificate.validTo).toISOString(),
        sha256Fingerprint: certificate.fingerprint256.replace(/:/g, '').toLowerCase(),
      },
      chainLength: 1,
      subjectNamesOrganization: true,
      warnings: [],
    };
    expect(set.body).toMatchObject(expected);
    const read = await own.owner('/v1/organization/seal');
    expect(read.status).toBe(200);
    expect(read.body).toMatchObject(expected);
    expect(read.body.setBy).toMatch(/^user:/);
    expect(Object.keys(read.body).sort()).toEqual(['certificate', 'chainLength', 'kind', 'setAt', 'setBy', 'source', 'subjectNamesOrganization', 'warnings']);
    for (const answer of [set.text!, read.text!]) {
      expect(answer).not.toContain(sealPassword);
      expect(answer).not.toContain(seal.p12.toString('base64').slice(0, 40));
      expect(answer).not.toMatch(/PRIVATE KEY|BEGIN CERTIFICATE/);
    }

    const [row]: Array<{ encrypted_pkcs12: Buffer; wrapped_key: Buffer }> = await dataSource.query(
      `SELECT encrypted_pkcs12, wrapped_key FROM organization_seals WHERE organization_id = $1`,
      [own.id],
    );
    expect(row!.encrypted_pkcs12.includes(seal.p12.subarray(0, 64))).toBe(false);
    expect(row!.encrypted_pkcs12.includes(Buffer.from(sealPassword))).toBe(false);
    expect(row!.encrypted_pkcs12.includes(Buffer.from(seal.p12.toString('base64').slice(0, 40)))).toBe(false);

    const log = await own.owner('/v1/audit-log');
    expect(log.status).toBe(200);
    expect(log.body.chain.valid).toBe(true);
    const entry = (log.body.events as Json[]).find((event) => event.type === 'organization.seal_set');
    expect(entry).toMatchObject({
      actor: read.body.setBy,
      detail: { kind: 'pkcs12', sha256Fingerprint: expected.certificate.sha256Fingerprint, subjectNamesOrganization: true },
    });
    expect(log.text).not.toContain(sealPassword);
    expect(log.text).not.toContain(seal.p12.toString('base64').slice(0, 40));

    // The other organisation is untouched.
    expect((await plain.owner('/v1/organization/seal')).body).toMatchObject({ source: 'deployment', warnings: [] });
  });

  test("another organisation's PKCS#12, or the deployment seal's, is 422 seal_in_use", async () => {
    const copied = await plain.owner('/v1/organization/seal', { method: 'PUT', body: { pkcs12: seal.p12.toString('base64'), password: sealPassword } });
    expect(copied).toMatchObject({ status: 422, body: { error: { code: 'seal_in_use' } } });

    // The deployment's own seal key and certificate, packed as a PKCS#12 (as someone with the server's files could).
    const sealDir = api.config.seal.key.kind === 'self-signed' ? api.config.seal.key.dir : undefined;
    expect(sealDir).toBeDefined();
    const deploymentP12 = path.join(harness.tempDir('deployment-p12'), 'deployment.p12');
    openssl('pkcs12', '-export', '-inkey', path.join(sealDir!, 'seal-key.pem'), '-in', path.join(sealDir!, 'seal-cert.pem'), '-out', deploymentP12, '-passout', `pass:${sealPassword}`);
    const deployment = await plain.owner('/v1/organization/seal', { method: 'PUT', body: { pkcs12: fs.readFileSync(deploymentP12).toString('base64'), password: sealPassword } });
    expect(deployment).toMatchObject({ status: 422, body: { error: { code: 'seal_in_use' } } });

    expect((await plain.owner('/v1/organization/seal')).body.source).toBe('deployment');
    expect((await own.owner('/v1/organization/seal')).body).toMatchObject({ source: 'organization', kind: 'pkcs12' });
  });

  test("two rounds: the sealed PDFs' certificates differ, and each validates with its own certificate only", async () => {
    const [ownFile, plainFile] = await Promise.all([completeRoundIn(own), completeRoundIn(plain)]);
    const ownSigner = signerDistinguishedName(ownFile);
    const plainSigner = signerDistinguishedName(plainFile);
    expect(ownSigner).not.toBe(plainSigner);
    expect(ownSigner).toContain(own.name);
    expect(plainSigner).not.toContain(own.name);

    const ownTrust = seal.certificateFile;
    const deploymentTrust = writePem((await api.signing.sealKey()).certificateChain[0]!, 'deployment.pem');
    expect(pyhankoValidate(ownFile, ownTrust).output).toContain(validVerdict);
    expect(pyhankoValidate(plainFile, deploymentTrust).output).toContain(validVerdict);
    // Neither is vouched for by the other's certificate.
    for (const crossed of [pyhankoValidate(ownFile, deploymentTrust), pyhankoValidate(plainFile, ownTrust)]) {
      expect(crossed.output).toContain("The signer's certificate is untrusted.");
      expect(crossed.output).toContain('The signature is cryptographically sound.');
      expect(crossed.output).not.toContain(validVerdict);
    }
  });

  test("a change reaches another process's next seal; removing it goes back to the deployment seal", async () => {
    // Another worker process: a signing context of its own, with its own cache.
    const other = await testSigningContext(dataSource, testConfig());
    const fingerprintOf = async () => new X509Certificate((await other.sealKeyFor(own.id)).certificateChain[0]!).fingerprint256;
    expect(await fingerprintOf()).toBe(new X509Certificate(seal.certificatePem).fingerprint256);

    const renewed = makePkcs12(own.name);
    expect((await own.owner('/v1/organization/seal', { method: 'PUT', body: { pkcs12: renewed.p12.toString('base64'), password: sealPassword } })).status).toBe(200);
    expect(await fingerprintOf()).toBe(new X509Certificate(renewed.certificatePem).fingerprint256);

    expect((await own.owner('/v1/organization/seal', { method: 'DELETE' })).status).toBe(204);
    expect(await fingerprintOf()).toBe(new X509Certificate((await other.sealKey()).certificateChain[0]!).fingerprint256);
    expect((await own.owner('/v1/organization/seal')).body.source).toBe('deployment');

    const log = await own.owner('/v1/audit-log');
    const seals = (log.body.events as Json[]).filter((event) => event.type.startsWith('organization.seal_'));
    expect(seals.map((event) => event.type)).toEqual(['organization.seal_set', 'organization.seal_set', 'organization.seal_removed']);
    expect(seals[1].detail.replacedSha256Fingerprint).toBe(seals[0].detail.sha256Fingerprint);
    expect(seals[2].detail).toMatchObject({ kind: 'pkcs12', sha256Fingerprint: seals[1].detail.sha256Fingerprint });
  });

  test("a certificate whose subject does not name the organisation is accepted with a warning", async () => {
    const other = makePkcs12('Somebody Else Ltd');
    const set = await own.owner('/v1/organization/seal', { method: 'PUT', body: { pkcs12: other.p12.toString('base64'), password: sealPassword } });
    expect(set.status).toBe(200);
    expect(set.body).toMatchObject({ subjectNamesOrganization: false, warnings: [{ code: 'subject_does_not_name_organization' }] });
    expect((await own.owner('/v1/organization/seal', { method: 'DELETE' })).status).toBe(204);
  });
});

/** A fresh asymmetric KMS key tagged sigill:organization=<organizationId>, as an AWS administrator assigns one. */
async function createTaggedSigningKey(organizationId: string, keySpec: 'RSA_3072' | 'ECC_NIST_P256' = 'RSA_3072'): Promise<{ keyId: string; arn: string }> {
  const client = motoKmsClient();
  try {
    const created = await client.send(
      new CreateKeyCommand({
        Description: 'sigill test organisation seal key',
        KeySpec: keySpec,
        KeyUsage: 'SIGN_VERIFY',
        Tags: [{ TagKey: 'sigill:organization', TagValue: organizationId }],
      }),
    );
    return { keyId: created.KeyMetadata!.KeyId!, arn: created.KeyMetadata!.Arn! };
  } finally {
    client.destroy();
  }
}

/** Sets (or moves) a key's sigill:organization tag. */
async function tagKey(keyId: string, organizationId: string): Promise<void> {
  const client = motoKmsClient();
  try {
    await client.send(new TagResourceCommand({ KeyId: keyId, Tags: [{ TagKey: 'sigill:organization', TagValue: organizationId }] }));
  } finally {
    client.destroy();
  }
}

describe('an AWS KMS key as the seal (moto)', () => {
  let kmsApi: TestApi;
  let organization: TestOrganization;
  let other: TestOrganization;
  let deploymentSealKeyId: string;
  let sealKeyArn: string;
  /** The AWS account id in moto's ARNs: in AWS's own error messages, never in an answer. */
  let accountId: string;
  /** What the API logged at warn and above, one JSON line each. */
  const logged: string[] = [];

  /** An error answer that says nothing AWS said: no account id, no ARN. */
  const expectNoAwsDetail = (answer: { text?: string }) => {
    expect(answer.text).toBeDefined();
    expect(answer.text).not.toContain(accountId);
    expect(answer.text).not.toMatch(/arn:aws/);
  };

  beforeAll(async () => {
    deploymentSealKeyId = await createMotoSigningKey();
    // The deployment seals with KMS too, so organisation keys are reached at the same (moto) endpoint.
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        logged.push(chunk.toString());
        done();
      },
    });
    kmsApi = await startTestApi(dataSource, {
      env: { SMTP_URL: smtp.url, SEAL_KMS_KEY_ID: deploymentSealKeyId, KMS_ENDPOINT: motoUrl(), ...motoAwsEnv },
      log: createLogger('warn', sink),
    });
    const previous = api;
    api = kmsApi;
    try {
      const unique = randomUUID().slice(0, 8);
      organization = await organizationWithOwner(`Kuusi Oy ${unique}`);
      other = await organizationWithOwner(`Kataja Ab ${unique}`);
    } finally {
      api = previous;
    }
  });

  afterAll(() => kmsApi?.close());

  test('an RSA KMS key tagged for the organisation gets a certificate naming it, is stored by its ARN and seals; an EC key is 422', async () => {
    const { keyId, arn } = await createTaggedSigningKey(organization.id);
    sealKeyArn = arn;
    accountId = arn.split(':')[4]!;
    const set = await organization.owner('/v1/organization/seal', { method: 'PUT', body: { kmsKeyId: keyId } });
    expect(set.status).toBe(200);
    expect(set.body).toMatchObject({ source: 'organization', kind: 'kms', kmsKeyId: arn, subjectNamesOrganization: true, warnings: [] });
    expect(set.body.certificate.subject).toContain(`CN=${organization.name}`);
    const [row]: Array<{ kms_key_id: string }> = await dataSource.query(`SELECT kms_key_id FROM organization_seals WHERE organization_id = $1`, [organization.id]);
    expect(row!.kms_key_id).toBe(arn);

    const key = await kmsApi.signing.sealKeyFor(organization.id);
    expect(new X509Certificate(key.certificateChain[0]!).fingerprint256.replace(/:/g, '').toLowerCase()).toBe(set.body.certificate.sha256Fingerprint);
    const { pdf: sealed } = await sealDocument({
      pdf,
      documentCode: 'SGL-7K3M-Q9XD-2PLA',
      title: 'KMS organisation seal',
      originalSha256: '0'.repeat(64),
      signers: [{ name: 'Aino Virtanen', email: 'aino@example.test', channel: 'email link + PIN from sender', signedAt: new Date().toISOString() }],
      sealedAt: new Date(),
      key,
      signerName: `Sigill seal - ${organization.name}`,
    });
    const file = path.join(harness.tempDir('kms-org-sealed'), 'sealed.pdf');
    fs.writeFileSync(file, sealed);
    expect(signerDistinguishedName(file)).toContain(organization.name);
    expect(pyhankoValidate(file, writePem(key.certificateChain[0]!, 'kms-org.pem')).output).toContain(validVerdict);

    const ecKey = await createTaggedSigningKey(organization.id, 'ECC_NIST_P256');
    const refused = await organization.owner('/v1/organization/seal', { method: 'PUT', body: { kmsKeyId: ecKey.keyId } });
    expect(refused).toMatchObject({ status: 422, body: { error: { code: 'seal_key_unsupported' } } });
    expectNoAwsDetail(refused);

    // AWS's answer names the account and the key's ARN: the log has it, the caller gets a fixed message.
    const unknownKeyId = randomUUID();
    const unknown = await organization.owner('/v1/organization/seal', { method: 'PUT', body: { kmsKeyId: unknownKeyId } });
    expect(unknown).toMatchObject({ status: 422, body: { error: { code: 'seal_kms_key_unusable' } } });
    expect(unknown.body.error.message).toContain('NotFoundException');
    expectNoAwsDetail(unknown);
    expect(logged.some((line) => line.includes(unknownKeyId) && line.includes(`arn:aws:kms:`) && line.includes(accountId))).toBe(true);
    // The refusals left the KMS seal in place.
    expect((await organization.owner('/v1/organization/seal')).body).toMatchObject({ kind: 'kms', kmsKeyId: arn });
  });

  test("an untagged key, or another organisation's (by id, ARN or with its public certificate), is 422 seal_key_not_owned", async () => {
    const untagged = await organization.owner('/v1/organization/seal', { method: 'PUT', body: { kmsKeyId: await createMotoSigningKey() } });
    expect(untagged).toMatchObject({ status: 422, body: { error: { code: 'seal_key_not_owned' } } });
    expect(untagged.body.error.message).toContain(`sigill:organization=${organization.id}`);
    expectNoAwsDetail(untagged);

    // Tagged for an organisation, but not this one.
    const elsewhere = await createTaggedSigningKey(randomUUID());
    expect(await organization.owner('/v1/organization/seal', { method: 'PUT', body: { kmsKeyId: elsewhere.keyId } })).toMatchObject({
      status: 422,
      body: { error: { code: 'seal_key_not_owned' } },
    });

    // The first organisation's key: its certificate is public (in every PDF it seals), so it is no proof.
    const publicCertificate = new X509Certificate((await kmsApi.signing.sealKeyFor(organization.id)).certificateChain[0]!).toString();
    for (const body of [{ kmsKeyId: sealKeyArn }, { kmsKeyId: sealKeyArn.split('/').pop()! }, { kmsKeyId: sealKeyArn, certificateChainPem: publicCertificate }]) {
      const taken = await other.owner('/v1/organization/seal', { method: 'PUT', body });
      expect(taken).toMatchObject({ status: 422, body: { error: { code: 'seal_key_not_owned' } } });
      expectNoAwsDetail(taken);
    }
    expect((await other.owner('/v1/organization/seal')).body.source).toBe('deployment');
  });

  test("the deployment's seal key is 422 seal_in_use, even tagged for the organisation; the key service's key is seal_key_not_owned", async () => {
    const untagged = await other.owner('/v1/organization/seal', { method: 'PUT', body: { kmsKeyId: deploymentSealKeyId } });
    expect(untagged).toMatchObject({ status: 422, body: { error: { code: 'seal_in_use' } } });
    expectNoAwsDetail(untagged);
    await tagKey(deploymentSealKeyId, other.id);
    const tagged = await other.owner('/v1/organization/seal', { method: 'PUT', body: { kmsKeyId: deploymentSealKeyId } });
    expect(tagged).toMatchObject({ status: 422, body: { error: { code: 'seal_in_use' } } });
    expectNoAwsDetail(tagged);

    // A deployment whose key service is KMS (KMS_KEY_ID): that key, tagged for the organisation, by its id.
    const keyServiceKeyId = await createMotoKmsKey();
    await tagKey(keyServiceKeyId, other.id);
    const access = kmsApi.signing.organizationSealKms;
    const signing = {
      ...kmsApi.signing,
      organizationSealKms: { ...access, deploymentKeys: [...(access.deploymentKeys ?? []), { use: 'key-service' as const, keyId: keyServiceKeyId }] },
    };
    const owner = {
      scope: { organizationId: other.id, permissions: new Set(['view', 'send', 'admin', 'documents'] as const) },
      actor: { actor: `user:${randomUUID()}` },
      isOwner: true,
    };
    await expect(setOrganizationSeal(signing, owner, { kind: 'kms', kmsKeyId: keyServiceKeyId })).rejects.toMatchObject({ code: 'seal_key_not_owned' });
    expect((await other.owner('/v1/organization/seal')).body.source).toBe('deployment');
  });

  test("a key that is one organisation's seal is not another's, even re-tagged; each keeps its own certificate (seal_in_use)", async () => {
    await tagKey(sealKeyArn, other.id);
    const taken = await other.owner('/v1/organization/seal', { method: 'PUT', body: { kmsKeyId: sealKeyArn } });
    expect(taken).toMatchObject({ status: 422, body: { error: { code: 'seal_in_use' } } });
    expectNoAwsDetail(taken);
    expect((await other.owner('/v1/organization/seal')).body.source).toBe('deployment');
    expect((await organization.owner('/v1/organization/seal')).body).toMatchObject({ kind: 'kms', kmsKeyId: sealKeyArn });

    // The self-signed certificates made for the key are kept per organisation: the second names the second.
    const rows: Array<{ key_ref: string; certificate_der: Buffer }> = await dataSource.query(
      `SELECT key_ref, certificate_der FROM seal_certificates WHERE key_ref LIKE 'organization:' || $1 || ':%' OR key_ref LIKE 'organization:' || $2 || ':%'`,
      [organization.id, other.id],
    );
    const ofOrganization = rows.find((row) => row.key_ref.startsWith(`organization:${organization.id}:`));
    const ofOther = rows.find((row) => row.key_ref.startsWith(`organization:${other.id}:`));
    expect(new X509Certificate(ofOrganization!.certificate_der).subject).toContain(organization.name);
    expect(new X509Certificate(ofOther!.certificate_der).subject).toContain(other.name);
  });
});
