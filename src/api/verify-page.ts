/**
 * The plain verification page at PUBLIC_URL/verify, the address printed on every sealed page: upload a PDF
 * (or type its code) and read the verdict. A classic form post rendered on the server, so it works without
 * JavaScript and the Content-Security-Policy needs no exception. The JSON API is /v1/verify.
 */
import type Router from '@koa/router';
import type { Context } from 'koa';
import type { DataSource } from 'typeorm';
import { AppError } from '../errors';
import { documentCodeInput, verifyDocument, verifyDocumentCode, type VerificationResult } from '../signing/verify-document';
import { escapeHtml, htmlPage } from './html';
import { readMultipart } from './multipart';
import type { RateLimitStore } from '../database/rate-limit-store';
import { rateLimit } from './rate-limit';
import { verifyRateLimit } from './routes/verify';

function layout(body: string): string {
  const intro = body ? '' : '<p>Check that a PDF was sealed by this service and has not changed since: upload the file, or type the document code printed on its pages.</p>';
  return htmlPage(
    'Verify a sealed document',
    `${intro}${body}
${body ? '<h2>Verify another document</h2>' : ''}
<form method="post" action="/verify" enctype="multipart/form-data">
  <label for="document">A sealed PDF</label>
  <input id="document" name="document" type="file" accept="application/pdf">
  <label for="code">or the document code printed on its pages</label>
  <input id="code" name="code" maxlength="20" autocomplete="off" spellcheck="false" aria-describedby="code-hint">
  <p class="hint" id="code-hint">It looks like SGL-XXXX-XXXX-XXXX.</p>
  <p><button type="submit">Verify</button></p>
</form>`,
  );
}

const verdictText: Record<VerificationResult['verdict'], string> = {
  authentic: 'Authentic: this is a document sealed by this service, unchanged since sealing.',
  modified: 'Not authentic: this file differs from the document that was sealed under this code.',
  unknown: 'Unknown: this file is not a document sealed by this service.',
};

function renderResult(result: VerificationResult, byCode: boolean): string {
  const text = byCode ? 'This code belongs to a sealed document. Compare its fingerprint with your copy.' : verdictText[result.verdict];
  const rows: string[] = [];
  if (result.documentCode) rows.push(`<dt>Document code</dt><dd>${escapeHtml(result.documentCode)}</dd>`);
  if (result.sealedAt) rows.push(`<dt>Sealed</dt><dd>${escapeHtml(result.sealedAt)}</dd>`);
  if (result.sha256) rows.push(`<dt>SHA-256 of the sealed document</dt><dd><code>${result.sha256}</code></dd>`);
  if (result.uploadedSha256) rows.push(`<dt>SHA-256 of your file</dt><dd><code>${result.uploadedSha256}</code></dd>`);
  for (const signer of result.signers) {
    rows.push(`<dt>Signed by</dt><dd>${escapeHtml(signer.name)}${signer.signedAt ? `, ${escapeHtml(signer.signedAt)}` : ''}</dd>`);
  }
  return `<p class="verdict ${byCode ? 'authentic' : result.verdict}" role="status">${escapeHtml(text)}</p>${rows.length ? `<dl>${rows.join('')}</dl>` : ''}`;
}

export function mountVerifyPage(router: Router, dataSource: DataSource, maxDocumentBytes: number, rateLimits: RateLimitStore): void {
  const html = (ctx: Context, status: number, body: string) => {
    ctx.status = status;
    ctx.type = 'text/html; charset=utf-8';
    ctx.body = layout(body);
  };
  router.get('/verify', (ctx) => html(ctx, 200, ''));
  router.post('/verify', rateLimit(rateLimits, 'verify page', verifyRateLimit), async (ctx) => {
    try {
      if (!ctx.is('multipart/form-data')) throw new AppError('unsupported_media_type', 'Send the form as multipart/form-data.');
      const form = await readMultipart(ctx, { maxFileBytes: maxDocumentBytes, maxFieldBytes: 100 });
      const file = form.files.get('document');
      const code = form.fields.get('code')?.trim();
      if (file && file.bytes.length > 0) {
        html(ctx, 200, renderResult(await verifyDocument(dataSource, file.bytes), false));
      } else if (code) {
        const parsed = documentCodeInput.safeParse(code);
        if (!parsed.success) throw new AppError('invalid_request', 'A document code looks like SGL-XXXX-XXXX-XXXX.');
        html(ctx, 200, renderResult(await verifyDocumentCode(dataSource, parsed.data), true));
      } else {
        throw new AppError('invalid_request', 'Choose a PDF file or type a document code.');
      }
    } catch (error) {
      if (!(error instanceof AppError)) throw error;
      html(ctx, error.status, `<p class="error" role="alert">${escapeHtml(error.message)}</p>`);
    }
  });
}
