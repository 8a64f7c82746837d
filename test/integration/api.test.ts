/**
 * The API against a real Temporal dev server and real PostgreSQL: authentication, error shapes, the
 * OpenAPI document, readiness, and a diagnostics probe driven through its workflow by an Update.
 */
import { PDFDocument } from 'pdf-lib';
import type { DataSource } from 'typeorm';
import { ApiKey, ProbeResult } from '../../src/database/entities';
import { createTestOrganization } from '../support/factories';
import { openTestDataSource, startTestApi, type TestApi } from '../support/harness';

let dataSource: DataSource;
let api: TestApi;
let org: { orgId: string; apiKey: string };

beforeAll(async () => {
  dataSource = await openTestDataSource();
  api = await startTestApi(dataSource);
  org = await createTestOrganization(dataSource);
});

afterAll(async () => {
  await api?.close();
  await dataSource?.destroy();
});

function call(path: string, init: RequestInit & { key?: string | null } = {}) {
  const { key = org.apiKey, ...rest } = init;
  const headers = new Headers(rest.headers);
  if (key) headers.set('authorization', `Bearer ${key}`);
  return fetch(`${api.url}${path}`, { ...rest, headers });
}

const postJson = (payload: unknown): RequestInit => ({
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify(payload),
});

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests inspect arbitrary JSON
const body = (response: Response): Promise<any> => response.json() as Promise<any>;

describe('operations endpoints', () => {
  test('/healthz answers without credentials', async () => {
    const response = await call('/healthz', { key: null });
    expect(response.status).toBe(200);
    expect(await body(response)).toEqual({ status: 'ok' });
  });

  test('/readyz reports Temporal, database and blob store reachable', async () => {
    const response = await call('/readyz', { key: null });
    expect(response.status).toBe(200);
    expect(await body(response)).toEqual({
      status: 'ready',
      checks: { temporal: 'ok', database: 'ok', blobStore: 'ok', keyService: 'ok' },
    });
  });

  test('every response carries a request id, and a sane caller-supplied one is kept', async () => {
    const generated = await call('/healthz');
    expect(generated.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    const kept = await call('/healthz', { headers: { 'x-request-id': 'trace-42' } });
    expect(kept.headers.get('x-request-id')).toBe('trace-42');
    // A value with spaces and tabs is replaced by a fresh UUID (not echoed, not partially kept).
    const replaced = await call('/healthz', { headers: { 'x-request-id': 'not ok\twith tabs' } });
    expect(replaced.headers.get('x-request-id')).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}$/);
  });

  test('security headers are set', async () => {
    const response = await call('/healthz');
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    expect(response.headers.get('content-security-policy')).toContain("default-src 'self'");
    expect(response.headers.get('x-frame-options')).toBe('SAMEORIGIN');
  });

  test('/openapi.json documents every route with its security and error responses', async () => {
    const response = await call('/openapi.json', { key: null });
    expect(response.status).toBe(200);
    const document = await body(response);
    expect(document.openapi).toBe('3.1.0');
    expect(Object.keys(document.paths)).toEqual(
      expect.arrayContaining([
        '/healthz',
        '/readyz',
        '/v1/diagnostics/probes',
        '/v1/diagnostics/probes/{probeId}',
        '/v1/diagnostics/probes/{probeId}/acknowledge',
      ]),
    );
    const start = document.paths['/v1/diagnostics/probes'].post;
    expect(start.security).toEqual([{ bearerAuth: [] }, { sessionCookie: [] }]);
    expect(Object.keys(start.responses)).toEqual(expect.arrayContaining(['201', '400', '401']));
    expect(start.requestBody.content['application/json'].schema.properties.timeout).toBeDefined();
  });
});

describe('API keys', () => {
  const probeOfNobody = '/v1/diagnostics/probes/00000000-0000-4000-8000-000000000000';

  test.each([
    ['no Authorization header', null],
    ['a malformed key', 'not-a-key'],
    ['a well-formed unknown key', `sgl_0123456789abcdef_${'A'.repeat(43)}`],
  ])('%s is refused with 401 and the stable error shape', async (_, key) => {
    const response = await call(probeOfNobody, { key });
    expect(response.status).toBe(401);
    expect(await body(response)).toEqual({
      error: { code: 'unauthenticated', message: expect.stringContaining('API key') },
    });
  });

  test('a key that differs from a real one in its secret part is refused', async () => {
    const tampered = org.apiKey.slice(0, -1) + (org.apiKey.endsWith('A') ? 'B' : 'A');
    expect((await call(probeOfNobody, { key: tampered })).status).toBe(401);
  });

  test('a revoked key is refused; only a hash of the key is stored', async () => {
    const other = await createTestOrganization(dataSource);
    expect((await call(probeOfNobody, { key: other.apiKey })).status).toBe(404);
    const rows = await dataSource.getRepository(ApiKey).findBy({ organizationId: other.orgId });
    expect(rows).toHaveLength(1);
    expect(JSON.stringify(rows[0])).not.toContain(other.apiKey.split('_').slice(2).join('_')); // the secret may itself hold '_'
    expect(rows[0]!.lastUsedAt).not.toBeNull();

    await dataSource.getRepository(ApiKey).update({ id: rows[0]!.id }, { revokedAt: new Date() });
    expect((await call(probeOfNobody, { key: other.apiKey })).status).toBe(401);
  });
});

describe('errors are JSON with stable codes, never a 500', () => {
  test('unknown path → 404 not_found', async () => {
    const response = await call('/v1/nothing-here');
    expect(response.status).toBe(404);
    expect((await body(response)).error.code).toBe('not_found');
  });

  test('wrong method → 405 method_not_allowed', async () => {
    const response = await call('/healthz', { method: 'DELETE' });
    expect(response.status).toBe(405);
    expect((await body(response)).error.code).toBe('method_not_allowed');
  });

  test('malformed JSON → 400 invalid_request', async () => {
    const response = await call('/v1/diagnostics/probes', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"timeout":',
    });
    expect(response.status).toBe(400);
    expect(await body(response)).toEqual({ error: { code: 'invalid_request', message: 'The request body is not valid JSON.' } });
  });

  test('a body that is not JSON → 415 unsupported_media_type', async () => {
    const response = await call('/v1/diagnostics/probes', {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: 'timeout=PT1M',
    });
    expect(response.status).toBe(415);
    expect((await body(response)).error.code).toBe('unsupported_media_type');
  });

  test('a body over the limit → 413 payload_too_large', async () => {
    const response = await call('/v1/diagnostics/probes', postJson({ padding: 'x'.repeat(1_100_000) }));
    expect(response.status).toBe(413);
    expect((await body(response)).error.code).toBe('payload_too_large');
  });

  test('unknown fields and invalid values → 400 naming the field', async () => {
    const unknownField = await call('/v1/diagnostics/probes', postJson({ timeout: 'PT1M', colour: 'blue' }));
    expect(unknownField.status).toBe(400);
    expect((await body(unknownField)).error.message).toContain('colour');

    const badDuration = await call('/v1/diagnostics/probes', postJson({ timeout: 'two days' }));
    expect(badDuration.status).toBe(400);
    const rejection = await body(badDuration);
    expect(rejection.error).toMatchObject({ code: 'invalid_request', message: expect.stringContaining('body.timeout') });
    expect(rejection.error.details.issues[0].path).toBe('body.timeout');

    const badId = await call('/v1/diagnostics/probes/not-a-uuid');
    expect(badId.status).toBe(400);
  });
});

describe('eID identification without a broker (no EID_ISSUER)', () => {
  test('is not offered, and a signer asking for it is refused with 422 eid_unavailable before anything is created', async () => {
    const methods = await call('/v1/identification-methods');
    expect(await body(methods)).toEqual({ methods: ['pin'], eid: { available: false, acrValues: [] } });
    const pdf = await PDFDocument.create();
    pdf.addPage();
    const created = await call(
      '/v1/signing-requests',
      postJson({
        title: 'Needs eID',
        document: { filename: 'eid.pdf', contentBase64: Buffer.from(await pdf.save()).toString('base64') },
        signers: [{ name: 'Eve', email: 'eve@example.test', identification: { method: 'pin+eid' } }],
      }),
    );
    expect(created.status).toBe(422);
    expect((await body(created)).error).toMatchObject({ code: 'eid_unavailable', message: expect.stringContaining('signers[0].identification.method') });
  });
});

describe('diagnostics probe: API → Temporal → worker → database', () => {
  test('a probe is started, acknowledged by an Update (twice, harmlessly) and its outcome stored once', async () => {
    const started = await call('/v1/diagnostics/probes', postJson({ timeout: 'PT10M' }));
    expect(started.status).toBe(201);
    const probe = await body(started);
    expect(probe).toMatchObject({ id: expect.any(String), status: 'waiting' });

    const workflow = api.client.workflow.getHandle(`probe-${probe.id}`);
    const description = await workflow.describe();
    expect(description.taskQueue).toBe(api.taskQueue);
    expect(description.searchAttributes.SigillOrganizationId).toEqual([org.orgId]);

    const first = await call(`/v1/diagnostics/probes/${probe.id}/acknowledge`, { method: 'POST' });
    expect(first.status).toBe(200);
    expect(await body(first)).toMatchObject({ id: probe.id, status: 'acknowledged', acknowledgedAt: expect.any(String) });

    const result = await workflow.result();
    expect(result.status).toBe('acknowledged');
    expect(result.recordedAt).toEqual(expect.any(String));

    const again = await call(`/v1/diagnostics/probes/${probe.id}/acknowledge`, { method: 'POST' });
    expect(again.status).toBe(200);
    expect((await body(again)).acknowledgedAt).toBe(result.acknowledgedAt);

    const read = await call(`/v1/diagnostics/probes/${probe.id}`);
    expect(await body(read)).toMatchObject({ status: 'acknowledged', recordedAt: result.recordedAt });
    expect(await dataSource.getRepository(ProbeResult).findBy({ probeId: probe.id })).toEqual([
      expect.objectContaining({ organizationId: org.orgId, outcome: 'acknowledged' }),
    ]);
  });

  test('a probe of another organisation is reported as not found, and cannot be acknowledged', async () => {
    const probe = await body(await call('/v1/diagnostics/probes', postJson({})));
    const stranger = await createTestOrganization(dataSource);
    for (const [path, method] of [
      [`/v1/diagnostics/probes/${probe.id}`, 'GET'],
      [`/v1/diagnostics/probes/${probe.id}/acknowledge`, 'POST'],
    ] as const) {
      const response = await call(path, { method, key: stranger.apiKey });
      expect(response.status).toBe(404);
      expect((await body(response)).error.code).toBe('not_found');
    }
    expect((await body(await call(`/v1/diagnostics/probes/${probe.id}`))).status).toBe('waiting');
  });

  test('acknowledging a probe that timed out → 409 conflict', async () => {
    const probe = await body(await call('/v1/diagnostics/probes', postJson({ timeout: 'PT1S' })));
    const result = await api.client.workflow.getHandle(`probe-${probe.id}`).result();
    expect(result.status).toBe('timed_out');
    const response = await call(`/v1/diagnostics/probes/${probe.id}/acknowledge`, { method: 'POST' });
    expect(response.status).toBe(409);
    expect((await body(response)).error.code).toBe('conflict');
  });
});
