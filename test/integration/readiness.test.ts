/** /readyz turns 503 and names the part that is down, without leaking the reason to the caller. */
import fs from 'node:fs';
import path from 'node:path';
import type { DataSource } from 'typeorm';
import { FilesystemBlobStore } from '../../src/adapters/blob-store';
import { createAdapters } from '../../src/adapters';
import { readinessChecks } from '../../src/readiness';
import { connectTestClient, harness, openTestDataSource, startTestApi, testConfig, type TestApi } from '../support/harness';

let dataSource: DataSource;
let api: TestApi;

beforeAll(async () => {
  dataSource = await openTestDataSource();
  // A blob store whose folder cannot exist: its parent is a regular file.
  const blocker = path.join(harness.tempDir('readiness'), 'not-a-folder');
  fs.writeFileSync(blocker, '');
  const client = await connectTestClient();
  api = await startTestApi(dataSource, {
    readinessChecks: readinessChecks({
      temporal: client,
      dataSource,
      blobStore: new FilesystemBlobStore(path.join(blocker, 'blobs')),
      keyService: createAdapters(testConfig()).keyService,
    }),
  });
  afterAllClose.push(() => client.connection.close());
});

const afterAllClose: Array<() => Promise<void>> = [];
afterAll(async () => {
  await api?.close();
  for (const close of afterAllClose) await close();
  await dataSource?.destroy();
});

test('an unreachable blob store makes /readyz 503 naming it, without the reason', async () => {
  const response = await fetch(`${api.url}/readyz`);
  expect(response.status).toBe(503);
  const text = await response.text();
  expect(JSON.parse(text)).toEqual({
    status: 'not_ready',
    checks: { temporal: 'ok', database: 'ok', blobStore: 'unavailable', keyService: 'ok' },
  });
  expect(text).not.toContain('not-a-folder');
});
