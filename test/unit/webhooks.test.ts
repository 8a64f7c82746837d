/**
 * The pure parts of webhooks: which destinations are refused (ipaddr.js ranges, IPv4-mapped IPv6 included),
 * which URLs an endpoint may have, how long a retry waits (schedule, Retry-After), which audit events raise
 * which messages and what those say, and the configuration that shapes delivery.
 */
import http from 'node:http';
import net from 'node:net';
import { parseConfig, standardWebhookRetryScheduleMs } from '../../src/config';
import { retryWait } from '../../src/webhooks/attempt-delivery';
import { webhookMessagesForRoundEvent } from '../../src/webhooks/events';
import { webhookDisabledEmail } from '../../src/webhooks/messages';
import { checkEndpointUrl, parseRetryAfter, postJson, refusedAddressRange } from '../../src/webhooks/outbound-request';

test('only public unicast addresses are destinations', () => {
  expect(refusedAddressRange('93.184.216.34')).toBeUndefined();
  expect(refusedAddressRange('2606:2800:220:1:248:1893:25c8:1946')).toBeUndefined();
  const refused: Array<[string, string]> = [
    ['127.0.0.1', 'loopback'],
    ['127.8.9.10', 'loopback'],
    ['::1', 'loopback'],
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:7f00:1', 'loopback'],
    ['169.254.169.254', 'linkLocal'],
    ['fe80::1', 'linkLocal'],
    ['10.0.0.1', 'private'],
    ['172.16.5.4', 'private'],
    ['192.168.1.1', 'private'],
    ['::ffff:192.168.1.1', 'private'],
    ['fd00::1', 'uniqueLocal'],
    ['100.64.0.1', 'carrierGradeNat'],
    ['224.0.0.1', 'multicast'],
    ['ff02::1', 'multicast'],
    ['0.0.0.0', 'unspecified'],
    ['::', 'unspecified'],
  ];
  for (const [address, range] of refused) expect([address, refusedAddressRange(address)]).toEqual([address, range]);
  // IPv6 forms that carry an IPv4 address inside are refused too, whatever they carry.
  expect(refusedAddressRange('64:ff9b::7f00:1')).toBeDefined();
  expect(refusedAddressRange('2002:7f00:1::')).toBeDefined();
  // IPv4-compatible (::/96, what http://[::127.0.0.1]/ becomes) and other IPv6 outside global unicast
  // 2000::/3, which ipaddr.js calls unicast.
  for (const address of ['::127.0.0.1', '::7f00:1', '::a9fe:a9fe', '::a00:1', '1::1', '4000::1', 'e000::1']) {
    expect([address, refusedAddressRange(address)]).toEqual([address, expect.any(String)]);
  }
});

test('endpoint URLs: https and public literals in production, anything http(s) in development', () => {
  const production = { allowPrivateDestinations: false, requireHttps: true };
  const development = { allowPrivateDestinations: true, requireHttps: false };
  expect(checkEndpointUrl('https://hooks.example.com/sigill?token=x', production)).toBe('https://hooks.example.com/sigill?token=x');
  expect(checkEndpointUrl('http://127.0.0.1:8080/hook', development)).toBe('http://127.0.0.1:8080/hook');
  for (const url of [
    'http://hooks.example.com/',
    'https://127.0.0.1/',
    'https://[::ffff:127.0.0.1]/',
    'https://[::127.0.0.1]/',
    'https://169.254.169.254/',
    'https://app.localhost/',
    'https://localhost./',
    'https://2130706433/',
    'https://0x7f.1/',
    'https://0177.0.0.1/',
    'https://127.0.0.1./',
    'https://0/',
  ]) {
    expect(() => checkEndpointUrl(url, production)).toThrow(expect.objectContaining({ code: 'webhook_destination_refused' }));
  }
  for (const url of ['ftp://example.com/', 'example.com/hook', 'https://a:b@example.com/', 'https://example.com/#x', 'https://example.com:0/']) {
    expect(() => checkEndpointUrl(url, development)).toThrow(expect.objectContaining({ code: 'unprocessable' }));
  }
});

describe('an attempt is bounded by its timeout, and an answer that came in time counts', () => {
  const development = { allowPrivateDestinations: true, requireHttps: false, timeoutMs: 1000 };
  const servers: Array<http.Server | net.Server> = [];
  afterAll(async () => {
    for (const server of servers) await new Promise((resolve) => server.close(resolve));
  });
  async function listen(server: http.Server | net.Server): Promise<number> {
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return (server.address() as net.AddressInfo).port;
  }
  /** Writes a line every 100 ms until the client hangs up. */
  const drip = (write: () => void, socket: { on(event: 'close', listener: () => void): unknown }) => {
    const timer = setInterval(write, 100);
    socket.on('close', () => clearInterval(timer));
  };

  test('a status whose body is still dripping when the time is up is the answer', async () => {
    const port = await listen(
      http.createServer((request, response) => {
        request.resume();
        response.writeHead(200, { 'content-type': 'text/plain' });
        drip(() => response.write('.'), response);
      }),
    );
    const answer = await postJson(`http://127.0.0.1:${port}/hooks`, {}, '{}', development);
    expect(answer).toEqual({ httpStatus: 200, latencyMs: expect.any(Number) });
    expect(answer.latencyMs).toBeLessThan(1000);
  });

  test('headers that never finish are a timeout', async () => {
    const port = await listen(
      net.createServer((socket) => {
        socket.on('error', () => undefined);
        socket.once('data', () => {
          socket.write('HTTP/1.1 200 OK\r\n');
          drip(() => socket.write('x-slow: yes\r\n'), socket);
        });
      }),
    );
    const started = Date.now();
    expect(await postJson(`http://127.0.0.1:${port}/hooks`, {}, '{}', development)).toEqual({ error: 'timed out after 1 s', latencyMs: expect.any(Number) });
    expect(Date.now() - started).toBeLessThan(3000);
  });
});

test('a retry waits as scheduled, or as long as Retry-After asks, never past the longest scheduled wait', () => {
  expect(retryWait(5000, undefined, 86_400_000)).toBe(5000);
  expect(retryWait(5000, 60_000, 86_400_000)).toBe(60_000);
  expect(retryWait(300_000, 1000, 86_400_000)).toBe(300_000);
  expect(retryWait(5000, 10 * 86_400_000, 86_400_000)).toBe(86_400_000);
  expect(parseRetryAfter('120')).toBe(120_000);
  expect(parseRetryAfter(new Date(Date.now() + 30_000).toUTCString(), Date.now())).toBeGreaterThan(28_000);
  expect(parseRetryAfter('soon')).toBeUndefined();
  expect(parseRetryAfter(undefined)).toBeUndefined();
});

test('audit events map to webhook events carrying ids, statuses and times only', () => {
  const base = { requestId: '6f1c1a4e-98a4-4a53-9d43-3a5a9f3b8a11', signerId: '0b9a3f52-5f0e-4bf1-9a55-2a4d1f3c9e01', occurredAt: new Date('2026-01-02T03:04:05Z') };
  const declined = webhookMessagesForRoundEvent({ ...base, eventKey: 'declined', type: 'declined', detail: { reason: 'My own words' } });
  expect(declined.map((message) => message.type)).toEqual(['signer.declined', 'signing_request.declined']);
  expect(declined[0]!.payload).toEqual({
    type: 'signer.declined',
    timestamp: '2026-01-02T03:04:05.000Z',
    data: { signingRequestId: base.requestId, occurredAt: '2026-01-02T03:04:05.000Z', signerId: base.signerId, signerStatus: 'declined' },
  });
  expect(JSON.stringify(declined)).not.toContain('My own words');
  expect(new Set(declined.map((message) => message.source_key)).size).toBe(2);
  expect(declined[0]!.id).toMatch(/^msg_[A-Za-z0-9]{24}$/);
  expect(webhookMessagesForRoundEvent({ ...base, signerId: null, eventKey: 'failed', type: 'failed', detail: { reason: 'seal_failed' } })[0]!.payload.data).toMatchObject({
    status: 'failed',
    failureReason: 'seal_failed',
  });
  for (const quiet of ['reminded', 'pin_failed', 'sealed', 'archived', 'notified', 'link_opened', 'opened']) {
    expect(webhookMessagesForRoundEvent({ ...base, eventKey: quiet, type: quiet, detail: null })).toEqual([]);
  }
});

test.each(['en', 'fi', 'sv'] as const)('the disabled-endpoint email (%s) names scheme, host and port only: paths and queries carry tokens', (locale) => {
  const email = webhookDisabledEmail(
    {
      url: 'https://hooks.example.com:8443/services/T0001/B0001/tokenInThePath0123456789?token=inTheQuery',
      organizationName: 'Acme Oy',
      failingSince: new Date('2026-01-01T08:00:00Z'),
      disabledAt: new Date('2026-01-06T08:00:00Z'),
      timeZone: 'Europe/Helsinki',
    },
    { name: 'Aino', locale },
    'https://sigill.example.com/admin/webhooks/5b1e',
  );
  for (const part of [email.subject, email.text, email.html]) {
    expect(part).not.toMatch(/services|T0001|tokenInThePath|inTheQuery/);
  }
  expect(email.subject).toContain('hooks.example.com:8443');
  expect(email.text).toContain('https://hooks.example.com:8443');
  expect(email.text).toContain('https://sigill.example.com/admin/webhooks/5b1e');
});

test('webhook configuration: Standard Webhooks schedule by default, private destinations only outside production', () => {
  const development = parseConfig({});
  expect(development.webhooks).toEqual({
    allowPrivateDestinations: true,
    requireHttps: false,
    timeoutMs: 10_000,
    retryScheduleMs: standardWebhookRetryScheduleMs,
    disableAfterFailingMs: 5 * 86_400_000,
    concurrency: 20,
  });
  expect(standardWebhookRetryScheduleMs.map((ms) => ms / 1000)).toEqual([5, 300, 1800, 7200, 18_000, 36_000, 50_400, 72_000, 86_400]);
  const production = parseConfig({ NODE_ENV: 'production' });
  expect(production.production).toBe(true);
  expect(production.webhooks).toMatchObject({ allowPrivateDestinations: false, requireHttps: true });
  expect(parseConfig({ NODE_ENV: 'production', WEBHOOK_ALLOW_PRIVATE_DESTINATIONS: 'true' }).webhooks.allowPrivateDestinations).toBe(true);
  expect(parseConfig({ WEBHOOK_RETRY_SCHEDULE: 'PT1S, PT2S' }).webhooks.retryScheduleMs).toEqual([1000, 2000]);
  expect(() => parseConfig({ WEBHOOK_RETRY_SCHEDULE: 'PT1S,soon' })).toThrow(/WEBHOOK_RETRY_SCHEDULE/);
  expect(() => parseConfig({ WEBHOOK_TIMEOUT: 'PT5M' })).toThrow(/WEBHOOK_TIMEOUT/);
});
