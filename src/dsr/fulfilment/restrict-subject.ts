/**
 * Restriction (GDPR Art. 18) and objection (Art. 21) for a data-subject request: recorded on the person's
 * open items, and honoured: from then no reminder goes to them.
 *
 * Where it is kept: in each item's own audit trail, as a `contact_restricted` event (the signer's, or the KYC
 * case's), keyed by the data-subject request so a retried activity records it once. The trail is where the
 * item's history already lives, append-only and hash-chained, so the restriction cannot be lost or silently
 * undone, and no column or migration is needed. The reminder activities (src/activities/signing-activities.ts
 * `sendReminder`, kyc-activities.ts `sendKycReminder`) look it up before sending and record `reminder_skipped`
 * instead; the workflows are unchanged, so recorded histories replay as before. Items created after the
 * request was fulfilled are covered by the request itself (`hasStandingRestriction`).
 *
 * Invitations, PINs and outcome messages still go: they are part of the round the person is in (the sender
 * may cancel the round if the person objects to it as a whole).
 */
import { openSignerContact } from '../../signing/round-personal-data';
import { readKycCaseRow } from '../../kyc/get-kyc-case';
import { recordKycEvent } from '../../kyc/kyc-audit-trail';
import { recordAuditEvent } from '../../signing/audit-trail';
import type { SigningContext } from '../../signing/signing-context';
import { requesterCredentials } from '../requester-credentials';
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
export async function isSignerContactRestricted(context: SigningContext, requestId: string, signerId: string): Promise<boolean> {
  const rows: unknown[] = await context.dataSource.query(`SELECT 1 FROM audit_events WHERE request_id = $1 AND signer_id = $2 AND type = 'contact_restricted' LIMIT 1`, [
    requestId,
    signerId,
  ]);
  if (rows.length > 0) return true;
  const [signer]: Array<{ organization_id: string; request_id: string; name: string | null; email: string | null; phone: string | null; contact_sealed: Buffer | null }> =
    await context.dataSource.query(
      `SELECT r.organization_id, s.request_id, s.name, s.email, s.phone, s.contact_sealed FROM signers s JOIN signing_requests r ON r.id = s.request_id WHERE s.id = $1`,
      [signerId],
    );
  if (!signer) return false;
  const contact = await openSignerContact(context.dataSource, signer.request_id, signer);
  return hasStandingRestriction(context, signer.organization_id, contact.email, contact.phone);
}

/** Whether the KYC case's customer asked (through a data-subject request) for no further reminders. */
export async function isKycCustomerContactRestricted(context: SigningContext, caseId: string): Promise<boolean> {
  const rows: unknown[] = await context.dataSource.query(`SELECT 1 FROM kyc_audit_events WHERE case_id = $1 AND type = 'contact_restricted' LIMIT 1`, [caseId]);
  if (rows.length > 0) return true;
  const row = await readKycCaseRow(context.dataSource, caseId);
  return row ? hasStandingRestriction(context, row.organization_id, row.customer_email, row.customer_phone) : false;
}

/**
 * A restriction or objection the organisation fulfilled for this person also covers items created after it
 * (a new round next week must not remind them again): matched by the contact the requester proved, through the
 * request's blind indexes (src/dsr/requester-credentials.ts), as no address is stored in clear there. The email
 * counts as proved by the emailed code, or by eID started from the link that went to it (as `verifiedSubject`).
 */
async function hasStandingRestriction(context: SigningContext, organizationId: string, email: string | null, phone: string | null): Promise<boolean> {
  const credentials = await requesterCredentials(context);
  const rows: unknown[] = await context.dataSource.query(
    `SELECT 1 FROM data_subject_requests
      WHERE organization_id = $1 AND type IN ('restriction', 'objection') AND fulfilled_at IS NOT NULL AND status NOT IN ('rejected', 'withdrawn')
        AND ((identity_method IN ('email_code', 'eid') AND email_index = $2) OR (identity_method = 'sms_code' AND phone_index = $3))
      LIMIT 1`,
    [organizationId, email ? credentials.emailIndex(organizationId, email) : null, phone ? credentials.phoneIndex(organizationId, phone) : null],
  );
  return rows.length > 0;
}
