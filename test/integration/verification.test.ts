/**
 * Public verification (R4) of documents sealed by a real round (real Temporal, PostgreSQL and SMTP): only
 * a byte-identical sealed file is "authentic"; a file naming a sealed document but differing from it is
 * "modified"; the public answer names signers and times but no emails or IPs.
 */
import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { apiClient, type CallResult } from '../support/api-client';
import { openTestDataSource, startTestApi, type TestApi } from '../support/harness';
import { createTestPdf } from '../support/pdf-factories';
import { completeOneRound, type CompletedRound } from '../support/rounds';
import { startSmtpCatcher } from '../support/smtp-catcher';

let smtp: Awaited<ReturnType<typeof startSmtpCatcher>>;
let dataSource: DataSource;
let api: TestApi;
let round: CompletedRound;

beforeAll(async () => {
  smtp = await startSmtpCatcher();
  dataSource = await openTestDataSource();
  api = await startTestApi(dataSource, { env: { SMTP_URL: smtp.url } });
  round = await completeOneRound(api, dataSource, smtp, Buffer.from(await createTestPdf([{}, {}])), `Verna Verifier ${randomUUID().slice(0, 6)}`);
});

afterAll(async () => {
  await api?.close();
  await dataSource?.destroy();
  await smtp?.close();
});

async function verify(bytes: Buffer, contentType = 'application/pdf', baseUrl = () => api.url): Promise<CallResult> {
  const response = await fetch(`${baseUrl()}/v1/verify`, { method: 'POST', headers: { 'content-type': contentType }, body: bytes });
  return { status: response.status, body: await response.json(), headers: response.headers };
}

const call = apiClient(() => api.url, () => null);

test('the sealed document as delivered is authentic, with signers and times but no contact data', async () => {
  const result = await verify(round.sealed);
  expect(result.status).toBe(200);
  expect(result.body).toMatchObject({
    verdict: 'authentic',
    documentCode: round.documentCode,
    sha256: round.sha256,
    uploadedSha256: round.sha256,
    signatureValid: true,
    signers: [{ name: round.signerName, signedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) }],
  });
  expect(Date.parse(result.body.sealedAt)).not.toBeNaN();
  const text = JSON.stringify(result.body);
  expect(text).not.toContain(round.signerEmail);
  expect(text).not.toContain('127.0.0.1');
  expect(text).not.toContain('Encrypted at rest'); // the title stays private
});

/** Inside the RSA signature value: the last bytes of the CMS DER, before the zero padding of /Contents. */
function signatureValueOffset(pdf: Buffer): number {
  const start = pdf.indexOf('/Contents <') + '/Contents <'.length;
  const der = pdf.subarray(start, pdf.indexOf('>', start)).toString('latin1').replace(/0+$/, '');
  return start + der.length - 100;
}

test.each([
  ['a byte of the page content', (pdf: Buffer) => pdf.indexOf('/Type /Page') + 2],
  ["a byte of the seal's signature value", signatureValueOffset],
  ['the last byte', (pdf: Buffer) => pdf.length - 2],
])('changing %s makes it "modified", never authentic', async (_where, offsetOf) => {
  const tampered = Buffer.from(round.sealed);
  const offset = offsetOf(tampered);
  expect(offset).toBeGreaterThan(0);
  tampered[offset] = tampered[offset] === 0x30 ? 0x31 : 0x30;
  const result = await verify(tampered);
  expect(result.status).toBe(200);
  expect(result.body.verdict).toBe('modified');
  expect(result.body.documentCode).toBe(round.documentCode);
  expect(result.body.sha256).toBe(round.sha256);
  expect(result.body.uploadedSha256).not.toBe(round.sha256);
  expect(result.body.signatureValid).toBe(false);
});

test('an incremental update appended after sealing keeps a valid signature but is not authentic', async () => {
  const appended = Buffer.concat([round.sealed, Buffer.from('\n% an edit saved as an incremental update\n', 'latin1')]);
  const result = await verify(appended);
  expect(result.body).toMatchObject({ verdict: 'modified', signatureValid: true, documentCode: round.documentCode });
});

test('a PDF this service never sealed is unknown; a file that is not a PDF is refused', async () => {
  const stranger = await verify(Buffer.from(await createTestPdf([{}])));
  expect(stranger.status).toBe(200);
  expect(stranger.body).toEqual({
    verdict: 'unknown',
    documentCode: null,
    sealedAt: null,
    sha256: null,
    uploadedSha256: expect.stringMatching(/^[0-9a-f]{64}$/),
    signatureValid: false,
    signers: [],
  });
  const notPdf = await verify(Buffer.from('hello, I am a text file'));
  expect(notPdf.status).toBe(422);
  expect(notPdf.body.error.code).toBe('invalid_document');
  const wrongType = await verify(round.sealed, 'application/json');
  expect(wrongType.status).toBe(415);
  const empty = await fetch(`${api.url}/v1/verify`, { method: 'POST', headers: { 'content-type': 'application/pdf' } });
  expect(empty.status).toBe(400);
});

test('the code printed on the pages finds the sealed document; unknown and malformed codes do not', async () => {
  const byCode = await call(`/v1/verify/${round.documentCode}`);
  expect(byCode.status).toBe(200);
  expect(byCode.body).toMatchObject({ documentCode: round.documentCode, sha256: round.sha256, signers: [{ name: round.signerName }] });
  expect(JSON.stringify(byCode.body)).not.toContain(round.signerEmail);
  expect((await call('/v1/verify/SGL-0000-0000-0000')).status).toBe(404);
  const malformed = await call('/v1/verify/not-a-code');
  expect(malformed.status).toBe(400);
  expect(malformed.body.error.code).toBe('invalid_request');
});

test('the /verify page takes an upload and shows the verdict', async () => {
  const page = await fetch(`${api.url}/verify`);
  expect(page.status).toBe(200);
  expect(await page.text()).toContain('enctype="multipart/form-data"');

  const upload = async (bytes: Buffer) => {
    const form = new FormData();
    form.set('document', new Blob([bytes], { type: 'application/pdf' }), 'sealed.pdf');
    const response = await fetch(`${api.url}/verify`, { method: 'POST', body: form });
    return { status: response.status, text: await response.text() };
  };
  const authentic = await upload(round.sealed);
  expect(authentic.status).toBe(200);
  expect(authentic.text).toContain('Authentic: this is a document sealed by this service');
  expect(authentic.text).toContain(round.signerName);
  const tampered = Buffer.from(round.sealed);
  tampered[tampered.length - 2] ^= 1;
  expect((await upload(tampered)).text).toContain('Not authentic');

  const byCode = async (code: string) => {
    const form = new FormData();
    form.set('code', code);
    const response = await fetch(`${api.url}/verify`, { method: 'POST', body: form });
    return { status: response.status, text: await response.text() };
  };
  const found = await byCode(round.documentCode.toLowerCase());
  expect(found.status).toBe(200);
  expect(found.text).toContain('This code belongs to a sealed document');
  expect(found.text).toContain(round.sha256);
  const malformed = await byCode('<script>alert(1)</script>');
  expect(malformed.status).toBe(400);
  expect(malformed.text).toContain('A document code looks like SGL-XXXX-XXXX-XXXX.');
  expect(malformed.text).not.toContain('<script>alert');
});

test('verification is rate-limited per client address', async () => {
  // An API of its own (the harness gives each its own rate-limit namespace): the tests above spent some of this one's.
  const fresh = await startTestApi(dataSource, { withWorker: false });
  try {
    const statuses: number[] = [];
    for (let i = 0; i < 25; i++) statuses.push((await verify(Buffer.from('%PDF-1.7 tiny'), 'application/pdf', () => fresh.url)).status);
    expect(statuses.slice(0, 20).every((status) => status !== 429)).toBe(true);
    expect(statuses.slice(20)).toEqual([429, 429, 429, 429, 429]);
    const limited = await verify(Buffer.from('%PDF-1.7 tiny'), 'application/pdf', () => fresh.url);
    expect(limited.body.error.code).toBe('rate_limited');
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
  } finally {
    await fresh.close();
  }
});
