/**
 * OpenTelemetry tracing (R17), off unless OTEL_EXPORTER_OTLP_ENDPOINT is set. One trace follows a request
 * from the API through Temporal: the server span (below) is the parent of the client's StartWorkflow span,
 * whose context travels in the workflow's headers to RunWorkflow and on to each StartActivity/RunActivity
 * (@temporalio/interceptors-opentelemetry). Workflow spans are made inside the sandbox and leave it through
 * a sink, only when not replaying. Spans carry route patterns, workflow and activity types and ids —
 * never URLs, payloads or personal data.
 *
 * With tracing off nothing is registered: the API's middleware passes straight through and its client adds
 * no trace context, so the rounds it starts run untraced (src/workflows/tracing-interceptors.ts decides per
 * workflow, from its start, so that every worker runs one bundle and replay never depends on configuration).
 */
import { context, diag, propagation, SpanKind, SpanStatusCode, trace, type DiagLogger } from '@opentelemetry/api';
import type { Resource } from '@opentelemetry/resources';
import type { ReadableSpan, SpanExporter, SpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { WorkflowClientInterceptor } from '@temporalio/client';
import type { ActivityInterceptorsFactory, WorkerOptions } from '@temporalio/worker';
import type { Middleware } from 'koa';
import type { TracingConfig } from '../config';
import type { Logger } from '../logger';

export interface Tracing {
  resource: Resource;
  spanProcessor: SpanProcessor;
  /** Flushes the spans still queued, then stops exporting. */
  shutdown(): Promise<void>;
}

let active: Tracing | undefined;

/*
 * The SDK, the exporter and Temporal's interceptors are loaded only once tracing starts: most deployments
 * leave it off, and loaded they hold ~5 MB of every process's memory (docs/PERFORMANCE.md, idle).
 */
const sdk = () => ({
  ...(require('@opentelemetry/resources') as typeof import('@opentelemetry/resources')),
  ...(require('@opentelemetry/sdk-trace-base') as typeof import('@opentelemetry/sdk-trace-base')),
  ...(require('@opentelemetry/sdk-trace-node') as typeof import('@opentelemetry/sdk-trace-node')),
  ...(require('@opentelemetry/exporter-trace-otlp-http') as typeof import('@opentelemetry/exporter-trace-otlp-http')),
  ...(require('@opentelemetry/semantic-conventions') as typeof import('@opentelemetry/semantic-conventions')),
});
const temporalInterceptors = () => require('@temporalio/interceptors-opentelemetry') as typeof import('@temporalio/interceptors-opentelemetry');

/** The workflow interceptor module: in every workflow bundle (the worker's, the build's, the tests'). */
export const workflowTracingModule = require.resolve('../workflows/tracing-interceptors');

/** Starts exporting spans to `<endpoint>/v1/traces` (OTLP/HTTP, JSON). Once per process. */
export function startTracing(config: TracingConfig, log: Logger): Tracing {
  if (active) return active;
  const { ATTR_SERVICE_NAME, BatchSpanProcessor, NodeTracerProvider, OTLPTraceExporter, Resource } = sdk();
  // The exporter reports failures (collector down, refused) through OpenTelemetry's diagnostics channel.
  diag.setLogger(diagnosticsTo(log));
  const resource = new Resource({ [ATTR_SERVICE_NAME]: config.serviceName });
  const spanProcessor = new BatchSpanProcessor(withoutErrorDetails(new OTLPTraceExporter({ url: `${config.endpoint}/v1/traces` })));
  const provider = new NodeTracerProvider({ resource, spanProcessors: [spanProcessor] });
  // Registers the W3C trace-context propagator and the AsyncLocalStorage context manager globally: the
  // Temporal interceptors use both to carry the active span into headers and back out.
  provider.register();
  active = { resource, spanProcessor, shutdown: () => provider.shutdown() };
  return active;
}

/**
 * The Temporal interceptors put a failure's message and stack on its span; those can carry personal data
 * (an address a mail server refused, a value the database refused) and would leave through the exporter.
 * Spans keep that they failed and the error's type, nothing more; the log has the rest.
 */
export function withoutErrorDetails(exporter: SpanExporter): SpanExporter {
  const redacted = (span: ReadableSpan): ReadableSpan => {
    if (span.status.message === undefined && !span.events.some((event) => event.name === 'exception')) return span;
    const events = span.events.map((event) =>
      event.name === 'exception' ? { ...event, attributes: { 'exception.type': event.attributes?.['exception.type'] } } : event,
    );
    // The span's own fields and methods stay; only these two are shadowed.
    return Object.create(span, {
      status: { value: { code: span.status.code }, enumerable: true },
      events: { value: events, enumerable: true },
    }) as ReadableSpan;
  };
  return {
    export: (spans, done) => exporter.export(spans.map(redacted), done),
    shutdown: () => exporter.shutdown(),
    forceFlush: () => exporter.forceFlush?.() ?? Promise.resolve(),
  };
}

function diagnosticsTo(log: Logger): DiagLogger {
  const warn = (message: string) => log.warn({ component: 'opentelemetry' }, message);
  const ignore = () => undefined;
  return { error: warn, warn, info: ignore, debug: ignore, verbose: ignore };
}

/** For the API's Temporal client: StartWorkflow, StartWorkflowUpdate, SignalWorkflow… spans, their context in headers. */
export function clientTracingInterceptors(): WorkflowClientInterceptor[] {
  return active ? [new (temporalInterceptors().OpenTelemetryWorkflowClientInterceptor)()] : [];
}

/**
 * For the worker: activity spans, and the sink workflow spans leave by (every bundle carries the workflow
 * interceptor module: src/workflow-bundling.ts).
 * With tracing off the sink still exists (a workflow started traced keeps making spans) and drops them.
 */
export function workflowTracing(): { activity: ActivityInterceptorsFactory[]; sinks: WorkerOptions['sinks'] } {
  if (!active) {
    return { activity: [], sinks: { exporter: { export: { fn: () => undefined } } } };
  }
  const { makeWorkflowExporter, OpenTelemetryActivityInboundInterceptor, OpenTelemetryActivityOutboundInterceptor } = temporalInterceptors();
  return {
    activity: [
      (ctx) => ({
        inbound: new OpenTelemetryActivityInboundInterceptor(ctx),
        outbound: new OpenTelemetryActivityOutboundInterceptor(ctx),
      }),
    ],
    sinks: { exporter: makeWorkflowExporter(active.spanProcessor, active.resource) },
  };
}

/**
 * A server span per request, named by method and route pattern (known once the router matched), the
 * parent of everything the request does. A caller's `traceparent` is continued. Mounted first, so the
 * access log line is written inside the span and carries its trace id.
 */
export function requestSpans(): Middleware {
  return async (ctx, next) => {
    if (!active) return next();
    const parent = propagation.extract(context.active(), ctx.headers);
    const span = trace
      .getTracer('sigill')
      .startSpan(ctx.method, { kind: SpanKind.SERVER, attributes: { 'http.request.method': ctx.method } }, parent);
    try {
      await context.with(trace.setSpan(parent, span), next);
    } finally {
      const route = (ctx as { _matchedRoute?: string })._matchedRoute;
      span.updateName(route ? `${ctx.method} ${route}` : ctx.method);
      if (route) span.setAttribute('http.route', route);
      span.setAttribute('http.response.status_code', ctx.status);
      if (ctx.status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
      span.end();
    }
  };
}
