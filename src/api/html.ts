/**
 * The small shared frame of the server-rendered pages (verify, sign-in): no scripts (the CSP forbids inline
 * ones and these pages need none), one inline stylesheet. Accessible by construction: a `lang`, a banner and
 * one `<main>` holding the page's `<h1>`, WCAG AA colours (text ≥ 4.5:1, borders and focus ≥ 3:1), a focus
 * ring on everything a keyboard reaches, and controls at least 44 CSS pixels tall for fingers.
 * Checked in a real browser by test/browser/sign-in-pages.test.ts (axe-core, keyboard, phone and desktop).
 */
export const escapeHtml = (text: string) =>
  text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

// Contrast on white: text #1f2328 16:1, muted #4b5563 7.6:1, accent #1d4ed8 6.7:1, error #b42318 6.6:1,
// success #05603a 7.6:1, input borders #6b7280 4.8:1.
const styles = `
  *, *::before, *::after { box-sizing: border-box; }
  html { color-scheme: light; -webkit-text-size-adjust: 100%; }
  body { margin: 0; font-family: system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; font-size: 1rem;
    line-height: 1.5; color: #1f2328; background: #fff; }
  header { border-bottom: 1px solid #d0d7de; padding: .75rem 0; }
  header p { margin: 0 auto; max-width: 32rem; padding: 0 1rem; font-weight: 700; letter-spacing: .02em; }
  main { display: block; max-width: 32rem; margin: 0 auto; padding: 1.5rem 1rem 3rem; }
  h1 { font-size: 1.75rem; line-height: 1.25; margin: 0 0 1rem; }
  h2 { font-size: 1.25rem; margin: 2rem 0 .5rem; }
  a { color: #1d4ed8; text-underline-offset: .15em; }
  a:hover { color: #1e3a8a; }
  label { display: block; font-weight: 600; margin: 1rem 0 .25rem; }
  .hint { color: #4b5563; margin: .25rem 0 0; font-size: .9375rem; }
  input { display: block; width: 100%; min-height: 2.75rem; font: inherit; color: inherit; background: #fff;
    padding: .5rem .75rem; border: 1px solid #6b7280; border-radius: .375rem; }
  input[type="file"] { padding: .45rem .5rem; }
  button { font: inherit; font-weight: 600; min-height: 2.75rem; padding: .5rem 1.25rem; color: #fff; background: #1d4ed8;
    border: 1px solid #1d4ed8; border-radius: .375rem; cursor: pointer; }
  button:hover { background: #1e40af; }
  form p { margin: 1.25rem 0 0; }
  a:focus-visible, input:focus-visible, button:focus-visible { outline: 3px solid #1d4ed8; outline-offset: 2px; }
  input:focus { border-color: #1d4ed8; }
  .error, .notice { border-left: 4px solid; padding: .5rem .75rem; margin: 0 0 1rem; }
  .error { color: #b42318; background: #fef3f2; } .notice { color: #05603a; background: #ecfdf3; }
  .verdict { font-size: 1.125rem; font-weight: 700; border-left: 4px solid; padding: .5rem .75rem; }
  .authentic { color: #05603a; background: #ecfdf3; } .modified { color: #b42318; background: #fef3f2; }
  .unknown { color: #1f2328; background: #f3f4f6; }
  dl { margin: 1rem 0; } dt { font-weight: 600; margin-top: .5rem; } dd { margin: 0; }
  code { word-break: break-all; font-size: .875rem; }
  footer { border-top: 1px solid #d0d7de; }
  .languages ul { display: flex; flex-wrap: wrap; gap: 0 1.5rem; list-style: none; margin: 0 auto; max-width: 32rem; padding: .25rem 1rem; }
  .languages a, .languages span { display: inline-block; min-height: 2.75rem; padding: .625rem 0; }
  .languages span { font-weight: 600; }
`;

// Inline, so no page asks for a /favicon.ico this server does not have (a 404 in every browser console).
const favicon = `data:image/svg+xml,${encodeURIComponent(
  '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16"><circle cx="8" cy="8" r="7" fill="#1d4ed8"/></svg>',
)}`;

/**
 * A translated message with some values set in markup (an address in `<strong>`): the message and its plain
 * values are escaped, the `markup` values are trusted HTML put where their `{{name}}` was.
 */
export function messageWithMarkup(translate: (values: Record<string, string>) => string, markup: Record<string, string>): string {
  const marker = (name: string) => `\u0001${name}\u0001`;
  const text = escapeHtml(translate(Object.fromEntries(Object.keys(markup).map((name) => [name, marker(name)]))));
  return Object.entries(markup).reduce((html, [name, value]) => html.split(marker(name)).join(value), text);
}

/**
 * A whole page: `title` is the `<h1>` and the document title; `body` is trusted HTML (escape what goes into it);
 * `footer` (trusted HTML, e.g. the language switch) comes after `<main>`, so the page's own controls stay first
 * in the Tab order.
 */
export function htmlPage(title: string, body: string, options: { lang?: string; footer?: string } = {}): string {
  return `<!doctype html>
<html lang="${escapeHtml(options.lang ?? 'en')}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)} - Sigill</title>
<link rel="icon" href="${favicon}">
<style>${styles}</style>
</head>
<body>
<header><p>Sigill</p></header>
<main>
<h1>${escapeHtml(title)}</h1>
${body}
</main>
${options.footer ? `<footer>${options.footer}</footer>\n` : ''}</body>
</html>
`;
}
