/**
 * The workflow history's steps in plain words, in the reader's language. The API's `summary` is English for
 * back-office tools; the console builds each sentence from the structured fields instead (which activity,
 * for which signer, which timer, Update or Signal; src/signing/workflow-history.ts). A step of a kind this
 * file does not know keeps the English summary with a note, so a new kind of step never breaks the page.
 * Pure (no DOM, no Preact), so a unit test reads it exactly as the console does.
 */
import type { TimelineStep } from '../../../../contract/signing-requests';
import type { Translate } from '../../../../i18n';

/** One step of `GET /v1/signing-requests/:id/history`. */
export type HistoryStep = TimelineStep;

export interface StepSetting {
  /** The request's signers in signing order (their number in a sentence is the position plus one). */
  signers: Array<{ id: string; name: string }>;
  /** The request's deadline: a timer ending then waits for the deadline, any other for the next reminder. */
  expiresAt: string;
  t: Translate;
  /** A date in the reader's language and the organisation's zone. */
  when(at: string): string;
}

export interface StepText {
  text: string;
  /** True when no translation fits and `text` is the API's English summary. */
  untranslated: boolean;
}

const activityStates: Record<string, string> = {
  ActivityTaskScheduled: 'scheduled',
  ActivityTaskStarted: 'started',
  ActivityTaskFailed: 'failed',
  ActivityTaskTimedOut: 'timedOut',
};
const workflowTaskStates: Record<string, string> = {
  WorkflowTaskScheduled: 'scheduled',
  WorkflowTaskStarted: 'started',
  WorkflowTaskCompleted: 'completed',
  WorkflowTaskFailed: 'failed',
  WorkflowTaskTimedOut: 'timedOut',
};
const signerActivities = new Set(['sendInvitation', 'sendReminder', 'sendPin', 'notifySignerLocked']);
const signerUpdates = new Set(['sign', 'decline', 'resendPin']);

/** A timer set within this much of the deadline waits for the deadline (event times lag workflow time a little). */
const deadlineSlackMs = 60_000;

export function describeStep(step: HistoryStep, setting: StepSetting): StepText {
  const { t } = setting;
  const say = (key: string, values: Record<string, unknown> = {}): StepText | undefined => {
    const text = t(key, { ...values, defaultValue: '' });
    return text ? { text, untranslated: false } : undefined;
  };
  /** `{number, name}` of the step's signer; undefined when the step names none the request knows. */
  const signer = () => {
    const index = setting.signers.findIndex((candidate) => candidate.id === step.signerId);
    return index < 0 ? undefined : { number: index + 1, name: setting.signers[index]!.name };
  };

  const described = ((): StepText | undefined => {
    switch (step.event) {
      case 'WorkflowExecutionStarted':
        return say('console:history.started');
      case 'WorkflowExecutionCompleted':
        return step.outcome
          ? say('console:history.ended', { status: t(`common:requestStatus.${step.outcome}`, { defaultValue: step.outcome }) })
          : say('console:history.endedPlain');
      case 'WorkflowExecutionFailed':
        return say('console:history.roundFailed');
      case 'UpsertWorkflowSearchAttributes':
        return say('console:history.statusPublished');
      // A patch marker (the round's code versions a change: src/workflows/signing-round.ts, `patched`).
      case 'MarkerRecorded':
        return say('console:history.versionRecorded');
      case 'TimerStarted': {
        if (!step.timer) return undefined;
        const key = isDeadline(step.timer.firesAt, setting.expiresAt) ? 'waitDeadline' : 'waitReminder';
        return say(`console:history.${key}`, { at: setting.when(step.timer.firesAt) });
      }
      case 'TimerFired':
        if (!step.timer) return undefined;
        return say(isDeadline(step.timer.firesAt, setting.expiresAt) ? 'console:history.deadlinePassed' : 'console:history.reminderDue');
      case 'TimerCanceled':
        return say('console:history.waitEnded');
      case 'WorkflowExecutionUpdateAccepted': {
        if (!step.update) return undefined;
        if (!signerUpdates.has(step.update)) return say(`console:history.update.${step.update}`);
        const who = signer();
        return who && say(`console:history.update.${step.update}`, who);
      }
      case 'WorkflowExecutionUpdateCompleted':
        return say('console:history.updateDone');
      case 'WorkflowExecutionSignaled': {
        const who = signer();
        return step.signal && who ? say(`console:history.signal.${step.signal}`, who) : undefined;
      }
    }
    if (step.event in workflowTaskStates) return say(`console:history.workflowTask.${workflowTaskStates[step.event]}`);
    if (step.activity && (step.event === 'ActivityTaskCompleted' || step.event in activityStates)) {
      const values: Record<string, unknown> = {};
      if (signerActivities.has(step.activity)) {
        const who = signer();
        if (!who) return undefined;
        Object.assign(values, who);
      }
      if (step.activity === 'recordAuditEvent') {
        if (!step.auditEvent) return undefined;
        values.event = t(`audit:event.${step.auditEvent}`, { defaultValue: step.auditEvent });
      }
      if (step.event === 'ActivityTaskCompleted') return say(`console:history.activity.${step.activity}.done`, values);
      const task = say(`console:history.activity.${step.activity}.task`, values);
      return task && say(`console:history.task.${activityStates[step.event]}`, { task: task.text });
    }
    return undefined;
  })();
  return described ?? { text: `${step.summary} ${t('console:history.untranslated')}`, untranslated: true };
}

function isDeadline(firesAt: string, expiresAt: string): boolean {
  return Date.parse(firesAt) >= Date.parse(expiresAt) - deadlineSlackMs;
}
