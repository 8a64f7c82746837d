/**
 * A caught message read the way a mail client reads it: split into its MIME parts, each decoded from its
 * transfer encoding, so a test can prove that a link wrapped and escaped by quoted-printable comes out intact.
 */
import { escapeHtml } from '../../src/api/html';
import type { CaughtMail } from './smtp-catcher';

export function mimeParts(raw: Buffer): Array<{ type: string; encoding: string; body: string }> {
  const eml = raw.toString('latin1');
  const boundary = /boundary="?([^";\r\n]+)"?/i.exec(eml)?.[1];
  if (!boundary) throw new Error('not a multipart message');
  return eml
    .split(`--${boundary}`)
    .slice(1, -1)
    .map((part) => {
      const split = part.indexOf('\r\n\r\n');
      const headers = part.slice(0, split);
      const body = part.slice(split + 4);
      const type = /content-type:\s*([^;\r\n]+)/i.exec(headers)?.[1]?.trim() ?? '';
      const encoding = /content-transfer-encoding:\s*(\S+)/i.exec(headers)?.[1]?.toLowerCase() ?? '7bit';
      const bytes =
        encoding === 'quoted-printable'
          ? Buffer.from(body.replace(/=\r\n/g, '').replace(/=([0-9A-F]{2})/gi, (_, hex: string) => String.fromCharCode(parseInt(hex, 16))), 'latin1')
          : encoding === 'base64'
            ? Buffer.from(body, 'base64')
            : Buffer.from(body, 'latin1');
      return { type, encoding, body: bytes.toString('utf8') };
    });
}

/** The text and HTML parts of `mail`, decoded; fails unless both exist and carry `link` intact (a line of the text, an href of the HTML). */
export function expectBothPartsCarry(mail: CaughtMail, link: string): { text: string; html: string } {
  const parts = mimeParts(mail.raw);
  const text = parts.find((part) => part.type === 'text/plain');
  const html = parts.find((part) => part.type === 'text/html');
  expect({ text: text?.encoding, html: html?.encoding }).toEqual({ text: 'quoted-printable', html: 'quoted-printable' });
  // The raw message does wrap and escape the link: the check would prove nothing otherwise.
  expect(mail.raw.toString('latin1')).not.toContain(link);
  expect(text!.body.split(/\r?\n/)).toContain(link);
  expect(html!.body).toContain(`href="${escapeHtml(link)}"`);
  return { text: text!.body, html: html!.body };
}
