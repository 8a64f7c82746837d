/**
 * Activities of a KYC case (src/workflows/kyc-case.ts). Each loads what it needs by case id (no personal
 * data or credential passes through workflow history), does one thing and is safe to retry: messages carry
 * stable ids (sendOnce), audit events stable keys, the declaration and the evidence package fixed keys.
 */
import { ApplicationFailure } from '@temporalio/activity';
import type { KycCaseStatus } from '../contract/kyc-cases';
import { Organization } from '../database/entities';
import { isKycCustomerContactRestricted } from '../dsr/fulfilment/restrict-subject';
import { isPermanentMailRefusal } from '../failure-kinds';
import { kycCredentials } from '../kyc/customer-credentials';
import { archiveEvidencePackage } from '../kyc/evidence-package';
import { readKycCaseRow, type KycCaseRow } from '../kyc/get-kyc-case';
import { recordKycEvent, type NewKycEvent } from '../kyc/kyc-audit-trail';
import { kycChangesRequestedEmail, kycCustomerOutcomeEmail, kycInvitationEmail, kycPinSms, kycReminderEmail, kycStaffOutcomeEmail, type CaseFacts, type KycOutcome } from '../kyc/kyc-messages';
import { pinGoesBySms } from '../kyc/create-kyc-case';
import { prepareDeclaration } from '../kyc/prepare-declaration';
import { sendOnce } from '../messaging/send-once';
import type { SigningContext } from '../signing/signing-context';

export function kycActivities(context: SigningContext) {
  const { dataSource, adapters } = context;

  async function load(caseId: string): Promise<{ row: KycCaseRow; facts: CaseFacts; link: string }> {
    const row = await readKycCaseRow(dataSource, caseId);
    if (!row) throw ApplicationFailure.nonRetryable(`KYC case ${caseId} does not exist`, 'MissingKycCase');
    const organization = await dataSource.getRepository(Organization).findOneByOrFail({ id: row.organization_id });
    const credentials = await kycCredentials(context);
    return {
      row,
      facts: {
        organizationName: organization.name,
        customerName: row.customer_name,
        identification: row.identification,
        pinBySms: pinGoesBySms(row),
        expiresAt: row.expires_at,
        timeZone: organization.timeZone,
      },
      link: `${context.publicUrl}/k/${credentials.linkToken({ caseId: row.id, linkVersion: row.link_version })}`,
    };
  }

  const email = (messageId: string, to: string, message: { subject: string; text: string; html: string }) =>
    sendOnce(dataSource, 'email', messageId, () => adapters.mailer.send({ messageId, to, ...message }));

  return {
    async sendKycInvitation(input: { caseId: string }): Promise<void> {
      const { row, facts, link } = await load(input.caseId);
      await email(`kyc-invitation-${row.id}`, row.customer_email, kycInvitationEmail(facts, row.customer_locale, link));
      await recordKycEvent(dataSource, { caseId: row.id, eventKey: 'invited', type: 'invited', actor: 'system', detail: { channel: 'email' }, occurredAt: new Date() });
      if (pinGoesBySms(row)) {
        const messageId = `kyc-pin-${row.id}-v${row.pin_version}`;
        const pin = (await kycCredentials(context)).pin({ caseId: row.id, pinVersion: row.pin_version });
        await sendOnce(dataSource, 'sms', messageId, () => adapters.smsSender.send({ messageId, to: row.customer_phone!, text: kycPinSms(facts.organizationName, pin, row.customer_locale) }));
        await recordKycEvent(dataSource, { caseId: row.id, eventKey: `pin_sent:v${row.pin_version}`, type: 'pin_sent', actor: 'system', detail: { channel: 'sms' }, occurredAt: new Date() });
      }
    },

    async sendKycReminder(input: { caseId: string; reminderKey: string }): Promise<void> {
      const { row, facts, link } = await load(input.caseId);
      // A customer who restricted or objected (data-subject request) gets no further reminders (decided here, not in the workflow).
      if (await isKycCustomerContactRestricted(context, row.id)) {
        await recordKycEvent(dataSource, {
          caseId: row.id,
          eventKey: `reminder_skipped:${input.reminderKey}`,
          type: 'reminder_skipped',
          actor: 'system',
          detail: { reason: 'contact_restricted' },
          occurredAt: new Date(),
        });
        return;
      }
      await email(`kyc-reminder-${input.reminderKey}-${row.id}`, row.customer_email, kycReminderEmail(facts, row.customer_locale, link));
      await recordKycEvent(dataSource, {
        caseId: row.id,
        eventKey: `reminded:${input.reminderKey}`,
        type: 'reminded',
        actor: 'system',
        detail: { channel: 'email' },
        occurredAt: new Date(),
      });
    },

    /**
     * Records one event of the case. A send-back for changes also tells the customer (once per review, keyed
     * by its event): the reason and their link, with the deadline the event may have moved. An address the
     * mail server refuses for good does not undo the send-back; the customer finds the reason on their page.
     */
    async recordKycEvent(event: NewKycEvent): Promise<void> {
      await recordKycEvent(dataSource, event);
      if (event.type === 'changes_requested') {
        const { row, facts, link } = await load(event.caseId);
        const reason = typeof event.detail?.reason === 'string' ? event.detail.reason : (row.changes_reason ?? '');
        await email(`kyc-changes-${row.id}-${event.eventKey.replace(':', '-')}`, row.customer_email, kycChangesRequestedEmail(facts, row.customer_locale, link, reason)).catch(
          (error: unknown) => {
            if (!isPermanentMailRefusal(error)) throw error;
          },
        );
      }
    },

    async prepareKycDeclaration(input: { caseId: string; attempt: number; expiresAt: string }) {
      const prepared = await prepareDeclaration(context, { ...input, now: new Date() });
      await recordKycEvent(dataSource, {
        caseId: input.caseId,
        eventKey: `declaration_prepared:${input.attempt}`,
        type: 'declaration_prepared',
        actor: 'system',
        detail: { requestId: prepared.requestId },
        occurredAt: new Date(),
      });
      return prepared;
    },

    async archiveKycEvidence(input: { caseId: string; createdAt: string }): Promise<{ sha256: string }> {
      return archiveEvidencePackage(context, input);
    },

    /** The customer, and the staff who answer for the case: its creator and reviewers (while members) and the owners and admins. */
    async notifyKycOutcome(input: { caseId: string; status: KycCaseStatus }): Promise<void> {
      const { row, facts } = await load(input.caseId);
      const status = input.status as KycOutcome;
      const organization = await dataSource.getRepository(Organization).findOneByOrFail({ id: row.organization_id });
      const staff: Array<{ id: string; email: string; name: string | null }> = await dataSource.query(
        `SELECT u.id, u.email, u.name FROM memberships m JOIN users u ON u.id = m.user_id
          WHERE m.organization_id = $1
            AND (m.role IN ('owner', 'admin') OR u.id = $2
                 OR 'user:' || u.id::text IN (SELECT reviewer_id FROM kyc_reviews WHERE case_id = $3))
          ORDER BY m.created_at, u.id`,
        [row.organization_id, row.created_by_user_id, row.id],
      );
      const refusedForGood = (error: unknown) => {
        // An address the mail server refuses for good must not keep the others from hearing.
        if (!isPermanentMailRefusal(error)) throw error;
      };
      await email(`kyc-outcome-customer-${row.id}`, row.customer_email, kycCustomerOutcomeEmail(facts, row.customer_locale, status)).catch(refusedForGood);
      for (const member of staff) {
        await email(
          `kyc-outcome-staff-${row.id}-${member.id}`,
          member.email,
          kycStaffOutcomeEmail(facts, { name: member.name ?? member.email, locale: organization.defaultLocale }, status, `${context.publicUrl}/kyc/${row.id}`),
        ).catch(refusedForGood);
      }
      await recordKycEvent(dataSource, { caseId: row.id, eventKey: 'notified', type: 'notified', actor: 'system', detail: { recipients: staff.length + 1 }, occurredAt: new Date() });
    },
  };
}

export type KycActivities = ReturnType<typeof kycActivities>;
