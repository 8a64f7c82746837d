/**
 * PAdES B-LTA archives through whole rounds, against a real local PKI (OpenSSL CA with OCSP and CRL, TSA):
 * the sealed document carries a document timestamp over its validation data; the archive renewal
 * Schedule, triggered as its daily run would be, appends a second one once the TSA has a newer
 * certificate, and does nothing when renewing would not extend anything. /v1/verify proves the original
 * is the sealed file's prefix, and still recognises the copy handed out before the renewal.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { DataSource } from 'typeorm';
import { ensureArchiveRenewalSchedule, archiveRenewalScheduleId } from '../../src/archive/schedule';
import { readDocumentTimestamps } from '../../src/documents/long-term-validation';
import type { Json } from '../support/api-client';
import { harness, openTestDataSource, startTestApi, testLog, type TestApi } from '../support/harness';
import { startLocalPki, type LocalPki } from '../support/local-pki';
import { createTestPdf } from '../support/pdf-factories';
import { dssProvesCertificates, pdfsig, pyhankoAdesVerifyAsync } from '../support/pdf-validators';
import { completeOneRound, type CompletedRound } from '../support/rounds';
import { startSmtpCatcher } from '../support/smtp-catcher';
import { waitFor } from '../support/wait-for';

let dataSource: DataSource;
let smtp: Awaited<ReturnType<typeof startSmtpCatcher>>;
let pki: LocalPki;
let api: TestApi;
let original: Buffer;
let round: CompletedRound;

beforeAll(async () => {
  dataSource = await openTestDataSource();
  smtp = await startSmtpCatcher();
  pki = await startLocalPki(harness.tempDir('pki'));
  const p12 = path.join(harness.tempDir('seal'), 'seal.p12');
  fs.writeFileSync(p12, pki.sealP12);
  api = await startTestApi(dataSource, {
    env: { SEAL_P12_PATH: p12, SEAL_P12_PASSWORD: pki.sealP12Password, TSA_URL: pki.tsaUrl, SEAL_LEVEL: 'B-LTA', SMTP_URL: smtp.url },
  });
  original = Buffer.from(await createTestPdf([{}, {}]));
  round = await completeOneRound(api, dataSource, smtp, original);
});

afterAll(async () => {
  await api?.close();
  await pki?.stop();
  await smtp?.close();
  await dataSource?.destroy();
});

/** POST /v1/verify with a PDF as the body, as the public verification page does. */
async function verify(pdf: Uint8Array): Promise<{ status: number; body: Json }> {
  const response = await fetch(`${api.url}/v1/verify`, { method: 'POST', headers: { 'content-type': 'application/pdf' }, body: Buffer.from(pdf) });
  return { status: response.status, body: await response.json() };
}

function write(bytes: Uint8Array, name: string): string {
  const file = path.join(harness.tempDir('archive'), `${name}.pdf`);
  fs.writeFileSync(file, bytes);
  return file;
}

async function archiveExpiry(): Promise<Date | null> {
  const [row]: Array<{ archive_timestamp_expires_at: Date | null }> = await dataSource.query(
    `SELECT archive_timestamp_expires_at FROM signing_requests WHERE id = $1`,
    [round.id],
  );
  return row!.archive_timestamp_expires_at;
}

async function runScheduleOnce(): Promise<Json> {
  await ensureArchiveRenewalSchedule(api.client, { taskQueue: api.taskQueue, horizonMs: api.config.seal.retimestampHorizonMs, log: testLog });
  const handle = api.client.schedule.getHandle(archiveRenewalScheduleId);
  const before = (await handle.describe()).info.recentActions.length;
  await handle.trigger();
  // The run the trigger started, then its result.
  const action = await waitFor('the triggered archive renewal run', async () => {
    const actions = (await handle.describe()).info.recentActions;
    return actions.length > before ? actions.at(-1) : undefined;
  });
  return (await api.client.workflow.getHandle(action!.action.workflow.workflowId, action!.action.workflow.firstExecutionRunId).result()) as Json;
}

test('the sealed document is PAdES B-LTA: the original byte for byte, a document timestamp, validation data for seal and TSA', async () => {
  expect(round.sealed.subarray(0, original.byteLength).equals(original)).toBe(true);
  const timestamps = await readDocumentTimestamps(round.sealed, { originalLength: original.byteLength });
  expect(timestamps).toHaveLength(1);
  expect((await archiveExpiry())?.toISOString()).toBe(timestamps[0]!.certificateExpiresAt.toISOString());
  const file = write(round.sealed, 'sealed');
  expect((await pyhankoAdesVerifyAsync(file, pki.caFile)).output).toContain('The signature is judged VALID.');
  expect(dssProvesCertificates(file, pki.caFile)).toEqual({
    'Organization: Acme Oy, Common Name: Sigill seal - Acme Oy': 'ok',
    'Common Name: Sigill Test TSA': 'ok',
  });
});

test('/v1/verify says where the original is in the sealed file, and checks it', async () => {
  const verified = await verify(round.sealed);
  expect(verified.status).toBe(200);
  expect(verified.body).toMatchObject({
    verdict: 'authentic',
    original: { byteLength: original.byteLength, isPrefix: true },
  });
  expect(verified.body.replacedByRenewal).toBeUndefined();
});

test('a renewal that would not extend anything (the TSA still has the same certificate) adds nothing', async () => {
  const expiry = await archiveExpiry();
  expect(await runScheduleOnce()).toEqual({ renewed: 0, failed: 0 });
  expect(await archiveExpiry()).toEqual(expiry);
});

test('once the TSA has a newer certificate, the scheduled run appends a second document timestamp; the earlier copy still verifies', async () => {
  pki.renewTsaCertificate(60);
  const before = await archiveExpiry();
  // Tried today already (the run above): left for tomorrow's run, so one archive cannot hold up the rest.
  expect(await runScheduleOnce()).toEqual({ renewed: 0, failed: 0 });
  await dataSource.query(`UPDATE signing_requests SET archive_renewal_attempted_at = archive_renewal_attempted_at - interval '1 day' WHERE id = $1`, [round.id]);

  expect(await runScheduleOnce()).toEqual({ renewed: 1, failed: 0 });

  const after = await archiveExpiry();
  expect(after!.getTime()).toBeGreaterThan(before!.getTime());
  const [row]: Array<{ sealed_blob_key: string }> = await dataSource.query(`SELECT sealed_blob_key FROM signing_requests WHERE id = $1`, [round.id]);
  const renewed = await api.signing.adapters.blobStore.get(row!.sealed_blob_key);
  expect(Buffer.from(renewed!.subarray(0, round.sealed.byteLength)).equals(round.sealed)).toBe(true);
  expect(await readDocumentTimestamps(renewed!, { originalLength: original.byteLength })).toHaveLength(2);
  const file = write(renewed!, 'renewed');
  expect(pdfsig(file).output).toContain('Signature Validation: Signature is Valid.');
  expect((await pyhankoAdesVerifyAsync(file, pki.caFile)).output).toContain('The signature is judged VALID.');

  // The renewal is evidence too: in the audit trail, once.
  const events: Array<{ type: string; detail: Json }> = await dataSource.query(`SELECT type, detail FROM audit_events WHERE request_id = $1 AND type = 'archive_renewed'`, [round.id]);
  expect(events).toHaveLength(1);
  expect(events[0]!.detail).toMatchObject({ previousSha256: round.sha256, sha256: createHash('sha256').update(renewed!).digest('hex') });

  // Both versions verify: the current one, and the one handed out before.
  for (const [bytes, replaced] of [[renewed!, undefined], [round.sealed, true]] as const) {
    const verified = await verify(bytes);
    expect(verified.body).toMatchObject({ verdict: 'authentic', original: { isPrefix: true } });
    expect(verified.body.replacedByRenewal).toBe(replaced);
  }

  // Running again, even a day later, renews nothing more: the renewal is done.
  await dataSource.query(`UPDATE signing_requests SET archive_renewal_attempted_at = archive_renewal_attempted_at - interval '1 day' WHERE id = $1`, [round.id]);
  expect(await runScheduleOnce()).toEqual({ renewed: 0, failed: 0 });
});
