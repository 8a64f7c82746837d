/**
 * The steps of an organisation's export and closing (src/organization-export/). Each is safe to retry: the
 * export's writer starts its archive over under the attempt's own prefix, completion is recorded by the
 * first attempt to finish, emails go through sendOnce, and the closing's steps check the row before acting.
 */
import { Context } from '@temporalio/activity';
import type { Locale } from '../i18n';
import { isPermanentMailRefusal } from '../failure-kinds';
import { sendOnce } from '../messaging/send-once';
import { buildOrganizationExport, type ExportProgress } from '../organization-export/build-organization-export';
import {
  closeOrganization,
  countOpenOrganizationWork,
  emailClosingReceipt,
  stopOrganizationWork,
} from '../organization-export/close-organization';
import { copyExportToTarget } from '../organization-export/export-target';
import { exportReadyEmail } from '../organization-export/messages';
import { completeExport, expireExport, failExport, markExportRunning, recordExportProgress } from '../organization-export/organization-exports';
import type { SigningContext } from '../signing/signing-context';
import { whileHeartbeating } from './heartbeats';

/** Progress is written to the table at most this often (and at the end); the heartbeat carries every step. */
const progressEveryMs = 1000;

export function organizationExportActivities(context: SigningContext) {
  const db = context.dataSource;
  return {
    async writeOrganizationExport(input: { exportId: string; partBytes?: number }): Promise<{ expiresAt: string }> {
      if (!(await markExportRunning(context, input.exportId))) {
        // Completed by an earlier attempt (or expired): nothing to write again.
        const [row]: Array<{ expires_at: Date | null }> = await db.query(`SELECT expires_at FROM organization_exports WHERE id = $1`, [input.exportId]);
        return { expiresAt: (row?.expires_at ?? new Date()).toISOString() };
      }
      const activity = Context.current();
      let lastWrite = 0;
      const report = async (progress: ExportProgress) => {
        activity.heartbeat(progress);
        const now = Date.now();
        if (now - lastWrite >= progressEveryMs || progress.itemsDone === progress.itemsTotal) {
          lastWrite = now;
          await recordExportProgress(context, input.exportId, progress);
        }
      };
      const built = await whileHeartbeating(() =>
        buildOrganizationExport(context, { exportId: input.exportId, attempt: activity.info.attempt, partBytes: input.partBytes }, report),
      );
      return completeExport(context, input.exportId, built);
    },

    /** Also into the customer's own bucket, when EXPORT_S3_* names one. */
    async copyOrganizationExportToTarget(input: { exportId: string }): Promise<{ location?: string }> {
      const activity = Context.current();
      const location = await whileHeartbeating(() => copyExportToTarget(context, input.exportId, () => activity.heartbeat()));
      return location ? { location } : {};
    },

    async markOrganizationExportFailed(input: { exportId: string }): Promise<void> {
      await failExport(context, input.exportId, 'The export could not be written after several attempts.');
    },

    /** To the member who asked (an API key's export: to the owners). */
    async emailOrganizationExportReady(input: { exportId: string }): Promise<number> {
      const [row]: Array<{
        organization_id: string;
        requested_by_user_id: string | null;
        sha256: string;
        size_bytes: string;
        expires_at: Date;
        name: string;
        default_locale: Locale;
        time_zone: string;
      }> = await db.query(
        `SELECT e.organization_id, e.requested_by_user_id, e.sha256, e.size_bytes, e.expires_at, o.name, o.default_locale, o.time_zone
           FROM organization_exports e JOIN organizations o ON o.id = e.organization_id
          WHERE e.id = $1 AND e.status = 'completed'`,
        [input.exportId],
      );
      if (!row) return 0;
      const recipients: Array<{ id: string; email: string; name: string | null }> = row.requested_by_user_id
        ? await db.query(
            `SELECT u.id, u.email, u.name FROM users u JOIN memberships m ON m.user_id = u.id AND m.organization_id = $2 WHERE u.id = $1`,
            [row.requested_by_user_id, row.organization_id],
          )
        : await db.query(
            `SELECT u.id, u.email, u.name FROM memberships m JOIN users u ON u.id = m.user_id WHERE m.organization_id = $1 AND m.role = 'owner' ORDER BY m.created_at, u.id`,
            [row.organization_id],
          );
      let sent = 0;
      for (const recipient of recipients) {
        const messageId = `organization-export-ready-${input.exportId}-${recipient.id}`;
        const email = exportReadyEmail(
          { organizationName: row.name, exportId: input.exportId, sha256: row.sha256, sizeBytes: Number(row.size_bytes), expiresAt: row.expires_at, timeZone: row.time_zone },
          { name: recipient.name ?? recipient.email, locale: row.default_locale },
          `${context.publicUrl}/admin/settings`,
        );
        const sentNow = await sendOnce(db, 'email', messageId, () => context.adapters.mailer.send({ messageId, to: recipient.email, ...email })).catch(
          (error: unknown) => {
            if (isPermanentMailRefusal(error)) return false;
            throw error;
          },
        );
        if (sentNow) sent += 1;
      }
      return sent;
    },

    async expireOrganizationExport(input: { exportId: string }): Promise<void> {
      await expireExport(context, input.exportId);
    },

    async stopOrganizationWork(input: { organizationId: string; requestedAt: string }): Promise<{ proceed: boolean }> {
      return stopOrganizationWork(context, input);
    },

    async countOpenOrganizationWork(input: { organizationId: string }): Promise<number> {
      return countOpenOrganizationWork(context, input.organizationId);
    },

    async closeOrganization(input: { organizationId: string }): Promise<{ receiptId: string }> {
      return { receiptId: (await closeOrganization(context, input.organizationId)).id };
    },

    async emailClosingReceipt(input: { organizationId: string }): Promise<number> {
      return emailClosingReceipt(context, input.organizationId);
    },
  };
}

export type OrganizationExportActivities = ReturnType<typeof organizationExportActivities>;
