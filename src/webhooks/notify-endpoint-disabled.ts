/**
 * Tells an organisation's owners and administrators that Sigill disabled one of its webhook endpoints
 * because every delivery failed for too long (WEBHOOK_DISABLE_AFTER). Once per disabling: only the delivery
 * attempt that disabled the endpoint asks for it (src/webhooks/attempt-delivery.ts), each email's id names
 * the endpoint, the moment it was disabled and the recipient, and `sendOnce` (src/messaging/send-once.ts)
 * keeps a retried activity from sending it again (only a crash between sending and recording can repeat
 * one, as for every message Sigill sends). No transaction or row lock is held while the mail server talks.
 */
import type { DataSource } from 'typeorm';
import type { Mailer } from '../adapters/mailer';
import { isPermanentMailRefusal } from '../failure-kinds';
import type { Locale } from '../i18n';
import { sendOnce } from '../messaging/send-once';
import { webhookDisabledEmail } from './messages';

export interface NotifyContext {
  dataSource: DataSource;
  mailer: Mailer;
  publicUrl: string;
}

export async function notifyEndpointDisabled(ctx: NotifyContext, endpointId: string): Promise<number> {
  const { dataSource } = ctx;
  const [endpoint]: Array<{
    organization_id: string;
    url: string;
    enabled: boolean;
    disabled_reason: string | null;
    disabled_at: Date | null;
    failing_since: Date | null;
    name: string;
    default_locale: Locale;
    time_zone: string;
  }> = await dataSource.query(
    `SELECT e.organization_id, e.url, e.enabled, e.disabled_reason, e.disabled_at, e.failing_since, o.name, o.default_locale, o.time_zone
       FROM webhook_endpoints e JOIN organizations o ON o.id = e.organization_id
      WHERE e.id = $1 AND e.deleted_at IS NULL`,
    [endpointId],
  );
  // Enabled again since (or never disabled for failing): nobody needs telling.
  if (!endpoint || endpoint.enabled || endpoint.disabled_reason !== 'failing' || !endpoint.disabled_at) return 0;
  const admins: Array<{ id: string; email: string; name: string | null }> = await dataSource.query(
    `SELECT u.id, u.email, u.name FROM memberships m JOIN users u ON u.id = m.user_id
      WHERE m.organization_id = $1 AND m.role IN ('owner', 'admin') ORDER BY m.created_at, u.id`,
    [endpoint.organization_id],
  );
  let sent = 0;
  for (const admin of admins) {
    const messageId = `webhook-disabled-${endpointId}-${endpoint.disabled_at.getTime()}-${admin.id}`;
    const email = webhookDisabledEmail(
      {
        url: endpoint.url,
        organizationName: endpoint.name,
        failingSince: endpoint.failing_since ?? endpoint.disabled_at,
        disabledAt: endpoint.disabled_at,
        timeZone: endpoint.time_zone,
      },
      { name: admin.name ?? admin.email, locale: endpoint.default_locale },
      `${ctx.publicUrl}/admin/webhooks/${endpointId}`,
    );
    const sentNow = await sendOnce(dataSource, 'email', messageId, () => ctx.mailer.send({ messageId, to: admin.email, ...email })).catch(
      (error: unknown) => {
        // One address the mail server refuses for good must not keep the other admins from hearing.
        if (isPermanentMailRefusal(error)) return false;
        throw error;
      },
    );
    if (sentNow) sent += 1;
  }
  return sent;
}
