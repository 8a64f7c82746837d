/**
 * The pages' Content-Security-Policy follows PUBLIC_URL (issue 10): `upgrade-insecure-requests` makes a
 * browser fetch the page's script over https, which breaks the page on plain http under any host but
 * localhost (a LAN or VM address). So it is sent only when Sigill is served over https; the rest of the
 * policy stays strict either way. Each case runs the real API, without a worker: no page here starts a round.
 */
import type { DataSource } from 'typeorm';
import { freePort } from '../support/free-port';
import { openTestDataSource, startTestApi, type TestApi } from '../support/harness';

let dataSource: DataSource;

beforeAll(async () => {
  dataSource = await openTestDataSource();
});

afterAll(async () => {
  await dataSource?.destroy();
});

async function pagePolicies(publicUrl: (port: number) => string): Promise<Record<string, string>> {
  const port = await freePort();
  const api: TestApi = await startTestApi(dataSource, { port, withWorker: false, env: { PUBLIC_URL: publicUrl(port) } });
  try {
    const policies: Record<string, string> = {};
    for (const page of ['/s/not-a-real-token', '/verify']) {
      const response = await fetch(`${api.url}${page}`);
      await response.arrayBuffer();
      policies[page] = response.headers.get('content-security-policy') ?? '';
    }
    return policies;
  } finally {
    await api.close();
  }
}

test('on plain http under a LAN address the pages are not upgraded to https, and stay strict', async () => {
  const policies = await pagePolicies((port) => `http://192.0.2.10:${port}`);
  for (const [page, policy] of Object.entries(policies)) {
    expect({ page, upgrades: policy.includes('upgrade-insecure-requests') }).toEqual({ page, upgrades: false });
    expect(policy).toContain("default-src 'self'");
    expect(policy).toContain("script-src 'self'");
    expect(policy).toContain("object-src 'none'");
  }
});

test('served over https, the pages ask the browser to upgrade every request', async () => {
  const policies = await pagePolicies(() => 'https://sign.example.test');
  for (const [page, policy] of Object.entries(policies)) {
    expect({ page, upgrades: policy.includes('upgrade-insecure-requests') }).toEqual({ page, upgrades: true });
    expect(policy).toContain("script-src 'self'");
  }
});
