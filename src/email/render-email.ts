/**
 * The one way Sigill lays out an email, for every message it sends (signing rounds in
 * src/signing/messages.ts, accounts in src/accounts/account-messages.ts). A message is described once as a
 * list of blocks and rendered twice: as plain text (it survives every mail client, and a PIN, code or link
 * never hides behind markup) and as HTML. The HTML is escaped by construction: blocks hold plain text only,
 * and the renderer escapes every piece of it, catalog text and interpolated values alike; no markup ever
 * comes from a catalog or a caller.
 */
import { escapeHtml } from '../api/html';
import type { Locale } from '../i18n';

export interface Email {
  subject: string;
  text: string;
  html: string;
}

export type Block =
  | { kind: 'paragraph'; text: string }
  /** Someone's own words (the sender's message, a decline reason): quoted, line by line. */
  | { kind: 'quote'; label: string; text: string }
  | { kind: 'action'; label: string; url: string }
  /** A one-time code to type in: alone on its line in the text part, large and spaced in the HTML. */
  | { kind: 'code'; label: string; code: string }
  | { kind: 'note'; text: string };

/** `greeting` and `footer` are finished sentences in the reader's language (the caller translates them). */
export function renderEmail(locale: Locale, subject: string, greeting: string, blocks: Block[], footer: string): Email {
  const text = [greeting, ...blocks.map(textOf), `-- \n${footer}`].join('\n\n');
  const html = [
    '<!DOCTYPE html>',
    `<html lang="${escapeHtml(locale)}"><head><meta charset="utf-8">`,
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${escapeHtml(subject)}</title></head>`,
    '<body style="margin:0;padding:0;background:#f3f4f6;">',
    '<div style="max-width:36rem;margin:0 auto;padding:24px 16px;font-family:system-ui,-apple-system,\'Segoe UI\',Roboto,sans-serif;font-size:16px;line-height:1.5;color:#1f2328;background:#ffffff;">',
    `<p style="margin:0 0 16px;">${escapeHtml(greeting)}</p>`,
    ...blocks.map(htmlOf),
    `<p style="margin:32px 0 0;font-size:13px;color:#4b5563;">${escapeHtml(footer)}</p>`,
    '</div></body></html>',
  ].join('\n');
  return { subject, text, html };
}

const quoteLines = (text: string) => text.split(/\r\n|\r|\n/).map((line) => (line ? `> ${line}` : '>'));

function textOf(block: Block): string {
  switch (block.kind) {
    case 'paragraph':
    case 'note':
      return block.text;
    case 'quote':
      return [block.label, ...quoteLines(block.text)].join('\n');
    case 'action':
      // The link alone on its line: mail clients make it clickable, and nothing glues onto its end.
      return `${block.label}:\n${block.url}`;
    case 'code':
      return `${block.label}\n${block.code}`;
  }
}

function htmlOf(block: Block): string {
  switch (block.kind) {
    case 'paragraph':
      return `<p style="margin:0 0 16px;">${escapeHtml(block.text)}</p>`;
    case 'note':
      return `<p style="margin:0 0 16px;font-size:14px;color:#4b5563;">${escapeHtml(block.text)}</p>`;
    case 'quote': {
      const lines = block.text.split(/\r\n|\r|\n/).map(escapeHtml).join('<br>');
      return (
        `<p style="margin:0 0 4px;">${escapeHtml(block.label)}</p>` +
        `<blockquote style="margin:0 0 16px;padding:4px 12px;border-left:4px solid #d0d7de;color:#1f2328;">${lines}</blockquote>`
      );
    }
    case 'action': {
      const href = escapeHtml(block.url);
      return (
        `<p style="margin:24px 0;"><a href="${href}" style="display:inline-block;padding:12px 20px;background:#1d4ed8;color:#ffffff;` +
        `text-decoration:none;border-radius:6px;font-weight:600;">${escapeHtml(block.label)}</a></p>` +
        `<p style="margin:0 0 16px;font-size:13px;color:#4b5563;word-break:break-all;">${href}</p>`
      );
    }
    case 'code':
      return (
        `<p style="margin:0 0 4px;">${escapeHtml(block.label)}</p>` +
        `<p style="margin:0 0 16px;font-family:ui-monospace,Menlo,Consolas,monospace;font-size:28px;font-weight:700;letter-spacing:4px;">${escapeHtml(block.code)}</p>`
      );
  }
}
