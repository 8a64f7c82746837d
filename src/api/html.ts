/** The small shared frame of the server-rendered pages (verify, sign-in): no scripts, inline styles only. */
export const escapeHtml = (text: string) =>
  text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

export function htmlPage(title: string, body: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)} - Sigill</title>
<style>
  body { font-family: system-ui, sans-serif; max-width: 40rem; margin: 2rem auto; padding: 0 1rem; line-height: 1.5; }
  label { display: block; margin: .75rem 0 .25rem; }
  input, button { font: inherit; padding: .4rem .6rem; }
  .error { color: #a00; } .notice { color: #060; }
  .verdict { font-size: 1.25rem; font-weight: bold; }
  .authentic { color: #060; } .modified { color: #a00; } .unknown { color: #555; }
  code { word-break: break-all; }
</style>
</head>
<body>
<h1>${escapeHtml(title)}</h1>
${body}
</body>
</html>
`;
}
