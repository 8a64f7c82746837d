import fs from 'node:fs';
import path from 'node:path';
import { PDFDocument } from 'pdf-lib';
import { pdflibAddPlaceholder } from '@signpdf/placeholder-pdf-lib';
import { SignPdf } from '@signpdf/signpdf';
import { SUBFILTER_ETSI_CADES_DETACHED, Signer } from '@signpdf/utils';
import { buildDetachedCades, type CadesSignerOptions } from '../../../src/documents/cades-signer';
import { Rfc3161Timestamper, TimestampError } from '../../../src/documents/timestamp-authority';
import { startLocalTsa, type LocalTsa } from '../../support/local-tsa';
import { loadOrCreateLocalSealKey, type SealKey } from '../../../src/documents/seal-key';
import { createTestPdf, temporaryDirectory } from '../../support/pdf-factories';
import { pdfsig, pyhankoValidate, runTool } from '../../support/pdf-validators';

/**
 * Our CMS through @signpdf's own placeholder pipeline, an independent way of placing it in a PDF. signpdf
 * also passes a signing time; it is ignored, since PAdES forbids the CMS signing-time attribute.
 */
class CadesDetachedSigner extends Signer {
  constructor(
    private readonly key: SealKey,
    private readonly options: CadesSignerOptions = {},
  ) {
    super();
  }

  override async sign(signedBytes: Buffer): Promise<Buffer> {
    return buildDetachedCades(signedBytes, this.key, this.options);
  }
}

const workspace = temporaryDirectory('cades');
let key: SealKey;
let tsa: LocalTsa;

beforeAll(async () => {
  key = await loadOrCreateLocalSealKey(path.join(workspace.dir, 'keys'), 'Sigill seal — Acme Oy');
  tsa = await startLocalTsa(path.join(workspace.dir, 'tsa'));
});
afterAll(async () => {
  await tsa.stop();
  workspace.remove();
});

async function signWith(signer: CadesDetachedSigner): Promise<string> {
  const document = await PDFDocument.load(await createTestPdf([{}]));
  pdflibAddPlaceholder({
    pdfDoc: document,
    reason: 'test',
    name: 'test',
    contactInfo: '',
    location: '',
    signatureLength: 32_768,
    subFilter: SUBFILTER_ETSI_CADES_DETACHED,
  });
  const signed = await new SignPdf().sign(Buffer.from(await document.save({ useObjectStreams: false })), signer);
  const file = path.join(workspace.dir, `signed-${Date.now()}-${Math.random()}.pdf`);
  fs.writeFileSync(file, signed);
  return file;
}

test('one signer instance signs any number of documents', async () => {
  // @signpdf's P12Signer fails on its second sign(); a seal signs many documents with one key.
  const signer = new CadesDetachedSigner(key);
  for (const file of [await signWith(signer), await signWith(signer)]) {
    expect(pdfsig(file).output).toContain('Signature Validation: Signature is Valid.');
  }
});

test('with a timestamp authority the seal is PAdES B-T: pyHanko finds a sound, trusted signature timestamp', async () => {
  const before = tsa.requests();
  const file = await signWith(new CadesDetachedSigner(key, { signatureTimestamper: new Rfc3161Timestamper(tsa.url) }));
  expect(tsa.requests()).toBe(before + 1);

  expect(pdfsig(file).output).toContain('Signature Validation: Signature is Valid.');
  const run = runTool('pyhanko', ['sign', 'validate', '--trust', path.join(workspace.dir, 'keys', 'seal-cert.pem'),
    '--trust', tsa.caFile, '--trust-replace', '--pretty-print', file]);
  expect(run.output).toContain('The signature is judged VALID.');
  expect(run.output).toContain('Signature timestamp token:');
  expect(run.output).toContain('The timestamp token is cryptographically sound.');
  expect(run.output).toContain('The TSA certificate is trusted.');
  // Without a timestamper the same validator finds no timestamp: B-B.
  const plain = await signWith(new CadesDetachedSigner(key));
  expect(pyhankoValidate(plain, path.join(workspace.dir, 'keys', 'seal-cert.pem')).output).not.toContain('timestamp token');
});

describe('the RFC 3161 client refuses answers that do not fit the request', () => {
  afterEach(() => {
    tsa.replayPreviousAnswer = false;
  });

  test('a replayed answer (another nonce and imprint) is refused', async () => {
    const timestamper = new Rfc3161Timestamper(tsa.url);
    await timestamper.timestampSignature(Buffer.from('first signature'));
    tsa.replayPreviousAnswer = true;
    await expect(timestamper.timestampSignature(Buffer.from('second signature'))).rejects.toThrow(TimestampError);
  });

  test('an HTTP error and an unreachable TSA are errors naming the host, not tokens', async () => {
    await expect(new Rfc3161Timestamper(tsa.url.replace('/tsa', '/elsewhere')).timestampSignature(Buffer.from('x'))).rejects.toThrow(
      /the timestamp authority at 127\.0\.0\.1:\d+ answered HTTP 404/,
    );
    const unreachable = new Rfc3161Timestamper('http://127.0.0.1:9/tsa?token=secret', 2_000);
    const failure = unreachable.timestampSignature(Buffer.from('x'));
    await expect(failure).rejects.toThrow('the timestamp authority at 127.0.0.1:9 did not answer');
    await expect(failure).rejects.not.toThrow('secret');
  });
});
