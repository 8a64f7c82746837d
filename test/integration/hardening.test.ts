/**
 * Issue 9's findings, each as a person or an operator would meet it, against the real Temporal dev server,
 * PostgreSQL and SMTP. The API reaches Temporal (and, in one test, PostgreSQL) through a TCP relay the
 * test can cut: a real outage for the API, while the worker behind it keeps its own connection.
 */
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import { Writable } from 'node:stream';
import type { DataSource } from 'typeorm';
import { createLogger } from '../../src/logger';
import { createDataSource } from '../../src/database/data-source';
import { workflowIdForRequest } from '../../src/signing/create-signing-request';
import { cancelUpdate, roundStateQuery, signUpdate } from '../../src/workflows/signing-round';
import { apiClient, type Json } from '../support/api-client';
import { createTestOrganization } from '../support/factories';
import { connectTestClient, harness, openTestDataSource, startTestApi, type TestApi } from '../support/harness';
import { createTestPdf } from '../support/pdf-factories';
import { signingTokenIn, startSmtpCatcher } from '../support/smtp-catcher';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy';
import { waitFor } from '../support/wait-for';
import { reportDocumentDisplayed } from '../support/signer-reading';

let dataSource: DataSource;
let smtp: Awaited<ReturnType<typeof startSmtpCatcher>>;
let temporalRelay: TcpProxy;
let api: TestApi;
let org: { orgId: string; apiKey: string; ownerEmail: string };
let pdfBase64: string;
const logLines: string[] = [];
const call = apiClient(() => api.url, () => org.apiKey);

const hostAndPort = (address: string) => {
  const url = new URL(address.includes('://') ? address : `tcp://${address}`);
  return { host: url.hostname, port: Number(url.port) };
};

beforeAll(async () => {
  dataSource = await openTestDataSource();
  smtp = await startSmtpCatcher();
  temporalRelay = await startTcpProxy(hostAndPort(harness.temporalAddress()));
  const log = createLogger('info', new Writable({ write: (chunk, _encoding, done) => (logLines.push(chunk.toString()), done()) }));
  api = await startTestApi(dataSource, { env: { SMTP_URL: smtp.url }, temporalAddress: temporalRelay.address, log });
  const ownerEmail = `owner-${randomUUID()}@example.test`;
  org = { ...(await createTestOrganization(dataSource, { ownerEmail })), ownerEmail };
  pdfBase64 = Buffer.from(await createTestPdf()).toString('base64');
});

afterAll(async () => {
  await temporalRelay?.restore().catch(() => undefined);
  await api?.close();
  await temporalRelay?.close();
  await smtp?.close();
  await dataSource?.destroy();
});

/** A pending round with `count` signers (PINs to the sender) and each signer's link token. */
async function startRound(count = 1) {
  const signers = Array.from({ length: count }, (_, index) => ({ name: `Signer ${index + 1}`, email: `signer-${randomUUID()}@example.test` }));
  const created = await call('/v1/signing-requests', {
    body: { title: 'Hardening', document: { filename: 'agreement.pdf', contentBase64: pdfBase64 }, signers },
  });
  expect(created.status).toBe(201);
  const tokens = await Promise.all(signers.map(async (signer) => signingTokenIn((await smtp.waitForMail(signer.email, 'Please sign'))[0]!)));
  return {
    id: created.body.id as string,
    handle: api.client.workflow.getHandle(workflowIdForRequest(created.body.id)),
    signers: (created.body.signers as Json[]).map((signer, index) => ({ id: signer.id as string, pin: signer.pin as string, token: tokens[index]! })),
  };
}

async function openSession(signer: { token: string; pin: string }) {
  const session = await call('/v1/signer/session', { key: null, body: { token: signer.token, pin: signer.pin } });
  expect(session.status).toBe(200);
  const sessionToken = session.body.sessionToken as string;
  await reportDocumentDisplayed(call, sessionToken); // as the signing page does: a signature needs it
  return sessionToken;
}

const asSigner = (sessionToken: string, path: string, body?: unknown) => call(path, { key: null, headers: { authorization: `Bearer ${sessionToken}` }, body });

/** A round whose activities keep failing would show here: the "stuck for ever" of finding 1. */
async function pendingActivities(requestId: string) {
  const description = await api.client.workflow.getHandle(workflowIdForRequest(requestId)).describe();
  return description.raw.pendingActivities ?? [];
}

describe('finding 1: a NUL stalls nothing', () => {
  it('is refused with 422 naming the field in a signature, a decline reason and a cancel reason; the round goes on', async () => {
    const round = await startRound();
    const session = await openSession(round.signers[0]!);
    const signed = await asSigner(session, '/v1/signer/sign', { typedName: 'Ada\u0000', consent: true });
    expect(signed.status).toBe(422);
    expect(signed.body.error).toMatchObject({ code: 'invalid_text', message: expect.stringContaining('body.typedName') });
    const declined = await asSigner(session, '/v1/signer/decline', { reason: 'no\u0000' });
    expect(declined.status).toBe(422);
    expect(declined.body.error.message).toContain('body.reason');
    const cancelled = await call(`/v1/signing-requests/${round.id}/cancel`, { body: { reason: 'stop\u0000' } });
    expect(cancelled.status).toBe(422);
    expect(cancelled.body.error.message).toContain('body.reason');

    expect((await asSigner(session, '/v1/signer/sign', { typedName: 'Ada Lovelace', consent: true })).status).toBe(200);
    expect((await round.handle.result()).status).toBe('completed');
  });

  it('injected past the API into the round, ends the round failed at once and tells the sender', async () => {
    const round = await startRound();
    await round.handle.executeUpdate(signUpdate, { args: [{ signerId: round.signers[0]!.id, typedName: 'Ada\u0000' }] });
    const result = await round.handle.result();
    expect(result).toMatchObject({ status: 'failed', failureReason: 'audit_event_rejected' });
    expect(await pendingActivities(round.id)).toEqual([]);

    const status = await call(`/v1/signing-requests/${round.id}`);
    expect(status.body.status).toBe('failed');
    const trail = await call(`/v1/signing-requests/${round.id}/audit-trail`);
    expect(trail.body.chainValid).toBe(true);
    expect((trail.body.events as Json[]).find((event) => event.type === 'failed')?.detail).toEqual({ reason: 'audit_event_rejected' });
    const [toSender] = await smtp.waitForMail(org.ownerEmail, 'Not signed');
    expect(toSender!.text).toContain('technical problem');
  });

  it('a cancel whose reason cannot be recorded ends failed, not cancelled', async () => {
    const round = await startRound();
    await round.handle.executeUpdate(cancelUpdate, { args: [{ reason: 'stop\u0000' }] });
    expect(await round.handle.result()).toMatchObject({ status: 'failed', failureReason: 'audit_event_rejected' });
    expect((await call(`/v1/signing-requests/${round.id}`)).body.status).toBe('failed');
  });
});

describe('a permanent failure other than data: an address the mail server refuses', () => {
  it('ends the round failed at once (no retrying for ever) and still tells everyone else', async () => {
    const created = await call('/v1/signing-requests', {
      body: {
        title: 'Refused',
        document: { filename: 'a.pdf', contentBase64: pdfBase64 },
        signers: [{ name: 'Nobody', email: `nobody-${randomUUID()}@example.test` }],
      },
    });
    expect(created.status).toBe(201);
    const handle = api.client.workflow.getHandle(workflowIdForRequest(created.body.id));
    expect(await handle.result()).toMatchObject({ status: 'failed', failureReason: 'message_failed' });
    const [toSender] = await smtp.waitForMail(org.ownerEmail, 'Not signed: Refused');
    expect(toSender!.text).toContain('technical problem');
    const trail = await call(`/v1/signing-requests/${created.body.id}/audit-trail`);
    expect((trail.body.events as Json[]).find((event) => event.type === 'notified')?.detail).toMatchObject({ status: 'failed', refused: 1 });
  });

  it('an invited member whose address is refused answers 422 and leaves no member behind', async () => {
    const email = `nobody-${randomUUID()}@example.test`;
    const invited = await call('/v1/members', { body: { email, role: 'member' } });
    expect(invited.status).toBe(422);
    const members = await call('/v1/members');
    expect((members.body.items as Json[]).some((member) => member.email === email)).toBe(false);
  });
});

describe('finding 2: control characters and lone surrogates in names and titles', () => {
  it.each([
    ['/v1/folders', { name: 'Sales\u0000' }, 'body.name'],
    ['/v1/api-keys', { name: 'CRM\u0007', permissions: ['view'] }, 'body.name'],
    ['/v1/members', { email: `m-${randomUUID()}@example.test`, name: 'Bo\u0085', role: 'member' }, 'body.name'],
  ])('POST %s answers 422 naming the field', async (path, body, field) => {
    const answer = await call(path, { body });
    expect(answer.status).toBe(422);
    expect(answer.body.error).toMatchObject({ code: 'invalid_text', message: expect.stringContaining(field) });
  });

  it('a request title with a NUL or a lone surrogate, and a signer name with a line break, are 422', async () => {
    const body = (title: string, name = 'Ada') => ({
      title,
      document: { filename: 'a.pdf', contentBase64: pdfBase64 },
      signers: [{ name, email: `s-${randomUUID()}@example.test` }],
    });
    for (const [request, field] of [
      [body('Contract\u0000'), 'body.title'],
      [body('Contract \ud800'), 'body.title'],
      [body('Contract', 'Ada\nMallory'), 'body.signers.0.name'],
    ] as const) {
      const answer = await call('/v1/signing-requests', { body: request });
      expect(answer.status).toBe(422);
      expect(answer.body.error.message).toContain(field);
    }
    // Prose keeps its line breaks and tabs.
    const withMessage = await call('/v1/signing-requests', { body: { ...body('Contract'), message: 'Hello,\n\tplease sign.' } });
    expect(withMessage.status).toBe(201);
  });
});

describe('findings 3 and 11: signers while Temporal is unreachable; status from PostgreSQL', () => {
  it('opens the link and reads the document, records one opened per opening, and the round hears of it later', async () => {
    const round = await startRound();
    const signer = round.signers[0]!;
    await temporalRelay.cut();
    try {
      const first = await openSession(signer);
      const document = await asSigner(first, '/v1/signer/document');
      expect(document.status).toBe(200);
      expect(document.body.subarray(0, 5).toString('latin1')).toBe('%PDF-');
      await openSession(signer);

      // The status view is PostgreSQL's: it shows the opening the round has not heard of yet, with Temporal out.
      const status = await call(`/v1/signing-requests/${round.id}`);
      expect(status.status).toBe(200);
      expect(status.body.signers[0]).toMatchObject({ status: 'opened', openedAt: expect.any(String) });
      const direct = await harnessClientQuery(round.id);
      expect(direct.signers[0]!.status).toBe('invited');

      // Signing needs the round: that is a clear 503, not a 500.
      const sign = await asSigner(first, '/v1/signer/sign', { typedName: 'Ada', consent: true });
      expect(sign.status).toBe(503);
      expect(sign.body.error.code).toBe('temporal_unavailable');
      expect(sign.headers.get('retry-after')).toBe('5');
    } finally {
      await temporalRelay.restore();
    }
    await waitFor('the openings delivered to the round', async () => (await harnessClientQuery(round.id)).signers[0]!.status === 'opened');
    await waitFor('the outbox emptied', async () => (await dataSource.query(`SELECT 1 FROM round_signal_outbox WHERE request_id = $1`, [round.id])).length === 0);
    const trail = await call(`/v1/signing-requests/${round.id}/audit-trail`);
    expect((trail.body.events as Json[]).filter((event) => event.type === 'opened')).toHaveLength(2);
  });
});

/** The round's own view, asked straight at Temporal (not through the relay the test cuts). */
async function harnessClientQuery(requestId: string) {
  const client = await connectTestClient(api.signing.payloadCodec);
  try {
    return await client.workflow.getHandle(workflowIdForRequest(requestId)).query(roundStateQuery);
  } finally {
    await client.connection.close();
  }
}

describe('findings 4 and 11: status reads never call Temporal', () => {
  it('twenty status reads and a list send nothing to Temporal, so no query wakes (or waits on) a worker', async () => {
    const round = await startRound();
    await waitFor('the invitation in the status view', async () => (await call(`/v1/signing-requests/${round.id}`)).body.signers[0].status === 'invited');
    const before = temporalRelay.bytesFromClients();
    for (let read = 0; read < 20; read++) expect((await call(`/v1/signing-requests/${round.id}`)).status).toBe(200);
    expect((await call('/v1/signing-requests')).status).toBe(200);
    // A query is hundreds of bytes; an HTTP/2 keepalive ping (17 bytes) may pass in the meantime.
    expect(temporalRelay.bytesFromClients() - before).toBeLessThan(100);
    await call(`/v1/signing-requests/${round.id}/cancel`, { body: { reason: 'test done' } });
  });
});

describe('finding 4: status reads while no worker runs', () => {
  it('answer from PostgreSQL; the support history answers without the live view', async () => {
    const idle = await startTestApi(dataSource, { withWorker: false });
    try {
      const idleCall = apiClient(() => idle.url, () => org.apiKey);
      const created = await idleCall('/v1/signing-requests', {
        body: { title: 'No worker', document: { filename: 'a.pdf', contentBase64: pdfBase64 }, signers: [{ name: 'Ada', email: `a-${randomUUID()}@example.test` }] },
      });
      expect(created.status).toBe(201);
      const status = await idleCall(`/v1/signing-requests/${created.body.id}`);
      expect(status.status).toBe(200);
      expect(status.body).toMatchObject({ status: 'pending', signers: [{ status: 'waiting' }] });
      const history = await idleCall(`/v1/signing-requests/${created.body.id}/history`);
      expect(history.status).toBe(200);
      expect(history.body.live).toBeUndefined();
      await idle.client.workflow.getHandle(workflowIdForRequest(created.body.id)).terminate('test cleanup');
    } finally {
      await idle.close();
    }
  });
});

describe('finding 5: PostgreSQL unreachable', () => {
  it('answers 503 database_unavailable with Retry-After, then serves again', async () => {
    const relay = await startTcpProxy(hostAndPort(harness.databaseUrl()));
    const url = new URL(harness.databaseUrl());
    url.hostname = '127.0.0.1';
    url.port = String(relay.port);
    const relayedDataSource = await createDataSource(url.toString(), { poolSize: 2 }).initialize();
    const relayedApi = await startTestApi(relayedDataSource, { withWorker: false });
    try {
      const relayedCall = apiClient(() => relayedApi.url, () => org.apiKey);
      expect((await relayedCall('/v1/signing-requests')).status).toBe(200);
      const round = await startRound();
      await relay.cut();
      for (const [path, options] of [
        ['/v1/signing-requests', {}],
        [`/v1/signing-requests/${round.id}`, {}],
        ['/v1/folders', { body: { name: 'During the outage' } }],
        ['/v1/signer/session', { key: null, body: { token: round.signers[0]!.token, pin: round.signers[0]!.pin } }],
      ] as const) {
        const answer = await relayedCall(path, options);
        expect({ path, status: answer.status, code: answer.body.error?.code }).toEqual({ path, status: 503, code: 'database_unavailable' });
        expect(answer.headers.get('retry-after')).toBe('5');
      }
      await relay.restore();
      await waitFor('the API serving again', async () => (await relayedCall('/v1/signing-requests')).status === 200);
      await call(`/v1/signing-requests/${round.id}/cancel`, { body: { reason: 'test done' } });
    } finally {
      await relay.restore().catch(() => undefined);
      await relayedApi.close();
      await relayedDataSource.destroy();
      await relay.close();
    }
  });
});

describe('finding 6: unsupported methods', () => {
  it('answer 405 with Allow, or 501 for methods never implemented, and are never logged as errors', async () => {
    const before = logLines.length;
    const deleted = await call('/healthz', { method: 'DELETE', key: null });
    expect(deleted.status).toBe(405);
    expect(deleted.headers.get('allow')).toMatch(/GET/);
    expect(deleted.body.error.code).toBe('method_not_allowed');
    const put = await call('/v1/signing-requests', { method: 'PUT', body: {} });
    expect(put.status).toBe(405);
    expect(put.headers.get('allow')).toMatch(/GET.*POST|POST.*GET/);
    // A fixed path beside a parameterised one (`export.csv` vs `:id`) advertises only its own methods.
    const options = await call('/v1/signing-requests/export.csv', { method: 'OPTIONS' });
    expect(options.headers.get('allow')?.split(', ').sort()).toEqual(['GET', 'HEAD']);
    const deleteExport = await call('/v1/signing-requests/export.csv', { method: 'DELETE' });
    expect(deleteExport.status).toBe(405);
    expect(deleteExport.headers.get('allow')?.split(', ').sort()).toEqual(['GET', 'HEAD']);
    expect(deleteExport.body.error.code).toBe('method_not_allowed');
    const byId = await call('/v1/signing-requests/00000000-0000-4000-8000-000000000000', { method: 'OPTIONS' });
    expect(byId.headers.get('allow')?.split(', ').sort()).toEqual(['DELETE', 'GET', 'HEAD']);

    // fetch refuses TRACE itself; a raw request goes through.
    const trace = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const request = http.request(`${api.url}/healthz`, { method: 'TRACE', agent: false }, (response) => {
        let body = '';
        response.on('data', (chunk) => (body += chunk));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
      });
      request.on('error', reject);
      request.end();
    });
    expect(trace.status).toBe(501);
    expect(JSON.parse(trace.body).error.code).toBe('not_implemented');
    const levels = logLines.slice(before).map((line) => JSON.parse(line).level as string);
    expect(levels.filter((level) => level === 'error' || level === 'fatal')).toEqual([]);
  });
});

describe('finding 7: a signer who signed is never told it failed', () => {
  it('a retried sign answers 200 with the signer signed, also after the round completed', async () => {
    const round = await startRound();
    const signer = round.signers[0]!;
    const session = await openSession(signer);
    // The first sign reached the round but its answer was lost (the API died mid-request).
    await round.handle.executeUpdate(signUpdate, { args: [{ signerId: signer.id, typedName: 'Ada' }] });
    expect((await round.handle.result()).status).toBe('completed');

    const retried = await asSigner(session, '/v1/signer/sign', { typedName: 'Ada', consent: true });
    expect(retried.status).toBe(200);
    expect(retried.body).toMatchObject({ status: 'completed', signers: [{ id: signer.id, status: 'signed', signedAt: expect.any(String) }] });
  });

  it('a repeated sign while the round is pending answers 200 and records one signature', async () => {
    const round = await startRound(2);
    const session = await openSession(round.signers[0]!);
    for (let attempt = 0; attempt < 2; attempt++) {
      const answer = await asSigner(session, '/v1/signer/sign', { typedName: 'Ada', consent: true });
      expect(answer.status).toBe(200);
      expect(answer.body.signers[0].status).toBe('signed');
    }
    await waitFor('the signature recorded', async () => (await call(`/v1/signing-requests/${round.id}`)).body.signers[0].status === 'signed');
    const trail = await call(`/v1/signing-requests/${round.id}/audit-trail`);
    expect((trail.body.events as Json[]).filter((event) => event.type === 'signed')).toHaveLength(1);
    await call(`/v1/signing-requests/${round.id}/cancel`, { body: { reason: 'test done' } });
  });
});

describe('findings 8 and 10: the OpenAPI document tells the truth', () => {
  it('every pattern compiles and the document-code pattern accepts a document code', async () => {
    const openapi = (await call('/openapi.json', { key: null })).body;
    const patterns: string[] = [];
    JSON.stringify(openapi, (key, value) => (key === 'pattern' && typeof value === 'string' ? (patterns.push(value), value) : value));
    expect(patterns.length).toBeGreaterThan(0);
    for (const pattern of patterns) expect(() => new RegExp(pattern, 'u')).not.toThrow();
    const codeParameter = (openapi.paths['/v1/verify/{documentCode}'].get.parameters as Json[]).find((parameter) => parameter.name === 'documentCode');
    const pattern = new RegExp(codeParameter.schema.pattern, 'u');
    expect(pattern.test('SGL-AB12-CD34-EF56')).toBe(true);
    expect(pattern.test('sgl-ab12-cd34-ef56')).toBe(true);
    expect(pattern.test('SGL-AB12')).toBe(false);
  });

  it('an API key on /v1/auth/session and /v1/auth/logout gets the documented 403', async () => {
    const openapi = (await call('/openapi.json', { key: null })).body;
    expect((await call('/v1/auth/session')).status).toBe(403);
    expect(openapi.paths['/v1/auth/session'].get.responses['403']).toBeDefined();
    expect((await call('/v1/auth/logout', { method: 'POST' })).status).toBe(403);
    expect(openapi.paths['/v1/auth/logout'].post.responses['403']).toBeDefined();
  });
});
