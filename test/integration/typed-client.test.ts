/**
 * @sigill/client against the real API (real Temporal, PostgreSQL, SMTP): its committed types are what
 * openapi-typescript makes of the live /openapi.json, a round created and signed with it completes, an
 * Idempotency-Key replay converges on one round, paging walks every page, and its webhook verification
 * accepts Sigill's own deliveries and agrees with the official standardwebhooks library, during a secret
 * rotation too.
 */
import { execFile } from 'node:child_process';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { promisify } from 'node:util';
import {
  createSigillClient,
  idempotencyKey,
  idempotent,
  paginate,
  SigillApiError,
  unwrap,
  verifyWebhook,
  webhookEventTypes,
  WebhookVerificationError,
  type SigillClient,
} from '@sigill/client';
import { Webhook } from 'standardwebhooks';
import type { DataSource } from 'typeorm';
import { projectRoot } from '../../src/adapters/find-executable';
import { webhookEventTypes as serverEventTypes } from '../../src/contract/webhooks';
import { createTestOrganization } from '../support/factories';
import { openTestDataSource, startTestApi, type TestApi } from '../support/harness';
import { createTestPdf } from '../support/pdf-factories';
import { signingTokenIn, startSmtpCatcher } from '../support/smtp-catcher';
import { waitFor } from '../support/wait-for';

const execFileAsync = promisify(execFile);

let dataSource: DataSource;
let smtp: Awaited<ReturnType<typeof startSmtpCatcher>>;
let api: TestApi;
let sigill: SigillClient;
let pdfBase64: string;
const webhookOrganizations: string[] = [];

beforeAll(async () => {
  dataSource = await openTestDataSource();
  smtp = await startSmtpCatcher();
  // Webhook messages of the organisations this file subscribes are dispatched by this API, as in the service.
  api = await startTestApi(dataSource, { env: { SMTP_URL: smtp.url }, webhookOrganizations: () => webhookOrganizations });
  const org = await createTestOrganization(dataSource);
  sigill = createSigillClient({ baseUrl: api.url, apiKey: org.apiKey });
  pdfBase64 = Buffer.from(await createTestPdf()).toString('base64');
});

afterAll(async () => {
  await api?.close();
  await smtp?.close();
  await dataSource?.destroy();
});

const newSecret = () => `whsec_${randomBytes(32).toString('base64')}`;

/** What verification made of a delivery: 'accepted', the WebhookVerificationError's reason, or another error. */
function failure(run: () => unknown) {
  try {
    run();
  } catch (error) {
    return error instanceof WebhookVerificationError ? error.reason : error;
  }
  return 'accepted';
}

const roundBody = (title: string, signerEmail = `signer-${randomUUID()}@example.test`) => ({
  title,
  document: { filename: 'agreement.pdf', contentBase64: pdfBase64 },
  signers: [{ name: 'Aino Virtanen', email: signerEmail, pinDelivery: 'sender' as const }],
});

describe('the committed types', () => {
  // The check runs as the command CI or a person runs, not inside jest: openapi-typescript's dependencies are
  // ESM, which jest's CommonJS loader cannot require.
  const checkSchema = (...args: string[]) =>
    execFileAsync(process.execPath, ['--import', 'tsx', 'scripts/generate-client.ts', '--check', ...args], { cwd: projectRoot }).then(
      () => 'matches',
      (failed: { stderr: string }) => failed.stderr,
    );

  // Without a URL the check starts the API on embedded defaults, as generation does: the harness API differs
  // in configuration (it serves no /metrics), and the committed types are those of the canonical setup.
  test('are what openapi-typescript makes of the live /openapi.json', async () => {
    expect(await checkSchema()).toBe('matches');
  });

  test('a document with a route less is caught, naming where, with what to run', async () => {
    const live = (await (await fetch(`${api.url}/openapi.json`)).json()) as { paths: Record<string, unknown> };
    delete live.paths['/v1/signing-requests/{id}/remind'];
    const changed = http.createServer((_request, response) => response.setHeader('content-type', 'application/json').end(JSON.stringify(live)));
    await new Promise<void>((resolve) => changed.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = changed.address() as AddressInfo;
      const report = await checkSchema(`http://127.0.0.1:${port}`);
      expect(report).toMatch(/does not match the OpenAPI document .*: run npm run client:generate/);
      // The first difference is where the route went missing (the committed file still has it there).
      expect(report).toMatch(/committed ".*\/v1\/signing-requests\/\{id\}\/remind/);
    } finally {
      await new Promise((resolve) => changed.close(resolve));
    }
  });

  test("name the same webhook event types as the server's contract", () => {
    expect([...webhookEventTypes]).toEqual([...serverEventTypes]);
  });
});

describe('a signing round through the client', () => {
  test('is created once for one Idempotency-Key, read back, signed and sealed', async () => {
    const signerEmail = `signer-${randomUUID()}@example.test`;
    const body = roundBody('Typed client agreement', signerEmail);
    const key = idempotencyKey();

    const first = await sigill.POST('/v1/signing-requests', { body, ...idempotent(key) });
    expect(first.response.status).toBe(201);
    const created = unwrap(first);
    expect(created.status).toBe('pending');
    // A retry (say, after a timeout) with the same key is answered with the same round, not a second one.
    const retried = unwrap(await sigill.POST('/v1/signing-requests', { body, ...idempotent(key) }));
    expect(retried.id).toBe(created.id);
    // The same key with a different request is a typed 409.
    const misused = await sigill.POST('/v1/signing-requests', { body: { ...body, title: 'Something else' }, ...idempotent(key) });
    expect(misused.response.status).toBe(409);
    expect(misused.error?.error.code).toBe('conflict');

    const read = unwrap(await sigill.GET('/v1/signing-requests/{id}', { params: { path: { id: created.id } } }));
    expect(read).toMatchObject({ id: created.id, title: 'Typed client agreement', status: 'pending' });
    expect(read.signers.map((signer) => signer.email)).toEqual([signerEmail]);

    // The signer's side, with the same client: the emailed link and the PIN the sender was given.
    const [invitation] = await smtp.waitForMail(signerEmail, 'Please sign');
    const signerApi = createSigillClient({ baseUrl: api.url });
    const session = unwrap(await signerApi.POST('/v1/signer/session', { body: { token: signingTokenIn(invitation!), pin: created.signers[0]!.pin! } }));
    const signer = createSigillClient({ baseUrl: api.url, apiKey: session.sessionToken });
    const round = unwrap(await signer.GET('/v1/signer/round'));
    unwrap(await signer.POST('/v1/signer/reading-events', { body: { event: 'document_displayed', page: 1, pageCount: round.document.pageCount } }));
    unwrap(await signer.POST('/v1/signer/sign', { body: { typedName: 'Aino Virtanen', consent: true } }));

    const completed = await waitFor('the round to be completed', async () => {
      const view = unwrap(await sigill.GET('/v1/signing-requests/{id}', { params: { path: { id: created.id } } }));
      return view.status === 'completed' && view;
    });
    expect(completed.signers[0]!.status).toBe('signed');
    const sealed = unwrap(await sigill.GET('/v1/signing-requests/{id}/document', { params: { path: { id: created.id } }, parseAs: 'arrayBuffer' }));
    const bytes = Buffer.from(sealed);
    expect(bytes.subarray(0, 5).toString('latin1')).toBe('%PDF-');
    expect(createHash('sha256').update(bytes).digest('hex')).toBe(completed.sha256);
  });

  test('error answers are typed, and unwrap throws them as SigillApiError', async () => {
    const missing = await sigill.GET('/v1/signing-requests/{id}', { params: { path: { id: randomUUID() } } });
    expect(missing.response.status).toBe(404);
    expect(missing.error?.error.code).toBe('not_found');
    const thrown = (() => {
      try {
        unwrap(missing);
      } catch (error) {
        return error;
      }
    })();
    expect(thrown).toBeInstanceOf(SigillApiError);
    expect(thrown).toMatchObject({ status: 404, code: 'not_found', requestId: expect.any(String) });

    const wrongKey = createSigillClient({ baseUrl: api.url, apiKey: `sgl_0123456789abcdef_${'A'.repeat(43)}` });
    expect((await wrongKey.GET('/v1/signing-requests')).error?.error.code).toBe('unauthenticated');
    expect(() => idempotent('has spaces')).toThrow(TypeError);
  });
});

describe('paginate', () => {
  test('follows nextCursor through every page, keeping the filters', async () => {
    const org = await createTestOrganization(dataSource);
    const own = createSigillClient({ baseUrl: api.url, apiKey: org.apiKey });
    const marker = `Paged ${randomUUID().slice(0, 8)}`;
    const ids: string[] = [];
    for (let index = 0; index < 5; index++) {
      ids.push(unwrap(await own.POST('/v1/signing-requests', { body: roundBody(`${marker} #${index}`) })).id);
    }
    unwrap(await own.POST('/v1/signing-requests', { body: roundBody('Not part of the filter') }));

    const seen: string[] = [];
    for await (const item of paginate(own, '/v1/signing-requests', { params: { query: { q: marker, limit: 2 } } })) {
      expect(item.title.startsWith(marker)).toBe(true);
      seen.push(item.id);
    }
    // Three pages of at most two, newest first; the request outside the filter never appears.
    expect(seen).toEqual([...ids].reverse());

    // Stopping early stops fetching: the first item only.
    for await (const item of paginate(own, '/v1/signing-requests', { params: { query: { q: marker, limit: 2 } } })) {
      expect(item.id).toBe(ids[4]);
      break;
    }
  });

  test('throws the API refusal of a page as SigillApiError', async () => {
    const pages = paginate(sigill, '/v1/signing-requests', { params: { query: { createdFrom: 'yesterday' } } });
    await expect(pages.next()).rejects.toMatchObject({ name: 'SigillApiError', status: 400, code: 'invalid_request' });
  });
});

describe('a delivery from Sigill', () => {
  interface Received {
    headers: http.IncomingHttpHeaders;
    body: Buffer;
  }

  /** A subscriber's endpoint: keeps each delivery exactly as it arrived (headers, raw body) and answers 204. */
  async function startReceiver() {
    const received: Received[] = [];
    const server = http.createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        received.push({ headers: request.headers, body: Buffer.concat(chunks) });
        response.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return {
      url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/sigill-webhooks`,
      received,
      close: () => new Promise((resolve) => server.close(resolve)),
    };
  }

  test('verifies with the secret the client was given, and with either secret after a rotation', async () => {
    const org = await createTestOrganization(dataSource);
    webhookOrganizations.push(org.orgId);
    const own = createSigillClient({ baseUrl: api.url, apiKey: org.apiKey });
    const receiver = await startReceiver();
    try {
      const endpoint = unwrap(await own.POST('/v1/webhook-endpoints', { body: { url: receiver.url, events: ['signing_request.created'] } }));
      expect(endpoint.secret).toMatch(/^whsec_/);

      const first = unwrap(await own.POST('/v1/signing-requests', { body: roundBody('Announced by webhook') }));
      const [delivery] = await waitFor('the created event to be delivered', () => receiver.received.length >= 1 && receiver.received);
      const event = verifyWebhook({ secrets: endpoint.secret, headers: delivery!.headers, body: delivery!.body });
      expect(event).toMatchObject({ type: 'signing_request.created', data: { signingRequestId: first.id, status: 'pending' } });
      expect(failure(() => verifyWebhook({ secrets: newSecret(), headers: delivery!.headers, body: delivery!.body }))).toBe('invalid_signature');

      // After a rotation both secrets sign for the overlap: a receiver still on the old one keeps accepting.
      const rotated = unwrap(await own.POST('/v1/webhook-endpoints/{id}/rotate-secret', { params: { path: { id: endpoint.id } }, body: { overlap: 'PT1H' } }));
      expect(rotated.secret).not.toBe(endpoint.secret);
      const second = unwrap(await own.POST('/v1/signing-requests', { body: roundBody('Announced after the rotation') }));
      const during = (await waitFor('the second event to be delivered', () => receiver.received.length >= 2 && receiver.received))[1]!;
      for (const secrets of [endpoint.secret, rotated.secret, [rotated.secret, endpoint.secret]]) {
        expect(verifyWebhook({ secrets, headers: during.headers, body: during.body }).data.signingRequestId).toBe(second.id);
      }

      // The delivery log, paged with the client, names the messages the receiver got, as delivered.
      const logged = await waitFor('both deliveries to be logged as delivered', async () => {
        const items = [];
        for await (const item of paginate(own, '/v1/webhook-endpoints/{id}/deliveries', { params: { path: { id: endpoint.id }, query: { limit: 1 } } })) items.push(item);
        return items.length === 2 && items.every((item) => item.status === 'delivered') && items;
      });
      expect(logged.map((item) => item.messageId).sort()).toEqual(receiver.received.map((item) => String(item.headers['webhook-id'])).sort());
    } finally {
      await receiver.close();
    }
  });
});

describe('verifyWebhook', () => {
  const event = { type: 'signing_request.completed', timestamp: new Date().toISOString(), data: { signingRequestId: randomUUID(), status: 'completed' } };

  /** A delivery as Sigill sends one: the body, and headers signed with every given secret (the library's own signing). */
  function delivery(secrets: string[], body = JSON.stringify(event), signedAt = new Date()) {
    const id = `msg_${randomUUID()}`;
    const signature = secrets.map((secret) => new Webhook(secret).sign(id, signedAt, body)).join(' ');
    return { body, headers: { 'webhook-id': id, 'webhook-timestamp': String(Math.floor(signedAt.getTime() / 1000)), 'webhook-signature': signature } };
  }

  test('returns the typed event of a genuine delivery, from a raw string, bytes, or fetch Headers', () => {
    const secret = newSecret();
    const { body, headers } = delivery([secret]);
    expect(verifyWebhook({ secrets: secret, headers, body })).toEqual(event);
    expect(verifyWebhook({ secrets: [secret], headers: new Headers(headers), body: Buffer.from(body) })).toEqual(event);
    // Header names as a framework may pass them: any case.
    const shouted = Object.fromEntries(Object.entries(headers).map(([name, value]) => [name.toUpperCase(), value]));
    expect(verifyWebhook({ secrets: secret, headers: shouted, body }).type).toBe('signing_request.completed');
  });

  test('refuses a tampered body, a wrong secret, a stale or missing timestamp', () => {
    const secret = newSecret();
    const { body, headers } = delivery([secret]);
    expect(failure(() => verifyWebhook({ secrets: secret, headers, body: body.replace('completed', 'cancelled') }))).toBe('invalid_signature');
    expect(failure(() => verifyWebhook({ secrets: newSecret(), headers, body }))).toBe('invalid_signature');
    const stale = delivery([secret], JSON.stringify(event), new Date(Date.now() - 10 * 60_000));
    expect(failure(() => verifyWebhook({ secrets: secret, ...stale }))).toBe('timestamp_out_of_tolerance');
    const { 'webhook-signature': _signature, ...unsigned } = headers;
    expect(failure(() => verifyWebhook({ secrets: secret, headers: unsigned, body }))).toBe('missing_headers');
    // Signed, but not an event: the receiver must not act on it.
    const notAnEvent = delivery([secret], JSON.stringify({ hello: 'world' }));
    expect(failure(() => verifyWebhook({ secrets: secret, ...notAnEvent }))).toBe('invalid_payload');
  });

  test('during a rotation accepts either secret, and a delivery signed with both', () => {
    const [oldSecret, rotated] = [newSecret(), newSecret()];
    const both = [rotated, oldSecret];
    expect(failure(() => verifyWebhook({ secrets: both, ...delivery([oldSecret]) }))).toBe('accepted');
    expect(failure(() => verifyWebhook({ secrets: both, ...delivery([rotated]) }))).toBe('accepted');
    // While both sign, each delivery carries two signatures: a receiver that knows only one secret still accepts it.
    const overlap = delivery([rotated, oldSecret]);
    expect(failure(() => verifyWebhook({ secrets: oldSecret, ...overlap }))).toBe('accepted');
    expect(failure(() => verifyWebhook({ secrets: rotated, ...overlap }))).toBe('accepted');
    expect(failure(() => verifyWebhook({ secrets: [newSecret(), newSecret()], ...overlap }))).toBe('invalid_signature');
  });

  test('a secret read from a file or an env file, with its line ending or padding, still verifies', () => {
    const secret = newSecret();
    for (const written of [`${secret}\n`, `${secret}\r\n`, `  ${secret} `]) {
      expect(failure(() => verifyWebhook({ secrets: [written], ...delivery([secret]) }))).toBe('accepted');
    }
  });

  test('a malformed secret is a configuration error that does not echo the secret', () => {
    const { body, headers } = delivery([newSecret()]);
    const thrown = failure(() => verifyWebhook({ secrets: [newSecret(), 'whsec_!!not-base64!!'], headers, body }));
    expect(thrown).toBeInstanceOf(TypeError);
    expect((thrown as TypeError).message).toContain('secret #2');
    expect((thrown as TypeError).message).not.toContain('not-base64');
  });
});
