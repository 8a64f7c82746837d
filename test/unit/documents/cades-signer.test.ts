import fs from 'node:fs';
import path from 'node:path';
import { PDFDocument } from 'pdf-lib';
import { pdflibAddPlaceholder } from '@signpdf/placeholder-pdf-lib';
import { SignPdf } from '@signpdf/signpdf';
import { SUBFILTER_ETSI_CADES_DETACHED } from '@signpdf/utils';
import { CadesDetachedSigner, type SignatureTimestamper } from '../../../src/documents/cades-signer';
import { loadOrCreateLocalSealKey, type SealKey } from '../../../src/documents/seal-key';
import { createTestPdf, temporaryDirectory } from '../../support/pdf-factories';
import { pdfsig, pyhankoValidate, runTool } from '../../support/pdf-validators';

const workspace = temporaryDirectory('cades');
const tsaDir = path.join(workspace.dir, 'tsa');
const inTsaDir = (name: string) => path.join(tsaDir, name);
let key: SealKey;

function openssl(...args: string[]): void {
  const run = runTool('openssl', args);
  if (run.status !== 0) throw new Error(`openssl ${args.slice(0, 2).join(' ')} failed: ${run.output}`);
}

/** A real RFC 3161 time-stamping authority: `openssl ts` with its own small CA. */
function startLocalTsa(): void {
  fs.mkdirSync(tsaDir, { recursive: true });
  fs.writeFileSync(inTsaDir('serial'), '01\n');
  fs.writeFileSync(
    inTsaDir('tsa.cnf'),
    [
      '[ tsa ]',
      'default_tsa = tsa_config',
      '[ tsa_config ]',
      `serial = ${inTsaDir('serial')}`,
      'crypto_device = builtin',
      'signer_digest = sha256',
      'default_policy = 1.2.3.4.1',
      'other_policies = 1.2.3.4.2',
      'digests = sha256',
      'accuracy = secs:1',
      'ordering = no',
      'tsa_name = no',
      'ess_cert_id_chain = no',
      'ess_cert_id_alg = sha256',
      '',
    ].join('\n'),
  );
  fs.writeFileSync(inTsaDir('tsa.ext'), 'extendedKeyUsage = critical, timeStamping\nkeyUsage = critical, digitalSignature\n');
  openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', inTsaDir('ca.key'), '-out', inTsaDir('ca.pem'),
    '-subj', '/CN=Test TSA CA', '-days', '2');
  openssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', inTsaDir('tsa.key'), '-out', inTsaDir('tsa.csr'),
    '-subj', '/CN=Test TSA');
  openssl('x509', '-req', '-in', inTsaDir('tsa.csr'), '-CA', inTsaDir('ca.pem'), '-CAkey', inTsaDir('ca.key'),
    '-set_serial', '7', '-days', '2', '-extfile', inTsaDir('tsa.ext'), '-out', inTsaDir('tsa.pem'));
}

const localTsa: SignatureTimestamper = {
  async timestampSignature(signatureValue) {
    fs.writeFileSync(inTsaDir('signature.bin'), signatureValue);
    openssl('ts', '-query', '-data', inTsaDir('signature.bin'), '-sha256', '-cert', '-no_nonce', '-out', inTsaDir('request.tsq'));
    openssl('ts', '-reply', '-config', inTsaDir('tsa.cnf'), '-queryfile', inTsaDir('request.tsq'), '-signer', inTsaDir('tsa.pem'),
      '-inkey', inTsaDir('tsa.key'), '-chain', inTsaDir('ca.pem'), '-token_out', '-out', inTsaDir('token.der'));
    return fs.readFileSync(inTsaDir('token.der'));
  },
};

beforeAll(async () => {
  key = await loadOrCreateLocalSealKey(path.join(workspace.dir, 'keys'), 'Sigill seal — Acme Oy');
  startLocalTsa();
});
afterAll(() => workspace.remove());

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

test('the signature-time-stamp extension point takes an RFC 3161 token (the future B-T level)', async () => {
  const file = await signWith(new CadesDetachedSigner(key, { signatureTimestamper: localTsa }));

  expect(pdfsig(file).output).toContain('Signature Validation: Signature is Valid.');
  const run = runTool('pyhanko', ['sign', 'validate', '--trust', path.join(workspace.dir, 'keys', 'seal-cert.pem'),
    '--trust', inTsaDir('ca.pem'), '--trust-replace', '--pretty-print', file]);
  expect(run.output).toContain('The signature is judged VALID.');
  expect(run.output).toContain('Signature timestamp token:');
  expect(run.output).toContain('The timestamp token is cryptographically sound.');
  expect(run.output).toContain('The TSA certificate is trusted.');
  // Without a timestamper the same validator finds no timestamp: B-B.
  const plain = await signWith(new CadesDetachedSigner(key));
  expect(pyhankoValidate(plain, path.join(workspace.dir, 'keys', 'seal-cert.pem')).output).not.toContain('timestamp token');
});
