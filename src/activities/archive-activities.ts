/** The archive renewal's activities (src/archive/renew-archive.ts): each idempotent per archive and expiry. */
import { ApplicationFailure } from '@temporalio/activity';
import { ArchiveUnreadable, findArchivesDue, renewArchive, type DueArchive, type RenewalOutcome } from '../archive/renew-archive';
import { whileHeartbeating } from './heartbeats';
import type { SigningContext } from '../signing/signing-context';

export function archiveActivities(context: SigningContext) {
  return {
    async findArchivesDueForRenewal(input: { horizonMs: number; limit: number }): Promise<DueArchive[]> {
      return findArchivesDue(context.dataSource, { now: new Date(), horizonMs: input.horizonMs, limit: input.limit });
    },

    async renewArchiveTimestamp(input: DueArchive): Promise<RenewalOutcome> {
      return whileHeartbeating(() =>
        renewArchive(context, input).catch((error: unknown) => {
          // A stored archive that is missing or altered stays so: retrying only delays the others.
          if (error instanceof ArchiveUnreadable) throw ApplicationFailure.nonRetryable(error.message, 'ArchiveUnreadable');
          throw error;
        }),
      );
    },
  };
}

export type ArchiveActivities = ReturnType<typeof archiveActivities>;
