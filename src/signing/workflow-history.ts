/**
 * A signing round's Temporal event history as a timeline support staff can read (R16): each step with its
 * time, what happened and its outcome, retries and failures included. It is built from Temporal's own
 * history, not from our tables, so it shows what the engine actually did. Payloads (which hold personal
 * data) are never shown: only names of steps, attempts and failure messages.
 */
import type { Payload, PayloadCodec } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import type { TemporalTarget } from '../adapters/temporal-connection';
import { workflowIdForRequest } from './create-signing-request';

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

export interface TimelineStep {
  eventId: number;
  at: string;
  event: string;
  summary: string;
  attempt?: number;
  failure?: string;
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

export function describeHistory(events: HistoryEvent[]): TimelineStep[] {
  const activityNames = new Map<number, string>();
  const timerDurations = new Map<number, string>();
  return events.map((event) => {
    const eventId = Number(event.eventId ?? 0);
    const step: TimelineStep = { eventId, at: toIso(event.eventTime), event: eventName(event.eventType), summary: '' };
    const scheduledName = (id: unknown) => activityNames.get(Number(id ?? 0)) ?? 'activity';
    switch (event.eventType) {
      case EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED:
        step.summary = `round started (${event.workflowExecutionStartedEventAttributes?.workflowType?.name})`;
        break;
      case EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED: {
        const name = event.activityTaskScheduledEventAttributes?.activityType?.name ?? 'activity';
        activityNames.set(eventId, name);
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
        const duration = `${Number(timeout?.seconds ?? 0)} s`;
        timerDurations.set(eventId, duration);
        step.summary = `waiting up to ${duration} (next reminder or deadline)`;
        break;
      }
      case EventType.EVENT_TYPE_TIMER_FIRED:
        step.summary = `timer fired after ${timerDurations.get(Number(event.timerFiredEventAttributes?.startedEventId ?? 0)) ?? '?'}`;
        break;
      case EventType.EVENT_TYPE_TIMER_CANCELED:
        step.summary = 'timer cancelled (something happened first)';
        break;
      case EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED:
        step.summary = `update "${event.workflowExecutionUpdateAcceptedEventAttributes?.acceptedRequest?.input?.name}" accepted`;
        break;
      case EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED:
        step.summary = 'update completed';
        break;
      case EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED:
        step.summary = `signal "${event.workflowExecutionSignaledEventAttributes?.signalName}" received`;
        break;
      case EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED:
        step.summary = 'workflow task failed (retried by Temporal)';
        step.failure = event.workflowTaskFailedEventAttributes?.failure?.message ?? undefined;
        break;
      case EventType.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT:
        step.summary = 'workflow task timed out (a worker stopped; another takes over)';
        break;
      case EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED:
        step.summary = 'round finished';
        break;
      case EventType.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED:
        step.summary = 'round failed';
        step.failure = event.workflowExecutionFailedEventAttributes?.failure?.message ?? undefined;
        break;
      case EventType.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES:
        step.summary = 'status published for listing';
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

export async function readRoundHistory(temporalTarget: TemporalTarget, codec: PayloadCodec, requestId: string): Promise<TimelineStep[]> {
  const history = await temporalTarget.client.workflow.getHandle(workflowIdForRequest(requestId)).fetchHistory();
  const events = history.events ?? [];
  await decryptFailureMessages(events, codec);
  return describeHistory(events);
}
