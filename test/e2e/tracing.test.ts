/**
 * OpenTelemetry tracing (R17) end to end: `src/main.ts` as a child process with OTEL_EXPORTER_OTLP_ENDPOINT
 * pointing at a plain OTLP/HTTP receiver in this test (the exporter sends JSON to /v1/traces). One
 * create → sign → seal round must arrive as traces an operator can follow: the create request's trace
 * holds the API's server span, the workflow's start and run, and its activities down to the seal; the sign
 * request's trace holds the Temporal Update as the workflow handled it. A log line carries the trace id.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { DataSource } from 'typeorm';
import { createTestOrganization } from '../support/factories';
import { Worker } from '@temporalio/worker';
import { sigillDataConverter } from '../../src/adapters/data-converter';
import { workflowTracing } from '../../src/observability/tracing';
import { connectTestClient, harness, openTestDataSource, testSigningContext } from '../support/harness';
import { createTestPdf } from '../support/pdf-factories';
import { startSmtpCatcher } from '../support/smtp-catcher';
import { signOneRoundOverHttp, startSpawnedService, waitUntilServing, type SpawnedService } from '../support/spawned-service';
import { waitFor } from '../support/wait-for';

interface ReceivedSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  serviceName?: string;
  attributes: Record<string, unknown>;
}

/** What an OTLP/HTTP collector receives, flattened to spans with their resource's service name. */
function startOtlpReceiver() {
  const spans: ReceivedSpan[] = [];
  const contentTypes = new Set<string>();
  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      if (request.method !== 'POST' || request.url !== '/v1/traces') {
        response.writeHead(404).end();
        return;
      }
      contentTypes.add(request.headers['content-type'] ?? '');
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      for (const resourceSpans of body.resourceSpans ?? []) {
        const serviceName = resourceSpans.resource?.attributes?.find((a: { key: string }) => a.key === 'service.name')?.value?.stringValue;
        for (const scopeSpans of resourceSpans.scopeSpans ?? []) {
          for (const span of scopeSpans.spans ?? []) {
            spans.push({
              traceId: span.traceId,
              spanId: span.spanId,
              parentSpanId: span.parentSpanId || undefined,
              name: span.name,
              serviceName,
              attributes: Object.fromEntries(
                (span.attributes ?? []).map((a: { key: string; value: Record<string, unknown> }) => [a.key, Object.values(a.value)[0]]),
              ),
            });
          }
        }
      }
      response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  return {
    spans,
    contentTypes,
    async listen(): Promise<string> {
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

let dataSource: DataSource;
let smtp: Awaited<ReturnType<typeof startSmtpCatcher>>;
let receiver: ReturnType<typeof startOtlpReceiver>;
let service: SpawnedService;

beforeAll(async () => {
  dataSource = await openTestDataSource();
  smtp = await startSmtpCatcher();
  receiver = startOtlpReceiver();
  const endpoint = await receiver.listen();
  service = await startSpawnedService({
    entry: 'src/main.ts',
    smtpUrl: smtp.url,
    env: { OTEL_EXPORTER_OTLP_ENDPOINT: endpoint, OTEL_SERVICE_NAME: 'sigill-under-test' },
  });
  await waitUntilServing(service, 'src/main.ts');
}, 150_000);

afterAll(async () => {
  await service?.process.stop();
  await receiver?.close();
  await smtp?.close();
  await dataSource?.destroy();
});

let tracedRoundId: string | undefined;
const named = (name: string) => (span: ReceivedSpan) => span.name === name;

test('one create → sign → seal is traced from the API through the workflow to its activities, and logged with its trace id', async () => {
  const org = await createTestOrganization(dataSource);
  const { id } = await signOneRoundOverHttp(service, org.apiKey, smtp, await createTestPdf());
  tracedRoundId = id;

  // Workflow spans leave the sandbox when they end (RunWorkflow when the round is over); the batch
  // processor sends every few seconds.
  const create = await waitFor('the create request\'s trace to hold the run of the workflow', () => {
    const server = receiver.spans.find(named('POST /v1/signing-requests'));
    const run = server && receiver.spans.find((span) => span.traceId === server.traceId && span.name === 'RunWorkflow:signingRoundWorkflow');
    return run ? server : undefined;
  }, 60_000);
  const trace = () => receiver.spans.filter((span) => span.traceId === create.traceId);
  const inTrace = (name: string) => trace().find(named(name));

  // The API's span is the root; Temporal's client span its child; the workflow and activities below.
  expect(create.parentSpanId).toBeUndefined();
  expect(create.serviceName).toBe('sigill-under-test');
  expect(create.attributes['http.route']).toBe('/v1/signing-requests');
  expect(create.attributes['http.response.status_code']).toBe(201);
  const start = inTrace('StartWorkflow:signingRoundWorkflow');
  expect(start?.parentSpanId).toBe(create.spanId);
  const run = inTrace('RunWorkflow:signingRoundWorkflow')!;
  expect(run.parentSpanId).toBe(start!.spanId);
  expect(run.attributes.workflowId).toBe(`signing-request-${id}`);
  for (const activity of ['sendInvitation', 'sealSignedDocument', 'archiveSealedDocument', 'recordOutcome', 'notifyOutcome']) {
    const scheduled = inTrace(`StartActivity:${activity}`);
    const ran = inTrace(`RunActivity:${activity}`);
    expect({ activity, scheduled: Boolean(scheduled), ran: Boolean(ran) }).toEqual({ activity, scheduled: true, ran: true });
    expect(ran!.parentSpanId).toBe(scheduled!.spanId);
  }

  // The signature: its request's trace holds the Update from the client's call to the workflow's handler.
  const sign = receiver.spans.find(named('POST /v1/signer/sign'))!;
  expect(sign).toBeDefined();
  const startUpdate = receiver.spans.find((span) => span.traceId === sign.traceId && span.name === 'StartWorkflowUpdate:sign');
  expect(startUpdate?.parentSpanId).toBe(sign.spanId);
  await waitFor('the workflow\'s handling of the update', () =>
    receiver.spans.find((span) => span.traceId === sign.traceId && span.name === 'HandleUpdate:sign'),
  );

  // Nothing personal or secret in any span: no raw URL with the signer's token, no document, no email.
  const everything = JSON.stringify(receiver.spans);
  expect(everything).not.toContain('@example.test');
  expect(everything).not.toMatch(/\/s\/[0-9a-f]{64}/);
  expect([...receiver.contentTypes]).toEqual(['application/json']);

  // The create request's access log line names the trace an operator can then look up.
  const logged = service.logLines().find((line) => line.msg === 'request' && line.route === '/v1/signing-requests' && line.method === 'POST');
  expect(logged).toMatchObject({ traceId: create.traceId, spanId: create.spanId });
});

test('the traced round replays on a worker with tracing off: turning tracing off breaks no running round', async () => {
  const client = await connectTestClient();
  try {
    expect(tracedRoundId).toBeDefined();
    const history = await client.workflow.getHandle(`signing-request-${tracedRoundId}`).fetchHistory();
    // Started traced: its start carries the trace context the workflow decides by.
    const started = history.events?.[0]?.workflowExecutionStartedEventAttributes;
    expect(Object.keys(started?.header?.fields ?? {})).toContain('_tracer-data');
    const signing = await testSigningContext(dataSource);
    // The bundle every worker runs; this process has no tracing, so its sink drops what the workflow traces.
    await Worker.runReplayHistory(
      { workflowBundle: { codePath: harness.workflowBundle() }, dataConverter: sigillDataConverter(signing.payloadCodec), sinks: workflowTracing().sinks },
      history,
    );
  } finally {
    await client.connection.close();
  }
});
