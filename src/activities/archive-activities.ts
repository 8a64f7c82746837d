/** The archive renewal's activities (src/archive/renew-archive.ts): each idempotent per archive and expiry. */
import { heartbeat } from '@temporalio/activity';
import { findArchivesDue, renewArchive, type DueArchive, type RenewalOutcome } from '../archive/renew-archive';
import type { SigningContext } from '../signing/signing-context';

export function archiveActivities(context: SigningContext) {
  return {
    async findArchivesDueForRenewal(input: { horizonMs: number; limit: number }): Promise<DueArchive[]> {
      return findArchivesDue(context.dataSource, { now: new Date(), horizonMs: input.horizonMs, limit: input.limit });
    },

    async renewArchiveTimestamp(input: DueArchive): Promise<RenewalOutcome> {
      heartbeat('renewing');
      return renewArchive(context, input);
    },
  };
}

export type ArchiveActivities = ReturnType<typeof archiveActivities>;
