/**
 * The signers' mailbox that the chaos run and the tests read must outlive a sender killed mid-message: the
 * chaos run SIGKILLs workers while they send, and a reset connection once ended the mailbox's process (an
 * 'error' nobody listened to), failing a run in which Sigill itself did nothing wrong. And the chaos run's
 * count of duplicate invitations must tell SMTP's redelivery after such a kill from a real duplicate.
 */
import net from 'node:net';
import nodemailer from 'nodemailer';
import { repeatedDeliveries, startSmtpCatcher, type CaughtMail } from '../support/smtp-catcher';
import { waitFor } from '../support/wait-for';

test('a sender that vanishes mid-session leaves the mailbox receiving the next message', async () => {
  const smtp = await startSmtpCatcher();
  try {
    const { port } = new URL(smtp.url);
    const socket = net.connect(Number(port), '127.0.0.1');
    await new Promise<void>((resolve) => socket.once('data', () => resolve())); // the 220 greeting
    socket.write('EHLO killed-worker\r\nMAIL FROM:<sigill@example.test>\r\n');
    await new Promise<void>((resolve) => socket.once('data', () => resolve()));
    socket.resetAndDestroy(); // what the kernel sends for a process killed with its connection open
    await waitFor('the reset connection to be noticed', () => smtp.connectionErrors.length > 0);

    const transport = nodemailer.createTransport(smtp.url);
    await transport.sendMail({ from: 'sigill@example.test', to: 'signer@example.test', subject: 'Please sign', text: 'after the reset' });
    const [mail] = await smtp.waitForMail('signer@example.test', 'Please sign');
    expect(mail!.text.trim()).toBe('after the reset');
  } finally {
    await smtp.close();
  }
});

describe('repeated deliveries (the chaos run tells SMTP redelivery after a kill from duplicates)', () => {
  const at = (second: number) => new Date(Date.UTC(2026, 0, 1, 12, 0, second));
  const mail = (to: string, second: number, overrides: Partial<CaughtMail> = {}): CaughtMail => ({
    to,
    subject: 'Please sign: NDA',
    text: `Open https://sigill.example/s/${to}`,
    messageId: `<invitation-${to}@sigill.example>`,
    raw: Buffer.alloc(0),
    receivedAt: at(second),
    ...overrides,
  });

  test('one delivery each is nothing; the same message again after a kill between them is a redelivery', () => {
    const killedAt = [at(11).getTime()];
    expect(repeatedDeliveries([mail('a', 10), mail('b', 10), mail('a', 14)], killedAt)).toEqual({ duplicates: [], redeliveredAfterKill: [['a', 2]] });
    // The kill decided on a sibling's arrival can land just before this message's last byte arrived.
    expect(repeatedDeliveries([mail('a', 10), mail('a', 14)], [at(9).getTime()]).redeliveredAfterKill).toEqual([['a', 2]]);
  });

  test('a repeat with no kill to explain it, or another message, is a duplicate', () => {
    expect(repeatedDeliveries([mail('a', 10), mail('a', 14)], []).duplicates).toEqual([['a', 2]]);
    expect(repeatedDeliveries([mail('a', 10), mail('a', 14)], [at(5).getTime(), at(20).getTime()]).duplicates).toEqual([['a', 2]]);
    expect(repeatedDeliveries([mail('a', 10), mail('a', 14, { text: 'another link' })], [at(11).getTime()]).duplicates).toEqual([['a', 2]]);
    expect(repeatedDeliveries([mail('a', 10), mail('a', 14, { messageId: '<other@sigill.example>' })], [at(11).getTime()]).duplicates).toEqual([['a', 2]]);
    // Three deliveries and one kill: the third has nothing to explain it.
    expect(repeatedDeliveries([mail('a', 10), mail('a', 14), mail('a', 30)], [at(11).getTime()]).duplicates).toEqual([['a', 3]]);
  });
});
