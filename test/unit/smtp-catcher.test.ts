/**
 * The signers' mailbox that the chaos run and the tests read must outlive a sender killed mid-message: the
 * chaos run SIGKILLs workers while they send, and a reset connection once ended the mailbox's process (an
 * 'error' nobody listened to), failing a run in which Sigill itself did nothing wrong.
 */
import net from 'node:net';
import nodemailer from 'nodemailer';
import { startSmtpCatcher } from '../support/smtp-catcher';
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
