/**
 * The seal only appends: documents signed, certified, linearized or encrypted elsewhere come back with
 * their own signatures still valid and their bytes as the sealed file's prefix. The inputs are signed by
 * pyHanko and transformed by qpdf (independent tools), never by the code under test.
 */
import fs from 'node:fs';
import path from 'node:path';
import { PDFDocument } from 'pdf-lib';
import { inspectPdf } from '../../../src/documents/inspect-pdf';
import { sealDocument, type SealedDocument } from '../../../src/documents/seal-document';
import { loadOrCreateLocalSealKey, type SealKey } from '../../../src/documents/seal-key';
import { createTestPdf, sealInputFor, temporaryDirectory } from '../../support/pdf-factories';
import { pageCount, pdfsig, pyhankoValidate, qpdfCheck, runTool } from '../../support/pdf-validators';

const workspace = temporaryDirectory('seal-append');
const inWorkspace = (name: string) => path.join(workspace.dir, name);
const sealCertificate = path.join(workspace.dir, 'keys', 'seal-cert.pem');
let key: SealKey;

beforeAll(async () => {
  key = await loadOrCreateLocalSealKey(path.join(workspace.dir, 'keys'), 'Sigill seal — Acme Oy');
  // A counterparty's own signing key, used through pyHanko.
  const made = runTool('openssl', [
    'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '30', '-subj', '/CN=Counterparty Oy',
    '-keyout', inWorkspace('counterparty-key.pem'), '-out', inWorkspace('counterparty-cert.pem'),
  ]);
  expect(made.status).toBe(0);
});
afterAll(() => workspace.remove());

let counter = 0;
function write(bytes: Uint8Array, name: string): string {
  const file = inWorkspace(`${name}-${++counter}.pdf`);
  fs.writeFileSync(file, bytes);
  return file;
}

/** Signs `file` with pyHanko as a counterparty would (optionally as a certification, DocMDP P=2). */
function signElsewhere(file: string, options: { certify?: boolean; field?: string } = {}): Uint8Array {
  const out = inWorkspace(`counterparty-signed-${++counter}.pdf`);
  const run = runTool('pyhanko', [
    'sign', 'addsig', '--field', options.field ?? 'Counterparty', ...(options.certify ? ['--certify'] : []),
    'pemder', '--no-pass', '--key', inWorkspace('counterparty-key.pem'), '--cert', inWorkspace('counterparty-cert.pem'), file, out,
  ]);
  if (run.status !== 0) throw new Error(`pyhanko could not sign: ${run.output}`);
  return fs.readFileSync(out);
}

function qpdf(args: string[], input: Uint8Array, name: string): Uint8Array {
  const source = write(input, `${name}-in`);
  const out = inWorkspace(`${name}-out-${++counter}.pdf`);
  const run = runTool('qpdf', [...args, source, out]);
  // qpdf exits 3 for warnings it recovered from.
  if (run.status !== 0 && run.status !== 3) throw new Error(`qpdf failed: ${run.output}`);
  return fs.readFileSync(out);
}

async function seal(original: Uint8Array): Promise<SealedDocument & { file: string }> {
  const facts = await inspectPdf(original);
  expect(Buffer.from(facts.pdf).equals(Buffer.from(original))).toBe(true);
  const sealed = await sealDocument(sealInputFor(facts.pdf, key, facts.sha256));
  return { ...sealed, file: write(sealed.pdf, 'sealed') };
}

function expectPrefix(original: Uint8Array, sealed: Uint8Array): void {
  expect(sealed.byteLength).toBeGreaterThan(original.byteLength);
  expect(Buffer.from(sealed.subarray(0, original.byteLength)).equals(Buffer.from(original))).toBe(true);
}

/** pdfsig's verdict per signature, in file order. */
function signatureVerdicts(file: string): { field: string; valid: boolean; wholeFile: boolean }[] {
  return pdfsig(file)
    .output.split(/Signature #\d+:/)
    .slice(1)
    .map((block) => ({
      field: /Signature Field Name: (.*)/.exec(block)?.[1]?.trim() ?? '',
      valid: block.includes('Signature Validation: Signature is Valid.'),
      wholeFile: block.includes('Total document signed'),
    }));
}

test('a PDF signed elsewhere keeps its signature, and the sealed file begins with it byte for byte', async () => {
  const original = signElsewhere(write(await createTestPdf([{}, {}]), 'plain'));
  expect(signatureVerdicts(write(original, 'signed'))).toEqual([{ field: 'Counterparty', valid: true, wholeFile: true }]);

  const sealed = await seal(original);

  // Signature only: page content added after a signature would read as a change to what was signed.
  expect(sealed.treatment).toBe('signature_only');
  expectPrefix(original, sealed.pdf);
  expect(signatureVerdicts(sealed.file)).toEqual([
    { field: 'Counterparty', valid: true, wholeFile: false },
    { field: 'Sigill seal', valid: true, wholeFile: true },
  ]);
  expect(pageCount(sealed.file)).toBe(2);
  expect(sealed.evidencePdf).toBeDefined();
  // pyHanko's modification analysis: the counterparty's signature is still judged VALID, not "modified".
  const counterparty = pyhankoValidate(sealed.file, inWorkspace('counterparty-cert.pem')).output;
  expect(counterparty).toMatch(/Field 1: Counterparty[\s\S]*The signature is judged VALID/);
  expect(counterparty).not.toMatch(/incompatible/);
  expect(pyhankoValidate(sealed.file, sealCertificate).output).toMatch(/Field 2: Sigill seal[\s\S]*The signature is judged VALID/);
  expect(qpdfCheck(sealed.file).status).toBe(0);
});

test('a linearized, signed PDF is appended to as well (never rewritten)', async () => {
  const linearized = qpdf(['--linearize'], await createTestPdf([{}, {}, {}]), 'linearize');
  expect(runTool('qpdf', ['--check-linearization', write(linearized, 'linearized')]).output).toContain('no linearization errors');
  const original = signElsewhere(write(linearized, 'linearized'));

  const sealed = await seal(original);

  expectPrefix(original, sealed.pdf);
  expect(signatureVerdicts(sealed.file).map((verdict) => verdict.valid)).toEqual([true, true]);
});

test('a PDF signed twice elsewhere keeps both signatures', async () => {
  const once = signElsewhere(write(await createTestPdf([{}]), 'plain'), { field: 'First' });
  const original = signElsewhere(write(once, 'once'), { field: 'Second' });

  const sealed = await seal(original);

  expectPrefix(original, sealed.pdf);
  expect(signatureVerdicts(sealed.file)).toEqual([
    { field: 'First', valid: true, wholeFile: false },
    { field: 'Second', valid: true, wholeFile: false },
    { field: 'Sigill seal', valid: true, wholeFile: true },
  ]);
});

test('a PDF certified to permit signatures only (DocMDP P=2) gets the signature alone, and its audit trail as a sealed file of its own', async () => {
  const original = signElsewhere(write(await createTestPdf([{}, {}]), 'plain'), { certify: true });
  expect((await inspectPdf(original)).treatment).toBe('signature_only');

  const sealed = await seal(original);

  expect(sealed.treatment).toBe('signature_only');
  expectPrefix(original, sealed.pdf);
  expect(pageCount(sealed.file)).toBe(2); // no page added
  expect(signatureVerdicts(sealed.file)).toEqual([
    { field: 'Counterparty', valid: true, wholeFile: false },
    { field: 'Sigill seal', valid: true, wholeFile: true },
  ]);
  // pyHanko's DocMDP check: what the seal added is what a P=2 certification permits.
  const certification = pyhankoValidate(sealed.file, inWorkspace('counterparty-cert.pem')).output;
  expect(certification).toMatch(/Field 1: Counterparty[\s\S]*The signature is judged VALID/);
  expect(certification).not.toMatch(/illegitimate|not permitted/i);

  const evidenceFile = write(sealed.evidencePdf!, 'evidence');
  expect(signatureVerdicts(evidenceFile)).toEqual([{ field: 'Sigill seal', valid: true, wholeFile: true }]);
  const evidenceText = runTool('pdftotext', [evidenceFile, '-']).output;
  expect(evidenceText).toContain('SGL-7K3M-Q9XD-2PLA');
  expect(evidenceText).toContain('Sealed separately');
});

test('a PDF encrypted with an owner password only is sealed, encrypted as it was', async () => {
  const original = qpdf(['--encrypt', '', 'owner-secret', '256', '--'], await createTestPdf([{}, {}]), 'encrypt');

  const sealed = await seal(original);

  expect(sealed.treatment).toBe('stamp');
  expectPrefix(original, sealed.pdf);
  expect(signatureVerdicts(sealed.file)).toEqual([{ field: 'Sigill seal', valid: true, wholeFile: true }]);
  expect(runTool('qpdf', ['--show-encryption', sealed.file]).output).toContain('R = 6');
  expect(qpdfCheck(sealed.file).status).toBe(0);
  expect(runTool('pdftotext', ['-f', '1', '-l', '1', sealed.file, '-']).output).toContain('SGL-7K3M-Q9XD-2PLA');
});

test("an owner password's permissions decide: no changes but annotations → signature only; not even annotations → refused", async () => {
  const plain = await createTestPdf([{}]);
  const annotateOnly = qpdf(['--encrypt', '', 'owner-secret', '256', '--modify=none', '--annotate=y', '--'], plain, 'annotate-only');
  const sealed = await seal(annotateOnly);
  expect(sealed.treatment).toBe('signature_only');
  expectPrefix(annotateOnly, sealed.pdf);
  expect(signatureVerdicts(sealed.file)).toEqual([{ field: 'Sigill seal', valid: true, wholeFile: true }]);

  const locked = qpdf(['--encrypt', '', 'owner-secret', '256', '--modify=none', '--annotate=n', '--form=n', '--'], plain, 'locked');
  await expect(inspectPdf(locked)).rejects.toMatchObject({ code: 'document_permissions_forbid_seal', status: 422 });
});

test('a damaged cross-reference is rebuilt once, before the round, for an unsigned PDF', async () => {
  // A classic cross-reference table (pdf-lib writes a stream unless told not to).
  const intact = Buffer.from(await (await PDFDocument.load(await createTestPdf([{}, {}]))).save({ useObjectStreams: false }));
  // Every xref offset shifted: readers must rebuild the table by scanning, as pdf.js and qpdf do.
  const damaged = Buffer.from(intact.toString('latin1').replace(/(\d{10}) (\d{5}) n/g, (_, offset: string, generation: string) => `${String(Number(offset) + 7).padStart(10, '0')} ${generation} n`), 'latin1');
  expect(qpdfCheck(write(damaged, 'damaged')).status).not.toBe(0);

  const facts = await inspectPdf(damaged);
  expect(facts.repaired).toBe('structure');
  expect(facts.pageCount).toBe(2);
  expect(qpdfCheck(write(facts.pdf, 'repaired')).status).toBe(0);
  const sealed = await sealDocument(sealInputFor(facts.pdf, key, facts.sha256));
  expectPrefix(facts.pdf, sealed.pdf);
  expect(signatureVerdicts(write(sealed.pdf, 'sealed-repaired'))).toEqual([{ field: 'Sigill seal', valid: true, wholeFile: true }]);
});
