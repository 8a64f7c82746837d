/**
 * A real SMTP server (the `smtp-server` package) that keeps every message it receives, parsed, so tests
 * read what a person would find in their inbox. STARTTLS is off: the package's built-in certificate has
 * expired, and this server only listens on loopback.
 */
import { simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';
import { freePort } from './free-port';
import { waitFor } from './wait-for';

export interface CaughtMail {
  to: string;
  subject: string;
  text: string;
  /** The HTML part, when the message has one. */
  html?: string;
  messageId: string;
  /** The message exactly as it came over SMTP (headers, MIME parts, transfer encodings): the .eml. */
  raw: Buffer;
  /** When its last byte had arrived. */
  receivedAt: Date;
}

/** Mailboxes the catcher refuses for good (550), as a real server does for an address that does not exist. */
export const refusedMailbox = (address: string) => address.toLowerCase().startsWith('nobody-');

export async function startSmtpCatcher() {
  const messages: CaughtMail[] = [];
  const connectionErrors: Error[] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    onRcptTo(address, _session, callback) {
      if (!refusedMailbox(address.address)) return callback();
      callback(Object.assign(new Error('5.1.1 No such user here'), { responseCode: 550 }));
    },
    onData(stream, _session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => void parse(Buffer.concat(chunks), new Date(), callback));
    },
  });
  function parse(raw: Buffer, receivedAt: Date, callback: (error?: Error) => void) {
    simpleParser(raw).then(
      (parsed) => {
        const to = Array.isArray(parsed.to) ? parsed.to[0] : parsed.to;
        messages.push({
          to: to?.value[0]?.address ?? '',
          subject: parsed.subject ?? '',
          text: parsed.text ?? '',
          html: typeof parsed.html === 'string' ? parsed.html : undefined,
          messageId: parsed.messageId ?? '',
          raw,
          receivedAt,
        });
        callback();
      },
      (error: Error) => callback(error),
    );
  }
  const port = await freePort();
  await listenOnLoopback(server, port, (error) => connectionErrors.push(error));
  return {
    url: `smtp://127.0.0.1:${port}`,
    messages,
    /** Connections that ended in an error (a sender killed mid-message): the server carried on. */
    connectionErrors,
    /** Messages to one address, optionally with a subject containing `subject`. */
    to: (address: string, subject?: string) =>
      messages.filter((mail) => mail.to === address.toLowerCase() && (!subject || mail.subject.includes(subject))),
    waitForMail: (address: string, subject: string, count = 1) =>
      waitFor(`${count} mail(s) "${subject}" to ${address}`, () => {
        const found = messages.filter((mail) => mail.to === address.toLowerCase() && mail.subject.includes(subject));
        return found.length >= count ? found : undefined;
      }),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/**
 * Starts listening; a failure to listen rejects. From then on, an error on one client's connection (a sender
 * killed mid-message resets it: the chaos run kills workers while they send) is that client's end, as it is for
 * any mail server; smtp-server re-emits it on the server, where an unheard 'error' would end the process.
 */
export function listenOnLoopback(server: SMTPServer, port: number, onConnectionError: (error: Error) => void = () => undefined): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      server.on('error', onConnectionError);
      resolve();
    });
  });
}

/**
 * Recipients who got more than one of `mails` (one kind of message, one expected per recipient), split in two.
 * SMTP delivers at least once: a sender killed after the mail server accepted a message but before it recorded
 * the send sends it again on retry, the same message with the same Message-ID (src/messaging/send-once.ts). Such
 * a repeat is `redeliveredAfterKill` when each delivery after the first came after a sender was killed (`killedAt`,
 * epoch ms) and no earlier than 2 s before the delivery it repeats (a kill decided on one message's arrival can
 * cut a sibling whose last bytes were still on their way). Anything else is a duplicate: another message, or a
 * repeat with no kill to explain it.
 */
export function repeatedDeliveries(
  mails: CaughtMail[],
  killedAt: number[],
): { duplicates: Array<[to: string, count: number]>; redeliveredAfterKill: Array<[to: string, count: number]> } {
  const byRecipient = new Map<string, CaughtMail[]>();
  for (const mail of mails) byRecipient.set(mail.to, [...(byRecipient.get(mail.to) ?? []), mail]);
  const explained = (sorted: CaughtMail[]) =>
    sorted.every((mail) => mail.messageId === sorted[0]!.messageId && mail.text === sorted[0]!.text) &&
    sorted.slice(1).every((mail, index) =>
      killedAt.some((at) => at >= sorted[index]!.receivedAt.getTime() - 2000 && at <= mail.receivedAt.getTime()),
    );
  const result = { duplicates: [] as Array<[string, number]>, redeliveredAfterKill: [] as Array<[string, number]> };
  for (const [to, received] of byRecipient) {
    if (received.length < 2) continue;
    const sorted = [...received].sort((a, b) => a.receivedAt.getTime() - b.receivedAt.getTime());
    (explained(sorted) ? result.redeliveredAfterKill : result.duplicates).push([to, received.length]);
  }
  return result;
}

/** The personal signing token in an invitation or reminder. */
export function signingTokenIn(mail: CaughtMail): string {
  const match = /\/s\/([0-9a-f]{64})/.exec(mail.text);
  if (!match) throw new Error(`no signing link in "${mail.subject}"`);
  return match[1]!;
}
