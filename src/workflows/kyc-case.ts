/**
 * One know-your-customer case, from the invitation to approval (or rejection, expiry, cancellation).
 *
 * Invite the customer, then wait for their answers (with reminders and a deadline on durable timers). Once
 * they submit, the declaration made from their answers is signed in a signing round started as a child
 * workflow: one sealing path for everything. Once it is sealed, operations review: approve, reject, or send
 * back for changes (back to answering, the answers kept). A PEP answer or a risk rule needs a second
 * approval by another reviewer. At the end the evidence package is archived and everyone concerned is told.
 *
 * Handlers only change state and queue work; the loop does the work through activities keyed by case id,
 * so nothing a handler accepted is lost if a worker dies in between (as in signing-round.ts). Decisions on
 * a declaration round that does not end sealed: declined, cancelled or failed → back to answering, the
 * answers kept (the customer can submit again, which starts a new round); expired → the case expires.
 * The deadline applies while the customer has something to do (answering, signing), not during review.
 */
import {
  ActivityFailure,
  CancellationScope,
  condition,
  defineQuery,
  defineUpdate,
  executeChild,
  isCancellation,
  proxyActivities,
  setHandler,
  upsertSearchAttributes,
} from '@temporalio/workflow';
import type { KycActivities } from '../activities/kyc-activities';
import type { SigningActivities } from '../activities/signing-activities';
import type { KycCaseStatus } from '../contract/kyc-cases';
import type { NewKycEvent } from '../kyc/kyc-audit-trail';
import { organizationIdAttribute, processStatusAttribute } from './search-attributes';
import { signingRoundWorkflow, type RoundStatus } from './signing-round';

export interface KycCaseInput {
  caseId: string;
  organizationId: string;
  expiresAt: string;
  reminders: { firstAfterMs: number; everyMs: number; max: number };
}

export interface KycReview {
  decision: 'approved' | 'rejected' | 'changes_requested';
  reviewerId: string;
  reviewerName: string | null;
  reason: string | null;
  at: string;
  round: 1 | 2 | null;
}

export interface KycCaseState {
  caseId: string;
  status: KycCaseStatus;
  submissions: number;
  secondReviewReasons: string[];
  declarationRequestId?: string;
  reviews: KycReview[];
  remindersSent: number;
  endedAt?: string;
}

export interface ActorInput {
  ip?: string;
  userAgent?: string;
}
export interface AnswersSubmittedInput extends ActorInput {
  secondReviewReasons: string[];
}
export interface ReviewInput extends ActorInput {
  reviewerId: string;
  reviewerName: string | null;
  /** The note of an approval, the reason of a rejection or request for changes. */
  reason?: string;
}
export interface KycCancelInput extends ActorInput {
  actor: string;
  reason: string;
}

export const kycCaseStateQuery = defineQuery<KycCaseState>('kycCaseState');
export const answersSubmittedUpdate = defineUpdate<KycCaseState, [AnswersSubmittedInput]>('answersSubmitted');
export const approveUpdate = defineUpdate<KycCaseState, [ReviewInput]>('approve');
export const rejectUpdate = defineUpdate<KycCaseState, [ReviewInput]>('reject');
export const requestChangesUpdate = defineUpdate<KycCaseState, [ReviewInput]>('requestChanges');
export const cancelKycCaseUpdate = defineUpdate<KycCaseState, [KycCancelInput]>('cancel');
export const remindCustomerUpdate = defineUpdate<{ reminded: number }, []>('remindNow');

export const fourEyesNeedMembers = 'A second review needs two different members; API keys cannot approve a case that needs four eyes.';
export const manualKycReminderIntervalMs = 60 * 60_000;
/** A case sent back for changes leaves the customer at least this long before it expires. */
export const minimumWindowAfterChangesMs = 7 * 86_400_000;

const activities = proxyActivities<KycActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '2 seconds', backoffCoefficient: 2, maximumInterval: '5 minutes' },
});
// Generating the declaration and the evidence package reads blobs and writes a PDF or a ZIP: seconds, so a
// minute's budget, after which an attempt on a worker that died is tried elsewhere.
const documents = proxyActivities<KycActivities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '5 seconds', backoffCoefficient: 2, maximumInterval: '10 minutes' },
});
const signing = proxyActivities<SigningActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '2 seconds', backoffCoefficient: 2, maximumInterval: '5 minutes' },
});

const answering: KycCaseStatus[] = ['invited', 'in_progress', 'changes_requested'];
const ended: KycCaseStatus[] = ['approved', 'rejected', 'expired', 'cancelled', 'failed'];

type Work = { kind: 'audit'; event: Omit<NewKycEvent, 'caseId'> } | { kind: 'remind'; reminderKey: string };

const iso = (ms: number) => new Date(ms).toISOString();
/** The signing round's workflow id (src/signing/create-signing-request.ts, not importable into the bundle). */
const roundWorkflowId = (requestId: string) => `signing-request-${requestId}`;

export async function kycCaseWorkflow(input: KycCaseInput): Promise<KycCaseState> {
  let expiresAtMs = Date.parse(input.expiresAt);
  const state: KycCaseState = { caseId: input.caseId, status: 'invited', submissions: 0, secondReviewReasons: [], reviews: [], remindersSent: 0 };
  const work: Work[] = [];
  const audit = (event: Omit<NewKycEvent, 'caseId'>) => work.push({ kind: 'audit', event });
  let nextReminderAtMs = input.reminders.max > 0 ? Date.now() + input.reminders.firstAfterMs : undefined;
  let lastManualReminderAt = Number.NEGATIVE_INFINITY;
  let manualReminders = 0;
  let scheduledReminders = 0;
  let declarationAttempts = 0;
  /** The approvals of the current review (cleared when the case is sent back). */
  let approvals: KycReview[] = [];
  let declaration: { scope: CancellationScope; outcome?: RoundStatus | 'gone' } | undefined;

  const requireStatus = (allowed: KycCaseStatus[], what: string) => {
    if (!allowed.includes(state.status)) throw new Error(`The case is ${state.status.replace('_', ' ')}: it cannot ${what} now.`);
  };
  const review = (decision: KycReview['decision'], request: ReviewInput, round: KycReview['round'], extra: Record<string, unknown> = {}): KycReview => {
    const made: KycReview = { decision, reviewerId: request.reviewerId, reviewerName: request.reviewerName, reason: request.reason ?? null, at: iso(Date.now()), round };
    state.reviews.push(made);
    audit({
      eventKey: `review:${state.reviews.length}`,
      type: decision,
      actor: request.reviewerId,
      ip: request.ip,
      userAgent: request.userAgent,
      detail: { reason: made.reason, reviewerName: made.reviewerName, round, final: decision === 'approved' ? state.status === 'approved' : true, ...extra },
      occurredAt: made.at,
    });
    return made;
  };

  setHandler(kycCaseStateQuery, () => state);

  setHandler(
    answersSubmittedUpdate,
    (request) => {
      state.submissions += 1;
      state.status = 'signing';
      state.secondReviewReasons = request.secondReviewReasons;
      audit({
        eventKey: `submitted:${state.submissions}`,
        type: 'submitted',
        actor: 'customer',
        ip: request.ip,
        userAgent: request.userAgent,
        detail: { secondReviewReasons: request.secondReviewReasons },
        occurredAt: iso(Date.now()),
      });
      return state;
    },
    { validator: (_request: AnswersSubmittedInput) => requireStatus(answering, 'take answers') },
  );

  setHandler(
    approveUpdate,
    (request) => {
      const needsSecond = state.secondReviewReasons.length > 0;
      if (needsSecond && approvals.length === 0) {
        approvals.push(review('approved', request, 1));
      } else {
        state.status = 'approved';
        approvals.push(review('approved', request, needsSecond ? 2 : null));
      }
      return state;
    },
    {
      validator: (request) => {
        requireStatus(['in_review'], 'be approved');
        // Four eyes means two people: both approvals of such a case come from different signed-in members.
        if (state.secondReviewReasons.length > 0 && !request.reviewerId.startsWith('user:')) {
          throw new Error(fourEyesNeedMembers);
        }
        if (approvals.some((approval) => approval.reviewerId === request.reviewerId)) {
          throw new Error('A second reviewer must approve: you approved first.');
        }
      },
    },
  );

  setHandler(
    rejectUpdate,
    (request) => {
      state.status = 'rejected';
      review('rejected', request, null);
      return state;
    },
    { validator: (_request: ReviewInput) => requireStatus(['in_review'], 'be rejected') },
  );

  setHandler(
    requestChangesUpdate,
    (request) => {
      state.status = 'changes_requested';
      approvals = [];
      // Sent back near or after the deadline, the customer still gets a fair window to answer.
      const extended = expiresAtMs - Date.now() < minimumWindowAfterChangesMs;
      if (extended) expiresAtMs = Date.now() + minimumWindowAfterChangesMs;
      // Reminders start over from now: those that fell due during review do not all fire at once on return.
      if (nextReminderAtMs !== undefined) nextReminderAtMs = Date.now() + input.reminders.firstAfterMs;
      review('changes_requested', request, null, extended ? { expiresAt: iso(expiresAtMs) } : {});
      return state;
    },
    { validator: (_request: ReviewInput) => requireStatus(['in_review'], 'be sent back for changes') },
  );

  setHandler(
    cancelKycCaseUpdate,
    (request) => {
      state.status = 'cancelled';
      audit({
        eventKey: 'cancelled',
        type: 'cancelled',
        actor: request.actor,
        ip: request.ip,
        userAgent: request.userAgent,
        detail: { reason: request.reason },
        occurredAt: iso(Date.now()),
      });
      return state;
    },
    { validator: (_request: KycCancelInput) => requireStatus(['invited', 'in_progress', 'changes_requested', 'signing', 'in_review'], 'be cancelled') },
  );

  setHandler(
    remindCustomerUpdate,
    () => {
      lastManualReminderAt = Date.now();
      manualReminders += 1;
      work.push({ kind: 'remind', reminderKey: `manual-${manualReminders}` });
      return { reminded: 1 };
    },
    {
      validator: () => {
        requireStatus([...answering, 'signing'], 'send a reminder');
        if (Date.now() - lastManualReminderAt < manualKycReminderIntervalMs) throw new Error('rate_limited');
      },
    },
  );

  /**
   * A step the case cannot do (an activity that failed for good: the customer's address refused, a declaration
   * that cannot be made, an event the trail refuses) ends it visibly as failed, as failRound does for a round:
   * recorded, and staff told through the outcome notification. Only the trail's records stay queued.
   */
  const failCase = (reason: string) => {
    if (ended.includes(state.status)) return;
    state.status = 'failed';
    work.splice(0, work.length, ...work.filter((item) => item.kind === 'audit'));
    audit({ eventKey: 'failed', type: 'failed', actor: 'system', detail: { reason }, occurredAt: iso(Date.now()) });
  };

  const doQueuedWork = async () => {
    while (work.length > 0) {
      const item = work.shift()!;
      try {
        if (item.kind === 'audit') {
          await activities.recordKycEvent({ ...item.event, caseId: input.caseId });
        } else {
          await activities.sendKycReminder({ caseId: input.caseId, reminderKey: item.reminderKey });
          state.remindersSent += 1;
        }
      } catch (error) {
        if (!(error instanceof ActivityFailure)) throw error;
        // A reminder that cannot be sent is skipped: the case goes on. A refused event ends the case.
        if (item.kind === 'audit') failCase('audit_event_rejected');
      }
    }
  };

  /** Prepares this submission's declaration and starts its signing round as a child; the loop hears how it ends. */
  const startDeclaration = async () => {
    declarationAttempts += 1;
    let prepared: Awaited<ReturnType<KycActivities['prepareKycDeclaration']>>;
    try {
      prepared = await documents.prepareKycDeclaration({ caseId: input.caseId, attempt: declarationAttempts, expiresAt: iso(expiresAtMs) });
    } catch (error) {
      if (!(error instanceof ActivityFailure)) throw error;
      failCase('declaration_failed');
      return;
    }
    state.declarationRequestId = prepared.requestId;
    const started = { scope: new CancellationScope() } as NonNullable<typeof declaration>;
    declaration = started;
    started.scope
      .run(() =>
        executeChild(signingRoundWorkflow, {
          workflowId: roundWorkflowId(prepared.requestId),
          args: [prepared.roundInput],
          typedSearchAttributes: [
            { key: organizationIdAttribute, value: input.organizationId },
            { key: processStatusAttribute, value: 'pending' },
          ],
        }),
      )
      .then(
        (round) => void (started.outcome = round.status),
        (error: unknown) => void (started.outcome = isCancellation(error) ? 'cancelled' : 'gone'),
      );
  };

  const customerHasWork = () => answering.includes(state.status) || state.status === 'signing';

  try {
    await activities.sendKycInvitation({ caseId: input.caseId });
  } catch (error) {
    if (!(error instanceof ActivityFailure)) throw error;
    failCase('invitation_failed');
  }
  while (!ended.includes(state.status)) {
    await doQueuedWork();
    if (ended.includes(state.status)) break;
    if (state.status === 'signing' && !declaration) await startDeclaration();

    const reminderDue = customerHasWork() && nextReminderAtMs !== undefined && scheduledReminders < input.reminders.max;
    // While signing, the round has the same deadline and ends itself expired: the case hears it from there.
    const deadline = answering.includes(state.status) ? expiresAtMs : Number.POSITIVE_INFINITY;
    const wakeAtMs = Math.min(deadline, reminderDue ? nextReminderAtMs! : Number.POSITIVE_INFINITY);
    const statusBefore = state.status;
    const wake = () => work.length > 0 || state.status !== statusBefore || declaration?.outcome !== undefined;
    const woken = Number.isFinite(wakeAtMs) ? await condition(wake, Math.max(wakeAtMs - Date.now(), 1)) : (await condition(wake), true);

    if (declaration?.outcome !== undefined) {
      const outcome = declaration.outcome;
      declaration = undefined;
      if (state.status === 'signing') {
        if (outcome === 'completed') {
          state.status = 'in_review';
          audit({ eventKey: `declaration_signed:${declarationAttempts}`, type: 'declaration_signed', actor: 'customer', detail: { requestId: state.declarationRequestId }, occurredAt: iso(Date.now()) });
        } else if (outcome === 'expired') {
          state.status = 'expired';
          audit({ eventKey: 'expired', type: 'expired', actor: 'system', occurredAt: iso(Date.now()) });
        } else {
          state.status = 'in_progress';
          audit({ eventKey: `declaration_ended:${declarationAttempts}`, type: 'declaration_ended', actor: 'system', detail: { requestId: state.declarationRequestId, outcome }, occurredAt: iso(Date.now()) });
        }
      }
      continue;
    }
    if (woken) continue;

    if (Date.now() >= deadline) {
      state.status = 'expired';
      audit({ eventKey: 'expired', type: 'expired', actor: 'system', occurredAt: iso(Date.now()) });
    } else if (reminderDue && Date.now() >= nextReminderAtMs!) {
      scheduledReminders += 1;
      work.push({ kind: 'remind', reminderKey: `scheduled-${scheduledReminders}` });
      nextReminderAtMs = nextReminderAtMs! + input.reminders.everyMs;
    }
  }
  if (declaration) {
    // The case ended (cancelled, failed) while its declaration's round runs, even while the loop was doing queued
    // work: the customer must not sign a declaration of an ended case, so its round is cancelled too. Its
    // request is recorded cancelled only if the round did end cancelled (not, say, sealed a moment before).
    const running = declaration;
    running.scope.cancel();
    await condition(() => running.outcome !== undefined);
    declaration = undefined;
    if (running.outcome === 'cancelled') {
      try {
        await signing.recordAuditEvent({
          requestId: state.declarationRequestId!,
          eventKey: 'cancelled',
          type: 'cancelled',
          actor: 'system',
          detail: { reason: `kyc_case_${state.status}` },
          occurredAt: iso(Date.now()),
        });
        await signing.recordOutcome({ requestId: state.declarationRequestId!, status: 'cancelled', at: iso(Date.now()) });
      } catch (error) {
        if (!(error instanceof ActivityFailure)) throw error;
      }
    }
  }
  await doQueuedWork();

  state.endedAt = iso(Date.now());
  upsertSearchAttributes([{ key: processStatusAttribute, value: state.status }]);
  if (state.status === 'approved' || state.status === 'rejected') {
    try {
      await documents.archiveKycEvidence({ caseId: input.caseId, createdAt: state.endedAt });
    } catch (error) {
      // The decision stands and is on record; a package that cannot be built is for operations to see.
      if (!(error instanceof ActivityFailure)) throw error;
    }
  }
  try {
    await activities.notifyKycOutcome({ caseId: input.caseId, status: state.status });
  } catch (error) {
    // The outcome is on record; a notification that cannot be sent does not undo it.
    if (!(error instanceof ActivityFailure)) throw error;
  }
  return state;
}
