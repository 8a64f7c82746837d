import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { PDFDocument, PDFName } from 'pdf-lib';
import { inspectPdf } from '../../../src/documents/inspect-pdf';
import { AppError } from '../../../src/errors';
import { createTestPdf, temporaryDirectory } from '../../support/pdf-factories';
import { runTool } from '../../support/pdf-validators';

async function errorOf(promise: Promise<unknown>): Promise<AppError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  if (!(error instanceof AppError)) throw new Error(`expected an AppError, got ${String(error)}`);
  return error;
}

test('counts the pages and fingerprints the bytes', async () => {
  const pdf = await createTestPdf([{}, {}, { size: [842, 595] }]);
  expect(await inspectPdf(pdf)).toEqual({
    pdf,
    pageCount: 3,
    signatureCount: 0,
    treatment: 'stamp',
    sha256: createHash('sha256').update(pdf).digest('hex'),
  });
});

test('skips bytes before the header as viewers do, and stores and fingerprints the file without them', async () => {
  const pdf = await createTestPdf([{}, {}]);
  const upload = Buffer.concat([Buffer.from('X-Scanner: 4.2\r\n\r\n', 'latin1'), pdf]);
  const facts = await inspectPdf(upload);
  expect(Buffer.from(facts.pdf).equals(Buffer.from(pdf))).toBe(true);
  expect(facts).toMatchObject({ repaired: 'leading_bytes', pageCount: 2, sha256: createHash('sha256').update(pdf).digest('hex') });
  // Further in than a kilobyte, it is not a PDF a viewer would open.
  const buried = Buffer.concat([randomBytes(2000), pdf]);
  expect((await errorOf(inspectPdf(buried))).code).toBe('invalid_document');
});

/** A PDF whose catalog certifies it (a /Perms /DocMDP signature dictionary) at `level`, or with no /P at all. */
async function certifiedPdf(level: number | undefined): Promise<Uint8Array> {
  const document = await PDFDocument.load(await createTestPdf());
  const { context } = document;
  const params = context.obj({ Type: 'TransformParams', V: '1.2', ...(level === undefined ? {} : { P: level }) });
  const reference = context.obj({ Type: 'SigRef', TransformMethod: 'DocMDP', TransformParams: params });
  const signature = context.register(context.obj({ Type: 'Sig', Filter: 'Adobe.PPKLite', SubFilter: 'ETSI.CAdES.detached', Reference: [reference] }));
  document.catalog.set(PDFName.of('Perms'), context.obj({ DocMDP: signature }));
  return document.save({ useObjectStreams: false });
}

test('a PDF certified with no changes permitted (DocMDP P=1) is refused with its own code', async () => {
  const error = await errorOf(inspectPdf(await certifiedPdf(1)));
  expect(error).toMatchObject({ code: 'document_certified_no_changes', status: 422 });
  expect(error.message).toMatch(/certified with no changes permitted/);
});

test.each([[2], [3], [undefined]])('a PDF certified at level %p (signatures permitted) is accepted', async (level) => {
  expect((await inspectPdf(await certifiedPdf(level))).pageCount).toBe(2);
});

test.each([
  ['random bytes', () => randomBytes(2048)],
  ['an empty file', () => new Uint8Array()],
  ['a PNG signature', () => Buffer.from('\x89PNG\r\n\x1a\n', 'latin1')],
])('%s: not a PDF', async (_, bytes) => {
  const error = await errorOf(inspectPdf(bytes()));
  expect(error.code).toBe('invalid_document');
  expect(error.message).toBe('The document is not a PDF.');
  expect(error.status).toBe(422);
});

test('a PDF header followed by garbage is malformed', async () => {
  const bytes = Buffer.concat([Buffer.from('%PDF-1.7\n'), randomBytes(4096)]);
  const error = await errorOf(inspectPdf(bytes));
  expect(error.code).toBe('invalid_document');
});

test('a PDF cut off after its header is malformed', async () => {
  const pdf = await createTestPdf();
  const error = await errorOf(inspectPdf(pdf.subarray(0, 40)));
  expect(error.code).toBe('invalid_document');
  expect(error.message).toMatch(/malformed|no pages/);
});

test('a PDF without pages is refused', async () => {
  // pdf-lib adds a blank page on save unless told not to.
  const empty = await (await PDFDocument.create()).save({ addDefaultPage: false });
  const error = await errorOf(inspectPdf(empty));
  expect(error).toMatchObject({ code: 'invalid_document', message: 'The PDF has no pages.' });
});

test('a PDF that needs a password to open is refused with its own code', async () => {
  const { dir, remove } = temporaryDirectory('inspect');
  try {
    const plain = path.join(dir, 'plain.pdf');
    const encrypted = path.join(dir, 'encrypted.pdf');
    fs.writeFileSync(plain, await createTestPdf());
    const run = runTool('qpdf', ['--encrypt', 'user', 'owner', '256', '--', plain, encrypted]);
    expect(run.status).toBe(0);

    const error = await errorOf(inspectPdf(fs.readFileSync(encrypted)));
    expect(error).toMatchObject({
      code: 'encrypted_document',
      message: 'The PDF needs a password to open; upload a copy that opens without one.',
      status: 422,
    });
  } finally {
    remove();
  }
});

test('a PDF encrypted with only an owner password (opens without asking) is accepted as it is', async () => {
  const { dir, remove } = temporaryDirectory('inspect');
  try {
    const plain = path.join(dir, 'plain.pdf');
    const encrypted = path.join(dir, 'encrypted.pdf');
    fs.writeFileSync(plain, await createTestPdf());
    expect(runTool('qpdf', ['--encrypt', '', 'owner', '256', '--', plain, encrypted]).status).toBe(0);
    const upload = fs.readFileSync(encrypted);
    const facts = await inspectPdf(upload);
    expect(facts).toMatchObject({ pageCount: 2, treatment: 'stamp', signatureCount: 0 });
    expect(Buffer.from(facts.pdf).equals(upload)).toBe(true);
  } finally {
    remove();
  }
});
