/**
 * One data-subject request (GDPR Art. 12-21), from receipt to the answer.
 *
 * Send the requester a confirmation code, then wait for them to confirm who they are (the API hears the code
 * or eID and sends `identityConfirmed`). The legal clock runs from receipt regardless: reminders go to the
 * handler 7 days and 1 day before the deadline, and at the deadline an open request is marked overdue (the
 * console's attention list, a metric, a webhook). Handlers act by Updates — assign, extend (once, 1 or 2
 * months, only before the original deadline), fulfil (the type's fulfilment through activities), complete or
 * reject — each refused by its validator with a reason when not allowed. At the end the requester is told
 * the answer.
 *
 * Deterministic and small: ids in the input, everything else loaded by activities keyed by request id. The
 * reasons and answers handlers send ride in Update arguments, which the payload codec encrypts under the
 * request's record key (shredding the request makes them unreadable in history too).
 */
import { ActivityFailure, condition, defineQuery, defineUpdate, proxyActivities, setHandler, upsertSearchAttributes } from '@temporalio/workflow';
import type { DsrActivities } from '../activities/dsr-activities';
import type { DataSubjectRequestStatus, IdentityMethod } from '../contract/data-subject-requests';
import type { NewDsrEvent } from '../dsr/dsr-audit-trail';
import { extendedDeadline, extensionRefusal, type ExtensionMonths } from '../dsr/legal-deadline';
import { processStatusAttribute } from './search-attributes';

export interface DataSubjectRequestInput {
  dsrId: string;
  organizationId: string;
  /** One month from receipt (computed at creation). */
  dueAt: string;
}

export interface DataSubjectRequestState {
  dsrId: string;
  status: DataSubjectRequestStatus;
  identityConfirmedAt?: string;
  dueAt: string;
  extendedUntil?: string;
  overdue: boolean;
  assigneeId: string | null;
  /** How many times it was assigned (the key of the last `assigned:<n>` event). */
  assignments: number;
  fulfilledAt?: string;
  fulfilling: boolean;
  remindersSent: number;
  endedAt?: string;
}

interface ActorInput {
  /** `user:<id>` or `api-key:<id>`. */
  actor: string;
  ip?: string;
  userAgent?: string;
}
export interface IdentityConfirmedInput {
  method: IdentityMethod;
  ip?: string;
  userAgent?: string;
}
export interface ExtendInput extends ActorInput {
  months: ExtensionMonths;
  reason: string;
}
export interface AssignInput extends ActorInput {
  memberId: string;
}
export interface FulfilInput extends ActorInput {
  /** Rectification only: the corrected contact data. */
  change?: { email?: string; phone?: string; name?: string };
}
export interface CompleteInput extends ActorInput {
  answer?: string;
}
export interface RejectInput extends ActorInput {
  reason: string;
}

export const dsrStateQuery = defineQuery<DataSubjectRequestState>('dsrState');
export const identityConfirmedUpdate = defineUpdate<DataSubjectRequestState, [IdentityConfirmedInput]>('identityConfirmed');
export const extendUpdate = defineUpdate<DataSubjectRequestState, [ExtendInput]>('extend');
export const assignUpdate = defineUpdate<DataSubjectRequestState, [AssignInput]>('assign');
export const fulfilUpdate = defineUpdate<DataSubjectRequestState, [FulfilInput]>('fulfil');
export const completeUpdate = defineUpdate<DataSubjectRequestState, [CompleteInput]>('complete');
export const rejectUpdate = defineUpdate<DataSubjectRequestState, [RejectInput]>('reject');

const day = 86_400_000;
/** Reminders to the handler before the effective deadline. */
export const deadlineReminders = [
  { label: '7d', beforeMs: 7 * day },
  { label: '1d', beforeMs: 1 * day },
] as const;

const activities = proxyActivities<DsrActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '2 seconds', backoffCoefficient: 2, maximumInterval: '5 minutes' },
});
// Fulfilment reads every record of the person and may build a ZIP of their documents or shred records.
const fulfilment = proxyActivities<DsrActivities>({
  startToCloseTimeout: '10 minutes',
  retry: { initialInterval: '5 seconds', backoffCoefficient: 2, maximumInterval: '10 minutes', maximumAttempts: 5 },
});

const open: DataSubjectRequestStatus[] = ['awaiting_identity', 'in_progress'];
const iso = (ms: number) => new Date(ms).toISOString();

type Work =
  | { kind: 'audit'; event: Omit<NewDsrEvent, 'dsrId'> }
  | { kind: 'code' }
  | { kind: 'extend'; request: ExtendInput; extendedUntil: string; at: string }
  | { kind: 'remind'; reminderKey: string; deadline: string }
  | { kind: 'fulfil'; request: FulfilInput }
  | { kind: 'finish'; outcome: 'completed' | 'rejected'; request: ActorInput; text?: string; at: string };

export async function dataSubjectRequestWorkflow(input: DataSubjectRequestInput): Promise<DataSubjectRequestState> {
  const dueAtMs = Date.parse(input.dueAt);
  const state: DataSubjectRequestState = { dsrId: input.dsrId, status: 'awaiting_identity', dueAt: input.dueAt, overdue: false, assigneeId: null, assignments: 0, fulfilling: false, remindersSent: 0 };
  const work: Work[] = [{ kind: 'code' }];
  const audit = (event: Omit<NewDsrEvent, 'dsrId'>) => work.push({ kind: 'audit', event });
  const sentReminders = new Set<string>();

  const deadlineMs = () => (state.extendedUntil ? Date.parse(state.extendedUntil) : dueAtMs);
  const requireStatus = (allowed: DataSubjectRequestStatus[], what: string) => {
    if (!allowed.includes(state.status)) throw new Error(`The request is ${state.status.replace('_', ' ')}: it cannot ${what} now.`);
  };

  setHandler(dsrStateQuery, () => state);

  setHandler(
    identityConfirmedUpdate,
    (request) => {
      state.status = 'in_progress';
      state.identityConfirmedAt = iso(Date.now());
      audit({ eventKey: 'identity_confirmed', type: 'identity_confirmed', actor: 'requester', ip: request.ip, userAgent: request.userAgent, detail: { method: request.method }, occurredAt: state.identityConfirmedAt });
      return state;
    },
    { validator: (_request: IdentityConfirmedInput) => requireStatus(['awaiting_identity'], 'take a confirmation of identity') },
  );

  setHandler(
    extendUpdate,
    (request) => {
      const at = iso(Date.now());
      state.extendedUntil = extendedDeadline(new Date(dueAtMs), request.months).toISOString();
      work.push({ kind: 'extend', request, extendedUntil: state.extendedUntil, at });
      return state;
    },
    {
      validator: (_request: ExtendInput) => {
        requireStatus(open, 'be extended');
        const refusal = extensionRefusal({ dueAt: new Date(dueAtMs), extendedUntil: state.extendedUntil ? new Date(state.extendedUntil) : null }, new Date(Date.now()));
        if (refusal) throw new Error(refusal);
      },
    },
  );

  setHandler(
    assignUpdate,
    (request) => {
      state.assigneeId = request.memberId;
      state.assignments += 1;
      audit({ eventKey: `assigned:${state.assignments}`, type: 'assigned', actor: request.actor, ip: request.ip, userAgent: request.userAgent, detail: { memberId: request.memberId }, occurredAt: iso(Date.now()) });
      return state;
    },
    { validator: (_request: AssignInput) => requireStatus(open, 'be assigned') },
  );

  setHandler(
    fulfilUpdate,
    (request) => {
      state.fulfilling = true;
      work.push({ kind: 'fulfil', request });
      return state;
    },
    {
      validator: (_request: FulfilInput) => {
        requireStatus(['in_progress'], 'be fulfilled');
        if (state.fulfilling) throw new Error('The fulfilment is already running.');
        if (state.fulfilledAt) throw new Error('The request was already fulfilled; complete it to answer the requester.');
      },
    },
  );

  setHandler(
    completeUpdate,
    (request) => {
      state.status = 'completed';
      work.push({ kind: 'finish', outcome: 'completed', request, text: request.answer, at: iso(Date.now()) });
      return state;
    },
    {
      validator: (_request: CompleteInput) => {
        requireStatus(['in_progress'], 'be completed');
        if (!state.fulfilledAt) throw new Error('Run the fulfilment first (POST …/fulfil): the answer tells the requester what was done.');
      },
    },
  );

  setHandler(
    rejectUpdate,
    (request) => {
      state.status = 'rejected';
      work.push({ kind: 'finish', outcome: 'rejected', request, text: request.reason, at: iso(Date.now()) });
      return state;
    },
    {
      validator: (_request: RejectInput) => {
        requireStatus(open, 'be rejected');
        if (state.fulfilling) throw new Error('The fulfilment is running: wait for it to end.');
      },
    },
  );

  const doQueuedWork = async () => {
    while (work.length > 0) {
      const item = work.shift()!;
      try {
        switch (item.kind) {
          case 'audit':
            await activities.recordDsrEvent({ ...item.event, dsrId: input.dsrId });
            break;
          case 'code':
            await activities.sendDsrConfirmationCode({ dsrId: input.dsrId });
            break;
          case 'extend':
            await activities.extendDsrDeadline({ dsrId: input.dsrId, months: item.request.months, reason: item.request.reason, extendedUntil: item.extendedUntil, actor: item.request.actor, at: item.at });
            break;
          case 'remind':
            await activities.sendDsrDeadlineReminder({ dsrId: input.dsrId, reminderKey: item.reminderKey, deadline: item.deadline });
            state.remindersSent += 1;
            break;
          case 'fulfil':
            try {
              const done = await fulfilment.fulfilDataSubjectRequest({ dsrId: input.dsrId, actor: item.request.actor, change: item.request.change });
              // Absent when the fulfilment was refused (recorded with its reason): the handler may try again or reject.
              state.fulfilledAt = done.fulfilledAt;
            } finally {
              state.fulfilling = false;
            }
            break;
          case 'finish':
            await activities.finishDataSubjectRequest({ dsrId: input.dsrId, outcome: item.outcome, actor: item.request.actor, text: item.text, at: item.at });
            break;
        }
      } catch (error) {
        if (!(error instanceof ActivityFailure)) throw error;
        // A fulfilment that failed for good is on record; the handler may try again. Other failed steps
        // (a reminder, an email refused for good) are skipped: the request and its deadline go on.
        if (item.kind === 'fulfil') audit({ eventKey: `fulfilment_failed:${Date.now()}`, type: 'fulfilment_failed', actor: 'system', occurredAt: iso(Date.now()) });
      }
    }
  };

  while (open.includes(state.status)) {
    await doQueuedWork();
    if (!open.includes(state.status)) break;
    const deadline = deadlineMs();
    const deadlineIso = iso(deadline);
    const nextReminder = state.overdue
      ? undefined
      : deadlineReminders
          .map((reminder) => ({ key: `${deadlineIso}:${reminder.label}`, at: deadline - reminder.beforeMs }))
          .find((reminder) => !sentReminders.has(reminder.key));
    const wakeAtMs = state.overdue ? Number.POSITIVE_INFINITY : Math.min(deadline, nextReminder?.at ?? Number.POSITIVE_INFINITY);
    const statusBefore = state.status;
    const extendedBefore = state.extendedUntil;
    const wake = () => work.length > 0 || state.status !== statusBefore || state.extendedUntil !== extendedBefore;
    const woken = Number.isFinite(wakeAtMs) ? await condition(wake, Math.max(wakeAtMs - Date.now(), 1)) : (await condition(wake), true);
    if (woken) continue;
    if (Date.now() >= deadline) {
      state.overdue = true;
      audit({ eventKey: `overdue:${deadlineIso}`, type: 'overdue', actor: 'system', detail: { deadline: deadlineIso }, occurredAt: iso(Date.now()) });
    } else if (nextReminder && Date.now() >= nextReminder.at) {
      sentReminders.add(nextReminder.key);
      // A reminder whose time passed before the request arrived (received late) is not sent; a later one is.
      if (Date.now() - nextReminder.at < day) work.push({ kind: 'remind', reminderKey: nextReminder.key, deadline: deadlineIso });
    }
  }
  await doQueuedWork();
  state.endedAt = iso(Date.now());
  upsertSearchAttributes([{ key: processStatusAttribute, value: state.status }]);
  return state;
}
