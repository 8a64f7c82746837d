/**
 * The plain verification page at PUBLIC_URL/verify, the address printed on every sealed page: upload a PDF
 * (or type its code) and read the verdict. A classic form post rendered on the server, so it works without
 * JavaScript and the Content-Security-Policy needs no exception. The JSON API is /v1/verify.
 *
 * The page speaks the reader's language (src/api/page-language.ts) from the `verify` catalog; refusals are told
 * by their stable error codes, and times are written in the reader's conventions, in UTC (named as such) unless
 * the result carries the organisation's time zone.
 */
import type Router from '@koa/router';
import type { Context, Middleware } from 'koa';
import type { DataSource } from 'typeorm';
import { AppError } from '../errors';
import { formatDateTime, translator, type Locale, type Translate } from '../i18n';
import { documentCodeInput, verifyDocument, verifyDocumentCode, type VerificationResult } from '../signing/verify-document';
import { escapeHtml, htmlPage } from './html';
import { readMultipart } from './multipart';
import { languageSwitch, pageLocale } from './page-language';
import type { RateLimitStore } from '../database/rate-limit-store';
import { rateLimit } from './rate-limit';
import { verifyRateLimit } from './routes/verify';

/** A message of the `verify` catalog, escaped for HTML. */
const say = (t: Translate, key: string, values?: Record<string, unknown>) => escapeHtml(t(`verify:${key}`, values));

function layout(locale: Locale, body: string): string {
  const t = translator(locale);
  const intro = body ? '' : `<p>${say(t, 'intro')}</p>`;
  return htmlPage(
    t('verify:title'),
    `${intro}${body}
${body ? `<h2>${say(t, 'again')}</h2>` : ''}
<form method="post" action="/verify" enctype="multipart/form-data">
  <label for="document">${say(t, 'file')}</label>
  <input id="document" name="document" type="file" accept="application/pdf">
  <label for="code">${say(t, 'code')}</label>
  <input id="code" name="code" maxlength="20" autocomplete="off" spellcheck="false" aria-describedby="code-hint">
  <p class="hint" id="code-hint">${say(t, 'codeHint')}</p>
  <p><button type="submit">${say(t, 'submit')}</button></p>
</form>`,
    { lang: locale, footer: languageSwitch(locale, '/verify') },
  );
}

function renderResult(locale: Locale, result: VerificationResult, byCode: boolean): string {
  const t = translator(locale);
  // Verification is public and names no organisation: its zone only when the result carries it.
  const timeZone = (result as VerificationResult & { timeZone?: string }).timeZone ?? 'UTC';
  const time = (value: string) => formatDateTime(value, locale, timeZone);
  const evidence = result.file === 'evidence';
  const text = byCode ? t('verify:verdict.byCode') : evidence ? t('verify:verdict.authenticEvidence') : t(`verify:verdict.${result.verdict}`);
  const rows: string[] = [];
  if (result.documentCode) rows.push(`<dt>${say(t, 'facts.documentCode')}</dt><dd>${escapeHtml(result.documentCode)}</dd>`);
  if (result.sealedAt) rows.push(`<dt>${say(t, 'facts.sealed')}</dt><dd>${escapeHtml(time(result.sealedAt))}</dd>`);
  if (result.sha256) rows.push(`<dt>${say(t, 'facts.sealedSha256')}</dt><dd><code>${escapeHtml(result.sha256)}</code></dd>`);
  if (result.uploadedSha256) rows.push(`<dt>${say(t, 'facts.uploadedSha256')}</dt><dd><code>${escapeHtml(result.uploadedSha256)}</code></dd>`);
  if (evidence) rows.push(`<dt>${say(t, 'facts.file')}</dt><dd>${say(t, 'facts.fileEvidence')}</dd>`);
  if (result.original) {
    // The hash in <code>, which wraps anywhere: a 64-character word would push a phone's page sideways.
    const bytes = new Intl.NumberFormat(locale).format(result.original.byteLength);
    const where = say(t, result.original.isPrefix ? 'facts.originalChecked' : 'facts.originalValue', { bytes });
    rows.push(`<dt>${say(t, 'facts.original')}</dt><dd>${where}<br>SHA-256 <code>${escapeHtml(result.original.sha256)}</code></dd>`);
  }
  if (result.replacedByRenewal) rows.push(`<dt>${say(t, 'facts.replaced')}</dt><dd>${say(t, 'facts.replacedValue')}</dd>`);
  if (result.deleted) {
    rows.push(
      `<dt>${say(t, 'facts.deleted')}</dt><dd>${say(t, 'facts.deletedValue', { time: time(result.deleted.at), rule: result.deleted.rule })}</dd>`,
    );
  }
  for (const signer of result.signers) {
    const who = signer.signedAt ? t('verify:facts.signedAt', { name: signer.name, time: time(signer.signedAt) }) : signer.name;
    rows.push(`<dt>${say(t, 'facts.signedBy')}</dt><dd>${escapeHtml(who)}</dd>`);
  }
  return `<p class="verdict ${byCode ? 'authentic' : result.verdict}" role="status">${escapeHtml(text)}</p>${rows.length ? `<dl>${rows.join('')}</dl>` : ''}`;
}

/** What the page tells a person for a refusal, by its stable code (the JSON API keeps its English messages). */
function refusalText(t: Translate, error: AppError, maxDocumentBytes: number): string {
  const retryAfter = error.topLevel?.retryAfterSeconds;
  switch (error.code) {
    case 'invalid_document':
      return t('verify:errors.notPdf');
    case 'encrypted_document':
      return t('verify:errors.encrypted');
    case 'not_found':
      return t('verify:errors.noSuchCode');
    case 'payload_too_large':
      return t('verify:errors.tooLarge', { megabytes: Math.round(maxDocumentBytes / 1024 / 1024) });
    case 'invalid_request':
    case 'unsupported_media_type':
      return t('verify:errors.unreadable');
    case 'rate_limited':
      return t('verify:errors.rateLimited', { count: typeof retryAfter === 'number' ? Math.max(1, Math.ceil(retryAfter / 60)) : 1 });
    default:
      return t('verify:errors.generic');
  }
}

export function mountVerifyPage(router: Router, dataSource: DataSource, maxDocumentBytes: number, rateLimits: RateLimitStore): void {
  const html = (ctx: Context, status: number, body: string) => {
    const locale = pageLocale(ctx);
    ctx.status = status;
    ctx.type = 'text/html; charset=utf-8';
    ctx.set('Content-Language', locale);
    ctx.vary('Accept-Language');
    ctx.vary('Cookie');
    ctx.body = layout(locale, body);
  };
  const alert = (text: string) => `<p class="error" role="alert">${escapeHtml(text)}</p>`;
  /** Every refusal, the rate limit's included, as this page in the reader's language rather than JSON. */
  const refusalsAsPage: Middleware = async (ctx, next) => {
    try {
      await next();
    } catch (error) {
      if (!(error instanceof AppError)) throw error;
      const retryAfter = error.topLevel?.retryAfterSeconds;
      if (typeof retryAfter === 'number') ctx.set('Retry-After', String(retryAfter));
      html(ctx, error.status, alert(refusalText(translator(pageLocale(ctx)), error, maxDocumentBytes)));
    }
  };
  router.get('/verify', (ctx) => html(ctx, 200, ''));
  router.post('/verify', refusalsAsPage, rateLimit(rateLimits, 'verify page', verifyRateLimit), async (ctx) => {
    const locale = pageLocale(ctx);
    const t = translator(locale);
    if (!ctx.is('multipart/form-data')) throw new AppError('unsupported_media_type', 'Send the form as multipart/form-data.');
    const form = await readMultipart(ctx, { maxFileBytes: maxDocumentBytes, maxFieldBytes: 100 });
    const file = form.files.get('document');
    const code = form.fields.get('code')?.trim();
    if (file && file.bytes.length > 0) {
      html(ctx, 200, renderResult(locale, await verifyDocument(dataSource, file.bytes), false));
    } else if (code) {
      const parsed = documentCodeInput.safeParse(code);
      if (!parsed.success) return html(ctx, 400, alert(t('verify:errors.malformedCode')));
      html(ctx, 200, renderResult(locale, await verifyDocumentCode(dataSource, parsed.data), true));
    } else {
      html(ctx, 400, alert(t('verify:errors.nothingChosen')));
    }
  });
}
