/** Reading the SMS outbox (`DATA_DIR/outbox/sms`, one JSON file per message), used when no SMS provider is configured. */
import fs from 'node:fs';
import path from 'node:path';

interface OutboxSms {
  to: string;
  text: string;
}

/** A reader that parses each outbox file once, for callers that poll the outbox many times. */
export function smsOutboxReader(dataDir: string) {
  const dir = path.join(dataDir, 'outbox', 'sms');
  const parsed = new Map<string, OutboxSms>();
  return {
    /** The 6-digit PIN in the SMS sent to `phone`, or undefined while there is none. */
    pinFor(phone: string): string | undefined {
      const files = fs.existsSync(dir) ? fs.readdirSync(dir).filter((file) => file.endsWith('.json')) : [];
      for (const file of files) {
        // Written to a .partial file and renamed: a .json file is always complete.
        if (!parsed.has(file)) parsed.set(file, JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8')) as OutboxSms);
      }
      const message = [...parsed.values()].find((sms) => sms.to === phone);
      return (message && /\b(\d{6})\b/.exec(message.text)?.[1]) || undefined;
    },
  };
}

export const smsPinFor = (dataDir: string, phone: string): string | undefined => smsOutboxReader(dataDir).pinFor(phone);
