/**
 * PostgreSQL is the read model of signing rounds; Temporal drives them. Every state change a round makes is
 * recorded as an audit event by an activity (or, for a signer opening their link, by the API), and the same
 * call brings the signer's and the request's columns up to date here. So status reads are one database
 * lookup that never wakes a worker and keeps answering while Temporal or every worker is down; the
 * workflow's Query stays for support and diagnostics.
 *
 * Every update is idempotent and order-tolerant (a status only moves forward, first times are kept), so an
 * activity retried after a crash between recording the event and applying it repairs the view.
 * Consistency: the API also writes what an Update it sent has confirmed (`reflectConfirmedUpdate`: a
 * signature, a decline, a cancel), so whoever acted reads their own action back at once; other changes (an
 * invitation sent, a reminder, the seal) appear when the activity that performs them has recorded them.
 */
import type { DataSource, EntityManager } from 'typeorm';
import type { RoundState } from '../workflows/signing-round';
import type { AuditEventType } from './audit-trail';

export interface RecordedEvent {
  requestId: string;
  type: AuditEventType | string;
  eventKey: string;
  signerId: string | null;
  occurredAt: Date;
}

/** A request's status once its deciding event is recorded (completed is set when the round records its outcome). */
const endingEvents: Record<string, string> = { declined: 'declined', cancelled: 'cancelled', expired: 'expired', failed: 'failed' };

export async function applyEventToReadModel(db: DataSource | EntityManager, event: RecordedEvent): Promise<void> {
  const { requestId, signerId, occurredAt } = event;
  if (signerId) {
    switch (event.type) {
      case 'invited':
        await db.query(
          `UPDATE signers SET status = CASE WHEN status = 'waiting' THEN 'invited' ELSE status END, invited_at = coalesce(invited_at, $2)
            WHERE id = $1`,
          [signerId, occurredAt],
        );
        break;
      case 'opened':
        await db.query(
          `UPDATE signers SET status = CASE WHEN status IN ('waiting', 'invited') THEN 'opened' ELSE status END, opened_at = coalesce(opened_at, $2)
            WHERE id = $1`,
          [signerId, occurredAt],
        );
        break;
      case 'signed':
        await db.query(`UPDATE signers SET status = 'signed', signed_at = coalesce(signed_at, $2) WHERE id = $1`, [signerId, occurredAt]);
        break;
      case 'declined':
        await db.query(`UPDATE signers SET status = 'declined', declined_at = coalesce(declined_at, $2) WHERE id = $1`, [signerId, occurredAt]);
        break;
      case 'reminded': {
        // Counted from the trail rather than incremented: a repeated call counts nothing twice.
        await db.query(
          `UPDATE signers SET reminders_sent = (SELECT count(*) FROM audit_events WHERE request_id = $2 AND signer_id = $1 AND type = 'reminded')
            WHERE id = $1`,
          [signerId, requestId],
        );
        const scheduledRound = /^reminded:scheduled-(\d+):/.exec(event.eventKey)?.[1];
        if (scheduledRound) {
          await db.query(`UPDATE signing_requests SET reminders_sent = greatest(reminders_sent, $2) WHERE id = $1`, [requestId, Number(scheduledRound)]);
        }
        break;
      }
    }
  }
  const endsAs = endingEvents[event.type];
  if (endsAs) await db.query(`UPDATE signing_requests SET status = $2 WHERE id = $1 AND status = 'pending'`, [requestId, endsAs]);
}

/**
 * What the round confirmed in its answer to an Update: signatures and declines (with the round's own times,
 * the ones its audit events will carry) and a round ended by a decline or cancel. Same forward-only rules as
 * above, so the activity recording the same events later changes nothing.
 */
export async function reflectConfirmedUpdate(db: DataSource | EntityManager, state: RoundState): Promise<void> {
  for (const signer of state.signers) {
    if (signer.status === 'signed' && signer.signedAt) {
      await db.query(`UPDATE signers SET status = 'signed', signed_at = coalesce(signed_at, $2) WHERE id = $1`, [signer.id, signer.signedAt]);
    } else if (signer.status === 'declined' && signer.declinedAt) {
      await db.query(`UPDATE signers SET status = 'declined', declined_at = coalesce(declined_at, $2) WHERE id = $1`, [signer.id, signer.declinedAt]);
    }
  }
  if (state.status === 'declined' || state.status === 'cancelled') {
    await db.query(`UPDATE signing_requests SET status = $2 WHERE id = $1 AND status = 'pending'`, [state.requestId, state.status]);
  }
}
