/**
 * Sends a message (email or SMS) unless one with its id was sent already: `sent_messages` records each id
 * once it is out. Callers give a stable id per logical message (`invitation-<request>-<signer>`,
 * `webhook-disabled-<endpoint>-<disabled at>-<recipient>`) and send from an activity, whose retries then
 * find it recorded. Only a crash between sending and recording repeats a message; receivers see the same
 * Message-ID. One caller per id at a time: two concurrent callers could both find it unsent.
 *
 * Nothing here holds a transaction or a row lock across the send: a slow mail server must not keep rows
 * (or, on the embedded database, the process's only connection) busy.
 */
import type { DataSource } from 'typeorm';
import { countMessageSent } from '../observability/round-metrics';

/** Tries at recording a sent message (about 5 s in all, well inside the messaging activities' 30 s). */
const recordSentAttempts = 5;

export type MessageChannel = 'email' | 'sms';

/**
 * Answers whether it was sent now (false: sent before). Once sent, recording it is retried a few times before giving up: a database hiccup at that instant (a
 * dropped connection) would otherwise make the activity's retry send the message again.
 */
export async function sendOnce(dataSource: DataSource, channel: MessageChannel, messageId: string, send: () => Promise<void>): Promise<boolean> {
  const sent = await dataSource.query(`SELECT 1 FROM sent_messages WHERE message_id = $1`, [messageId]);
  if (sent.length > 0) return false;
  await send();
  countMessageSent(channel);
  for (let attempt = 1; ; attempt++) {
    try {
      await dataSource.query(`INSERT INTO sent_messages (message_id, channel) VALUES ($1, $2) ON CONFLICT DO NOTHING`, [messageId, channel]);
      return true;
    } catch (error) {
      if (attempt >= recordSentAttempts) throw error;
      await new Promise((resolve) => setTimeout(resolve, 500 * attempt));
    }
  }
}
