/**
 * One signing round, from invitations to the sealed, hashed, archived document.
 *
 * Invite (everyone at once, or one after another), then wait: for signatures and declines (Updates from
 * the signer API), for a cancel or a manual reminder (Updates from the sender API), for the next scheduled
 * reminder or the deadline (durable timers). When everyone has signed: seal, hash and archive, then tell
 * everyone. Every side effect is an activity keyed by request and signer ids, so a retry or a replay never
 * sends a second invitation or seals twice. Handlers only change state and queue work; the main loop does
 * the work, so everything a handler accepted is carried out even if the worker dies in between.
 */
import {
  ActivityFailure,
  condition,
  defineQuery,
  defineSignal,
  defineUpdate,
  patched,
  proxyActivities,
  setHandler,
  upsertSearchAttributes,
} from '@temporalio/workflow';
import type { SigningActivities } from '../activities/signing-activities';
import type { NewAuditEvent } from '../signing/audit-trail';
import { processStatusAttribute } from './search-attributes';

export type RoundStatus = 'pending' | 'completed' | 'declined' | 'expired' | 'cancelled' | 'failed';
export type SignerStatus = 'waiting' | 'invited' | 'opened' | 'signed' | 'declined';

export interface SigningRoundInput {
  requestId: string;
  routing: 'parallel' | 'sequential';
  /** In signing order. */
  signerIds: string[];
  reminders: { firstAfterMs: number; everyMs: number; max: number };
  expiresAt: string;
  /**
   * `caller`: the process that started this round (a KYC case) has already invited the signer and hands
   * them over itself, so no invitation email is sent; the invitation is recorded all the same. Absent (every
   * round before KYC cases): invitations are emailed.
   */
  invitations?: 'email' | 'caller';
}

export interface SignerProgress {
  id: string;
  status: SignerStatus;
  invitedAt?: string;
  openedAt?: string;
  signedAt?: string;
  declinedAt?: string;
  remindersSent: number;
}

export interface RoundState {
  requestId: string;
  status: RoundStatus;
  signers: SignerProgress[];
  remindersSent: number;
  nextReminderAt?: string;
  expiresAt: string;
  sealedAt?: string;
  sha256?: string;
  endedAt?: string;
  /** Why a round ended `failed` (a step name, never data). */
  failureReason?: RoundFailureReason;
}

/**
 * audit_event_rejected: an event could not be written to the audit trail (the evidence would be
 * incomplete, so the round does not go on); message_failed: an invitation, reminder or PIN could not be
 * sent for good; seal_failed: sealing or archiving failed after every retry.
 */
export type RoundFailureReason = 'audit_event_rejected' | 'message_failed' | 'seal_failed';

/** Who acted and from where: recorded in the audit trail with the event. */
export interface ActorContext {
  ip?: string;
  userAgent?: string;
}

export interface SignInput extends ActorContext {
  signerId: string;
  typedName: string;
  /** The eID identification the signer's session carried (its id only), for eID signers. */
  identificationId?: string;
}
export interface DeclineInput extends ActorContext {
  signerId: string;
  reason: string;
}
export interface CancelInput extends ActorContext {
  reason: string;
}
export interface SignerOpenedInput extends ActorContext {
  signerId: string;
}
/** A signer's link locked after too many wrong PINs; `lockId` names this lock (its outbox row). */
export interface SignerLockedInput {
  signerId: string;
  lockId: string;
}

export const roundStateQuery = defineQuery<RoundState>('roundState');
export const signUpdate = defineUpdate<RoundState, [SignInput]>('sign');
export const declineUpdate = defineUpdate<RoundState, [DeclineInput]>('decline');
export const cancelUpdate = defineUpdate<RoundState, [CancelInput]>('cancel');
export const remindNowUpdate = defineUpdate<{ reminded: number }, []>('remindNow');
export const resendPinUpdate = defineUpdate<void, [{ signerId: string; pinVersion: number }]>('resendPin');
export const signerOpenedSignal = defineSignal<[SignerOpenedInput]>('signerOpened');
export const signerLockedSignal = defineSignal<[SignerLockedInput]>('signerLocked');
/** An eID identity refused as not this signer; `attemptId` names the attempt (its outbox row). */
export const identityMismatchSignal = defineSignal<[{ signerId: string; attemptId: string }]>('identityMismatch');

/** A manual reminder may follow the previous one after this long at the earliest. */
export const manualReminderIntervalMs = 60 * 60_000;

// Short timeouts: an activity on a worker that died is retried elsewhere once its timeout passes.
const messaging = proxyActivities<SigningActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '2 seconds', backoffCoefficient: 2, maximumInterval: '5 minutes' },
});
// Sealing a large document takes longer, so it heartbeats: a dead worker is noticed within 30 s, not
// after the whole start-to-close budget. It retries until it succeeds or fails for good.
const sealing = proxyActivities<SigningActivities>({
  startToCloseTimeout: '10 minutes',
  heartbeatTimeout: '30 seconds',
  retry: { initialInterval: '5 seconds', backoffCoefficient: 2, maximumInterval: '10 minutes', maximumAttempts: 20 },
});

type Work =
  | { kind: 'invite'; signerId: string }
  | { kind: 'remind'; signerIds: string[]; reminderKey: string }
  | { kind: 'resendPin'; signerId: string; pinVersion: number }
  | { kind: 'notifyLocked'; signerId: string; lockId: string }
  | { kind: 'notifyIdentityMismatch'; signerId: string; attemptId: string }
  | { kind: 'audit'; event: Omit<NewAuditEvent, 'requestId'> };

const iso = (ms: number) => new Date(ms).toISOString();

export async function signingRoundWorkflow(input: SigningRoundInput): Promise<RoundState> {
  const startedAt = Date.now(); // Temporal's deterministic workflow time
  const expiresAtMs = Date.parse(input.expiresAt);
  const state: RoundState = {
    requestId: input.requestId,
    status: 'pending',
    signers: input.signerIds.map((id) => ({ id, status: 'waiting', remindersSent: 0 })),
    remindersSent: 0,
    expiresAt: input.expiresAt,
  };
  const work: Work[] = [];
  let lastManualReminderAt = Number.NEGATIVE_INFINITY;
  let manualReminders = 0;
  const heardLocks = new Set<string>();
  let nextReminderAtMs = input.reminders.max > 0 ? startedAt + input.reminders.firstAfterMs : undefined;
  const signer = (id: string) => state.signers.find((candidate) => candidate.id === id);
  const pendingSigners = () => state.signers.filter((s) => s.status === 'invited' || s.status === 'opened');
  const audit = (event: Omit<NewAuditEvent, 'requestId'>) => work.push({ kind: 'audit', event });

  const inviteNextSigners = () => {
    const waiting = state.signers.filter((s) => s.status === 'waiting');
    const toInvite = input.routing === 'parallel' ? waiting : pendingSigners().length === 0 ? waiting.slice(0, 1) : [];
    for (const next of toInvite) {
      next.status = 'invited';
      next.invitedAt = iso(Date.now());
      work.push({ kind: 'invite', signerId: next.id });
    }
  };

  // The first signers are invited before any handler is registered: an Update that arrives with the start
  // (a reminder sent the moment the request was created, on a busy worker) runs as its handler is registered,
  // and must find them invited; it reminded nobody before. Rounds started before this change invite after
  // registering, so their histories replay as they ran.
  const invitedBeforeHandlers = patched('invite-before-update-handlers');
  if (invitedBeforeHandlers) inviteNextSigners();

  const requireActive = (signerId: string) => {
    if (state.status !== 'pending') throw new Error(`the signing request is ${state.status}`);
    const found = signer(signerId);
    if (!found) throw new Error('unknown signer');
    return found;
  };

  setHandler(roundStateQuery, () => state);

  setHandler(
    signUpdate,
    (request) => {
      const found = signer(request.signerId)!;
      if (found.status === 'signed') return state; // a double click records one signature
      found.status = 'signed';
      found.signedAt = iso(Date.now());
      audit({
        eventKey: `signed:${found.id}`,
        type: 'signed',
        signerId: found.id,
        actor: 'signer',
        ip: request.ip,
        userAgent: request.userAgent,
        detail: { typedName: request.typedName, ...(request.identificationId ? { identificationId: request.identificationId } : {}) },
        occurredAt: found.signedAt,
      });
      inviteNextSigners();
      return state;
    },
    {
      validator: (request) => {
        const found = signer(request.signerId);
        if (found?.status === 'signed') return;
        const active = requireActive(request.signerId);
        if (active.status !== 'invited' && active.status !== 'opened') throw new Error(`the signer is ${active.status}`);
      },
    },
  );

  setHandler(
    declineUpdate,
    (request) => {
      const found = signer(request.signerId)!;
      found.status = 'declined';
      found.declinedAt = iso(Date.now());
      state.status = 'declined';
      audit({
        eventKey: `declined:${found.id}`,
        type: 'declined',
        signerId: found.id,
        actor: 'signer',
        ip: request.ip,
        userAgent: request.userAgent,
        detail: { reason: request.reason },
        occurredAt: found.declinedAt,
      });
      return state;
    },
    {
      validator: (request) => {
        const active = requireActive(request.signerId);
        if (active.status !== 'invited' && active.status !== 'opened') throw new Error(`the signer is ${active.status}`);
      },
    },
  );

  setHandler(
    cancelUpdate,
    (request) => {
      state.status = 'cancelled';
      audit({
        eventKey: 'cancelled',
        type: 'cancelled',
        actor: 'sender',
        ip: request.ip,
        userAgent: request.userAgent,
        detail: { reason: request.reason },
        occurredAt: iso(Date.now()),
      });
      return state;
    },
    {
      validator: (_request: CancelInput) => {
        if (state.status !== 'pending') throw new Error(`the signing request is ${state.status}`);
      },
    },
  );

  setHandler(
    remindNowUpdate,
    () => {
      lastManualReminderAt = Date.now();
      manualReminders += 1;
      const targets = pendingSigners().map((s) => s.id);
      work.push({ kind: 'remind', signerIds: targets, reminderKey: `manual-${manualReminders}` });
      return { reminded: targets.length };
    },
    {
      validator: () => {
        if (state.status !== 'pending') throw new Error(`the signing request is ${state.status}`);
        if (Date.now() - lastManualReminderAt < manualReminderIntervalMs) throw new Error('rate_limited');
      },
    },
  );

  setHandler(
    resendPinUpdate,
    ({ signerId, pinVersion }) => {
      work.push({ kind: 'resendPin', signerId, pinVersion });
    },
    { validator: ({ signerId }) => void requireActive(signerId) },
  );

  setHandler(signerOpenedSignal, (request) => {
    const found = signer(request.signerId);
    if (state.status !== 'pending' || !found || found.status !== 'invited') return;
    found.status = 'opened';
    found.openedAt = iso(Date.now());
  });

  // Delivered at least once by the relay: a lock already heard of is not told twice.
  setHandler(signerLockedSignal, ({ signerId, lockId }) => {
    if (state.status !== 'pending' || !signer(signerId) || heardLocks.has(lockId)) return;
    // A worker of the previous release had no handler for this signal and scheduled nothing; replaying such
    // a history must not schedule the notice now (a rolling deploy may relay a lock to either release).
    if (!patched('signer-locked-notice')) return;
    heardLocks.add(lockId);
    work.push({ kind: 'notifyLocked', signerId, lockId });
  });

  // Delivered at least once by the relay, like a lock, and patched like it: a worker of an older release
  // ignores this signal, and replaying such a history must not schedule the notice now.
  const heardMismatches = new Set<string>();
  setHandler(identityMismatchSignal, ({ signerId, attemptId }) => {
    if (state.status !== 'pending' || !signer(signerId) || heardMismatches.has(attemptId)) return;
    if (!patched('identity-mismatch-notice')) return;
    heardMismatches.add(attemptId);
    work.push({ kind: 'notifyIdentityMismatch', signerId, attemptId });
  });

  /**
   * The messaging activities retry outages for ever, so a failure reaching here is permanent (bad data, a
   * missing record). The round then ends `failed` whatever it was about to become: a decline or cancel whose
   * audit event cannot be written must not end as if it had been recorded. Audit events already queued are
   * still written; messages are not sent any more.
   */
  const failRound = (reason: RoundFailureReason) => {
    state.status = 'failed';
    state.failureReason ??= reason;
    work.splice(0, work.length, ...work.filter((item) => item.kind === 'audit'));
  };

  const doQueuedWork = async () => {
    while (work.length > 0) {
      const item = work.shift()!;
      // The switch stays inline (no helper function): an extra await would move when activities are
      // scheduled relative to Update completions, and recorded histories would no longer replay.
      try {
        switch (item.kind) {
          case 'invite':
            if (input.invitations === 'caller') {
              await messaging.recordAuditEvent({
                requestId: input.requestId,
                eventKey: `invited:${item.signerId}`,
                type: 'invited',
                signerId: item.signerId,
                actor: 'system',
                channel: 'kyc_case',
                occurredAt: iso(Date.now()),
              });
            } else {
              await messaging.sendInvitation({ requestId: input.requestId, signerId: item.signerId });
            }
            break;
          case 'remind':
            for (const signerId of item.signerIds) {
              await messaging.sendReminder({ requestId: input.requestId, signerId, reminderKey: item.reminderKey });
              signer(signerId)!.remindersSent += 1;
            }
            break;
          case 'resendPin':
            await messaging.sendPin({ requestId: input.requestId, signerId: item.signerId, pinVersion: item.pinVersion });
            break;
          case 'audit':
            await messaging.recordAuditEvent({ ...item.event, requestId: input.requestId });
            break;
          case 'notifyLocked':
            await messaging.notifySignerLocked({ requestId: input.requestId, signerId: item.signerId, lockId: item.lockId });
            break;
          case 'notifyIdentityMismatch':
            await messaging.notifyIdentityMismatch({ requestId: input.requestId, signerId: item.signerId, attemptId: item.attemptId });
            break;
        }
      } catch (error) {
        if (!(error instanceof ActivityFailure)) throw error;
        // A lock notice that cannot be sent leaves the round as it is: the lock is on record and in the
        // console, and the signer can still sign once a new PIN is issued.
        if (item.kind === 'notifyLocked' || item.kind === 'notifyIdentityMismatch') continue;
        failRound(item.kind === 'audit' ? 'audit_event_rejected' : 'message_failed');
      }
    }
  };

  const allSigned = () => state.signers.every((s) => s.status === 'signed');

  if (!invitedBeforeHandlers) inviteNextSigners();
  while (state.status === 'pending' && !allSigned()) {
    await doQueuedWork();
    if (state.status !== 'pending' || allSigned()) break;

    const reminderDue = nextReminderAtMs !== undefined && state.remindersSent < input.reminders.max;
    state.nextReminderAt = reminderDue ? iso(nextReminderAtMs!) : undefined;
    const wakeAtMs = Math.min(expiresAtMs, reminderDue ? nextReminderAtMs! : Number.POSITIVE_INFINITY);
    const woken = await condition(() => work.length > 0 || state.status !== 'pending' || allSigned(), Math.max(wakeAtMs - Date.now(), 1));
    if (woken) continue;

    if (Date.now() >= expiresAtMs) {
      state.status = 'expired';
      audit({ eventKey: 'expired', type: 'expired', actor: 'system', occurredAt: iso(Date.now()) });
    } else if (reminderDue && Date.now() >= nextReminderAtMs!) {
      state.remindersSent += 1;
      work.push({
        kind: 'remind',
        signerIds: pendingSigners().map((s) => s.id),
        reminderKey: `scheduled-${state.remindersSent}`,
      });
      nextReminderAtMs = nextReminderAtMs! + input.reminders.everyMs;
    }
  }
  state.nextReminderAt = undefined;
  await doQueuedWork();

  if (state.status === 'pending' && allSigned()) {
    await sealHashAndArchive(input.requestId, state);
  }
  state.endedAt = iso(Date.now());
  upsertSearchAttributes([{ key: processStatusAttribute, value: state.status }]);
  await messaging.recordOutcome({ requestId: input.requestId, status: state.status, at: state.endedAt, failureReason: state.failureReason });
  await messaging.notifyOutcome({ requestId: input.requestId, status: state.status });
  return state;
}

async function sealHashAndArchive(requestId: string, state: RoundState): Promise<void> {
  // Fixed before the first attempt, so every retry stamps and signs with the same sealing time.
  const sealedAt = new Date(Date.now()).toISOString();
  try {
    const sealed = await sealing.sealSignedDocument({ requestId, sealedAt });
    await sealing.archiveSealedDocument({
      requestId,
      sealedAt,
      sealedBlobKey: sealed.sealedBlobKey,
      sha256: sealed.sha256,
      ...(sealed.evidenceSha256 ? { evidenceSha256: sealed.evidenceSha256 } : {}),
      ...(sealed.archiveTimestampExpiresAt ? { archiveTimestampExpiresAt: sealed.archiveTimestampExpiresAt } : {}),
      ...(sealed.sealedByAppending ? { sealedByAppending: true } : {}),
    });
    state.sealedAt = sealedAt;
    state.sha256 = sealed.sha256;
    state.status = 'completed';
  } catch (error) {
    // Only after every retry failed or a permanent error: the round ends visibly as failed, never "pending".
    if (!(error instanceof ActivityFailure)) throw error;
    state.status = 'failed';
    state.failureReason = 'seal_failed';
  }
}
