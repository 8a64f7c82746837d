/**
 * The plain signer page at PUBLIC_URL/s/<token>: PIN form, then the document, then sign (typed name and
 * consent) or decline (reason). It only calls the public signer API; the script is served from our own
 * origin so the Content-Security-Policy can forbid inline scripts. A richer UI replaces this later.
 */
import type Router from '@koa/router';

const page = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>Sign a document - Sigill</title>
<style>
  body { font-family: system-ui, sans-serif; max-width: 40rem; margin: 2rem auto; padding: 0 1rem; line-height: 1.5; }
  section[hidden] { display: none; }
  label { display: block; margin: .75rem 0 .25rem; }
  input, textarea, button { font: inherit; padding: .4rem .6rem; }
  .error { color: #a00; }
</style>
</head>
<body>
<h1>Sign a document</h1>
<section id="pin-step">
  <form id="pin-form">
    <label for="pin">Your 6-digit PIN</label>
    <input id="pin" name="pin" inputmode="numeric" autocomplete="one-time-code" pattern="[0-9]{6}" required>
    <button type="submit">Open</button>
  </form>
</section>
<section id="sign-step" hidden>
  <p><a id="download" href="#" download="document.pdf">Read the document (PDF)</a></p>
  <form id="sign-form">
    <label for="typed-name">Type your full name to sign</label>
    <input id="typed-name" required maxlength="200">
    <label><input id="consent" type="checkbox" required> I have read the document and agree to sign it electronically.</label>
    <button type="submit">Sign</button>
  </form>
  <form id="decline-form">
    <label for="reason">Or decline, with a reason</label>
    <textarea id="reason" required maxlength="1000"></textarea>
    <button type="submit">Decline</button>
  </form>
</section>
<section id="done-step" hidden><p id="done-message"></p></section>
<p id="error" class="error" role="alert"></p>
<script src="/assets/signer.js"></script>
</body>
</html>
`;

const script = `(() => {
  const token = location.pathname.split('/').pop();
  let session;
  const $ = (id) => document.getElementById(id);
  const show = (id) => { for (const s of document.querySelectorAll('section')) s.hidden = s.id !== id; };
  const fail = (body) => {
    const message = (body && body.error && body.error.message) || 'Something went wrong.';
    const left = body && typeof body.attemptsLeft === 'number' && body.attemptsLeft > 0 ? ' Attempts left: ' + body.attemptsLeft + '.' : '';
    $('error').textContent = message + left;
  };
  async function call(path, body) {
    const response = await fetch(path, {
      method: 'POST',
      headers: Object.assign({ 'content-type': 'application/json' }, session ? { authorization: 'Bearer ' + session } : {}),
      body: JSON.stringify(body),
    });
    const data = await response.json().catch(() => ({}));
    if (!response.ok) { fail(data); throw new Error(String(response.status)); }
    $('error').textContent = '';
    return data;
  }
  $('pin-form').addEventListener('submit', async (event) => {
    event.preventDefault();
    const result = await call('/v1/signer/session', { token, pin: $('pin').value });
    session = result.sessionToken;
    const pdf = await fetch('/v1/signer/document', { headers: { authorization: 'Bearer ' + session } });
    if (pdf.ok) $('download').href = URL.createObjectURL(await pdf.blob());
    show('sign-step');
  });
  $('sign-form').addEventListener('submit', async (event) => {
    event.preventDefault();
    const round = await call('/v1/signer/sign', { typedName: $('typed-name').value, consent: $('consent').checked });
    const everyoneSigned = round.signers.every((signer) => signer.status === 'signed');
    $('done-message').textContent = everyoneSigned
      ? 'Thank you. Everyone has signed; the sealed document will be emailed to you shortly.'
      : 'Thank you, your signature is recorded. You will be emailed when everyone has signed.';
    show('done-step');
  });
  $('decline-form').addEventListener('submit', async (event) => {
    event.preventDefault();
    await call('/v1/signer/decline', { reason: $('reason').value });
    $('done-message').textContent = 'You declined to sign. The sender has been told.';
    show('done-step');
  });
})();
`;

export function mountSignerPage(router: Router): void {
  router.get('/s/:token', (ctx) => {
    ctx.type = 'html';
    ctx.set('Cache-Control', 'no-store');
    ctx.body = page;
  });
  router.get('/assets/signer.js', (ctx) => {
    ctx.type = 'application/javascript';
    ctx.body = script;
  });
}
