/**
 * Encryption at rest (R11) with the production storage providers, against a real S3 and KMS endpoint
 * (moto, started by global-setup), and with the embedded defaults: whichever store holds the documents,
 * someone who can read only the storage finds ciphertext, while the service reads its documents back.
 * Adapters are built through parseConfig → createAdapters, the path a deployment takes.
 */
import { createHash, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { DataSource } from 'typeorm';
import { createAdapters, type Adapters } from '../../src/adapters';
import { S3BlobStore } from '../../src/adapters/blob-store';
import { parseConfig } from '../../src/config';
import { workflowIdForRequest } from '../../src/signing/create-signing-request';
import { apiClient, type Json } from '../support/api-client';
import { createTestOrganization } from '../support/factories';
import { harness, openTestDataSource, startTestApi, type TestApi } from '../support/harness';
import { startIsolatedDatabase, type IsolatedDatabase } from '../support/isolated-database';
import { createMotoBucket, createMotoKmsKey, motoAwsEnv, motoUrl, readBucketObjects, useMotoCredentials } from '../support/moto';
import { createTestPdf } from '../support/pdf-factories';
import { pdfsig } from '../support/pdf-validators';
import { signingTokenIn, startSmtpCatcher } from '../support/smtp-catcher';

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

/** One signer through the API and signer API: create, open, read, sign; returns the sealed PDF. */
async function completeOneRound(api: TestApi, dataSource: DataSource) {
  const org = await createTestOrganization(dataSource);
  const call = apiClient(() => api.url, () => org.apiKey);
  const email = `signer-${randomUUID()}@example.test`;
  const created = await call('/v1/signing-requests', {
    body: {
      title: 'Encrypted at rest',
      document: { filename: 'agreement.pdf', contentBase64: pdf.toString('base64') },
      signers: [{ name: 'Aino Virtanen', email }],
    },
  });
  expect(created.status).toBe(201);
  const id: string = created.body.id;

  const [invitation] = await smtp.waitForMail(email, 'Please sign');
  const session = await call('/v1/signer/session', { key: null, body: { token: signingTokenIn(invitation!), pin: created.body.signers[0].pin } });
  expect(session.status).toBe(200);
  const auth = { authorization: `Bearer ${session.body.sessionToken}` };
  const original = await call('/v1/signer/document', { key: null, headers: auth });
  expect(original.status).toBe(200);
  expect(Buffer.from(original.body)).toEqual(pdf); // decrypted on the way out
  expect((await call('/v1/signer/sign', { key: null, headers: auth, body: { typedName: 'Aino Virtanen', consent: true } })).status).toBe(200);

  expect((await api.client.workflow.getHandle(workflowIdForRequest(id)).result()).status).toBe('completed');
  const status = await call(`/v1/signing-requests/${id}`);
  expect(status.body.status).toBe('completed');
  const sealed = await call(`/v1/signing-requests/${id}/document`);
  expect(sealed.status).toBe(200);
  expect(sealed.headers.get('content-type')).toBe('application/pdf');
  expect(sealed.body.subarray(0, 5).toString('latin1')).toBe('%PDF-');
  expect(createHash('sha256').update(sealed.body).digest('hex')).toBe(status.body.sha256);
  const file = path.join(harness.tempDir('sealed'), 'sealed.pdf');
  fs.writeFileSync(file, sealed.body);
  expect(pdfsig(file).stdout).toContain('Signature is Valid');

  const trail = await call(`/v1/signing-requests/${id}/audit-trail`);
  const archived = (trail.body.events as Json[]).find((event) => event.type === 'archived');
  const [row]: Array<{ original_blob_key: string; sealed_blob_key: string }> = await dataSource.query(
    `SELECT original_blob_key, sealed_blob_key FROM signing_requests WHERE id = $1`,
    [id],
  );
  return { id, archived, blobKeys: [row!.original_blob_key, row!.sealed_blob_key] };
}

describe('a whole signing round on S3 + KMS', () => {
  // A KMS-configured deployment cannot unwrap the deployment secret the shared test database holds
  // (wrapped by the run's local master key), so this round runs on a database of its own.
  let database: IsolatedDatabase;
  let api: TestApi;
  let bucket: string;

  beforeAll(async () => {
    bucket = await createMotoBucket();
    database = await startIsolatedDatabase('kms');
    api = await startTestApi(database.dataSource, { env: { ...awsEnv(bucket), SMTP_URL: smtp.url } });
  });

  afterAll(async () => {
    await api?.close();
    await database?.stop();
  });

  test('completes with a valid sealed PDF, and every object in the bucket is ciphertext', async () => {
    expect(api.config.blobStore.kind).toBe('s3');
    expect(api.config.keys.kind).toBe('kms');
    const round = await completeOneRound(api, database.dataSource);
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
    const round = await completeOneRound(api, dataSource);
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
