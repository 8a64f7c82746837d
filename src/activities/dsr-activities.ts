/**
 * Activities of a data-subject request (src/workflows/data-subject-request.ts). Each loads what it needs by
 * request id (no personal data passes through history besides what handlers typed, which the codec encrypts
 * under the request's key), does one thing and is safe to retry: messages carry stable ids (sendOnce), audit
 * events stable keys, the access package a fixed blob key. Fulfilment calls helper B3's functions
 * (src/dsr/fulfilment/).
 */
import { ApplicationFailure, Context } from '@temporalio/activity';
import type { HandledRecordView } from '../contract/data-subject-requests';
import { Organization } from '../database/entities';
import { recordDsrEvent, type NewDsrEvent } from '../dsr/dsr-audit-trail';
import { dsrAnswerEmail, dsrDeadlineReminderEmail, dsrExtensionEmail } from '../dsr/dsr-messages';
import { buildAccessPackage, eraseSubjectData, RectificationRefused, rectifySubjectContact, restrictSubject, type RectificationRefusalCode, type SubjectRecord } from '../dsr/fulfilment';
import { decryptDsrField, encryptDsrField, readDataSubjectRequestRow, verifiedSubject, type DataSubjectRequestRow } from '../dsr/read-data-subject-request';
import { identityConfirmedDetail } from '../dsr/requester-eid';
import { requestFacts, requesterLink, sendConfirmationCode } from '../dsr/send-confirmation-code';
import { isPermanentMailRefusal } from '../failure-kinds';
import { sendOnce } from '../messaging/send-once';
import type { SigningContext } from '../signing/signing-context';

/** How long the requester can download their access package. */
export const accessPackageLifetimeMs = 30 * 86_400_000;

const refusedForGood = (error: unknown) => {
  // An address the mail server refuses for good does not undo the step: it is on record and on the status page.
  if (!isPermanentMailRefusal(error)) throw error;
};

const handled = (record: SubjectRecord, action: HandledRecordView['action']): HandledRecordView => ({
  kind: record.kind,
  id: record.id,
  action,
  ...(action === 'kept' && record.erasure.action === 'keep'
    ? { legalBasis: record.erasure.legalBasis, explanation: record.erasure.explanation, keepUntil: record.erasure.keepUntil ?? null }
    : {}),
});

/** Why a fulfilment could not be applied, as the handler sees it (`GET /v1/data-subject-requests/:id`). */
export interface FulfilmentRefusal {
  code: RectificationRefusalCode;
  message: string;
  at: string;
}

export function dsrActivities(context: SigningContext) {
  const { dataSource, adapters } = context;

  async function load(dsrId: string): Promise<DataSubjectRequestRow> {
    const row = await readDataSubjectRequestRow(dataSource, dsrId);
    if (!row) throw ApplicationFailure.nonRetryable(`data-subject request ${dsrId} does not exist`, 'MissingDataSubjectRequest');
    return row;
  }

  const email = (messageId: string, to: string, message: { subject: string; text: string; html: string }) =>
    sendOnce(dataSource, 'email', messageId, () => adapters.mailer.send({ messageId, to, ...message }));

  async function fulfil(row: DataSubjectRequestRow, input: { actor: string; change?: { email?: string; phone?: string; name?: string } }): Promise<{ fulfilledAt: string }> {
    const subject = await verifiedSubject(context, row);
    let records: HandledRecordView[] = [];
    let accessPackage: { blobKey: string; sha256: string; size: number; recordCount: number } | undefined;
    switch (row.type) {
      case 'access':
        accessPackage = await buildAccessPackage(context, row.id, subject);
        break;
      case 'erasure': {
        const done = await eraseSubjectData(context, row.id, subject, input.actor);
        records = [...done.erased.map((record) => handled(record, 'erased')), ...done.kept.map((record) => handled(record, 'kept'))];
        break;
      }
      case 'rectification': {
        const done = await rectifySubjectContact(context, subject, input.change ?? {}, input.actor);
        records = done.updated.map((record) => handled(record, 'rectified'));
        break;
      }
      case 'restriction':
      case 'objection': {
        const done = await restrictSubject(context, row.id, subject, row.type, input.actor);
        records = done.restricted.map((record) => handled(record, 'restricted'));
        break;
      }
    }
    const legalBases = records
      .filter((record) => record.action === 'kept' && record.legalBasis)
      .map((record) => ({ recordKind: record.kind, recordId: record.id, legalBasis: record.legalBasis!, explanation: record.explanation ?? '', keepUntil: record.keepUntil ?? null }));
    const fulfilledAt = new Date();
    await dataSource.query(
      `UPDATE data_subject_requests
          SET fulfilled_at = coalesce(fulfilled_at, $2), handled_records = $3::jsonb, legal_bases = $4::jsonb,
              access_package_blob_key = $5, access_package_sha256 = $6, access_package_size = $7, access_package_record_count = $8,
              access_package_expires_at = CASE WHEN $5::text IS NULL THEN NULL ELSE $9::timestamptz END, fulfilment_refusal = NULL
        WHERE id = $1`,
      [
        row.id,
        fulfilledAt,
        JSON.stringify(records),
        JSON.stringify(legalBases),
        accessPackage?.blobKey ?? null,
        accessPackage?.sha256 ?? null,
        accessPackage?.size ?? null,
        accessPackage?.recordCount ?? null,
        new Date(fulfilledAt.getTime() + accessPackageLifetimeMs),
      ],
    );
    await recordDsrEvent(dataSource, {
      dsrId: row.id,
      eventKey: 'fulfilled',
      type: 'fulfilled',
      actor: input.actor,
      detail: {
        type: row.type,
        records: records.map((record) => ({ kind: record.kind, id: record.id, action: record.action, ...(record.legalBasis ? { legalBasis: record.legalBasis } : {}) })),
        ...(accessPackage ? { accessPackage: { sha256: accessPackage.sha256, size: accessPackage.size, recordCount: accessPackage.recordCount } } : {}),
      },
      occurredAt: fulfilledAt,
    });
    return { fulfilledAt: ((await load(row.id)).fulfilled_at ?? fulfilledAt).toISOString() };
  }

  return {
    async recordDsrEvent(event: NewDsrEvent): Promise<void> {
      // The workflow knows only the method; an eID confirmation's scheme and masked id are read here, out of history.
      const detail = event.type === 'identity_confirmed' ? await identityConfirmedDetail(dataSource, event.dsrId, String(event.detail?.method ?? '')) : event.detail;
      await recordDsrEvent(dataSource, { ...event, detail });
    },

    async sendDsrConfirmationCode(input: { dsrId: string }): Promise<void> {
      await load(input.dsrId);
      await sendConfirmationCode(context, input.dsrId);
    },

    /** Records the extension (reason encrypted), then tells the requester within the first month, as Art. 12(3) asks. */
    async extendDsrDeadline(input: { dsrId: string; months: 1 | 2; reason: string; extendedUntil: string; actor: string; at: string }): Promise<void> {
      const row = await load(input.dsrId);
      if (!row.extension_reason) {
        await dataSource.query(`UPDATE data_subject_requests SET extension_reason = $2 WHERE id = $1 AND extension_reason IS NULL`, [
          row.id,
          await encryptDsrField(context, row.id, 'extension_reason', input.reason),
        ]);
      }
      await recordDsrEvent(dataSource, {
        dsrId: row.id,
        eventKey: 'extended',
        type: 'extended',
        actor: input.actor,
        detail: { months: input.months, extendedUntil: input.extendedUntil, dueAt: row.due_at.toISOString() },
        occurredAt: input.at,
      });
      const extended = (await load(input.dsrId))!;
      const { facts, requester } = await requestFacts(context, extended);
      const sent = await email(`dsr-extended-${row.id}`, requester.email, dsrExtensionEmail(facts, requester.locale, input.reason, await requesterLink(context, row)))
        .then(() => true)
        .catch((error: unknown) => {
          refusedForGood(error);
          return false;
        });
      if (sent) {
        await recordDsrEvent(dataSource, { dsrId: row.id, eventKey: 'extension_notified', type: 'extension_notified', actor: 'system', detail: { channel: 'email' }, occurredAt: new Date() });
      }
    },

    /** The handler (or, with none assigned, the organisation's owners and admins), in the organisation's language. */
    async sendDsrDeadlineReminder(input: { dsrId: string; reminderKey: string; deadline: string }): Promise<void> {
      const row = await load(input.dsrId);
      const organization = await dataSource.getRepository(Organization).findOneByOrFail({ id: row.organization_id });
      const recipients: Array<{ id: string; email: string; name: string | null }> = await dataSource.query(
        `SELECT u.id, u.email, u.name FROM memberships m JOIN users u ON u.id = m.user_id
          WHERE m.organization_id = $1 AND (CASE WHEN $2::uuid IS NULL THEN m.role IN ('owner', 'admin') ELSE u.id = $2::uuid END)
          ORDER BY m.created_at, u.id`,
        [row.organization_id, row.assignee_user_id],
      );
      const facts = {
        organizationName: organization.name,
        requesterName: '',
        type: row.type,
        deadline: new Date(input.deadline),
        timeZone: organization.timeZone,
      };
      const key = input.reminderKey.replace(/[^0-9A-Za-z]/g, '');
      for (const member of recipients) {
        await email(
          `dsr-reminder-${row.id}-${key}-${member.id}`,
          member.email,
          dsrDeadlineReminderEmail(facts, { name: member.name ?? member.email, locale: organization.defaultLocale }, `${context.publicUrl}/data-subject-requests/${row.id}`),
        ).catch(refusedForGood);
      }
      await recordDsrEvent(dataSource, {
        dsrId: row.id,
        eventKey: `reminded:${input.reminderKey}`,
        type: 'reminded',
        actor: 'system',
        detail: { recipients: recipients.length, deadline: input.deadline, assignee: row.assignee_user_id !== null },
        occurredAt: new Date(),
      });
    },

    /**
     * Runs the type's fulfilment on the verified person; what was done goes to the read model and the trail.
     * A rectification that cannot be applied is an answer, not a failure (retrying changes nothing): it is
     * recorded with its code and words (no personal data: they ride in history) for the handler, and the
     * request stays unfulfilled (`fulfilledAt` absent), so the workflow lets the handler try again or reject.
     */
    async fulfilDataSubjectRequest(input: {
      dsrId: string;
      actor: string;
      change?: { email?: string; phone?: string; name?: string };
    }): Promise<{ fulfilledAt?: string; refusal?: FulfilmentRefusal }> {
      const row = await load(input.dsrId);
      if (row.fulfilled_at) return { fulfilledAt: row.fulfilled_at.toISOString() };
      try {
        return await fulfil(row, input);
      } catch (error) {
        if (!(error instanceof RectificationRefused)) throw error;
        const refusal: FulfilmentRefusal = { code: error.refusal, message: error.message, at: new Date().toISOString() };
        await dataSource.query(`UPDATE data_subject_requests SET fulfilment_refusal = $2::jsonb WHERE id = $1 AND fulfilled_at IS NULL`, [row.id, JSON.stringify(refusal)]);
        await recordDsrEvent(dataSource, {
          dsrId: row.id,
          // One event per attempt of the handler's fulfil (an activity retried after recording it keeps one).
          eventKey: `fulfilment_refused:${Context.current().info.activityId}`,
          type: 'fulfilment_refused',
          actor: 'system',
          detail: { code: refusal.code, message: refusal.message },
          occurredAt: refusal.at,
        });
        return { refusal };
      }
    },

    /** Records the answer (or refusal) encrypted, ends the request and tells the requester what was done. */
    async finishDataSubjectRequest(input: { dsrId: string; outcome: 'completed' | 'rejected'; actor: string; text?: string; at: string }): Promise<void> {
      const row = await load(input.dsrId);
      const column = input.outcome === 'completed' ? 'answer' : 'rejection_reason';
      if (input.text && !row[column]) {
        await dataSource.query(`UPDATE data_subject_requests SET ${column} = $2 WHERE id = $1 AND ${column} IS NULL`, [
          row.id,
          await encryptDsrField(context, row.id, column, input.text),
        ]);
      }
      await recordDsrEvent(dataSource, { dsrId: row.id, eventKey: input.outcome, type: input.outcome, actor: input.actor, occurredAt: input.at });
      const ended = await load(row.id);
      const { facts, requester } = await requestFacts(context, ended);
      const text = await decryptDsrField(context, ended, column, ended[column]);
      await email(
        `dsr-answer-${row.id}`,
        requester.email,
        dsrAnswerEmail(facts, requester.locale, { status: input.outcome, text, handled: ended.handled_records }, await requesterLink(context, ended)),
      ).catch(refusedForGood);
      await recordDsrEvent(dataSource, { dsrId: row.id, eventKey: 'answered', type: 'answered', actor: 'system', detail: { channel: 'email', status: input.outcome }, occurredAt: new Date() });
    },
  };
}

export type DsrActivities = ReturnType<typeof dsrActivities>;
