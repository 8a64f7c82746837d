/**
 * Backup to an independent provider (issue 14 part 5, R12), with real PostgreSQL and Temporal and two moto
 * servers as the two providers: the global one as the primary store, one of this file's own (behind a TCP
 * relay the test can cut) as the backup. Every stored blob reaches the backup as the same ciphertext the
 * primary holds, deletions follow, a copy that fails while the backup is down completes when it is back,
 * and `backup restore` (the real CLI) rebuilds an emptied primary so the API serves the same documents.
 */
import { execFile } from 'node:child_process';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import type { DataSource } from 'typeorm';
import { S3BlobStore, type ListableBlobStore } from '../../src/adapters/blob-store';
import { ReplicatedBlobStore } from '../../src/adapters/replicated-blob-store';
import { restoreBlobsFromBackup } from '../../src/backup/restore-blobs';
import { projectRoot } from '../../src/adapters/find-executable';
import { ensureBlobBackupSchedule, blobBackupScheduleId } from '../../src/backup/schedule';
import { parseConfig } from '../../src/config';
import { createLogger } from '../../src/logger';
import { apiClient } from '../support/api-client';
import { harness, openTestDataSource, startTestApi, testLog, type TestApi } from '../support/harness';
import { createMotoBucket, motoAwsEnv, motoRegion, motoUrl, readBucketObjects, startExtraMotoServer, useMotoCredentials } from '../support/moto';
import { createTestPdf } from '../support/pdf-factories';
import { inheritedEnvironment } from '../support/process-group';
import { completeOneRound, type CompletedRound } from '../support/rounds';
import { startSmtpCatcher } from '../support/smtp-catcher';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy';
import { waitFor } from '../support/wait-for';

useMotoCredentials();

const run = promisify(execFile);
const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');
// The backup provider's own account: moto accepts any credentials, the point is that they are its own.
const backupCredentials = { BACKUP_S3_ACCESS_KEY_ID: 'backup-provider-key', BACKUP_S3_SECRET_ACCESS_KEY: 'backup-provider-secret' };

let dataSource: DataSource;
let smtp: Awaited<ReturnType<typeof startSmtpCatcher>>;
let backupMoto: Awaited<ReturnType<typeof startExtraMotoServer>>;
let backupRelay: TcpProxy;
let api: TestApi;
let primaryBucket: string;
let backupBucket: string;
let env: Record<string, string>;

const backupEndpoint = () => `http://${backupRelay.address}`;
const backupObjects = () => readBucketObjects(backupBucket, backupMoto.url);
const backlog = async () => (await api.signing.adapters.blobBackup!.queue.status()).backlog;

beforeAll(async () => {
  [dataSource, smtp, backupMoto] = await Promise.all([openTestDataSource(), startSmtpCatcher(), startExtraMotoServer()]);
  backupRelay = await startTcpProxy({ host: '127.0.0.1', port: backupMoto.port });
  primaryBucket = await createMotoBucket('sigill-primary');
  backupBucket = await createMotoBucket('sigill-backup', backupMoto.url);
  env = {
    S3_BUCKET: primaryBucket,
    S3_ENDPOINT: motoUrl(),
    BACKUP_S3_BUCKET: backupBucket,
    BACKUP_S3_ENDPOINT: backupEndpoint(),
    ...backupCredentials,
  };
  // Its writes wake the drain on its task queue, as in the service (src/backup/schedule.ts).
  api = await startTestApi(dataSource, { env: { ...env, SMTP_URL: smtp.url } });
});

afterAll(async () => {
  await api?.close();
  await backupRelay?.close();
  await backupMoto?.stop();
  await smtp?.close();
  await dataSource?.destroy();
});

describe('configuration', () => {
  const base = { DATA_DIR: '/tmp/sigill-config-test' };

  test('off when BACKUP_S3_BUCKET is unset; on with its own endpoint, region and credentials', () => {
    expect(parseConfig(base).blobBackup).toBeUndefined();
    expect(parseConfig({ ...base, BACKUP_S3_BUCKET: 'b', BACKUP_S3_ENDPOINT: 'http://backup.example:9000', BACKUP_S3_REGION: 'eu-central-1', ...backupCredentials }).blobBackup).toEqual({
      bucket: 'b',
      region: 'eu-central-1',
      endpoint: 'http://backup.example:9000',
      forcePathStyle: true,
      credentials: { accessKeyId: 'backup-provider-key', secretAccessKey: 'backup-provider-secret' },
    });
  });

  test('half a configuration is refused, naming the variable and never the secret', () => {
    expect(() => parseConfig({ ...base, BACKUP_S3_ENDPOINT: 'http://backup.example' })).toThrow(/BACKUP_S3_BUCKET is required/);
    expect(() => parseConfig({ ...base, BACKUP_S3_BUCKET: 'b', BACKUP_S3_SECRET_ACCESS_KEY: 'top-secret-value' })).toThrow(/must be set together/);
    expect(() => parseConfig({ ...base, BACKUP_S3_BUCKET: 'b', BACKUP_S3_SECRET_ACCESS_KEY: 'top-secret-value' })).not.toThrow(/top-secret-value/);
    expect(() => parseConfig({ ...base, S3_BUCKET: 'same', BACKUP_S3_BUCKET: 'same' })).toThrow(/must not be the primary store/);
  });

  test("the backup provider's secret is redacted should its configuration ever be logged", () => {
    const lines: string[] = [];
    const log = createLogger('info', { write: (line: string) => void lines.push(line) });
    log.info({ blobBackup: parseConfig({ ...base, BACKUP_S3_BUCKET: 'b', ...backupCredentials }).blobBackup }, 'configured');
    expect(lines.join('')).toContain('backup-provider-key');
    expect(lines.join('')).not.toContain('backup-provider-secret');
  });
});

describe('replication and restore', () => {
  let round: CompletedRound;

  test('a sealed request: the backup holds the same ciphertext as the primary, and nothing readable', async () => {
    round = await completeOneRound(api, dataSource, smtp, Buffer.from(await createTestPdf([{}])), 'Saara Backupinen');

    // Replicated in the background after the writes: wait for the queue to drain and the objects to land.
    await waitFor('the round’s blobs to reach the backup', async () => {
      const keys = (await backupObjects()).map((object) => object.key);
      return (await backlog()) === 0 && round.blobKeys.every((key) => keys.includes(key));
    });

    const primary = new Map((await readBucketObjects(primaryBucket)).map((object) => [object.key, object.body]));
    const backup = new Map((await backupObjects()).map((object) => [object.key, object.body]));
    expect([...backup.keys()].sort()).toEqual([...primary.keys()].sort());
    const readable = ['%PDF', round.signerName, round.signerEmail, 'Encrypted at rest'].map((text) => Buffer.from(text, 'utf8'));
    for (const [key, body] of backup) {
      expect(body.equals(primary.get(key)!)).toBe(true); // the stored bytes as they are: never decrypted to copy
      expect(body.subarray(0, 3).toString('latin1')).toBe('SGB');
      for (const text of readable) expect(body.includes(text)).toBe(false);
    }
  });

  test('`backup restore` rebuilds an emptied primary bucket; the API serves the same documents', async () => {
    const call = apiClient(() => api.url, () => round.apiKey);
    const originalBefore = await call(`/v1/signing-requests/${round.id}/original`);
    expect(originalBefore.status).toBe(200);

    // The primary provider loses everything.
    const primary = new S3BlobStore({ bucket: primaryBucket, region: motoRegion, endpoint: motoUrl(), forcePathStyle: true });
    try {
      for await (const key of primary.keys()) await primary.delete(key);
      expect(await readBucketObjects(primaryBucket)).toEqual([]);
    } finally {
      primary.destroy();
    }
    expect((await call(`/v1/signing-requests/${round.id}/document`)).status).not.toBe(200);

    const backedUp = (await backupObjects()).length;
    const { stdout } = await run(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'backup', 'restore', '--progress-every', '1'], {
      cwd: projectRoot,
      env: { ...inheritedEnvironment(), ...motoAwsEnv, ...env, DATABASE_URL: harness.databaseUrl(), DATA_DIR: harness.tempDir('restore'), LOG_LEVEL: 'warn' },
    });
    const lines = stdout.trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(lines[0]).toEqual({ event: 'restore_started' });
    expect(lines.filter((line) => line.event === 'restore_progress')).toHaveLength(backedUp);
    expect(lines.at(-1)).toEqual({ event: 'restore_finished', examined: backedUp, restored: backedUp, unchanged: 0, kept: 0, skippedDeleted: 0 });

    const sealed = await call(`/v1/signing-requests/${round.id}/document`);
    expect(sealed.status).toBe(200);
    expect(sha256(sealed.body)).toBe(round.sha256);
    const original = await call(`/v1/signing-requests/${round.id}/original`);
    expect(sha256(original.body)).toBe(sha256(originalBefore.body));

    // Run again: nothing left to do.
    const again = await run(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'backup', 'restore'], {
      cwd: projectRoot,
      env: { ...inheritedEnvironment(), ...motoAwsEnv, ...env, DATABASE_URL: harness.databaseUrl(), DATA_DIR: harness.tempDir('restore'), LOG_LEVEL: 'warn' },
    });
    expect(JSON.parse(again.stdout.trim().split('\n').at(-1)!)).toMatchObject({ restored: 0, kept: 0, unchanged: backedUp });
  });

  test('`backup status` prints the backlog and the last replication', async () => {
    const { stdout } = await run(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'backup', 'status'], {
      cwd: projectRoot,
      env: { ...inheritedEnvironment(), ...motoAwsEnv, ...env, DATABASE_URL: harness.databaseUrl(), DATA_DIR: harness.tempDir('status'), LOG_LEVEL: 'warn' },
    });
    const status = JSON.parse(stdout.trim());
    expect(status).toMatchObject({ backlog: 0, oldestPendingAt: null });
    expect(Date.parse(status.lastReplicatedAt)).toBeGreaterThan(Date.now() - 10 * 60_000);
  });
});

describe('deletions and outages', () => {
  const blobKey = () => `backup-test/${randomUUID()}/blob`;

  test('a blob deleted through the blob store leaves the backup too', async () => {
    const key = blobKey();
    await api.signing.adapters.blobStore.put(key, randomBytes(256));
    await waitFor('the blob to reach the backup', async () => (await backupObjects()).some((object) => object.key === key));

    await api.signing.adapters.blobStore.delete(key);
    await waitFor('the deletion to reach the backup', async () => (await backlog()) === 0 && !(await backupObjects()).some((object) => object.key === key));
  });

  test('a restore running while Sigill shreds an object does not bring it back', async () => {
    const key = blobKey();
    await api.signing.adapters.blobStore.put(key, randomBytes(256));
    await waitFor('the blob to reach the backup', async () => (await backlog()) === 0 && (await backupObjects()).some((object) => object.key === key));
    const backup = api.signing.adapters.blobBackup!;
    const since = await backup.queue.position();
    // The service deletes the object (shredding its record) just as the restore looks for it in the primary.
    const service = new ReplicatedBlobStore(backup.stored, backup.queue);
    const primary: ListableBlobStore = Object.assign(Object.create(backup.stored) as ListableBlobStore, {
      get: async (name: string) => {
        if (name === key) await service.delete(key);
        return backup.stored.get(name);
      },
    });
    const counts = await restoreBlobsFromBackup(
      { backup: backup.backup, primary },
      { latestOperation: (name) => backup.queue.latestOperation(name, since), progressEvery: 1_000_000, onProgress: () => {} },
    );
    expect(counts.skippedDeleted).toBeGreaterThanOrEqual(1);
    expect(await backup.stored.get(key)).toBeUndefined();
    await waitFor('the deletion to reach the backup', async () => (await backlog()) === 0 && !(await backupObjects()).some((object) => object.key === key));
    expect(await backup.stored.get(key)).toBeUndefined();
  });

  test('a restore never overwrites an object in the primary: neither one there before nor one written while it copies', async () => {
    const backup = api.signing.adapters.blobBackup!;
    const [differing, racing] = [blobKey(), blobKey()];
    const [older, newer, rewritten] = [randomBytes(256), randomBytes(256), randomBytes(256)];
    for (const key of [differing, racing]) await backup.backup.put(key, older);
    // Present with other bytes and nothing queued: the primary's is kept all the same.
    await backup.stored.put(differing, rewritten);
    const since = await backup.queue.position();
    // Sigill writes the racing key right after the restore found it missing, before the restore's copy lands.
    const service = new ReplicatedBlobStore(backup.stored, backup.queue);
    const primary: ListableBlobStore = Object.assign(Object.create(backup.stored) as ListableBlobStore, {
      get: async (name: string) => {
        const found = await backup.stored.get(name);
        if (name === racing) await service.put(racing, newer);
        return found;
      },
    });
    const counts = await restoreBlobsFromBackup(
      { backup: backup.backup, primary },
      { latestOperation: (name) => backup.queue.latestOperation(name, since), progressEvery: 1_000_000, onProgress: () => {} },
    );
    expect(Buffer.from((await backup.stored.get(racing))!)).toEqual(newer);
    expect(Buffer.from((await backup.stored.get(differing))!)).toEqual(rewritten);
    expect(counts.kept).toBeGreaterThanOrEqual(2);
  });

  test('a write whose process died right after it (nothing recorded after the write) still reaches the backup', async () => {
    const key = blobKey();
    const backup = api.signing.adapters.blobBackup!;
    // What ReplicatedBlobStore.put had done when its process was killed: the row before the write, the write.
    await backup.queue.record(key, 'put', { intent: true });
    await backup.stored.put(key, randomBytes(256));
    // A retried activity would find the object stored and not write it again; the scheduled run drains the queue.
    await api.client.workflow.start('blobBackupWorkflow', { workflowId: `blob-backup-scheduled-${randomUUID()}`, taskQueue: api.taskQueue, args: [{}] });
    await waitFor('the blob to reach the backup', async () => (await backlog()) === 0 && (await backupObjects()).some((object) => object.key === key));
  });

  test('a copy that fails while the backup provider is down is retried and completes when it is back', async () => {
    await backupRelay.cut();
    const key = blobKey();
    try {
      await api.signing.adapters.blobStore.put(key, randomBytes(256));
      // The drain tried and failed: the row is still pending, with its attempts counted.
      await waitFor('a failed copy attempt', async () => {
        const [row]: Array<{ attempts: number; done_at: Date | null }> = await dataSource.query(
          `SELECT attempts, done_at FROM blob_backup_queue WHERE blob_key = $1`,
          [key],
        );
        return row !== undefined && row.attempts >= 1 && row.done_at === null;
      });
    } finally {
      await backupRelay.restore();
    }
    await waitFor('the retried copy', async () => (await backlog()) === 0 && (await backupObjects()).some((object) => object.key === key), 60_000);
    const [primaryCopy] = (await readBucketObjects(primaryBucket)).filter((object) => object.key === key);
    const [backupCopy] = (await backupObjects()).filter((object) => object.key === key);
    expect(backupCopy!.body.equals(primaryCopy!.body)).toBe(true);
  });

  test('the safety-net schedule runs the drain every five minutes', async () => {
    await ensureBlobBackupSchedule(api.client, { taskQueue: api.taskQueue, log: testLog });
    const handle = api.client.schedule.getHandle(blobBackupScheduleId);
    try {
      const schedule = await handle.describe();
      expect(schedule.spec.intervals).toMatchObject([{ every: 300_000 }]);
      expect(schedule.action).toMatchObject({ type: 'startWorkflow', workflowType: 'blobBackupWorkflow', taskQueue: api.taskQueue });
    } finally {
      await handle.delete();
    }
  });
});
