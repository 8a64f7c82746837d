import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { PDFDocument } from 'pdf-lib';
import { inspectPdf } from '../../../src/documents/inspect-pdf';
import { sealDocument, type SealInput } from '../../../src/documents/seal-document';
import { loadOrCreateLocalSealKey, type SealKey } from '../../../src/documents/seal-key';
import { createTestPdf, sealInputFor, temporaryDirectory } from '../../support/pdf-factories';
import { pageText, pdfsig, pyhankoAdesVerify, pyhankoValidate, qpdfCheck, runTool } from '../../support/pdf-validators';

const workspace = temporaryDirectory('seal');
const keyDir = path.join(workspace.dir, 'keys');
const trustedCertificate = path.join(keyDir, 'seal-cert.pem');
let key: SealKey;

beforeAll(async () => {
  key = await loadOrCreateLocalSealKey(keyDir, 'Sigill seal — Acme Oy');
});
afterAll(() => workspace.remove());

let fileCounter = 0;
function writeTemporary(bytes: Uint8Array, name = 'sealed'): string {
  const file = path.join(workspace.dir, `${name}-${++fileCounter}.pdf`);
  fs.writeFileSync(file, bytes);
  return file;
}

async function seal(pdf: Uint8Array, overrides: Partial<SealInput> = {}): Promise<{ file: string; sealed: Uint8Array }> {
  const { sha256 } = await inspectPdf(pdf);
  const { pdf: sealed } = await sealDocument(sealInputFor(pdf, key, sha256, overrides));
  return { file: writeTemporary(sealed), sealed };
}

function expectPdfsigValid(file: string): void {
  const run = pdfsig(file);
  expect(run.output).toContain('Signature Validation: Signature is Valid.');
  expect(run.output).toContain('Total document signed');
}

/** The DER of the CMS in /Contents, without the zero padding after it. */
function extractCms(sealed: Uint8Array): Buffer {
  const text = Buffer.from(sealed).toString('latin1');
  const byteRange = /\/ByteRange \[(\d+) +(\d+) +(\d+) +(\d+) *\]/.exec(text);
  if (!byteRange) throw new Error('no /ByteRange in the sealed PDF');
  const contents = Buffer.from(text.slice(Number(byteRange[2]) + 1, Number(byteRange[3]) - 1), 'hex');
  const lengthBytes = contents[1]! & 0x80 ? contents[1]! & 0x7f : 0;
  const length = lengthBytes ? contents.readUIntBE(2, lengthBytes) : contents[1]!;
  return contents.subarray(0, 2 + lengthBytes + length);
}

describe('a sealed document', () => {
  let file: string;
  let sealed: Uint8Array;
  let original: Uint8Array;

  beforeAll(async () => {
    original = await createTestPdf([{}, { size: [841.89, 595.28] }, { rotation: 90 }]);
    ({ file, sealed } = await seal(original));
  });

  test('is valid and covers the whole file, for pdfsig', () => {
    const run = pdfsig(file);
    expect(run.output).toContain('Signature Validation: Signature is Valid.');
    expect(run.output).toContain('Total document signed');
    expect(run.output).toContain('Signature Type: ETSI.CAdES.detached');
    expect(run.output).toContain('Signer Certificate Common Name: Sigill seal — Acme Oy');
  });

  test('is intact, trusted and unmodified, for pyHanko', () => {
    const run = pyhankoValidate(file, trustedCertificate);
    expect(run.status).toBe(0);
    expect(run.output).toContain('The signature is cryptographically sound.');
    expect(run.output).toContain("The signer's certificate is trusted.");
    expect(run.output).toContain('The signature covers the entire file.');
    expect(run.output).toContain('The signature is judged VALID.');
  });

  test('passes AdES validation (ETSI EN 319 102-1) in pyHanko', () => {
    const run = pyhankoAdesVerify(file, trustedCertificate);
    expect(run.status).toBe(0);
    expect(run.output).toContain('The signature is judged VALID.');
  });

  test('is a well-formed PDF for qpdf', () => {
    const run = qpdfCheck(file);
    expect(run.status).toBe(0);
    expect(run.output).toContain('No syntax or stream encoding errors found');
  });

  test('has the original pages followed by the audit trail', async () => {
    expect((await PDFDocument.load(sealed)).getPageCount()).toBe(4);
  });

  test('shows the document code on every original page', () => {
    for (const page of [1, 2, 3]) {
      expect(pageText(file, page)).toContain(`Original page ${page}`);
      expect(pageText(file, page)).toContain('Sigill document SGL-7K3M-Q9XD-2PLA');
    }
  });

  test('names the signers, the original fingerprint and the title in the audit trail', async () => {
    const auditPage = pageText(file, 4);
    const { sha256 } = await inspectPdf(original);
    for (const expected of ['Audit trail', 'Consulting agreement', 'SGL-7K3M-Q9XD-2PLA', sha256, 'Aino Virtanen', 'aino@example.test', '203.0.113.7', 'Bob Builder', 'bob@example.test', '2025-03-04 09:15:00 UTC']) {
      expect(auditPage).toContain(expected);
    }
  });

  test('carries a PAdES B-B CMS: signing-certificate-v2 and no signing-time', () => {
    const cms = extractCms(sealed);
    const cmsFile = path.join(workspace.dir, 'seal.p7s');
    fs.writeFileSync(cmsFile, cms);
    const printed = runTool('openssl', ['cms', '-cmsout', '-print', '-inform', 'DER', '-in', cmsFile]);
    expect(printed.status).toBe(0);
    expect(printed.output).toContain('object: contentType (1.2.840.113549.1.9.3)');
    expect(printed.output).toContain('object: messageDigest (1.2.840.113549.1.9.4)');
    expect(printed.output).toContain('object: id-smime-aa-signingCertificateV2 (1.2.840.113549.1.9.16.2.47)');
    expect(printed.output).not.toMatch(/signingTime|1\.2\.840\.113549\.1\.9\.5\b/);
    expect(printed.output).toContain('eContent: <ABSENT>');
    // The ESSCertIDv2 names the seal certificate by its SHA-256 (as an OCTET STRING inside the CMS).
    const certificateHash = createHash('sha256').update(key.certificateChain[0]!).digest();
    expect(cms.includes(Buffer.concat([Buffer.from([0x04, 0x20]), certificateHash]))).toBe(true);
  });

  test('stops being valid when one signed byte changes', () => {
    const tampered = Buffer.from(sealed);
    const reason = tampered.indexOf('Sealed by Sigill');
    expect(reason).toBeGreaterThan(0);
    tampered[reason] = 'Z'.charCodeAt(0);
    const tamperedFile = writeTemporary(tampered, 'tampered');

    const run = pdfsig(tamperedFile);
    expect(run.output).not.toContain('Signature is Valid');
    expect(run.output).toContain('Signature Validation: Digest Mismatch.');
    expect(pyhankoValidate(tamperedFile, trustedCertificate).output).not.toContain('judged VALID');
  });
});

test('sealing the same input again (a retried activity) gives another valid seal', async () => {
  const original = await createTestPdf();
  const first = await seal(original);
  const second = await seal(original);
  expectPdfsigValid(first.file);
  expectPdfsigValid(second.file);
});

test('pages of any shape and rotation get the stamp', async () => {
  const original = await createTestPdf([
    { rotation: 90 },
    { rotation: 180 },
    { rotation: 270 },
    { rotation: -90 },
    { size: [144, 72], text: 'tiny' },
    { size: [2000, 400], rotation: 270 },
  ]);
  const withCropBox = await PDFDocument.load(original);
  withCropBox.addPage([600, 600]).setCropBox(100, 150, 300, 250);
  const { file } = await seal(await withCropBox.save());

  expectPdfsigValid(file);
  for (let page = 1; page <= 7; page++) {
    expect(pageText(file, page).replace(/\s+/g, ' ')).toContain('SGL-7K3M-Q9XD-2PLA');
  }
});

test('names with characters the standard fonts lack are replaced, not fatal', async () => {
  const original = await createTestPdf([{}]);
  const { file } = await seal(original, {
    title: 'Lease 🏠 — 賃貸契約',
    signers: [
      { name: 'Antonín Dvořák 🎻', email: 'antonin@example.test', channel: 'email', signedAt: '2025-03-04T09:00:00Z' },
      { name: '李小龍', email: 'lee@example.test', channel: 'sms', signedAt: 'not a date' },
      { name: 'Line\nbreak\tand\u0000control', email: 'x@example.test', channel: 'email', signedAt: '2025-03-04T09:00:00Z' },
      { name: 'Zoë Łukasiewicz', email: 'zoe@example.test', channel: 'email', userAgent: 'A'.repeat(5000), signedAt: '2025-03-04T09:00:00Z' },
    ],
    signerName: 'Sigill seal — 株式会社 (Tokyo) \\ test',
  });

  expectPdfsigValid(file);
  const auditPage = pageText(file, 2);
  expect(auditPage).toContain('Antonín Dvorák ?');
  expect(auditPage).toContain('???');
  expect(auditPage).toContain('Line break and control');
  expect(auditPage).toContain('Zoë ?ukasiewicz');
  expect(auditPage).toContain('not a date');
  expect(auditPage).toContain('…');
});

test('a long audit trail continues over several pages', async () => {
  const original = await createTestPdf([{}]);
  const signers = Array.from({ length: 30 }, (_, index) => ({
    name: `Signer number ${index + 1}`,
    email: `signer${index + 1}@example.test`,
    channel: 'email',
    ip: '198.51.100.23',
    signedAt: '2025-03-04T09:00:00Z',
  }));
  const events = Array.from({ length: 120 }, (_, index) => ({
    at: '2025-03-04T08:00:00Z',
    actor: 'system',
    action: `reminder ${index + 1} sent to a signer who has not signed yet, with a long explanation that has to wrap onto a second line`,
  }));
  const { file, sealed } = await seal(original, { signers, events });

  expectPdfsigValid(file);
  const pageCount = (await PDFDocument.load(sealed)).getPageCount();
  const auditPages = pageCount - 1;
  expect(auditPages).toBeGreaterThan(3);
  expect(pageText(file, 2)).toContain(`audit trail page 1 of ${auditPages}`);
  expect(pageText(file, pageCount)).toContain(`audit trail page ${auditPages} of ${auditPages}`);
  expect(pageText(file, pageCount)).toContain('reminder 120 sent');
  const allAuditText = Array.from({ length: auditPages }, (_, i) => pageText(file, i + 2)).join('\n');
  expect(allAuditText).toContain('Signer number 30');
});
