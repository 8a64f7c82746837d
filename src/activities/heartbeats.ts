/**
 * Long activities (sealing, archive renewal) wait on outside services: a timestamp authority, OCSP
 * responders. A heartbeat only at each step would let a slow step outlast the heartbeat timeout, and
 * Temporal would start a second attempt beside the first, both writing. Beating on a timer while the work
 * runs keeps a live attempt alive; a dead worker stops beating and is replaced, as intended.
 */
import { Context } from '@temporalio/activity';

const beatEveryMs = 5_000;

export async function whileHeartbeating<T>(work: () => Promise<T>): Promise<T> {
  const context = Context.current();
  context.heartbeat();
  const timer = setInterval(() => context.heartbeat(), beatEveryMs);
  try {
    return await work();
  } finally {
    clearInterval(timer);
  }
}
