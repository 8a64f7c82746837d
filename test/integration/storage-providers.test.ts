/**
 * Encryption at rest (R11) with the production storage providers, against a real S3 and KMS endpoint
 * (moto, started by global-setup), and with the embedded defaults: whichever store holds the documents,
 * someone who can read only the storage finds ciphertext, while the service reads its documents back.
 * Adapters are built through parseConfig → createAdapters, the path a deployment takes.
 */
import { randomUUID, X509Certificate } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { DataSource } from 'typeorm';
import { createAdapters, type Adapters } from '../../src/adapters';
import { S3BlobStore } from '../../src/adapters/blob-store';
import { parseConfig } from '../../src/config';
import { harness, openTestDataSource, startTestApi, type TestApi } from '../support/harness';
import { startIsolatedDatabase, type IsolatedDatabase } from '../support/isolated-database';
import { createMotoBucket, createMotoKmsKey, createMotoSigningKey, motoAwsEnv, motoUrl, readBucketObjects, useMotoCredentials } from '../support/moto';
import { createTestPdf } from '../support/pdf-factories';
import { startLocalTsa, type LocalTsa } from '../support/local-tsa';
import { pdfsig, runTool } from '../support/pdf-validators';
import { completeOneRound } from '../support/rounds';
import { startSmtpCatcher } from '../support/smtp-catcher';

// Before any AWS client exists: the SDK's default credential chain reads them from the environment.
useMotoCredentials();

const pdfHeader = Buffer.from('%PDF', 'latin1');
const startsWithPdfHeader = (bytes: Uint8Array) => Buffer.from(bytes).subarray(0, pdfHeader.length).equals(pdfHeader);

let smtp: Awaited<ReturnType<typeof startSmtpCatcher>>;
let pdf: Buffer;
let kmsKeyId: string;

beforeAll(async () => {
  smtp = await startSmtpCatcher();
  pdf = Buffer.from(await createTestPdf([{}, {}]));
  kmsKeyId = await createMotoKmsKey();
});

afterAll(async () => {
  await smtp?.close();
});

/** The variables a deployment on S3 + KMS sets (plus moto's endpoint and dummy credentials). */
function awsEnv(bucket: string, keyId = kmsKeyId): Record<string, string> {
  return { S3_BUCKET: bucket, S3_ENDPOINT: motoUrl(), KMS_KEY_ID: keyId, KMS_ENDPOINT: motoUrl(), ...motoAwsEnv };
}

function awsAdapters(env: Record<string, string>): Adapters {
  return createAdapters(parseConfig({ DATA_DIR: harness.tempDir('aws-data'), LOG_LEVEL: 'silent', ...env }));
}

describe('S3 + KMS through createAdapters, against moto', () => {
  let bucket: string;
  let adapters: Adapters;

  beforeAll(async () => {
    bucket = await createMotoBucket();
    adapters = awsAdapters(awsEnv(bucket));
  });

  afterAll(() => adapters?.close());

  test('the config selects S3 and KMS, and the blob store is encrypted in front of S3', () => {
    const config = parseConfig({ DATA_DIR: harness.tempDir('aws-data'), ...awsEnv(bucket) });
    expect(config.blobStore).toMatchObject({ kind: 's3', bucket, endpoint: motoUrl(), forcePathStyle: true, region: 'eu-north-1' });
    expect(config.keys).toMatchObject({ kind: 'kms', keyId: kmsKeyId, endpoint: motoUrl() });
    expect(adapters.blobStore.kind).toBe('s3');
    expect(adapters.keyService.kind).toBe('kms');
  });

  test('a PDF put and got back is the same; the bucket holds only ciphertext', async () => {
    const key = `orgs/${randomUUID()}/requests/${randomUUID()}/original`;
    await adapters.blobStore.put(key, pdf);
    expect(Buffer.from((await adapters.blobStore.get(key))!)).toEqual(pdf);
    expect(await adapters.blobStore.get(`${key}-missing`)).toBeUndefined();

    const objects = await readBucketObjects(bucket);
    expect(objects.map((object) => object.key)).toContain(key);
    for (const object of objects) {
      expect(startsWithPdfHeader(object.body)).toBe(false);
      expect(object.body.includes(pdf.subarray(0, 64))).toBe(false);
    }
  });

  test('a stored object copied to another key in the bucket does not decrypt (KMS enforces the context)', async () => {
    const raw = new S3BlobStore({ kind: 's3', bucket, region: 'eu-north-1', endpoint: motoUrl(), forcePathStyle: true });
    try {
      const source = `copies/${randomUUID()}/a`;
      await adapters.blobStore.put(source, pdf);
      await raw.put(`${source}-copy`, (await raw.get(source))!);
      await expect(adapters.blobStore.get(`${source}-copy`)).rejects.toThrow(/could not be decrypted: its data key could not be unwrapped/);
    } finally {
      raw.destroy();
    }
  });

  test('checkReachable passes for both (S3 HeadBucket, KMS DescribeKey)', async () => {
    await expect(adapters.blobStore.checkReachable()).resolves.toBeUndefined();
    await expect(adapters.keyService.checkReachable()).resolves.toBeUndefined();
  });

  test('a bucket or key that does not exist makes checkReachable reject', async () => {
    const wrong = awsAdapters(awsEnv(`sigill-missing-${randomUUID().slice(0, 8)}`, randomUUID()));
    try {
      await expect(wrong.blobStore.checkReachable()).rejects.toThrow();
      await expect(wrong.keyService.checkReachable()).rejects.toThrow();
    } finally {
      wrong.close();
    }
  });
});

async function completeOneRoundAndCheckSeal(api: TestApi, dataSource: DataSource) {
  const round = await completeOneRound(api, dataSource, smtp, pdf);
  const file = path.join(harness.tempDir('sealed'), 'sealed.pdf');
  fs.writeFileSync(file, round.sealed);
  expect(pdfsig(file).stdout).toContain('Signature is Valid');
  return { ...round, file };
}

describe('a whole signing round on S3 + KMS', () => {
  // A KMS-configured deployment cannot unwrap the deployment secret the shared test database holds
  // (wrapped by the run's local master key), so this round runs on a database of its own.
  // The production-shaped seal too: the private key in KMS (moto) and a timestamp from a real RFC 3161 TSA.
  let database: IsolatedDatabase;
  let api: TestApi;
  let bucket: string;
  let tsa: LocalTsa;

  beforeAll(async () => {
    bucket = await createMotoBucket();
    database = await startIsolatedDatabase('kms');
    tsa = await startLocalTsa(harness.tempDir('tsa'));
    const sealEnv = { SEAL_KMS_KEY_ID: await createMotoSigningKey(), TSA_URL: tsa.url };
    api = await startTestApi(database.dataSource, { env: { ...awsEnv(bucket), ...sealEnv, SMTP_URL: smtp.url } });
  });

  afterAll(async () => {
    await api?.close();
    await tsa?.stop();
    await database?.stop();
  });

  test('completes with a valid sealed PDF, and every object in the bucket is ciphertext', async () => {
    expect(api.config.blobStore.kind).toBe('s3');
    expect(api.config.keys.kind).toBe('kms');
    expect(api.config.seal.key.kind).toBe('kms');
    const round = await completeOneRoundAndCheckSeal(api, database.dataSource);

    // Sealed by the KMS key: its self-signed certificate (kept in the database) is the trust root, and the
    // seal carries a signature timestamp from the TSA (PAdES B-T).
    const [stored]: Array<{ certificate_der: Buffer }> = await database.dataSource.query(`SELECT certificate_der FROM seal_certificates`);
    const sealCertificate = path.join(harness.tempDir('seal-cert'), 'seal.pem');
    fs.writeFileSync(sealCertificate, new X509Certificate(stored!.certificate_der).toString());
    expect(tsa.requests()).toBeGreaterThanOrEqual(1);
    const validation = runTool('pyhanko', ['sign', 'validate', '--trust', sealCertificate, '--trust', tsa.caFile, '--trust-replace', '--pretty-print', round.file]);
    expect(validation.output).toContain("The signer's certificate is trusted.");
    expect(validation.output).toContain('The signature is judged VALID.');
    expect(validation.output).toContain('The timestamp token is cryptographically sound.');
    expect(validation.output).toContain('The TSA certificate is trusted.');

    expect(round.archived.detail).toEqual({ blobStore: 's3' });

    const objects = await readBucketObjects(bucket);
    expect(objects.map((object) => object.key).sort()).toEqual([...round.blobKeys].sort());
    for (const object of objects) expect(startsWithPdfHeader(object.body)).toBe(false);
    // Nothing fell back to the local disk.
    expect(fs.existsSync(path.join(api.config.dataDir, 'blobs'))).toBe(false);
  });
});

describe('a whole signing round on the embedded defaults', () => {
  let dataSource: DataSource;
  let api: TestApi;

  beforeAll(async () => {
    dataSource = await openTestDataSource();
    api = await startTestApi(dataSource, { env: { SMTP_URL: smtp.url } });
  });

  afterAll(async () => {
    await api?.close();
    await dataSource?.destroy();
  });

  test('no file under DATA_DIR/blobs is a plaintext PDF', async () => {
    expect(api.config.blobStore.kind).toBe('filesystem');
    const round = await completeOneRoundAndCheckSeal(api, dataSource);
    expect(round.archived.detail).toEqual({ blobStore: 'filesystem' });

    const root = path.join(api.config.dataDir, 'blobs');
    const files = fs
      .readdirSync(root, { recursive: true, withFileTypes: true })
      .filter((entry) => entry.isFile())
      .map((entry) => path.join(entry.parentPath, entry.name));
    expect(files.map((file) => path.relative(root, file)).sort()).toEqual([...round.blobKeys].sort());
    for (const file of files) expect(startsWithPdfHeader(fs.readFileSync(file))).toBe(false);
  });
});
