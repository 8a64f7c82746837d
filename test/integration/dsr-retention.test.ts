/**
 * Data-subject requests in the daily retention sweep, against real PostgreSQL, Temporal and SMTP: an access
 * package past its download window is deleted (blob and key; the download answers 410 before and after), and an
 * ended request is kept for its period (default 3 years, set in the organisation's policy), noticed, then
 * shredded with a receipt naming the rule. Time is moved by dating rows back in the database, never by waiting.
 */
import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { findDeletionReceipt } from '../../src/privacy/shred-record';
import { ensureRetentionSweepSchedule, retentionSweepScheduleId } from '../../src/retention/schedule';
import { apiClient, type Json } from '../support/api-client';
import { createTestOrganization } from '../support/factories';
import { openTestDataSource, startTestApi, testLog, type TestApi } from '../support/harness';
import { startSmtpCatcher } from '../support/smtp-catcher';
import { waitFor } from '../support/wait-for';

let dataSource: DataSource;
let smtp: Awaited<ReturnType<typeof startSmtpCatcher>>;
let api: TestApi;
let org: Awaited<ReturnType<typeof createTestOrganization>>;
const ownerEmail = `owner-${randomUUID()}@example.test`;
const call = apiClient(() => api.url, () => org.apiKey);

beforeAll(async () => {
  dataSource = await openTestDataSource();
  smtp = await startSmtpCatcher();
  api = await startTestApi(dataSource, { env: { SMTP_URL: smtp.url } });
  org = await createTestOrganization(dataSource, { ownerEmail });
});

afterAll(async () => {
  await api?.close();
  await smtp?.close();
  await dataSource?.destroy();
});

/** As the schedule's daily run would (see retention.test.ts): a triggered run of the schedule, awaited. */
async function runSweepOnce(): Promise<Json> {
  await ensureRetentionSweepSchedule(api.client, { taskQueue: api.taskQueue, log: testLog, organizationIds: [org.orgId] });
  const handle = api.client.schedule.getHandle(retentionSweepScheduleId);
  const last = (await handle.describe()).info.recentActions.at(-1);
  const before = last?.action.workflow.workflowId;
  if (last) await waitFor('the next second', () => Math.floor(Date.now() / 1000) > Math.floor(last.takenAt.getTime() / 1000));
  await handle.trigger();
  const action = await waitFor('the triggered retention sweep run', async () => {
    const latest = (await handle.describe()).info.recentActions.at(-1);
    return latest && latest.action.workflow.workflowId !== before ? latest : undefined;
  });
  return (await api.client.workflow.getHandle(action!.action.workflow.workflowId).result()) as Json;
}

async function codeOf(email: string, count: number): Promise<{ code: string; token: string }> {
  const mails = await smtp.waitForMail(email, 'confirm your request about your personal data', count);
  const text = mails[count - 1]!.text;
  return { code: /^(\d{8})\s*$/m.exec(text)![1]!, token: /\/r\/([0-9a-f]{64})/.exec(text)![1]! };
}

async function endedRequest(type: string, daysAgo: number): Promise<string> {
  const created = await call('/v1/data-subject-requests', { body: { type, requester: { name: 'Ulla Old', email: `old-${randomUUID()}@example.test` } } });
  expect(created.status).toBe(201);
  const id = created.body.id as string;
  expect((await call(`/v1/data-subject-requests/${id}/reject`, { body: { reason: 'We hold no data about you.' } })).status).toBe(200);
  await api.client.workflow.getHandle(`data-subject-request-${id}`).result();
  await dataSource.query(`UPDATE data_subject_requests SET completed_at = now() - make_interval(days => $2) WHERE id = $1`, [id, daysAgo]);
  return id;
}

test('an access package past its download window is deleted by the sweep; its download answers 410 before and after', async () => {
  const email = `access-${randomUUID()}@example.test`;
  const created = await call('/v1/data-subject-requests', { body: { type: 'access', requester: { name: 'Aada Access', email } } });
  const dsrId = created.body.id as string;
  const first = await codeOf(email, 1);
  const confirmed = await call('/v1/privacy/requests/confirm', { key: null, body: first });
  expect(confirmed.status).toBe(200);
  const cookie = confirmed.headers.get('set-cookie')!.split(';')[0]!;
  expect((await call(`/v1/data-subject-requests/${dsrId}/fulfil`, { body: {} })).status).toBe(200);
  await waitFor('the access package built', async () => ((await call(`/v1/data-subject-requests/${dsrId}`)).body.accessPackage ? true : undefined));
  expect((await call(`/v1/data-subject-requests/${dsrId}/complete`, { body: {} })).status).toBe(200);
  const [{ access_package_blob_key: blobKey }] = await dataSource.query(`SELECT access_package_blob_key FROM data_subject_requests WHERE id = $1`, [dsrId]);
  expect(await api.signing.adapters.blobStore.get(blobKey)).toBeTruthy();

  // Its 30 days have passed.
  await dataSource.query(`UPDATE data_subject_requests SET access_package_expires_at = now() - interval '1 minute' WHERE id = $1`, [dsrId]);
  // Expired is answered before any code is checked: nothing left to confirm for.
  const download = () => call('/v1/privacy/requests/access-package', { key: null, headers: { cookie }, body: { code: first.code } });
  const before = await download();
  expect([before.status, before.body.error?.code]).toEqual([410, 'export_expired']);

  await runSweepOnce();
  expect(await api.signing.adapters.blobStore.get(blobKey).catch(() => undefined)).toBeFalsy();
  const [row] = await dataSource.query(`SELECT access_package_blob_key, access_package_sha256 FROM data_subject_requests WHERE id = $1`, [dsrId]);
  expect(row.access_package_blob_key).toBeNull();
  const after = await download();
  expect([after.status, after.body.error?.code]).toEqual([410, 'export_expired']);
  // The requester and the handler still see what was sent and until when.
  expect((await call('/v1/privacy/requests/status', { key: null, headers: { cookie } })).body.accessPackage).toMatchObject({ expired: true });
  expect((await call(`/v1/data-subject-requests/${dsrId}`)).body.accessPackage).toMatchObject({ sha256: row.access_package_sha256 });

  // Again: nothing to do, one event in the trail.
  await runSweepOnce();
  const trail = await call(`/v1/data-subject-requests/${dsrId}/audit-trail`);
  expect(trail.body.chainValid).toBe(true);
  expect(trail.body.events.filter((event: Json) => event.type === 'package_deleted')).toHaveLength(1);
});

test('the policy has a period for data-subject requests: 3 years by default, set by the organisation only', async () => {
  const initial = await call('/v1/retention-policy');
  expect(initial.body).toMatchObject({ settings: { dsrDays: null }, effective: { dsrDays: 1096 }, defaults: { dsrDays: 1096 }, sources: { dsrDays: 'default' } });
  for (const dsrDays of [0, 36501, 1.5]) expect((await call('/v1/retention-policy', { method: 'PUT', body: { dsrDays } })).status).toBe(422);
  const set = await call('/v1/retention-policy', { method: 'PUT', body: { dsrDays: 2000 } });
  expect(set.body).toMatchObject({ effective: { dsrDays: 2000 }, sources: { dsrDays: 'organization' } });
  // Requests are in no folder: a folder cannot set their period.
  const folder = await call('/v1/folders', { body: { name: `Folder ${randomUUID().slice(0, 6)}` } });
  const refused = await call(`/v1/folders/${folder.body.id}/retention-policy`, { method: 'PUT', body: { dsrDays: 30 } });
  expect([refused.status, refused.body.error.code]).toEqual([422, 'unprocessable']);
  const log = await call('/v1/audit-log');
  expect((log.body.events as Json[]).some((event) => event.type === 'retention_policy.changed' && event.detail.changed?.dsrDays?.to === 2000)).toBe(true);
  expect((await call('/v1/retention-policy', { method: 'PUT', body: {} })).status).toBe(200);
});

test('an ended request is kept its period, noticed, then shredded by the sweep with a receipt; a younger one stays', async () => {
  const due = await endedRequest('objection', 3 * 366);
  const young = await endedRequest('restriction', 2 * 365);

  const noticed = await runSweepOnce();
  expect(noticed).toMatchObject({ noticed: 1, deleted: 0, failed: 0 });
  const upcoming = await call('/v1/retention/upcoming');
  expect(upcoming.body.items).toEqual([
    expect.objectContaining({ kind: 'data_subject_request', id: due, status: 'rejected', rule: 'retention:default', reason: 'Data-subject requests are kept 1096 days after they end (default)' }),
  ]);
  const [notice] = await smtp.waitForMail(ownerEmail, 'will be deleted under the retention policy');
  expect(notice!.text).toContain(due);
  expect(notice!.text).not.toContain(young);

  await dataSource.query(`UPDATE retention_notices SET delete_not_before = now() - interval '1 minute' WHERE organization_id = $1 AND state = 'pending'`, [org.orgId]);
  expect(await runSweepOnce()).toMatchObject({ deleted: 1, failed: 0 });
  const receipt = await findDeletionReceipt(api.signing, { kind: 'data_subject_request', id: due });
  expect(receipt).toMatchObject({ rule: 'retention:default', actor: 'system:retention' });
  expect(await findDeletionReceipt(api.signing, { kind: 'data_subject_request', id: young })).toBeUndefined();
  expect((await call('/v1/retention/upcoming')).body.items).toEqual([]);
  // The list still shows it existed (no name: its record key is destroyed).
  const listed = (await call('/v1/data-subject-requests?status=rejected')).body.items as Json[];
  expect(listed.find((item) => item.id === due)).toMatchObject({ id: due, status: 'rejected' });
  expect(listed.find((item) => item.id === due).requesterName).toBeUndefined();
  // Its trail keeps what names no one: no IP, browser or sealed personal part is left on any row.
  const trailRows: Array<{ ip: string | null; user_agent: string | null; sealed: Buffer | null; erased_at: Date | null }> = await dataSource.query(
    `SELECT ip, user_agent, sealed, erased_at FROM dsr_audit_events WHERE dsr_id = $1`,
    [due],
  );
  expect(trailRows.length).toBeGreaterThan(0);
  for (const row of trailRows) expect(row).toEqual({ ip: null, user_agent: null, sealed: null, erased_at: expect.any(Date) });
  const youngRows: Array<{ erased_at: Date | null }> = await dataSource.query(`SELECT erased_at FROM dsr_audit_events WHERE dsr_id = $1`, [young]);
  expect(youngRows.every((row) => row.erased_at === null)).toBe(true);
});
