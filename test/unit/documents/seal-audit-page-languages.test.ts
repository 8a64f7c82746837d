/**
 * The sealed audit page in the organisation's language and time zone (issue 10 §5): labels that say what
 * happened, local time with UTC beside it, Nordic letters as they are, and characters the standard PDF
 * fonts cannot encode (emoji, CJK) replaced rather than crashing the seal.
 */
import fs from 'node:fs';
import path from 'node:path';
import { inspectPdf } from '../../../src/documents/inspect-pdf';
import { sealDocument, type AuditEvent } from '../../../src/documents/seal-document';
import { catalogs } from '../../../src/i18n/catalogs';
import type { AuditEventType } from '../../../src/signing/audit-trail';
import { loadOrCreateLocalSealKey, type SealKey } from '../../../src/documents/seal-key';
import { createTestPdf, sealInputFor, temporaryDirectory } from '../../support/pdf-factories';
import { pageText, pdfsig } from '../../support/pdf-validators';

const workspace = temporaryDirectory('seal-languages');
let key: SealKey;

beforeAll(async () => {
  key = await loadOrCreateLocalSealKey(path.join(workspace.dir, 'keys'), 'Sigill seal — Åbo Bokföring Ab');
});
afterAll(() => workspace.remove());

// Checked by tsc: every audit event type has a label (the catalog test then requires it in sv and fi).
const labels: Record<AuditEventType, string> = catalogs.en.audit.event;

const events: AuditEvent[] = [
  { at: '2026-07-01T10:00:00Z', type: 'link_opened', actor: 'signer', actorName: 'Åsa Öberg 😀', channel: 'link', ip: '192.0.2.1' },
  { at: '2026-07-01T10:00:05Z', type: 'opened', actor: 'signer', actorName: 'Åsa Öberg 😀', channel: 'link' },
  { at: '2026-07-01T10:00:09Z', type: 'viewed', actor: 'signer', actorName: 'Åsa Öberg 😀' },
  { at: '2026-07-01T10:01:00Z', type: 'last_page_reached', actor: 'signer', actorName: 'Åsa Öberg 😀' },
  { at: '2026-07-01T10:02:00Z', type: 'signed', actor: 'signer', actorName: 'Åsa Öberg 😀' },
  // A co-signer's data-subject request (GDPR Art. 16/18/21): kept in the API trail, never printed for the other signers.
  { at: '2026-07-01T10:01:10Z', type: 'contact_rectified', actor: 'user:member', actorName: 'Bo Berg' },
  { at: '2026-07-01T10:01:20Z', type: 'contact_restricted', actor: 'user:member', actorName: 'Bo Berg' },
  { at: '2026-07-01T10:01:30Z', type: 'reminder_skipped', actor: 'system', actorName: 'Bo Berg' },
  { at: '2026-07-01T10:02:01Z', type: 'sealed', actor: 'system' },
];

async function auditPageOf(locale: 'en' | 'sv' | 'fi', timeZone: string): Promise<string> {
  const original = await createTestPdf([{}]);
  const { sha256 } = await inspectPdf(original);
  const signers = [{ name: 'Åsa Öberg 😀 张伟', email: 'asa@example.test', channel: 'sms', signedAt: '2026-07-01T10:02:00Z' }];
  const { pdf: sealed } = await sealDocument(sealInputFor(original, key, sha256, { title: 'Hyresavtal för Söderåsen 🏠', signers, events, locale, timeZone }));
  const file = path.join(workspace.dir, `${locale}.pdf`);
  fs.writeFileSync(file, sealed);
  expect(pdfsig(file).output).toContain('Signature Validation: Signature is Valid.');
  return pageText(file, 2).replace(/\s+/g, ' ');
}

test('in Swedish, Stockholm time with UTC beside it, each event labelled with what happened', async () => {
  const page = await auditPageOf('sv', 'Europe/Stockholm');
  for (const expected of [
    'Händelselogg',
    'Hyresavtal för Söderåsen ?',
    'Åsa Öberg ? ??',
    'länk via e-post + PIN-kod via sms',
    'Åsa Öberg ? — Länken öppnad (via signeringslänk), IP 192.0.2.1',
    'Åsa Öberg ? — PIN-koden godkänd',
    'Åsa Öberg ? — Dokumentet visat',
    'Åsa Öberg ? — Sista sidan nådd',
    'Åsa Öberg ? — Signerat',
    'Sigill — Dokumentet förseglat',
    '12:02 CEST (2026-07-01 10:02:00 UTC)',
  ]) {
    expect(page).toContain(expected);
  }
  const order = ['Länken öppnad', 'PIN-koden godkänd', 'Dokumentet visat', 'Sista sidan nådd', 'Signerat'].map((label) => page.indexOf(`— ${label}`));
  expect(order).toEqual([...order].sort((a, b) => a - b));
});

test('in Finnish, Helsinki time', async () => {
  const page = await auditPageOf('fi', 'Europe/Helsinki');
  for (const expected of ['Tapahtumaloki', 'Allekirjoittaja (1)', 'PIN-koodi hyväksytty', 'Asiakirja näytetty', 'Viimeinen sivu saavutettu', '13.02', '(2026-07-01 10:02:00 UTC)']) {
    expect(page).toContain(expected);
  }
});

test('in English, in UTC: the labels the issue names, one time per line', async () => {
  const page = await auditPageOf('en', 'UTC');
  for (const expected of ['Link opened', 'PIN accepted', 'Document displayed', 'Last page reached', 'Signed', '2026-07-01 10:02:00 UTC']) {
    expect(page).toContain(expected);
  }
  expect(page).not.toContain('(2026-07-01');
});

test("a signer's privacy request is not printed for the other signers", async () => {
  for (const [locale, timeZone] of [['en', 'UTC'], ['sv', 'Europe/Stockholm']] as const) {
    const page = await auditPageOf(locale, timeZone);
    expect(page).toContain('Åsa Öberg ?');
    expect(page).not.toContain('Bo Berg');
    for (const type of ['contact_rectified', 'contact_restricted', 'reminder_skipped'] as const) {
      expect(page).not.toContain(catalogs[locale].audit.event[type]);
    }
  }
});

test('every audit event type is labelled, and no label is the raw type name', () => {
  for (const [type, label] of Object.entries(labels)) expect({ type, label: label === type }).toEqual({ type, label: false });
});
