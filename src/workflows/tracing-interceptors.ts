/**
 * Workflow interceptor module (not a workflow): OpenTelemetry tracing inside workflows, for the workflows
 * that were started traced — decided once per workflow by whether its start carried a trace context
 * (the `_tracer-data` header, set by the API's traced Temporal client).
 *
 * Why gate it: the tracing interceptors add steps (spans, awaits) between an Update's handling and the
 * commands that follow, so a history made without them does not replay with them (nondeterminism), and
 * the reverse. Tying the choice to the workflow's own start event, which every replay reads the same,
 * makes it independent of how a worker is configured: every worker runs this one bundle, rounds that
 * were running before tracing was turned on (or off) replay as they ran, and untraced workflows pay a
 * header lookup and a pass-through call per intercepted step.
 */
import {
  OpenTelemetryInboundInterceptor,
  OpenTelemetryInternalsInterceptor,
  OpenTelemetryOutboundInterceptor,
} from '@temporalio/interceptors-opentelemetry/lib/workflow';
import { TRACE_HEADER } from '@temporalio/interceptors-opentelemetry/lib/instrumentation';
import type { Headers } from '@temporalio/common';
import type { WorkflowInterceptors } from '@temporalio/workflow';

type Interceptor = Record<string, (input: unknown, next: (input: unknown) => unknown) => unknown>;

/**
 * An interceptor with every method of `Traced`'s, each delegating to a (lazily made) `Traced` when the
 * workflow is traced and straight to `next` otherwise.
 */
function gated(Traced: new () => object, isTraced: () => boolean): Interceptor {
  let traced: Interceptor | undefined;
  const methods = Object.getOwnPropertyNames(Traced.prototype).filter((name) => name !== 'constructor');
  return Object.fromEntries(
    methods.map((name) => [
      name,
      (input: unknown, next: (input: unknown) => unknown) => {
        if (!isTraced()) return next(input);
        traced ??= new Traced() as Interceptor;
        return traced[name]!.call(traced, input, next);
      },
    ]),
  );
}

export const interceptors = (): WorkflowInterceptors => {
  let startedTraced = false;
  const isTraced = () => startedTraced;
  const inbound = gated(OpenTelemetryInboundInterceptor, isTraced);
  const tracedExecute = inbound.execute!;
  return {
    inbound: [
      {
        ...inbound,
        execute: (input: { headers: Headers }, next: (input: unknown) => unknown) => {
          startedTraced = TRACE_HEADER in input.headers;
          return tracedExecute(input, next);
        },
      },
    ],
    outbound: [gated(OpenTelemetryOutboundInterceptor, isTraced)],
    internals: [gated(OpenTelemetryInternalsInterceptor, isTraced)],
  } as WorkflowInterceptors;
};
