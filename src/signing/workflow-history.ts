/**
 * A signing round's Temporal event history as a timeline support staff can read (R16): each step with its
 * time, what happened and its outcome, retries and failures included. It is built from Temporal's own
 * history, not from our tables, so it shows what the engine actually did. Payloads (which hold personal
 * data) are never shown: only names of steps, attempts and failure messages, and from the inputs and the
 * result only ids and codes (which signer a step was for, which audit event was recorded, how the round
 * ended), so a page can say each step in its reader's language instead of repeating `summary`.
 */
import type { Payload, PayloadCodec } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import type { TemporalTarget } from '../adapters/temporal-connection';
import type { TimelineStep } from '../contract/signing-requests';
import { workflowIdForRequest } from './create-signing-request';

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

export type { TimelineStep };

/** What a step's input or result names, read from its payloads: ids and codes only, never personal data. */
export interface PayloadFacts {
  signerId?: string;
  auditEvent?: string;
  outcome?: string;
}

const EventType = temporal.api.enums.v1.EventType;

/** `EVENT_TYPE_ACTIVITY_TASK_SCHEDULED` → `ActivityTaskScheduled`. */
function eventName(type: temporal.api.enums.v1.EventType | null | undefined): string {
  const raw = EventType[type ?? 0] ?? 'EVENT_TYPE_UNSPECIFIED';
  return raw
    .replace(/^EVENT_TYPE_/, '')
    .toLowerCase()
    .replace(/(^|_)([a-z])/g, (_, __, letter: string) => letter.toUpperCase());
}

function toIso(time: HistoryEvent['eventTime']): string {
  const seconds = Number(time?.seconds ?? 0);
  const nanos = time?.nanos ?? 0;
  return new Date(seconds * 1000 + Math.floor(nanos / 1e6)).toISOString();
}

export function describeHistory(events: HistoryEvent[], facts: ReadonlyMap<number, PayloadFacts> = new Map()): TimelineStep[] {
  const activities = new Map<number, { activity: string; signerId?: string; auditEvent?: string }>();
  const timers = new Map<number, { seconds: number; firesAt: string }>();
  const updates = new Map<number, { update: string; signerId?: string }>();
  return events.map((event) => {
    const eventId = Number(event.eventId ?? 0);
    const step: TimelineStep = { eventId, at: toIso(event.eventTime), event: eventName(event.eventType), summary: '' };
    // Every later step of an activity carries what its scheduling said (name, signer, audit event).
    const scheduledName = (id: unknown) => {
      const scheduled = activities.get(Number(id ?? 0));
      if (!scheduled) return 'activity';
      Object.assign(step, scheduled);
      return scheduled.activity;
    };
    switch (event.eventType) {
      case EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED:
        step.summary = `round started (${event.workflowExecutionStartedEventAttributes?.workflowType?.name})`;
        break;
      case EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED: {
        const name = event.activityTaskScheduledEventAttributes?.activityType?.name ?? 'activity';
        const { signerId, auditEvent } = facts.get(eventId) ?? {};
        activities.set(eventId, { activity: name, ...(signerId ? { signerId } : {}), ...(auditEvent ? { auditEvent } : {}) });
        scheduledName(eventId);
        step.summary = `${name} scheduled`;
        break;
      }
      case EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED:
        step.summary = `${scheduledName(event.activityTaskStartedEventAttributes?.scheduledEventId)} started`;
        step.attempt = event.activityTaskStartedEventAttributes?.attempt ?? undefined;
        if (event.activityTaskStartedEventAttributes?.lastFailure?.message) {
          step.failure = `previous attempt failed: ${event.activityTaskStartedEventAttributes.lastFailure.message}`;
        }
        break;
      case EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED:
        step.summary = `${scheduledName(event.activityTaskCompletedEventAttributes?.scheduledEventId)} completed`;
        break;
      case EventType.EVENT_TYPE_ACTIVITY_TASK_FAILED:
        step.summary = `${scheduledName(event.activityTaskFailedEventAttributes?.scheduledEventId)} failed`;
        step.failure = event.activityTaskFailedEventAttributes?.failure?.message ?? undefined;
        break;
      case EventType.EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT:
        step.summary = `${scheduledName(event.activityTaskTimedOutEventAttributes?.scheduledEventId)} timed out`;
        step.failure = event.activityTaskTimedOutEventAttributes?.failure?.message ?? undefined;
        break;
      case EventType.EVENT_TYPE_TIMER_STARTED: {
        const timeout = event.timerStartedEventAttributes?.startToFireTimeout;
        const millis = Number(timeout?.seconds ?? 0) * 1000 + Math.floor((timeout?.nanos ?? 0) / 1e6);
        const timer = { seconds: Math.round(millis / 1000), firesAt: new Date(Date.parse(step.at) + millis).toISOString() };
        timers.set(eventId, timer);
        step.timer = timer;
        step.summary = `waiting up to ${timer.seconds} s (next reminder or deadline)`;
        break;
      }
      case EventType.EVENT_TYPE_TIMER_FIRED: {
        const timer = timers.get(Number(event.timerFiredEventAttributes?.startedEventId ?? 0));
        if (timer) step.timer = timer;
        step.summary = `timer fired after ${timer ? `${timer.seconds} s` : '?'}`;
        break;
      }
      case EventType.EVENT_TYPE_TIMER_CANCELED: {
        const timer = timers.get(Number(event.timerCanceledEventAttributes?.startedEventId ?? 0));
        if (timer) step.timer = timer;
        step.summary = 'timer cancelled (something happened first)';
        break;
      }
      case EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED: {
        const name = event.workflowExecutionUpdateAcceptedEventAttributes?.acceptedRequest?.input?.name ?? 'update';
        const signerId = facts.get(eventId)?.signerId;
        updates.set(eventId, { update: name, ...(signerId ? { signerId } : {}) });
        Object.assign(step, updates.get(eventId));
        step.summary = `update "${name}" accepted`;
        break;
      }
      case EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED: {
        const accepted = updates.get(Number(event.workflowExecutionUpdateCompletedEventAttributes?.acceptedEventId ?? 0));
        if (accepted) Object.assign(step, accepted);
        step.summary = 'update completed';
        break;
      }
      case EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED: {
        const name = event.workflowExecutionSignaledEventAttributes?.signalName ?? 'signal';
        step.signal = name;
        const signerId = facts.get(eventId)?.signerId;
        if (signerId) step.signerId = signerId;
        step.summary = `signal "${name}" received`;
        break;
      }
      case EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED:
        step.summary = 'workflow task failed (retried by Temporal)';
        step.failure = event.workflowTaskFailedEventAttributes?.failure?.message ?? undefined;
        break;
      case EventType.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT:
        step.summary = 'workflow task timed out (a worker stopped; another takes over)';
        break;
      case EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED: {
        const outcome = facts.get(eventId)?.outcome;
        if (outcome) step.outcome = outcome;
        step.summary = 'round finished';
        break;
      }
      case EventType.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED:
        step.summary = 'round failed';
        step.failure = event.workflowExecutionFailedEventAttributes?.failure?.message ?? undefined;
        break;
      case EventType.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES:
        step.summary = 'status published for listing';
        break;
      case EventType.EVENT_TYPE_MARKER_RECORDED:
        step.summary = 'code version recorded';
        break;
      default:
        step.summary = step.event.replace(/([a-z])([A-Z])/g, '$1 $2').toLowerCase();
    }
    return step;
  });
}

type Failure = temporal.api.failure.v1.IFailure;

/**
 * Failure messages are stored encrypted (they are encoded as payloads so the codec covers them); the
 * timeline shows them decrypted. Messages are written by our code and carry no personal data.
 */
async function decryptFailureMessages(events: HistoryEvent[], codec: PayloadCodec): Promise<void> {
  const failures: Failure[] = [];
  for (const event of events) {
    for (const failure of [
      event.activityTaskFailedEventAttributes?.failure,
      event.activityTaskStartedEventAttributes?.lastFailure,
      event.activityTaskTimedOutEventAttributes?.failure,
      event.workflowTaskFailedEventAttributes?.failure,
      event.workflowExecutionFailedEventAttributes?.failure,
    ]) {
      for (let current = failure; current; current = current.cause) failures.push(current);
    }
  }
  await Promise.all(
    failures
      .filter((failure) => failure.encodedAttributes)
      .map(async (failure) => {
        const [decoded] = await codec.decode([failure.encodedAttributes as Payload]);
        const attributes = JSON.parse(Buffer.from(decoded?.data ?? []).toString('utf8')) as { message?: string };
        failure.message = attributes.message ?? failure.message;
      }),
  );
}

const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const code = /^[a-z][a-z_]{0,40}$/;

/**
 * The ids and codes a step's first payload names: a signer id, an audit event's type, a round's final status.
 * Everything else in the payload (names, addresses, reasons, IPs) is dropped here and never leaves.
 */
async function readPayloadFacts(events: HistoryEvent[], codec: PayloadCodec): Promise<Map<number, PayloadFacts>> {
  const facts = new Map<number, PayloadFacts>();
  await Promise.all(
    events.map(async (event) => {
      const payload =
        event.activityTaskScheduledEventAttributes?.input?.payloads?.[0] ??
        event.workflowExecutionUpdateAcceptedEventAttributes?.acceptedRequest?.input?.args?.payloads?.[0] ??
        event.workflowExecutionSignaledEventAttributes?.input?.payloads?.[0] ??
        event.workflowExecutionCompletedEventAttributes?.result?.payloads?.[0];
      if (!payload) return;
      try {
        const [decoded] = await codec.decode([payload as Payload]);
        const value = JSON.parse(Buffer.from(decoded?.data ?? []).toString('utf8')) as Record<string, unknown> | null;
        if (typeof value !== 'object' || value === null) return;
        const found: PayloadFacts = {};
        if (typeof value.signerId === 'string' && uuid.test(value.signerId)) found.signerId = value.signerId;
        const type = event.activityTaskScheduledEventAttributes?.activityType?.name === 'recordAuditEvent' ? value.type : undefined;
        if (typeof type === 'string' && code.test(type)) found.auditEvent = type;
        const status = event.workflowExecutionCompletedEventAttributes ? value.status : undefined;
        if (typeof status === 'string' && code.test(status)) found.outcome = status;
        facts.set(Number(event.eventId ?? 0), found);
      } catch {
        // Not JSON, or not ours to read: the step keeps its name and summary only.
      }
    }),
  );
  return facts;
}

export async function readRoundHistory(temporalTarget: TemporalTarget, codec: PayloadCodec, requestId: string): Promise<TimelineStep[]> {
  const history = await temporalTarget.client.workflow.getHandle(workflowIdForRequest(requestId)).fetchHistory();
  const events = history.events ?? [];
  const [facts] = await Promise.all([readPayloadFacts(events, codec), decryptFailureMessages(events, codec)]);
  return describeHistory(events, facts);
}
