/**
 * Outgoing SMS (PINs, device codes): an HTTP provider in production, by default an outbox folder with one
 * JSON file per message. The provider contract is deliberately small (POST JSON `{ id, from, to, text }`
 * with a bearer token) so a thin relay can front any SMS vendor.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import type { SmsConfig } from '../config';
import { forgetOutboxFiles } from './mailer';

export interface SmsMessage {
  /** Stable per logical message, so a retried send can be recognised by the provider. */
  messageId: string;
  to: string;
  text: string;
}

export interface SmsSender {
  readonly kind: SmsConfig['kind'];
  send(message: SmsMessage): Promise<void>;
  /** The outbox only: removes the kept copies of messages whose id names any of `ids` (a shredded record's). */
  forgetMessagesNaming?(ids: string[]): Promise<void>;
}

function assertMessageId(id: string): void {
  if (!/^[A-Za-z0-9_-]+$/.test(id)) throw new Error('invalid SMS messageId');
}

export class OutboxSmsSender implements SmsSender {
  readonly kind = 'outbox' as const;
  constructor(private readonly dir: string, private readonly sender: string) {}

  /** Removes the kept copies of messages whose id names any of `ids` (a shredded record's). */
  forgetMessagesNaming(ids: string[]): Promise<void> {
    return forgetOutboxFiles(this.dir, ids);
  }

  async send(message: SmsMessage): Promise<void> {
    assertMessageId(message.messageId);
    await fs.mkdir(this.dir, { recursive: true, mode: 0o700 });
    const file = path.join(this.dir, `${message.messageId}.json`);
    const body = JSON.stringify({ ...message, from: this.sender, queuedAt: new Date().toISOString() }, null, 2);
    await fs.writeFile(`${file}.partial`, body, { mode: 0o600 });
    await fs.rename(`${file}.partial`, file);
  }
}

export class HttpSmsSender implements SmsSender {
  readonly kind = 'http' as const;
  constructor(private readonly config: Extract<SmsConfig, { kind: 'http' }>) {}

  async send(message: SmsMessage): Promise<void> {
    assertMessageId(message.messageId);
    const response = await fetch(this.config.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'idempotency-key': message.messageId,
        ...(this.config.token ? { authorization: `Bearer ${this.config.token}` } : {}),
      },
      body: JSON.stringify({ id: message.messageId, from: this.config.sender, to: message.to, text: message.text }),
      signal: AbortSignal.timeout(15_000),
    });
    // The status only: a provider's error body may echo the message text, which can hold a PIN.
    if (!response.ok) throw new Error(`SMS provider answered HTTP ${response.status}`);
  }
}
