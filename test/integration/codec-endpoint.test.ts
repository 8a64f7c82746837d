/**
 * The remote codec endpoint: support tools and the Temporal Web UI turn the encrypted payloads of a
 * history back into readable ones, with the access token, from an allowed origin.
 */
import type { DataSource } from 'typeorm';
import { createTestOrganization } from '../support/factories';
import { connectTestClient, openTestDataSource, startTestApi, type TestApi } from '../support/harness';
import { apiClient, type Json } from '../support/api-client';

const token = 'codec-token-for-tests-0123456789';
let dataSource: DataSource;
let api: TestApi;
let org: { orgId: string; apiKey: string };
const call = apiClient(() => api.url, () => token);

beforeAll(async () => {
  dataSource = await openTestDataSource();
  api = await startTestApi(dataSource, { env: { CODEC_ACCESS_TOKEN: token, CODEC_CORS_ORIGINS: 'https://temporal-ui.example' } });
  org = await createTestOrganization(dataSource);
});

afterAll(async () => {
  await api?.close();
  await dataSource?.destroy();
});

test('payloads in history are encrypted; the codec endpoint decodes them for the token holder only', async () => {
  const started = await apiClient(() => api.url, () => org.apiKey)('/v1/diagnostics/probes', { body: { timeout: 'PT1M' } });
  const probeId: string = started.body.id;
  const raw = await connectTestClient(); // no codec: what Temporal stores
  const history = await raw.workflow.getHandle(`probe-${probeId}`).fetchHistory();
  await raw.connection.close();
  const input = history.events![0]!.workflowExecutionStartedEventAttributes!.input!.payloads![0]!;
  expect(Buffer.from(input.metadata!.encoding!).toString()).toBe('binary/sigill-encrypted');
  expect(Buffer.from(input.data!).toString('latin1')).not.toContain(probeId);

  const asJson = {
    metadata: Object.fromEntries(Object.entries(input.metadata!).map(([key, value]) => [key, Buffer.from(value).toString('base64')])),
    data: Buffer.from(input.data!).toString('base64'),
  };
  expect((await call('/codec/decode', { key: null, body: { payloads: [asJson] } })).status).toBe(401);
  expect((await call('/codec/decode', { key: 'wrong-token-wrong-token-wrong', body: { payloads: [asJson] } })).status).toBe(401);

  const decoded = await call('/codec/decode', { body: { payloads: [asJson] } });
  expect(decoded.status).toBe(200);
  const plain = decoded.body.payloads[0] as Json;
  expect(Buffer.from(plain.metadata.encoding, 'base64').toString()).toBe('json/plain');
  expect(JSON.parse(Buffer.from(plain.data, 'base64').toString())).toMatchObject({ probeId, organizationId: org.orgId });

  const encoded = await call('/codec/encode', { body: { payloads: [plain] } });
  expect(Buffer.from(encoded.body.payloads[0].metadata.encoding, 'base64').toString()).toBe('binary/sigill-encrypted');
  const again = await call('/codec/decode', { body: encoded.body });
  expect(again.body.payloads[0].data).toBe(plain.data);
});

test('CORS: the configured UI origin may call the codec, another origin may not', async () => {
  const preflight = (origin: string) =>
    fetch(`${api.url}/codec/decode`, {
      method: 'OPTIONS',
      headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type,x-namespace' },
    });
  const allowed = await preflight('https://temporal-ui.example');
  expect(allowed.headers.get('access-control-allow-origin')).toBe('https://temporal-ui.example');
  const other = await preflight('https://evil.example');
  expect(other.headers.get('access-control-allow-origin')).toBeNull();
});

test('without a token, the codec is disabled unless the setup is local and embedded', async () => {
  const exposed = await startTestApi(dataSource, { env: { HOST: '0.0.0.0' }, withWorker: false });
  try {
    const response = await fetch(`${exposed.url.replace('0.0.0.0', '127.0.0.1')}/codec/decode`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ payloads: [] }),
    });
    expect(response.status).toBe(404);
  } finally {
    await exposed.close();
  }
});
