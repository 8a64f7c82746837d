/**
 * The notice before a retention deletion batch: one email per organisation per sweep batch to its owners and
 * administrators, listing what will be deleted from when, and how to stop it (a legal hold). Sent once per
 * recipient and batch (`sendOnce`, message id `retention-notice-<batch>-<organisation>-<user>`), so a
 * retried activity does not send it twice. In the organisation's default language (catalog `email:retentionNotice`).
 *
 * Records are named by id with a link to their console page, never by title: an email outlives the deletion
 * it announces (in the outbox folder, in every mailbox it reached, out of Sigill's reach) and must not keep
 * what the deletion removes. Who may see the record follows the link and sees its title in the console.
 */
import type { Mailer } from '../adapters/mailer';
import { renderEmail, type Email } from '../email/render-email';
import { isPermanentMailRefusal } from '../failure-kinds';
import { formatDate, translator, type Locale } from '../i18n';
import { sendOnce } from '../messaging/send-once';
import type { DataSource } from 'typeorm';
import type { RetainedKind } from './sweep';

/** More than this many items are summarised by a count: the console lists them all. */
const listedItems = 30;

export interface NoticedItem {
  kind: RetainedKind;
  id: string;
  status: string;
  deleteNotBefore: Date;
  reason: string;
}

export interface RetentionNoticeFacts {
  organizationName: string;
  timeZone: string;
  items: NoticedItem[];
}

/** `publicUrl`: the console's address; the email links to its retention page and to each record's page. */
export function retentionNoticeEmail(facts: RetentionNoticeFacts, recipient: { name: string; locale: Locale }, publicUrl: string): Email {
  const { locale } = recipient;
  const t = translator(locale);
  const date = (value: Date) => formatDate(value, locale, facts.timeZone);
  const first = facts.items.reduce((soonest, item) => (item.deleteNotBefore < soonest ? item.deleteNotBefore : soonest), facts.items[0]!.deleteNotBefore);
  // Statuses in the reader's words (the console's), the raw value only if a catalog lacks it.
  const byKind = {
    signing_request: { line: 'email:retentionNotice.request', status: 'common:requestStatus', page: 'requests' },
    kyc_case: { line: 'email:retentionNotice.kycCase', status: 'kyc:status', page: 'kyc' },
    data_subject_request: { line: 'email:retentionNotice.dataSubjectRequest', status: 'privacy:status', page: 'privacy-requests' },
  } as const;
  const statusOf = (item: NoticedItem) => t(`${byKind[item.kind].status}.${item.status}`, { defaultValue: item.status });
  const lines = facts.items.slice(0, listedItems).map((item) =>
    t(byKind[item.kind].line, { id: item.id, status: statusOf(item), date: date(item.deleteNotBefore), reason: item.reason, link: `${publicUrl}/${byKind[item.kind].page}/${item.id}` }),
  );
  if (facts.items.length > listedItems) lines.push(t('email:retentionNotice.more', { count: facts.items.length - listedItems }));
  return renderEmail(
    locale,
    t('email:retentionNotice.subject', { count: facts.items.length, organization: facts.organizationName }),
    t('email:greeting', { name: recipient.name }),
    [
      { kind: 'paragraph', text: t('email:retentionNotice.what', { count: facts.items.length, organization: facts.organizationName, date: date(first) }) },
      { kind: 'paragraph', text: lines.join('\n') },
      { kind: 'paragraph', text: t('email:retentionNotice.hold') },
      { kind: 'action', label: t('email:retentionNotice.action'), url: `${publicUrl}/admin/retention` },
    ],
    t('email:sentOnBehalf.organization', { organization: facts.organizationName }),
  );
}

export async function emailRetentionNotice(
  ctx: { dataSource: DataSource; mailer: Mailer; publicUrl: string },
  input: { batchId: string; organizationId: string },
): Promise<number> {
  const { dataSource } = ctx;
  const [organization]: Array<{ name: string; default_locale: Locale; time_zone: string }> = await dataSource.query(
    `SELECT name, default_locale, time_zone FROM organizations WHERE id = $1`,
    [input.organizationId],
  );
  if (!organization) return 0;
  // What this batch noticed and is still to come (a hold placed since has cleared its notice).
  const rows: Array<{ record_kind: RetainedKind; record_id: string; status: string | null; delete_not_before: Date; reason: string }> =
    await dataSource.query(
      `SELECT n.record_kind, n.record_id, COALESCE(r.status, c.status) AS status, n.delete_not_before, n.reason
         FROM retention_notices n
         LEFT JOIN signing_requests r ON n.record_kind = 'signing_request' AND r.id = n.record_id
         LEFT JOIN kyc_cases c ON n.record_kind = 'kyc_case' AND c.id = n.record_id
        WHERE n.batch_id = $1 AND n.organization_id = $2 AND n.state = 'pending'
        ORDER BY n.delete_not_before, n.record_kind, n.record_id`,
      [input.batchId, input.organizationId],
    );
  if (rows.length === 0) return 0;
  const items: NoticedItem[] = rows.map((row) => ({
    kind: row.record_kind,
    id: row.record_id,
    status: row.status ?? '',
    deleteNotBefore: row.delete_not_before,
    reason: row.reason,
  }));
  const admins: Array<{ id: string; email: string; name: string | null }> = await dataSource.query(
    `SELECT u.id, u.email, u.name FROM memberships m JOIN users u ON u.id = m.user_id
      WHERE m.organization_id = $1 AND m.role IN ('owner', 'admin') ORDER BY m.created_at, u.id`,
    [input.organizationId],
  );
  let sent = 0;
  for (const admin of admins) {
    // Message ids take letters, digits, '-' and '_' only; the batch id carries the schedule's time (colons).
    const messageId = `retention-notice-${input.batchId.replace(/[^A-Za-z0-9_-]/g, '_')}-${input.organizationId}-${admin.id}`;
    const email = retentionNoticeEmail(
      { organizationName: organization.name, timeZone: organization.time_zone, items },
      { name: admin.name ?? admin.email, locale: organization.default_locale },
      ctx.publicUrl,
    );
    const sentNow = await sendOnce(dataSource, 'email', messageId, () => ctx.mailer.send({ messageId, to: admin.email, ...email })).catch((error: unknown) => {
      // One address refused for good must not keep the other admins from hearing.
      if (isPermanentMailRefusal(error)) return false;
      throw error;
    });
    if (sentNow) sent += 1;
  }
  return sent;
}
