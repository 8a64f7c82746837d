/** The retention sweep's activities (src/retention/sweep.ts): each idempotent for the ids it is given. */
import { emailRetentionNotice } from '../retention/notice-email';
import { deleteExpiredAccessPackages, deleteNoticed, giveNotices, noticesDue, organizationsNoticed, withdrawNotices, type DeletionOutcome, type SweepScope } from '../retention/sweep';
import type { SigningContext } from '../signing/signing-context';
import { whileHeartbeating } from './heartbeats';

export function retentionActivities(context: SigningContext) {
  return {
    async giveRetentionNotices(input: { batchId: string; limit: number } & SweepScope): Promise<number> {
      return giveNotices(context.dataSource, { ...input, now: new Date() });
    },

    async organizationsNoticedInBatch(input: { batchId: string }): Promise<string[]> {
      return organizationsNoticed(context.dataSource, input.batchId);
    },

    async emailRetentionNotice(input: { batchId: string; organizationId: string }): Promise<number> {
      return emailRetentionNotice({ dataSource: context.dataSource, mailer: context.adapters.mailer, publicUrl: context.publicUrl }, input);
    },

    async withdrawRetentionNotices(input: { batchId: string; organizationId: string }): Promise<number> {
      return withdrawNotices(context.dataSource, input);
    },

    async findRetentionNoticesDue(input: { limit: number } & SweepScope): Promise<string[]> {
      return noticesDue(context.dataSource, { ...input, now: new Date() });
    },

    async deleteExpiredAccessPackages(input: { limit: number } & SweepScope): Promise<number> {
      return whileHeartbeating(() => deleteExpiredAccessPackages(context, { ...input, now: new Date() }));
    },

    async deleteNoticedRecord(input: { noticeId: string }): Promise<DeletionOutcome> {
      return whileHeartbeating(() => deleteNoticed(context, { noticeId: input.noticeId, now: new Date() }));
    },
  };
}

export type RetentionActivities = ReturnType<typeof retentionActivities>;
