/**
 * What the signing page reports once it has drawn the document on screen, for tests that sign through the
 * API: a signature is refused until the document was displayed. The page count comes from the round, as
 * the page gets it from the PDF.
 */
import type { ApiCall } from './api-client';

export async function reportDocumentDisplayed(call: ApiCall, sessionToken: string, headers: Record<string, string> = {}): Promise<void> {
  const round = await call('/v1/signer/round', { key: sessionToken, headers });
  if (round.status !== 200) throw new Error(`reading the round as its signer answered ${round.status}`);
  const displayed = await call('/v1/signer/reading-events', {
    key: sessionToken,
    headers,
    body: { event: 'document_displayed', page: 1, pageCount: round.body.document.pageCount },
  });
  if (displayed.status !== 200) throw new Error(`reporting the document displayed answered ${displayed.status}: ${JSON.stringify(displayed.body)}`);
}
