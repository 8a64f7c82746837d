/**
 * The filtered list as CSV, for a spreadsheet or a back-office import: the same scope and filters as the
 * list, newest first, read page by page. Cells a spreadsheet would take for a formula (starting with
 * = + - @, or a tab or carriage return) get a leading apostrophe, so an exported title cannot run anything.
 */
import type { DataSource } from 'typeorm';
import type { AccessScope } from '../accounts/access';
import { listSigningRequests, type ListFilters, type ListedRequest } from './list-signing-requests';

/** More than this many rows is a job for the paged list, not a download. */
export const exportRowLimit = 10_000;

const columns = ['id', 'title', 'status', 'documentCode', 'folderId', 'createdAt', 'expiresAt', 'signersSigned', 'signersTotal', 'signers'] as const;

/** One CSV cell: formula-looking text defused, quoted when it holds a comma, quote or line break. */
export function csvCell(value: string | number): string {
  let text = String(value);
  if (/^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

function csvRow(request: ListedRequest): string {
  const signed = request.signers.filter((signer) => signer.status === 'signed').length;
  const values: Record<(typeof columns)[number], string | number> = {
    id: request.id,
    title: request.title,
    status: request.status,
    documentCode: request.documentCode,
    folderId: request.folderId,
    createdAt: request.createdAt,
    expiresAt: request.expiresAt,
    signersSigned: signed,
    signersTotal: request.signers.length,
    signers: request.signers.map((signer) => `${signer.name} <${signer.email}>: ${signer.status}`).join('; '),
  };
  return columns.map((column) => csvCell(values[column])).join(',');
}

/**
 * The CSV, and whether rows were left out: more than `rowLimit` requests match. A cut list must say so (the
 * route sends `X-Sigill-Truncated: true`), or a spreadsheet would pass for the whole picture.
 */
export async function exportSigningRequests(
  dataSource: DataSource,
  scope: AccessScope,
  filters: ListFilters,
  rowLimit = exportRowLimit,
): Promise<{ csv: string; truncated: boolean }> {
  const lines = [columns.join(',')];
  let truncated = false;
  let cursor: string | undefined;
  do {
    const page = await listSigningRequests(dataSource, scope, { ...filters, cursor, limit: 100 });
    for (const request of page.items) {
      if (lines.length > rowLimit) {
        truncated = true;
        break;
      }
      lines.push(csvRow(request));
    }
    // Full with more pages to come: one more row exists beyond the limit.
    if (lines.length > rowLimit && page.nextCursor) truncated = true;
    cursor = truncated ? undefined : page.nextCursor;
  } while (cursor);
  // CRLF as RFC 4180 writes it; the BOM makes Excel read UTF-8 (å, ä, ö) as UTF-8.
  return { csv: `\uFEFF${lines.join('\r\n')}\r\n`, truncated };
}
