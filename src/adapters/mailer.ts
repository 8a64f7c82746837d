/**
 * Outgoing email: SMTP in production; by default an outbox folder with one `.eml` file per message, which
 * any mail client opens. Each message carries a caller-chosen id (`messageId`) so a retried send is
 * recognisable: the outbox overwrites the same file, SMTP receivers see the same Message-ID.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import nodemailer, { type SendMailOptions, type Transporter } from 'nodemailer';
import type { MailConfig } from '../config';

export interface MailMessage {
  /** Stable per logical message, e.g. `invitation-<requestId>-<signerId>`; letters, digits, `-` and `_`. */
  messageId: string;
  to: string;
  subject: string;
  text: string;
  html?: string;
}

export interface Mailer {
  readonly kind: MailConfig['kind'];
  send(message: MailMessage): Promise<void>;
  /** The outbox only: removes the kept copies of messages whose id names any of `ids` (a shredded record's). */
  forgetMessagesNaming?(ids: string[]): Promise<void>;
}

/** Removes the outbox files whose message id contains one of `ids` (src/privacy/shred-record.ts). */
export async function forgetOutboxFiles(dir: string, ids: string[]): Promise<void> {
  let names: string[];
  try {
    names = await fs.readdir(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw error;
  }
  for (const name of names) {
    if (ids.some((id) => id.length > 0 && name.includes(id))) await fs.rm(path.join(dir, name), { force: true });
  }
}

function envelope(message: MailMessage, from: string, domain: string) {
  if (!/^[A-Za-z0-9_-]+$/.test(message.messageId)) throw new Error('invalid mail messageId');
  return {
    from,
    to: message.to,
    subject: message.subject,
    text: message.text,
    html: message.html,
    messageId: `<${message.messageId}@${domain}>`,
  };
}

export class OutboxMailer implements Mailer {
  readonly kind = 'outbox' as const;
  private readonly transport = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'unix' });

  constructor(private readonly dir: string, private readonly from: string) {}

  forgetMessagesNaming(ids: string[]): Promise<void> {
    return forgetOutboxFiles(this.dir, ids);
  }

  async send(message: MailMessage): Promise<void> {
    const info = await this.transport.sendMail(envelope(message, this.from, 'sigill.localhost'));
    await fs.mkdir(this.dir, { recursive: true, mode: 0o700 });
    const file = path.join(this.dir, `${message.messageId}.eml`);
    const temporary = `${file}.partial`;
    await fs.writeFile(temporary, info.message as Buffer, { mode: 0o600 });
    await fs.rename(temporary, file);
  }
}

/** How long one message may wait for a connection and be sent. */
const smtpSendDeadlineMs = 20_000;

export class SmtpMailer implements Mailer {
  readonly kind = 'smtp' as const;
  private readonly transport: Transporter;
  private readonly domain: string;

  constructor(url: string, private readonly from: string) {
    // Pooled: a few connections kept open and reused, so a message costs its SMTP transaction, not a new
    // TCP (and TLS) handshake each time (~100 ms per message even on loopback). `?pool=false` in the URL turns it off.
    this.transport = nodemailer.createTransport({ url, pool: true });
    this.domain = /@([^>\s]+)/.exec(from)?.[1] ?? 'sigill.localhost';
  }

  async send(message: MailMessage): Promise<void> {
    // Within the messaging activities' 30 s: a message still waiting for a pooled connection when its attempt
    // times out would otherwise go out after the retry has sent it too. Aborted, it waits for the retry.
    const options = { ...envelope(message, this.from, this.domain), signal: AbortSignal.timeout(smtpSendDeadlineMs) };
    await this.transport.sendMail(options as SendMailOptions);
  }

  close(): void {
    this.transport.close();
  }
}
