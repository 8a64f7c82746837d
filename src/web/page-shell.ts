/**
 * The HTML around our pages' scripts: language, title, the stylesheet and script built by assets.ts, and
 * the page's starting facts as a JSON data block (not executable, so the CSP's `script-src 'self'` holds).
 * Pages that need no script (an unknown or ended signing link) are rendered whole here.
 */
import { escapeHtml } from '../api/html';
import type { Locale } from '../i18n/locales';
import { webAssets, type PageName } from './assets';

/** JSON safe inside <script type="application/json">: no `</script>` or `<!--` can end the block early. */
const jsonForHtml = (value: unknown) => JSON.stringify(value).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');

export async function renderScriptPage(input: { page: PageName; locale: Locale; title: string; bootstrap: unknown; noscript: string }): Promise<string> {
  const assets = await webAssets();
  return document({
    locale: input.locale,
    title: input.title,
    stylesheet: assets.stylesheet,
    head: `<script type="module" src="${escapeHtml(assets.scriptOf(input.page))}"></script>`,
    body: `<div id="app"><main class="page"><p class="muted">${escapeHtml(input.noscript)}</p></main></div>
<script type="application/json" id="bootstrap">${jsonForHtml(input.bootstrap)}</script>`,
  });
}

/** A page with nothing to do but say something (headline and paragraphs), in the shared look. */
export async function renderMessagePage(input: { locale: Locale; title: string; heading: string; paragraphs: string[] }): Promise<string> {
  const assets = await webAssets();
  return document({
    locale: input.locale,
    title: input.title,
    stylesheet: assets.stylesheet,
    head: '',
    body: `<main class="page"><div class="card"><h1>${escapeHtml(input.heading)}</h1>
${input.paragraphs.map((text) => `<p>${escapeHtml(text)}</p>`).join('\n')}</div></main>`,
  });
}

function document(input: { locale: Locale; title: string; stylesheet: string; head: string; body: string }): string {
  return `<!doctype html>
<html lang="${input.locale}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<meta name="color-scheme" content="light">
<title>${escapeHtml(input.title)}</title>
<link rel="icon" href="/favicon.svg" type="image/svg+xml">
<link rel="stylesheet" href="${escapeHtml(input.stylesheet)}">
${input.head}
</head>
<body>
${input.body}
</body>
</html>
`;
}
