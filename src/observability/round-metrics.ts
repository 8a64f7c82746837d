/**
 * What signing rounds record into Sigill's metrics. Called from the API and activities only, never from
 * workflow code (a replay would count again); each caller counts only what its own write changed, so a
 * retried activity or a replayed create counts nothing twice.
 */
import { metrics } from './metrics';

export function countRoundStarted(): void {
  metrics.roundsStarted.inc();
}

/**
 * A round's outcome, recorded for the first time. Times come from the database (creation, last signature,
 * the outcome's time), so they are the round's own and not the moment a worker happened to run.
 */
export function countRoundEnded(outcome: string, times: { createdAt: Date; lastSignedAt: Date | null; endedAt: Date }): void {
  metrics.roundsEnded.inc({ outcome });
  if (outcome !== 'completed') return;
  metrics.roundCompletionSeconds.observe(secondsBetween(times.createdAt, times.endedAt));
  if (times.lastSignedAt) metrics.lastSignatureToSealedSeconds.observe(secondsBetween(times.lastSignedAt, times.endedAt));
}

/** One seal computation (stamping, signing, timestamps, validation data), by whether it succeeded. */
export async function measureSeal<T>(seal: () => Promise<T>): Promise<T> {
  const stop = metrics.sealDuration.startTimer();
  try {
    const sealed = await seal();
    stop({ outcome: 'sealed' });
    return sealed;
  } catch (error) {
    stop({ outcome: 'failed' });
    throw error;
  }
}

export function countMessageSent(channel: 'email' | 'sms'): void {
  metrics.messagesSent.inc({ channel });
}

function secondsBetween(from: Date, to: Date): number {
  return Math.max(0, (to.getTime() - from.getTime()) / 1000);
}
