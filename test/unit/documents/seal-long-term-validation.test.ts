/**
 * PAdES B-LT and B-LTA against a real local PKI (OpenSSL CA, OCSP responder, CRL, TSA). Two independent
 * verdicts: pyHanko's AdES validation (ETSI EN 319 102-1, revocation checked; it fetches fresh status
 * while the CA is online), and, with the CA offline, pyHanko's certificate validator given nothing but the
 * file's DSS, revocation information required: the document must carry its own proof. An archive renewal
 * adds a second document timestamp and the file still validates.
 */
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { inspectPdf } from '../../../src/documents/inspect-pdf';
import { addArchiveTimestamp, readDocumentTimestamps } from '../../../src/documents/long-term-validation';
import { sealDocument } from '../../../src/documents/seal-document';
import { loadP12SealKey, type SealKey } from '../../../src/documents/seal-key';
import { Rfc3161Timestamper } from '../../../src/documents/timestamp-authority';
import { startLocalPki, type LocalPki } from '../../support/local-pki';
import { createTestPdf, sealInputFor, temporaryDirectory } from '../../support/pdf-factories';
import { dssProvesCertificates, pdfsig, pyhankoAdesVerifyAsync, qpdfCheck, runTool } from '../../support/pdf-validators';

const workspace = temporaryDirectory('ltv');
let pki: LocalPki;
let key: SealKey;
let timestamper: Rfc3161Timestamper;
let original: Uint8Array;
let sha256: string;
const sealed: Partial<Record<'B-LT' | 'B-LTA', Uint8Array>> = {};

beforeAll(async () => {
  pki = await startLocalPki(path.join(workspace.dir, 'pki'));
  key = await loadP12SealKey(pki.sealP12, pki.sealP12Password);
  timestamper = new Rfc3161Timestamper(pki.tsaUrl);
  original = await createTestPdf([{}, {}]);
  sha256 = (await inspectPdf(original)).sha256;
  for (const level of ['B-LT', 'B-LTA'] as const) {
    sealed[level] = (await sealDocument(sealInputFor(original, key, sha256, { timestamper, longTerm: { level, timestampAuthority: timestamper } }))).pdf;
  }
});
afterAll(async () => {
  await pki.stop();
  workspace.remove();
});

function write(bytes: Uint8Array, name: string): string {
  const file = path.join(workspace.dir, `${name}.pdf`);
  fs.writeFileSync(file, bytes);
  return file;
}

const sealAndTsa = { 'Organization: Acme Oy, Common Name: Sigill seal - Acme Oy': 'ok', 'Common Name: Sigill Test TSA': 'ok' };

async function expectAdesValid(file: string): Promise<void> {
  const run = await pyhankoAdesVerifyAsync(file, pki.caFile);
  expect(run.output).toContain('The signature is judged VALID.');
  expect(run.output).not.toContain('judged INVALID');
}

describe('with the CA online', () => {
  test('B-LT: the seal fetched revocation data, the file starts with the original, and pyHanko AdES-validates it', async () => {
    const served = pki.served();
    expect(served.ocsp + served.crl).toBeGreaterThan(0);
    const file = write(sealed['B-LT']!, 'b-lt');
    expect(Buffer.from(sealed['B-LT']!.subarray(0, original.byteLength)).equals(Buffer.from(original))).toBe(true);
    await expectAdesValid(file);
    expect(qpdfCheck(file).status).toBe(0);
  });

  test('B-LTA: a document timestamp over the validation data, and pyHanko AdES-validates it', async () => {
    const file = write(sealed['B-LTA']!, 'b-lta');
    expect(await readDocumentTimestamps(sealed['B-LTA']!, { originalLength: original.byteLength })).toHaveLength(1);
    await expectAdesValid(file);
    expect(pdfsig(file).output).toContain('Signature Validation: Signature is Valid.');
  });

  test('an archive renewal appends a second document timestamp; the DSS still proves everything', async () => {
    const before = sealed['B-LTA']!;
    const since = { originalLength: original.byteLength };
    const [first] = await readDocumentTimestamps(before, since);
    const renewed = await addArchiveTimestamp(before, { timestampAuthority: timestamper, ...since });

    expect(Buffer.from(renewed.subarray(0, before.byteLength)).equals(Buffer.from(before))).toBe(true);
    const timestamps = await readDocumentTimestamps(renewed, since);
    expect(timestamps).toHaveLength(2);
    expect(timestamps[1]!.at.getTime()).toBeGreaterThanOrEqual(first!.at.getTime());
    expect(timestamps[0]!.certificateExpiresAt.getTime()).toBeGreaterThan(Date.now());
    const file = write(renewed, 'renewed');
    expect(dssProvesCertificates(file, pki.caFile)).toEqual(sealAndTsa);
    expect(pdfsig(file).output).toContain('Signature Validation: Signature is Valid.');
  });
});

describe('with the CA offline', () => {
  beforeAll(() => pki.stopPublishing());

  test.each(['B-LT', 'B-LTA'] as const)('%s: the DSS alone proves the seal and the TSA certificates good, revocation required', (level) => {
    expect(dssProvesCertificates(write(sealed[level]!, `${level}-offline`), pki.caFile)).toEqual(sealAndTsa);
  });

  test('a B-B seal has no DSS to prove anything with', async () => {
    const plain = (await sealDocument(sealInputFor(original, key, sha256))).pdf;
    expect(dssProvesCertificates(write(plain, 'b-b'), pki.caFile)).toEqual({ error: 'no DSS' });
  });

  test('an archive renewal needs fresh revocation data: with the CA offline it fails and appends nothing', async () => {
    const since = { originalLength: original.byteLength };
    await expect(addArchiveTimestamp(sealed['B-LTA']!, { timestampAuthority: timestamper, ...since })).rejects.toThrow(
      /revocation data could not be fetched for .*Sigill seal - Acme Oy/,
    );
  });
});

test("a signed upload's own certificates are never fetched for: their AIA and CRL URLs stay untouched, ours are fetched", async () => {
  // A counterparty certificate that names a spy server for its OCSP and CRL, as a hostile upload could
  // name an internal address.
  pki.resumePublishing();
  const spied: string[] = [];
  const spy = http.createServer((request, response) => {
    spied.push(`${request.method} ${request.url}`);
    response.writeHead(404).end();
  });
  await new Promise<void>((resolve) => spy.listen(0, '127.0.0.1', resolve));
  const spyUrl = `http://127.0.0.1:${(spy.address() as AddressInfo).port}`;
  try {
    const dir = path.join(workspace.dir, 'counterparty');
    fs.mkdirSync(dir, { recursive: true });
    const inDir = (name: string) => path.join(dir, name);
    fs.writeFileSync(inDir('ext.cnf'), `[ext]\nauthorityInfoAccess = OCSP;URI:${spyUrl}/ocsp\ncrlDistributionPoints = URI:${spyUrl}/crl\n`);
    expect(runTool('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '30', '-subj', '/CN=Counterparty Oy', '-keyout', inDir('key.pem'),
      '-out', inDir('cert.pem'), '-config', inDir('ext.cnf'), '-extensions', 'ext']).status).toBe(0);
    fs.writeFileSync(inDir('plain.pdf'), await createTestPdf([{}]));
    const signed = runTool('pyhanko', ['sign', 'addsig', '--field', 'Counterparty', 'pemder', '--no-pass', '--key', inDir('key.pem'), '--cert', inDir('cert.pem'),
      inDir('plain.pdf'), inDir('signed.pdf')]);
    expect(signed.status).toBe(0);
    const upload = fs.readFileSync(inDir('signed.pdf'));
    const facts = await inspectPdf(upload);
    const before = pki.served().ocsp;

    const { pdf } = await sealDocument(sealInputFor(facts.pdf, key, facts.sha256, { timestamper, longTerm: { level: 'B-LT', timestampAuthority: timestamper } }));

    expect(spied).toEqual([]);
    expect(pki.served().ocsp).toBeGreaterThan(before);
    expect(Buffer.from(pdf.subarray(0, upload.byteLength)).equals(upload)).toBe(true);
  } finally {
    await new Promise<void>((resolve) => spy.close(() => resolve()));
  }
});
