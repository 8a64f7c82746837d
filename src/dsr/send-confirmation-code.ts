/**
 * Sends the requester their confirmation code (current code version) with their status link: by email
 * always, and by SMS when a phone was given (a code of its own, so the request knows which contact the
 * requester proved). Once per version and channel (sendOnce), so a retried activity or a repeated resend
 * never sends twice; the code is derived, never stored (src/dsr/requester-credentials.ts).
 */
import { Organization } from '../database/entities';
import { AppError } from '../errors';
import { sendOnce } from '../messaging/send-once';
import type { SigningContext } from '../signing/signing-context';
import { recordDsrEvent } from './dsr-audit-trail';
import { dsrCodeEmail, dsrCodeSms, type RequestFacts } from './dsr-messages';
import { effectiveDeadline } from './legal-deadline';
import { readDataSubjectRequestRow, readRequester, type DataSubjectRequestRow, type Requester } from './read-data-subject-request';
import { requesterCredentials } from './requester-credentials';

export async function requesterLink(context: SigningContext, row: Pick<DataSubjectRequestRow, 'id' | 'link_version' | 'organization_id'>): Promise<string> {
  const organization = await context.dataSource.getRepository(Organization).findOneByOrFail({ id: row.organization_id });
  const token = (await requesterCredentials(context)).linkToken(row.id, row.link_version);
  return `${context.publicUrl}/privacy/${organization.slug}/r/${token}`;
}

export async function requestFacts(context: SigningContext, row: DataSubjectRequestRow, requester?: Requester): Promise<{ facts: RequestFacts; requester: Requester }> {
  const organization = await context.dataSource.getRepository(Organization).findOneByOrFail({ id: row.organization_id });
  const person = requester ?? (await readRequester(context, row));
  return {
    requester: person,
    facts: {
      organizationName: organization.name,
      requesterName: person.name,
      type: row.type,
      deadline: effectiveDeadline({ dueAt: row.due_at, extendedUntil: row.extended_until }),
      timeZone: organization.timeZone,
    },
  };
}

export async function sendConfirmationCode(context: SigningContext, dsrId: string): Promise<void> {
  const row = await readDataSubjectRequestRow(context.dataSource, dsrId);
  if (!row) throw new AppError('not_found', 'No such data-subject request.');
  const { facts, requester } = await requestFacts(context, row);
  const credentials = await requesterCredentials(context);
  const link = await requesterLink(context, row);
  const version = row.code_version;
  const emailId = `dsr-code-${row.id}-v${version}`;
  await sendOnce(context.dataSource, 'email', emailId, () =>
    context.adapters.mailer.send({ messageId: emailId, to: requester.email, ...dsrCodeEmail(facts, requester.locale, credentials.code(row.id, version, 'email'), link) }),
  );
  const channels = ['email'];
  if (requester.phone) {
    const smsId = `dsr-code-sms-${row.id}-v${version}`;
    await sendOnce(context.dataSource, 'sms', smsId, () =>
      context.adapters.smsSender.send({ messageId: smsId, to: requester.phone!, text: dsrCodeSms(facts.organizationName, credentials.code(row.id, version, 'sms'), requester.locale) }),
    );
    channels.push('sms');
  }
  await recordDsrEvent(context.dataSource, { dsrId: row.id, eventKey: `code_sent:v${version}`, type: 'code_sent', actor: 'system', detail: { channels, version }, occurredAt: new Date() });
}
