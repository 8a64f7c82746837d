/**
 * Retention (R13) against real PostgreSQL, Temporal and SMTP: policies and legal holds through the API, and
 * the daily sweep triggered on its Temporal Schedule as its daily run would be. The first run gives notice
 * (the owners get one summary per organisation, nothing is deleted); a run after the notice period shreds
 * exactly what is due, with deletion receipts naming the rule, and leaves held and not-yet-due records.
 * Time is moved by dating records and notices back in the database, never by waiting.
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { simpleParser } from 'mailparser';
import type { DataSource } from 'typeorm';
import { findDeletionReceipt } from '../../src/privacy/shred-record';
import { ensureRetentionSweepSchedule, retentionSweepScheduleId } from '../../src/retention/schedule';
import { workflowIdForRequest } from '../../src/signing/create-signing-request';
import { apiClient, type Json } from '../support/api-client';
import { createTestOrganization, signingRequestBody } from '../support/factories';
import { openTestDataSource, startTestApi, testLog, type TestApi } from '../support/harness';
import { createTestPdf } from '../support/pdf-factories';
import { completeOneRound, type CompletedRound } from '../support/rounds';
import { startSmtpCatcher } from '../support/smtp-catcher';
import { waitFor } from '../support/wait-for';

let dataSource: DataSource;
let smtp: Awaited<ReturnType<typeof startSmtpCatcher>>;
let api: TestApi;
let pdf: Buffer;
let org: Awaited<ReturnType<typeof createTestOrganization>>;
const ownerEmail = `owner-${randomUUID()}@example.test`;
const call = apiClient(() => api.url, () => org.apiKey);

beforeAll(async () => {
  dataSource = await openTestDataSource();
  smtp = await startSmtpCatcher();
  api = await startTestApi(dataSource, { env: { SMTP_URL: smtp.url } });
  pdf = Buffer.from(await createTestPdf());
  org = await createTestOrganization(dataSource, { ownerEmail });
});

afterAll(async () => {
  await api?.close();
  await smtp?.close();
  await dataSource?.destroy();
});

async function createFolder(name: string): Promise<string> {
  const created = await call('/v1/folders', { body: { name } });
  expect(created.status).toBe(201);
  return created.body.id;
}

/** A request created and cancelled through the API, its round ended. */
async function cancelledRequest(title: string, folderId?: string): Promise<string> {
  const created = await call('/v1/signing-requests', { body: signingRequestBody(pdf.toString('base64'), title, folderId) });
  expect(created.status).toBe(201);
  const id: string = created.body.id;
  expect((await call(`/v1/signing-requests/${id}/cancel`, { body: { reason: 'No longer needed' } })).status).toBe(200);
  await api.client.workflow.getHandle(workflowIdForRequest(id)).result();
  return id;
}

async function endedDaysAgo(id: string, days: number): Promise<void> {
  await dataSource.query(`UPDATE signing_requests SET completed_at = now() - make_interval(days => $2) WHERE id = $1`, [id, days]);
}

async function runSweepOnce(organizationIds: string[], on: TestApi = api): Promise<Json> {
  await ensureRetentionSweepSchedule(on.client, { taskQueue: on.taskQueue, log: testLog, organizationIds });
  const handle = on.client.schedule.getHandle(retentionSweepScheduleId);
  // recentActions keeps the last few runs only: the new run is the one whose id differs from the last before.
  const last = (await handle.describe()).info.recentActions.at(-1);
  const before = last?.action.workflow.workflowId;
  // A run's id is the schedule's id and its start time to the second: a second trigger within the same
  // second would be refused as the same workflow, so the trigger waits for the next second.
  if (last) await waitFor('the next second', () => Math.floor(Date.now() / 1000) > Math.floor(last.takenAt.getTime() / 1000));
  await handle.trigger();
  const action = await waitFor('the triggered retention sweep run', async () => {
    const last = (await handle.describe()).info.recentActions.at(-1);
    return last && last.action.workflow.workflowId !== before ? last : undefined;
  });
  return (await on.client.workflow.getHandle(action!.action.workflow.workflowId).result()) as Json;
}

describe('retention policy and legal hold API', () => {
  test('the organisation policy: defaults, validation (422 out of bounds, 400 wrong shape), set and audit-logged', async () => {
    const initial = await call('/v1/retention-policy');
    expect(initial.status).toBe(200);
    expect(initial.body).toMatchObject({
      folderId: null,
      settings: { completedDays: null, unfinishedDays: null, failedDays: null, kycDays: null, noticeDays: null },
      effective: { completedDays: 3653, unfinishedDays: 90, failedDays: 90, kycDays: 1826, noticeDays: 14 },
      sources: { completedDays: 'default', noticeDays: 'default' },
    });

    for (const body of [{ unfinishedDays: 0 }, { unfinishedDays: 1.5 }, { completedDays: 36501 }, { noticeDays: 366 }, { kycDays: -5 }]) {
      const refused = await call('/v1/retention-policy', { method: 'PUT', body });
      expect(refused.status).toBe(422);
      expect(refused.body.error.code).toBe('unprocessable');
    }
    for (const body of [{ unfinishedDays: '30' }, { forever: true }, []]) {
      expect((await call('/v1/retention-policy', { method: 'PUT', body })).status).toBe(400);
    }
    // Bodies no JSON.stringify would write: never a 5xx.
    for (const raw of ['{"completedDays": 1e400}', 'null', '{"kycDays": 1e2}', '"30"']) {
      const answer = await fetch(`${api.url}/v1/retention-policy`, {
        method: 'PUT',
        headers: { authorization: `Bearer ${org.apiKey}`, 'content-type': 'application/json' },
        body: raw,
      });
      expect([raw, answer.status < 500]).toEqual([raw, true]);
    }
    for (const limit of ['0', '501', 'abc', '1.5']) expect((await call(`/v1/retention/upcoming?limit=${limit}`)).status).toBe(400);
    expect((await call('/v1/retention-policy')).body.settings).toMatchObject({ unfinishedDays: null, kycDays: 100 });
    expect((await call('/v1/retention-policy', { method: 'PUT', body: {} })).status).toBe(200);

    const set = await call('/v1/retention-policy', { method: 'PUT', body: { unfinishedDays: 60, noticeDays: 7 } });
    expect(set.status).toBe(200);
    expect(set.body.effective).toEqual({ completedDays: 3653, unfinishedDays: 60, failedDays: 90, kycDays: 1826, dsrDays: 1096, noticeDays: 7 });
    expect(set.body.sources).toMatchObject({ unfinishedDays: 'organization', noticeDays: 'organization', completedDays: 'default' });

    const log = await call('/v1/audit-log');
    const changed = (log.body.events as Json[]).filter((event) => event.type === 'retention_policy.changed');
    expect(changed.map((event) => event.detail)).toEqual([
      { folderId: null, changed: { kycDays: { from: null, to: 100 } } },
      { folderId: null, changed: { kycDays: { from: 100, to: null } } },
      { folderId: null, changed: { unfinishedDays: { from: null, to: 60 }, noticeDays: { from: null, to: 7 } } },
    ]);
  });

  test('a folder override takes precedence per setting; removing it restores the organisation policy', async () => {
    const folderId = await createFolder(`Override ${randomUUID().slice(0, 6)}`);
    const set = await call(`/v1/folders/${folderId}/retention-policy`, { method: 'PUT', body: { failedDays: 30 } });
    expect(set.status).toBe(200);
    expect(set.body).toMatchObject({
      folderId,
      settings: { failedDays: 30, unfinishedDays: null },
      effective: { failedDays: 30, unfinishedDays: 60, completedDays: 3653 },
      sources: { failedDays: 'folder', unfinishedDays: 'organization', completedDays: 'default' },
    });
    expect((await call(`/v1/folders/${folderId}/retention-policy`, { method: 'PUT', body: { failedDays: 0 } })).status).toBe(422);
    // Removing takes no options: a field is refused (400, as everywhere), and the override stays.
    expect((await call(`/v1/folders/${folderId}/retention-policy`, { method: 'DELETE', body: { failedDays: null } })).status).toBe(400);
    expect((await call(`/v1/folders/${folderId}/retention-policy`)).body.settings).toMatchObject({ failedDays: 30 });
    expect((await call(`/v1/folders/${folderId}/retention-policy`, { method: 'DELETE' })).status).toBe(204);
    expect((await call(`/v1/folders/${folderId}/retention-policy`)).body).toMatchObject({ settings: { failedDays: null }, effective: { failedDays: 90 } });

    expect((await call(`/v1/folders/${randomUUID()}/retention-policy`)).status).toBe(404);
    expect((await call(`/v1/folders/not-a-folder/retention-policy`)).status).toBe(400);
    // Another organisation's folder is not found either.
    const other = await createTestOrganization(dataSource);
    const otherCall = apiClient(() => api.url, () => other.apiKey);
    expect((await otherCall(`/v1/folders/${folderId}/retention-policy`, { method: 'PUT', body: { failedDays: 5 } })).status).toBe(404);
  });

  test('legal holds: placed with a reason, refused without one, 404 for unknown records, lifted, audit-logged', async () => {
    const id = await cancelledRequest('Hold API');
    expect((await call(`/v1/signing-requests/${id}/legal-hold`, { method: 'PUT', body: {} })).status).toBe(400);
    expect((await call(`/v1/signing-requests/${id}/legal-hold`, { method: 'PUT', body: { reason: '   ' } })).status).toBe(400);
    expect((await call(`/v1/signing-requests/${id}/legal-hold`, { method: 'PUT', body: { reason: 'Held\u0000' } })).status).toBe(422);
    expect((await call(`/v1/signing-requests/${id}/legal-hold`, { method: 'PUT', body: { reason: 'x'.repeat(1001) } })).status).toBe(400);
    expect((await call(`/v1/signing-requests/${randomUUID()}/legal-hold`, { method: 'PUT', body: { reason: 'Dispute' } })).status).toBe(404);
    expect((await call(`/v1/kyc-cases/${randomUUID()}/legal-hold`, { method: 'PUT', body: { reason: 'Dispute' } })).status).toBe(404);
    const kycCase = await call('/v1/kyc-cases', { body: { customer: { type: 'person', name: 'Aino Virtanen', email: `customer-${randomUUID()}@example.test` } } });
    expect(kycCase.status).toBe(201);
    expect((await call(`/v1/kyc-cases/${kycCase.body.id}/legal-hold`, { method: 'PUT', body: { reason: 'AML inquiry' } })).status).toBe(200);
    expect((await call(`/v1/kyc-cases/${kycCase.body.id}`)).body.legalHold).toMatchObject({ reason: 'AML inquiry' });
    expect((await call(`/v1/kyc-cases/${kycCase.body.id}/legal-hold`, { method: 'DELETE' })).status).toBe(200);
    expect((await call(`/v1/kyc-cases/${kycCase.body.id}`)).body.legalHold).toBeUndefined();
    expect((await call(`/v1/folders/${randomUUID()}/legal-hold`, { method: 'DELETE' })).status).toBe(404);

    const held = await call(`/v1/signing-requests/${id}/legal-hold`, { method: 'PUT', body: { reason: 'Dispute with the customer, case 2026-17' } });
    expect(held.status).toBe(200);
    expect(held.body).toMatchObject({ kind: 'signing_request', id, legalHold: { reason: 'Dispute with the customer, case 2026-17' } });
    expect(held.body.legalHold.placedBy).toMatch(/^api-key:/);
    expect((await call(`/v1/signing-requests/${id}/legal-hold`)).body.legalHold).not.toBeNull();
    expect((await call(`/v1/signing-requests/${id}`)).body.legalHold).toMatchObject({ reason: 'Dispute with the customer, case 2026-17' });

    // Lifting takes no options: a field is refused (400, as everywhere), and the hold stays.
    const liftWithField = await call(`/v1/signing-requests/${id}/legal-hold`, { method: 'DELETE', body: { reason: 'Settled' } });
    expect([liftWithField.status, liftWithField.body.error?.code]).toEqual([400, 'invalid_request']);
    expect((await call(`/v1/signing-requests/${id}/legal-hold`)).body.legalHold).not.toBeNull();

    const lifted = await call(`/v1/signing-requests/${id}/legal-hold`, { method: 'DELETE' });
    expect(lifted.status).toBe(200);
    expect(lifted.body.legalHold).toBeNull();
    expect((await call(`/v1/signing-requests/${id}`)).body.legalHold).toBeUndefined();

    const events = ((await call('/v1/audit-log')).body.events as Json[]).filter((event) => event.type.startsWith('legal_hold.'));
    expect(events.map((event) => [event.type, event.detail.record, event.detail.id])).toEqual([
      ['legal_hold.placed', 'kyc_case', kycCase.body.id],
      ['legal_hold.released', 'kyc_case', kycCase.body.id],
      ['legal_hold.placed', 'signing_request', id],
      ['legal_hold.released', 'signing_request', id],
    ]);
  });
});

test('only organisation-wide administration: a view key and a folder-scoped admin key are refused (403)', async () => {
  const folderId = await createFolder(`Scoped ${randomUUID().slice(0, 6)}`);
  const id = await cancelledRequest('Scoped keys', folderId);
  for (const body of [
    { name: 'viewer', permissions: ['view', 'send'] },
    { name: 'folder admin', permissions: ['view', 'send', 'admin'], folderId },
  ]) {
    const created = await call('/v1/api-keys', { body });
    expect(created.status).toBe(201);
    const as = apiClient(() => api.url, () => created.body.key);
    for (const [path, method, payload] of [
      ['/v1/retention-policy', 'GET', undefined],
      ['/v1/retention-policy', 'PUT', { unfinishedDays: 1 }],
      [`/v1/folders/${folderId}/retention-policy`, 'PUT', { unfinishedDays: 1 }],
      [`/v1/signing-requests/${id}/legal-hold`, 'PUT', { reason: 'Mine' }],
      [`/v1/folders/${folderId}/legal-hold`, 'DELETE', undefined],
      ['/v1/retention/upcoming', 'GET', undefined],
    ] as const) {
      expect([path, method, (await as(path, { method, body: payload })).status]).toEqual([path, method, 403]);
    }
  }
  expect((await call('/v1/retention-policy')).body.settings.unfinishedDays).toBe(60);
});

describe('the daily retention sweep', () => {
  let round: CompletedRound;
  let roundOrgId: string;
  let roundOwnerEmail: string;
  const ids: Record<'due' | 'recent' | 'held' | 'inHeldFolder' | 'inHeldSubfolder', string> = {} as never;
  const kyc: Record<'due' | 'recent', string> = {} as never;
  let heldFolder: string;

  /** A KYC case created and cancelled through the API, its workflow ended, `yearsAgo` years back. */
  async function cancelledCase(yearsAgo: number): Promise<string> {
    const created = await call('/v1/kyc-cases', { body: { customer: { type: 'person', name: 'Aino Virtanen', email: `customer-${randomUUID()}@example.test` } } });
    expect(created.status).toBe(201);
    expect((await call(`/v1/kyc-cases/${created.body.id}/cancel`, { body: { reason: 'Relationship ended' } })).status).toBe(200);
    await api.client.workflow.getHandle(`kyc-case-${created.body.id}`).result();
    await dataSource.query(`UPDATE kyc_cases SET ended_at = now() - make_interval(years => $2) WHERE id = $1`, [created.body.id, yearsAgo]);
    return created.body.id;
  }

  beforeAll(async () => {
    // A sealed contract, in an organisation of its own on the default policy: completed 11 years ago.
    round = await completeOneRound(api, dataSource, smtp, pdf);
    [{ organization_id: roundOrgId }] = await dataSource.query(`SELECT organization_id FROM signing_requests WHERE id = $1`, [round.id]);
    [{ email: roundOwnerEmail }] = await dataSource.query(
      `SELECT u.email FROM memberships m JOIN users u ON u.id = m.user_id WHERE m.organization_id = $1 AND m.role = 'owner'`,
      [roundOrgId],
    );
    await endedDaysAgo(round.id, 11 * 366);

    // This organisation keeps cancelled requests 60 days (set in the API tests above).
    heldFolder = await createFolder(`Litigation ${randomUUID().slice(0, 6)}`);
    const subfolder = (await call('/v1/folders', { body: { name: 'Exhibits', parentId: heldFolder } })).body.id as string;
    ids.due = await cancelledRequest('Due for deletion');
    ids.recent = await cancelledRequest('Cancelled last month');
    ids.held = await cancelledRequest('Held request');
    ids.inHeldFolder = await cancelledRequest('In a held folder', heldFolder);
    ids.inHeldSubfolder = await cancelledRequest('In a held subfolder', subfolder);
    for (const id of [ids.due, ids.held, ids.inHeldFolder, ids.inHeldSubfolder]) await endedDaysAgo(id, 70);
    await endedDaysAgo(ids.recent, 30);
    // KYC cases: kept 5 years after they end (the default).
    kyc.due = await cancelledCase(6);
    kyc.recent = await cancelledCase(1);
    expect((await call(`/v1/signing-requests/${ids.held}/legal-hold`, { method: 'PUT', body: { reason: 'Audit by the tax authority' } })).status).toBe(200);
    expect((await call(`/v1/folders/${heldFolder}/legal-hold`, { method: 'PUT', body: { reason: 'Litigation' } })).status).toBe(200);
  });

  test('the first run gives notice: one summary email per organisation, nothing deleted', async () => {
    const result = await runSweepOnce([org.orgId, roundOrgId]);
    expect(result).toMatchObject({ noticed: 3, deleted: 0, failed: 0 });

    const [notice] = await smtp.waitForMail(ownerEmail, 'will be deleted under the retention policy');
    expect(notice!.subject).toContain('2 records of');
    // By id and link, never by title: the email outlives the deletion it announces.
    expect(notice!.text).toContain(`Signing request ${ids.due} (Cancelled)`);
    expect(notice!.text).toContain(`${api.config.http.publicUrl}/requests/${ids.due}`);
    expect(notice!.text).not.toContain('Due for deletion');
    expect(notice!.text).toContain(`KYC case ${kyc.due} (Cancelled)`);
    expect(notice!.text).toContain('KYC cases are kept 1826 days after the case ends (default)');
    expect(notice!.text).not.toContain(kyc.recent);
    expect(notice!.text).toContain('Declined, expired and cancelled requests are kept 60 days (organisation policy)');
    expect(notice!.text).toContain('legal hold');
    for (const id of [ids.recent, ids.held, ids.inHeldFolder, ids.inHeldSubfolder]) expect(notice!.text).not.toContain(id);
    const [other] = await smtp.waitForMail(roundOwnerEmail, 'will be deleted under the retention policy');
    expect(other!.text).toContain('Completed requests are kept 3653 days (default)');

    const upcoming = await call('/v1/retention/upcoming');
    expect(upcoming.status).toBe(200);
    expect(upcoming.body.items.map((item: Json) => item.id).sort()).toEqual([ids.due, kyc.due].sort());
    const item = upcoming.body.items.find((item: Json) => item.id === ids.due);
    expect(item).toMatchObject({ kind: 'signing_request', id: ids.due, title: 'Due for deletion', status: 'cancelled', rule: `retention:organization:${org.orgId}` });
    // The organisation's 7-day notice period.
    const days = (Date.parse(item.deleteNotBefore) - Date.parse(item.noticedAt)) / 86_400_000;
    expect(days).toBeCloseTo(7, 1);

    for (const id of Object.values(ids)) expect((await call(`/v1/signing-requests/${id}`)).status).toBe(200);
    // The read model names the hold that applies: its parent folder's.
    expect((await call(`/v1/signing-requests/${ids.inHeldSubfolder}`)).body.legalHold).toMatchObject({ reason: 'Litigation', folderId: heldFolder });
    expect(await findDeletionReceipt(api.signing, { kind: 'signing_request', id: round.id })).toBeUndefined();

    // A run the same day before the notice period has passed notices nothing new and deletes nothing.
    expect(await runSweepOnce([org.orgId, roundOrgId])).toMatchObject({ noticed: 0, deleted: 0 });
    expect(smtp.to(ownerEmail, 'will be deleted under the retention policy')).toHaveLength(1);
  });

  test('after the notice period, the run shreds exactly what is due, with receipts naming the rule; held and recent records stay', async () => {
    await dataSource.query(`UPDATE retention_notices SET delete_not_before = now() - interval '1 minute' WHERE organization_id = ANY($1) AND state = 'pending'`, [
      [org.orgId, roundOrgId],
    ]);
    const result = await runSweepOnce([org.orgId, roundOrgId]);
    expect(result).toMatchObject({ deleted: 3, failed: 0 });

    const due = await findDeletionReceipt(api.signing, { kind: 'signing_request', id: ids.due });
    expect(due).toMatchObject({
      rule: `retention:organization:${org.orgId}`,
      reason: 'Declined, expired and cancelled requests are kept 60 days (organisation policy)',
      actor: 'system:retention',
    });
    const sealed = await findDeletionReceipt(api.signing, { kind: 'signing_request', id: round.id });
    expect(sealed).toMatchObject({ rule: 'retention:default', reason: 'Completed requests are kept 3653 days (default)', sealedSha256: round.sha256 });

    expect(await findDeletionReceipt(api.signing, { kind: 'kyc_case', id: kyc.due })).toMatchObject({
      rule: 'retention:default',
      reason: 'KYC cases are kept 1826 days after the case ends (default)',
    });
    expect(await findDeletionReceipt(api.signing, { kind: 'kyc_case', id: kyc.recent })).toBeUndefined();
    expect((await call(`/v1/kyc-cases/${kyc.recent}`)).status).toBe(200);
    for (const id of [ids.recent, ids.held, ids.inHeldFolder, ids.inHeldSubfolder]) {
      expect(await findDeletionReceipt(api.signing, { kind: 'signing_request', id })).toBeUndefined();
      expect((await call(`/v1/signing-requests/${id}`)).status).toBe(200);
    }
    expect((await call('/v1/retention/upcoming')).body.items).toEqual([]);
    // Receipts are in the organisation's audit log.
    const deleted = ((await call('/v1/audit-log')).body.events as Json[]).filter((event) => event.type === 'record_deleted');
    expect(deleted).toHaveLength(2);
  });

  test('a notice nobody was emailed (its run died before the email) deletes nothing: it is withdrawn and given again', async () => {
    const id = await cancelledRequest('Noticed by a lost run');
    await endedDaysAgo(id, 70);
    await dataSource.query(
      `INSERT INTO retention_notices (organization_id, record_kind, record_id, rule, reason, noticed_at, delete_not_before, batch_id)
       VALUES ($1, 'signing_request', $2, $3, 'test', now() - interval '8 days', now() - interval '1 day', 'retention-sweep-lost-run')`,
      [org.orgId, id, `retention:organization:${org.orgId}`],
    );
    expect(await runSweepOnce([org.orgId])).toMatchObject({ deleted: 0 });
    expect(await findDeletionReceipt(api.signing, { kind: 'signing_request', id })).toBeUndefined();
    expect((await call(`/v1/signing-requests/${id}`)).status).toBe(200);
    expect(await runSweepOnce([org.orgId])).toMatchObject({ noticed: 1, deleted: 0 });
    await waitFor('the notice naming it', () => smtp.to(ownerEmail, 'will be deleted under the retention policy').find((mail) => mail.text.includes(id)));
    // Out of the way of the next tests: not due any more, its notice ended.
    await endedDaysAgo(id, 1);
    await dataSource.query(`UPDATE retention_notices SET state = 'cleared', ended_at = now() WHERE record_id = $1 AND state = 'pending'`, [id]);
  });

  test('a hold placed after the notice stops the deletion and clears the notice; lifting it lets the next run notice again', async () => {
    const id = await cancelledRequest('Held after notice');
    await endedDaysAgo(id, 70);
    expect(await runSweepOnce([org.orgId])).toMatchObject({ noticed: 1 });
    expect((await call(`/v1/signing-requests/${id}/legal-hold`, { method: 'PUT', body: { reason: 'Complaint received' } })).status).toBe(200);
    expect((await call('/v1/retention/upcoming')).body.items).toEqual([]);
    await dataSource.query(`UPDATE retention_notices SET delete_not_before = now() - interval '1 minute' WHERE record_id = $1`, [id]);
    expect(await runSweepOnce([org.orgId])).toMatchObject({ noticed: 0, deleted: 0 });
    expect((await call(`/v1/signing-requests/${id}`)).status).toBe(200);

    expect((await call(`/v1/signing-requests/${id}/legal-hold`, { method: 'DELETE' })).status).toBe(200);
    expect(await runSweepOnce([org.orgId])).toMatchObject({ noticed: 1, deleted: 0 });
    expect((await call('/v1/retention/upcoming')).body.items.map((item: Json) => item.id)).toEqual([id]);
  });
});

describe("the notice's copy in the default outbox", () => {
  let outboxApi: TestApi;
  let outboxOrg: Awaited<ReturnType<typeof createTestOrganization>>;
  const outboxCall = apiClient(() => outboxApi.url, () => outboxOrg.apiKey);

  beforeAll(async () => {
    // No SMTP_URL: mail goes to the outbox folder under DATA_DIR, one .eml per message, as by default.
    outboxApi = await startTestApi(dataSource);
    outboxOrg = await createTestOrganization(dataSource);
  });

  afterAll(async () => {
    await outboxApi?.close();
  });

  test('names the records by id and link, not title: once the sweep has shredded them, no outbox file holds their titles', async () => {
    const title = `Settlement with Jane Roe ${randomUUID().slice(0, 8)}`;
    const created = await outboxCall('/v1/signing-requests', { body: signingRequestBody(pdf.toString('base64'), title) });
    expect(created.status).toBe(201);
    const id: string = created.body.id;
    expect((await outboxCall(`/v1/signing-requests/${id}/cancel`, { body: { reason: 'No longer needed' } })).status).toBe(200);
    await outboxApi.client.workflow.getHandle(workflowIdForRequest(id)).result();
    await endedDaysAgo(id, 100);

    const outbox = (outboxApi.config.mail as { dir: string }).dir;
    const messages = async () =>
      Promise.all(
        fs.readdirSync(outbox).map(async (name) => {
          const raw = fs.readFileSync(path.join(outbox, name));
          const parsed = await simpleParser(raw);
          return { name, content: [raw.toString('utf8'), parsed.subject ?? '', parsed.text ?? '', parsed.html || ''].join('\n') };
        }),
      );
    expect(await runSweepOnce([outboxOrg.orgId], outboxApi)).toMatchObject({ noticed: 1, deleted: 0 });
    const notice = (await messages()).find((message) => message.name.startsWith('retention-notice-'));
    expect(notice?.content).toContain(`${outboxApi.config.http.publicUrl}/requests/${id}`);

    await dataSource.query(`UPDATE retention_notices SET delete_not_before = now() - interval '1 minute' WHERE record_id = $1 AND state = 'pending'`, [id]);
    expect(await runSweepOnce([outboxOrg.orgId], outboxApi)).toMatchObject({ deleted: 1, failed: 0 });
    expect(await findDeletionReceipt(outboxApi.signing, { kind: 'signing_request', id })).toMatchObject({ actor: 'system:retention' });
    expect((await messages()).filter((message) => message.content.includes(title)).map((message) => message.name)).toEqual([]);
  });
});
