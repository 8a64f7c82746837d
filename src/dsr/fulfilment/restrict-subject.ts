/**
 * Restriction (GDPR Art. 18) and objection (Art. 21) for a data-subject request: recorded on the person's
 * open items, and honoured: from then no reminder goes to them.
 *
 * Where it is kept: in each item's own audit trail, as a `contact_restricted` event (the signer's, or the KYC
 * case's), keyed by the data-subject request so a retried activity records it once. The trail is where the
 * item's history already lives, append-only and hash-chained, so the restriction cannot be lost or silently
 * undone, and no column or migration is needed. The reminder activities (src/activities/signing-activities.ts
 * `sendReminder`, kyc-activities.ts `sendKycReminder`) look it up before sending and record `reminder_skipped`
 * instead; the workflows are unchanged, so recorded histories replay as before.
 *
 * Invitations, PINs and outcome messages still go: they are part of the round the person is in (the sender
 * may cancel the round if the person objects to it as a whole).
 */
import type { DataSource, EntityManager } from 'typeorm';
import { recordKycEvent } from '../../kyc/kyc-audit-trail';
import { recordAuditEvent } from '../../signing/audit-trail';
import type { SigningContext } from '../../signing/signing-context';
import { discoverSubjectRecordDetails } from './discover-subject-records';
import { openKycStatuses, openSignerStatuses } from './rectify-subject-contact';
import type { DataSubject, SubjectRecord } from './subject-record';

export async function restrictSubject(
  context: SigningContext,
  dsrId: string,
  subject: DataSubject,
  kind: 'restriction' | 'objection',
  actor: string,
): Promise<{ restricted: SubjectRecord[] }> {
  const now = new Date();
  const detail = { kind, dataSubjectRequestId: dsrId, reason: kind === 'restriction' ? 'GDPR Art. 18 restriction' : 'GDPR Art. 21 objection' };
  const restricted: SubjectRecord[] = [];
  for (const { record, signerIds } of await discoverSubjectRecordDetails(context, subject)) {
    if (record.kind === 'signing_request' && record.status === 'pending') {
      const signers: Array<{ id: string }> = await context.dataSource.query(`SELECT id FROM signers WHERE id = ANY($1::uuid[]) AND status = ANY($2::text[])`, [
        signerIds,
        openSignerStatuses,
      ]);
      for (const signer of signers) {
        await recordAuditEvent(context.dataSource, {
          requestId: record.id,
          eventKey: `contact_restricted:${dsrId}:${signer.id}`,
          type: 'contact_restricted',
          signerId: signer.id,
          actor,
          detail,
          occurredAt: now,
        });
      }
      if (signers.length > 0) restricted.push(record);
    }
    if (record.kind === 'kyc_case' && openKycStatuses.includes(record.status)) {
      await recordKycEvent(context.dataSource, { caseId: record.id, eventKey: `contact_restricted:${dsrId}`, type: 'contact_restricted', actor, detail, occurredAt: now });
      restricted.push(record);
    }
  }
  return { restricted };
}

/** Whether the signer asked (through a data-subject request) for no further reminders. */
export async function isSignerContactRestricted(db: DataSource | EntityManager, requestId: string, signerId: string): Promise<boolean> {
  const rows: unknown[] = await db.query(`SELECT 1 FROM audit_events WHERE request_id = $1 AND signer_id = $2 AND type = 'contact_restricted' LIMIT 1`, [
    requestId,
    signerId,
  ]);
  return rows.length > 0;
}

/** Whether the KYC case's customer asked (through a data-subject request) for no further reminders. */
export async function isKycCustomerContactRestricted(db: DataSource | EntityManager, caseId: string): Promise<boolean> {
  const rows: unknown[] = await db.query(`SELECT 1 FROM kyc_audit_events WHERE case_id = $1 AND type = 'contact_restricted' LIMIT 1`, [caseId]);
  return rows.length > 0;
}
