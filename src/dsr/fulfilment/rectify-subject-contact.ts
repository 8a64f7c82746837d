/**
 * Rectification for a data-subject request (GDPR Art. 16): the person's email, phone or name corrected in
 * their open items only, each change in that item's audit trail (which fields, not the values, so the trail
 * keeps no copy of the wrong data). Ended items keep what was true when they ended: a sealed agreement and
 * its evidence are not rewritten.
 *
 * Open items: pending signing requests where the person has not yet signed or declined, and KYC cases not
 * yet ended. Messages read the signer row or the case when they are sent, so the next reminder goes to the
 * corrected address. Signer links and PINs derive from the signer id (src/signing/signer-credentials.ts), so
 * an email change neither invalidates a link already sent nor makes a new one: the invitation is not re-sent
 * automatically (it went once, by its message id); the sender can send a reminder to the new address at once
 * (POST /v1/signing-requests/:id/remind), and the record says so (`detail.remindToResend`).
 */
import { blindIndex } from '../../privacy/sealed-columns';
import { openSignerContact, refreshSearchTokens, storedSignerContact } from '../../signing/round-personal-data';
import { withKycCustomerContact, writeKycCustomerContact, type KycCustomerContact } from '../../kyc/kyc-customer-contact';
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { AppError } from '../../errors';
import { recordKycEvent } from '../../kyc/kyc-audit-trail';
import { recordAuditEvent } from '../../signing/audit-trail';
import type { SigningContext } from '../../signing/signing-context';
import { singleLineText } from '../../text-input';
import { discoverSubjectRecordDetails } from './discover-subject-records';
import { normalizedEmail } from './subject-identifiers';
import type { DataSubject, SubjectRecord } from './subject-record';

export const contactChangeSchema = z
  .strictObject({
    email: z.email('must be an email address').max(254).optional(),
    phone: z
      .string()
      .regex(/^\+[1-9]\d{6,14}$/, 'must be an international phone number such as +358401234567')
      .optional(),
    name: singleLineText({ max: 200 }).optional(),
  })
  .refine((change) => change.email !== undefined || change.phone !== undefined || change.name !== undefined, 'give email, phone or name');

export type ContactChange = z.infer<typeof contactChangeSchema>;

/** Why a rectification could not be applied: stable codes the console words in each language. */
export const rectificationRefusalCodes = ['rectification_invalid', 'rectification_conflict', 'rectification_nothing_open'] as const;
export type RectificationRefusalCode = (typeof rectificationRefusalCodes)[number];

/**
 * A rectification that cannot be applied as asked. Retrying changes nothing, so the fulfilment records it
 * (code and words, never the values) for the handler instead of failing. Still an AppError for direct callers.
 */
export class RectificationRefused extends AppError {
  constructor(
    readonly refusal: RectificationRefusalCode,
    message: string,
  ) {
    super(refusal === 'rectification_conflict' ? 'conflict' : 'unprocessable', message);
  }
}

/** Signer statuses of someone who has not yet acted in a pending round. */
export const openSignerStatuses = ['waiting', 'invited', 'opened'];
/** KYC case statuses before an outcome. */
export const openKycStatuses = ['invited', 'in_progress', 'changes_requested', 'signing', 'in_review'];

export async function rectifySubjectContact(
  context: SigningContext,
  subject: DataSubject,
  change: ContactChange,
  actor: string,
): Promise<{ updated: SubjectRecord[] }> {
  const parsed = contactChangeSchema.safeParse(change);
  if (!parsed.success) throw new RectificationRefused('rectification_invalid', `The correction is not valid: ${parsed.error.issues.map((issue) => `${issue.path.join('.') || 'change'}: ${issue.message}`).join('; ')}.`);
  const wanted = { ...parsed.data, ...(parsed.data.email ? { email: normalizedEmail(parsed.data.email) } : {}) };
  const fields = (['email', 'phone', 'name'] as const).filter((field) => wanted[field] !== undefined);
  // The same correction retried (an activity attempt) records one event per item.
  const changeKey = createHash('sha256').update(JSON.stringify(fields.map((field) => [field, wanted[field]]))).digest('hex').slice(0, 16);
  const now = new Date();
  const updated: SubjectRecord[] = [];

  for (const { record, signerIds } of await discoverSubjectRecordDetails(context, subject)) {
    if (record.kind === 'signing_request' && record.status === 'pending') {
      const changed = await context.dataSource.transaction(async (tx) => {
        const signers: Array<{ id: string; organization_id: string; name: string | null; email: string | null; phone: string | null; contact_sealed: Buffer | null }> =
          await tx.query(
            `SELECT s.id, r.organization_id, s.name, s.email, s.phone, s.contact_sealed FROM signers s JOIN signing_requests r ON r.id = s.request_id
              WHERE s.id = ANY($1::uuid[]) AND r.status = 'pending' AND s.status = ANY($2::text[]) FOR UPDATE OF s`,
            [signerIds, openSignerStatuses],
          );
        for (const signer of signers) {
          if (wanted.email) {
            // Contacts are under the request's key: another signer with that address is found by its blind index.
            const emailIndex = await blindIndex(tx, signer.organization_id, 'email', wanted.email);
            const [taken] = await tx.query(
              `SELECT 1 FROM signers WHERE request_id = $1 AND id <> $3 AND (lower(email) = $2 OR email_index = $4)`,
              [record.id, wanted.email, signer.id, emailIndex ?? null],
            );
            if (taken) throw new RectificationRefused('rectification_conflict', `Signing request ${record.id} already has another signer with that email address; correct it there by hand.`);
          }
          const current = await openSignerContact(tx, record.id, signer);
          const stored = await storedSignerContact(tx, signer.organization_id, record.id, {
            name: wanted.name ?? current.name,
            email: wanted.email ?? current.email,
            phone: wanted.phone ?? current.phone,
          });
          await tx.query(
            `UPDATE signers SET name = $2, email = $3, phone = $4, contact_sealed = $5, email_index = $6, phone_index = $7 WHERE id = $1`,
            [signer.id, stored.name, stored.email, stored.phone, stored.contact_sealed, stored.email_index, stored.phone_index],
          );
          await refreshSearchTokens(tx, signer.organization_id, record.id);
          await recordAuditEvent(tx, {
            requestId: record.id,
            eventKey: `contact_rectified:${signer.id}:${changeKey}`,
            type: 'contact_rectified',
            signerId: signer.id,
            actor,
            detail: { fields, reason: 'GDPR Art. 16 rectification', remindToResend: fields.includes('email') },
            occurredAt: now,
          });
        }
        return signers.length > 0;
      });
      if (changed) updated.push(record);
    }
    if (record.kind === 'kyc_case' && openKycStatuses.includes(record.status)) {
      const changed = await context.dataSource.transaction(async (tx) => {
        // queryReturning: TypeORM answers an UPDATE … RETURNING as [rows, count].
        // Locked and read first: the contact is under the case's key (src/kyc/kyc-customer-contact.ts).
        const [locked]: Array<{ id: string; organization_id: string; customer_sealed: Buffer | null } & KycCustomerContact> = await tx.query(
          `SELECT id, organization_id, customer_name, customer_email, customer_phone, customer_business_id, customer_sealed
             FROM kyc_cases WHERE id = $1 AND status = ANY($2::text[]) FOR UPDATE`,
          [record.id, openKycStatuses],
        );
        if (!locked) return false;
        const current = await withKycCustomerContact(tx, locked);
        await writeKycCustomerContact(tx, locked.organization_id, record.id, {
          customer_name: wanted.name ?? current.customer_name,
          customer_email: wanted.email ?? current.customer_email,
          customer_phone: wanted.phone ?? current.customer_phone,
          customer_business_id: current.customer_business_id,
        });
        await recordKycEvent(tx, {
          caseId: record.id,
          eventKey: `contact_rectified:${changeKey}`,
          type: 'contact_rectified',
          actor,
          detail: { fields, reason: 'GDPR Art. 16 rectification' },
          occurredAt: now,
        });
        return true;
      });
      if (changed) updated.push(record);
    }
  }
  // Ended items keep what was true when they ended (also one that ended while this ran): nothing was corrected.
  if (updated.length === 0) {
    throw new RectificationRefused(
      'rectification_nothing_open',
      'Nothing to correct: the person has no pending signing request they have not yet acted in and no open KYC case. Ended records keep what was true when they ended.',
    );
  }
  return { updated };
}
