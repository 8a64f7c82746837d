/**
 * The moto server started by global-setup: a real S3 and KMS endpoint on loopback. These helpers create
 * what a deployment would have provisioned (a bucket, a KMS key) and read the bucket back the way someone
 * with access to the storage alone would.
 */
import { randomBytes } from 'node:crypto';
import { CreateKeyCommand, KMSClient, type CreateKeyCommandInput } from '@aws-sdk/client-kms';
import { CreateBucketCommand, GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { findExecutable } from '../../src/adapters/find-executable';
import { waitForPort } from '../../src/adapters/wait-for-port';
import { startChildProcess } from './child-process';
import { freePort } from './free-port';

export const motoRegion = 'eu-north-1';

/**
 * moto accepts any credentials, but the AWS SDK refuses to sign without some. Sigill's config does not
 * carry credentials (the SDK's default chain finds them), so they go into process.env as well as into
 * the env handed to parseConfig.
 */
export const motoAwsEnv = {
  AWS_ACCESS_KEY_ID: 'test',
  AWS_SECRET_ACCESS_KEY: 'test',
  AWS_REGION: motoRegion,
} as const;

export function motoUrl(): string {
  const url = process.env.SIGILL_TEST_MOTO_URL;
  if (!url) throw new Error('SIGILL_TEST_MOTO_URL is not set: run the tests through jest (npm test), which starts moto');
  return url;
}

/** Sets the dummy credentials for this test process (jest runs each test file in a process of its own). */
export function useMotoCredentials(): void {
  Object.assign(process.env, motoAwsEnv);
}

function s3(endpoint = motoUrl()): S3Client {
  return new S3Client({
    region: motoRegion,
    endpoint,
    forcePathStyle: true,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    credentials: { accessKeyId: motoAwsEnv.AWS_ACCESS_KEY_ID, secretAccessKey: motoAwsEnv.AWS_SECRET_ACCESS_KEY },
  });
}

/** A bucket of the test's own (moto keeps every bucket for the whole run). */
export async function createMotoBucket(prefix = 'sigill-test', endpoint = motoUrl()): Promise<string> {
  const bucket = `${prefix}-${randomBytes(6).toString('hex')}`;
  const client = s3(endpoint);
  try {
    // Outside us-east-1 S3 (and moto) insist on the location constraint matching the client's region.
    await client.send(new CreateBucketCommand({ Bucket: bucket, CreateBucketConfiguration: { LocationConstraint: motoRegion } }));
  } finally {
    client.destroy();
  }
  return bucket;
}

/** A fresh symmetric KMS key; returns its KeyId (what KMS_KEY_ID takes). */
export async function createMotoKmsKey(): Promise<string> {
  return createKey({ Description: 'sigill test key' });
}

/** A fresh asymmetric KMS signing key (RSA 3072 by default); returns its KeyId (what SEAL_KMS_KEY_ID takes). */
export async function createMotoSigningKey(keySpec: 'RSA_3072' | 'ECC_NIST_P256' = 'RSA_3072'): Promise<string> {
  return createKey({ Description: 'sigill test seal key', KeySpec: keySpec, KeyUsage: 'SIGN_VERIFY' });
}

export function motoKmsClient(): KMSClient {
  return new KMSClient({
    region: motoRegion,
    endpoint: motoUrl(),
    credentials: { accessKeyId: motoAwsEnv.AWS_ACCESS_KEY_ID, secretAccessKey: motoAwsEnv.AWS_SECRET_ACCESS_KEY },
  });
}

async function createKey(input: CreateKeyCommandInput): Promise<string> {
  const client = motoKmsClient();
  try {
    const created = await client.send(new CreateKeyCommand(input));
    return created.KeyMetadata!.KeyId!;
  } finally {
    client.destroy();
  }
}

/** Every object in the bucket with its raw stored bytes, as a reader of the bucket alone sees them. */
export async function readBucketObjects(bucket: string, endpoint = motoUrl()): Promise<Array<{ key: string; body: Buffer }>> {
  const client = s3(endpoint);
  try {
    const objects: Array<{ key: string; body: Buffer }> = [];
    let token: string | undefined;
    do {
      const page = await client.send(new ListObjectsV2Command({ Bucket: bucket, ContinuationToken: token }));
      for (const { Key } of page.Contents ?? []) {
        const object = await client.send(new GetObjectCommand({ Bucket: bucket, Key: Key! }));
        objects.push({ key: Key!, body: Buffer.from(await object.Body!.transformToByteArray()) });
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return objects;
  } finally {
    client.destroy();
  }
}

/**
 * A second moto server of the test's own (another provider, e.g. the backup store), on a free loopback port;
 * `stop` ends it. Its state lives in memory and ends with it.
 */
export async function startExtraMotoServer(): Promise<{ url: string; port: number; stop(): Promise<void> }> {
  const executable = findExecutable('moto_server');
  if (!executable) throw new Error('moto_server was not found on PATH or in .venv/bin (npm run setup installs it)');
  const port = await freePort();
  const child = startChildProcess('moto_server', executable, ['-H', '127.0.0.1', '-p', String(port)]);
  await waitForPort(port, { timeoutMs: 30_000 });
  return { url: `http://127.0.0.1:${port}`, port, stop: () => child.stop() };
}
