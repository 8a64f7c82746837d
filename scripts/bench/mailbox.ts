/**
 * The signers' mailboxes for the benchmark: a real SMTP server (smtp-server) that keeps only each
 * invitation's signing token, found in the raw message, so thousands of invitations cost the benchmark
 * process little (test/support/smtp-catcher.ts parses every message, which tests need and this does not).
 */
import { simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';
import { freePort } from '../../test/support/free-port';
import { listenOnLoopback } from '../../test/support/smtp-catcher';

export interface Mailbox {
  url: string;
  /** Invitations received so far (any recipient). */
  received(): number;
  /** The signing token of the first invitation to `address`, as soon as it has arrived. */
  tokenFor(address: string, timeoutMs?: number): Promise<string>;
  close(): Promise<void>;
}

export async function startMailbox(): Promise<Mailbox> {
  const tokens = new Map<string, string>();
  const waiters = new Map<string, Array<(token: string) => void>>();
  let count = 0;
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    // A receiving server's reverse DNS lookup of each client is its own cost, not the sender's: leave it out.
    disableReverseLookup: true,
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', async () => {
        const raw = Buffer.concat(chunks);
        // Quoted-printable may break the link across lines with soft line breaks ("=" at a line's end); a
        // message sent base64-encoded is parsed in full, which is rare enough to cost nothing.
        const token =
          /\/s\/([0-9a-f]{64})/.exec(raw.toString('latin1').replace(/=\r?\n/g, ''))?.[1] ??
          /\/s\/([0-9a-f]{64})/.exec((await simpleParser(raw).catch(() => undefined))?.text ?? '')?.[1];
        const to = session.envelope.rcptTo[0]?.address.toLowerCase();
        if (token && to && !tokens.has(to)) {
          count++;
          tokens.set(to, token);
          for (const resolve of waiters.get(to) ?? []) resolve(token);
          waiters.delete(to);
        }
        callback();
      });
    },
  });
  const port = await freePort();
  await listenOnLoopback(server, port);
  return {
    url: `smtp://127.0.0.1:${port}`,
    received: () => count,
    tokenFor(address, timeoutMs = 120_000) {
      const known = tokens.get(address.toLowerCase());
      if (known) return Promise.resolve(known);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no invitation to ${address} within ${timeoutMs / 1000} s`)), timeoutMs);
        const list = waiters.get(address.toLowerCase()) ?? [];
        list.push((token) => {
          clearTimeout(timer);
          resolve(token);
        });
        waiters.set(address.toLowerCase(), list);
      });
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
