/**
 * Exported spans keep that something failed and the error's type, never its message or stack: messages
 * can name a person (an address the mail server refused) and the trace backend is outside our redaction.
 */
import { SpanStatusCode } from '@opentelemetry/api';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { withoutErrorDetails } from '../../src/observability/tracing';

test('a failed span is exported with its status code and exception type only', async () => {
  const exported = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(withoutErrorDetails(exported))] });
  const tracer = provider.getTracer('test');

  const failed = tracer.startSpan('RunActivity:notifyOutcome', { attributes: { temporalActivityId: '7' } });
  const error = new TypeError('550 5.1.1 <aino.virtanen@example.test>: no such user');
  failed.recordException(error);
  failed.setStatus({ code: SpanStatusCode.ERROR, message: error.message });
  failed.end();
  const fine = tracer.startSpan('RunActivity:sendInvitation');
  fine.addEvent('retried', { attempt: 2 });
  fine.end();
  await provider.forceFlush();

  const [first, second] = exported.getFinishedSpans();
  expect(JSON.stringify({ status: first!.status, events: first!.events, attributes: first!.attributes })).not.toContain('aino.virtanen');
  expect(first!.status).toEqual({ code: SpanStatusCode.ERROR });
  expect(first!.events.map((event) => [event.name, event.attributes])).toEqual([['exception', { 'exception.type': 'TypeError' }]]);
  expect(first!.name).toBe('RunActivity:notifyOutcome');
  expect(first!.attributes).toEqual({ temporalActivityId: '7' });
  expect(first!.spanContext().spanId).toBe(failed.spanContext().spanId);
  expect(second!.events.map((event) => [event.name, event.attributes])).toEqual([['retried', { attempt: 2 }]]);
});
