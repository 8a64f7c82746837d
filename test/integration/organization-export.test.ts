/**
 * Export and leaving (R13) against the real Temporal dev server, PostgreSQL and pyHanko: an organisation with
 * a sealed request, a pending one and a KYC case exports everything; the ZIP downloads with its SHA-256,
 * every manifest SHA-256 matches, the sealed PDF is pyHanko-valid and its audit trail verifies; the export is
 * also written in several parts and reads back whole. Only owners and administrators may export. Closing
 * with the time-skipping test server: after the grace period the organisation key is destroyed, its
 * documents are unreadable, its keys refused, the final receipt kept and emailed; a cancel during the grace
 * keeps everything.
 */
import { X509Certificate, createHash, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { unzipSync } from 'fflate';
import type { DataSource } from 'typeorm';
import { organizationScope } from '../../src/accounts/access';
import { createOrganization } from '../../src/accounts/create-organization';
import {
  cancelOrganizationClosing,
  requestOrganizationClosing,
  workflowIdForClosing,
} from '../../src/organization-export/close-organization';
import { buildOrganizationExport } from '../../src/organization-export/build-organization-export';
import { completeExport, requestOrganizationExport } from '../../src/organization-export/organization-exports';
import { shredRecord } from '../../src/privacy/shred-record';
import { workflowIdForRequest } from '../../src/signing/create-signing-request';
import { apiClient, type ApiCall, type Json } from '../support/api-client';
import { createTestOrganization } from '../support/factories';
import { harness, openTestDataSource, startTestApi, type TestApi } from '../support/harness';
import { goodPassword, inviteMember, outboxMessage, signIn, tokenOf } from '../support/members';
import { createMotoBucket, motoRegion, motoUrl, readBucketObjects } from '../support/moto';
import { createTestPdf } from '../support/pdf-factories';
import { pyhankoValidate } from '../support/pdf-validators';
import { reportDocumentDisplayed } from '../support/signer-reading';
import { startTimeSkipping } from '../support/time-skipping';
import { waitFor } from '../support/wait-for';

let dataSource: DataSource;
let api: TestApi;
let pdf: Buffer;

beforeAll(async () => {
  dataSource = await openTestDataSource();
  api = await startTestApi(dataSource);
  pdf = Buffer.from(await createTestPdf());
});

afterAll(async () => {
  await api?.close();
  await dataSource?.destroy();
});

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

function outboxMail(prefix: string): Promise<string> {
  return waitFor(`the email ${prefix}`, () => {
    try {
      return outboxMessage(api, 'mail', prefix);
    } catch {
      return undefined;
    }
  });
}

function requestBody(title: string) {
  return {
    title,
    document: { filename: 'agreement.pdf', contentBase64: pdf.toString('base64') },
    signers: [{ name: 'Aino Virtanen', email: `signer-${randomUUID()}@example.test`, pinDelivery: 'sender' }],
  };
}

/** A request signed the way a signer does it (invitation from the outbox, PIN from the create answer), sealed. */
async function sealedRequest(call: ApiCall): Promise<string> {
  const created = await call('/v1/signing-requests', { body: requestBody('Lease agreement') });
  expect(created.status).toBe(201);
  const signer = created.body.signers[0];
  const invitation = await outboxMail(`invitation-${signer.id}`);
  const token = /\/s\/([0-9a-f]{64})/.exec(invitation)![1];
  const anonymous = apiClient(() => api.url, () => null);
  const session = await anonymous('/v1/signer/session', { body: { token, pin: signer.pin } });
  expect(session.status).toBe(200);
  await reportDocumentDisplayed(anonymous, session.body.sessionToken);
  expect((await anonymous('/v1/signer/sign', { key: session.body.sessionToken, body: { typedName: 'Aino Virtanen', consent: true } })).status).toBe(200);
  await waitFor('the request sealed', async () => (await call(`/v1/signing-requests/${created.body.id}`)).body.status === 'completed', 60_000);
  return created.body.id;
}

/** The signer's session, from their invitation and the PIN the create answer carried. */
async function openSignerSession(signer: Json): Promise<string> {
  const invitation = await outboxMail(`invitation-${signer.id}`);
  const token = /\/s\/([0-9a-f]{64})/.exec(invitation)![1];
  const session = await apiClient(() => api.url, () => null)('/v1/signer/session', { body: { token, pin: signer.pin } });
  expect(session.status).toBe(200);
  return session.body.sessionToken;
}

async function exportCompleted(call: ApiCall, id: string): Promise<{ view: Json; seen: Set<string> }> {
  const seen = new Set<string>();
  const view = await waitFor(
    'the export completed',
    async () => {
      const got = await call(`/v1/organization/exports/${id}`);
      expect(got.status).toBe(200);
      seen.add(got.body.status);
      expect(got.body.status).not.toBe('failed');
      return got.body.status === 'completed' ? got.body : undefined;
    },
    120_000,
  );
  return { view, seen };
}

describe('organisation export', () => {
  let org: Awaited<ReturnType<typeof createTestOrganization>>;
  let call: ApiCall;
  let sealedId: string;
  let pendingId: string;
  let caseId: string;
  let shreddedId: string;

  beforeAll(async () => {
    org = await createTestOrganization(dataSource);
    call = apiClient(() => api.url, () => org.apiKey);
    sealedId = await sealedRequest(call);
    const pending = await call('/v1/signing-requests', { body: requestBody('Pending offer') });
    expect(pending.status).toBe(201);
    pendingId = pending.body.id;
    const kycCase = await call('/v1/kyc-cases', { body: { customer: { type: 'person', name: 'Matti Meikäläinen', email: `customer-${randomUUID()}@example.test` } } });
    expect(kycCase.status).toBe(201);
    caseId = kycCase.body.id;
    // A withdrawn offer, then deleted for good: the export lists it as a tombstone with its receipt.
    const withdrawn = await call('/v1/signing-requests', { body: requestBody('Withdrawn offer') });
    shreddedId = withdrawn.body.id;
    expect((await call(`/v1/signing-requests/${shreddedId}/cancel`, { body: { reason: 'Withdrawn' } })).status).toBe(200);
    await waitFor('the withdrawn round ended', async () => {
      const description = await api.client.workflow.getHandle(workflowIdForRequest(shreddedId)).describe();
      return description.status.name !== 'RUNNING';
    });
    await shredRecord(api.signing, { kind: 'signing_request', id: shreddedId }, { rule: 'manual', reason: 'Withdrawn offer deleted', actor: 'system' });
  }, 120_000);

  it('exports every request and KYC case as a ZIP whose manifest, sealed PDFs and audit trails verify', async () => {
    const requested = await call('/v1/organization/exports', { method: 'POST' });
    expect(requested.status).toBe(202);
    expect(['queued', 'running', 'completed']).toContain(requested.body.status);
    const { view } = await exportCompleted(call, requested.body.id);
    // Progress: every request and case of the organisation counted and done.
    expect(view).toMatchObject({ itemsTotal: 4, itemsDone: 4 });
    expect(view.downloadUrl).toBe(`${api.url}/v1/organization/exports/${requested.body.id}/download`);
    const listed = await call('/v1/organization/exports');
    expect(listed.body.exports.map((item: Json) => item.id)).toContain(requested.body.id);

    const download = await call(`/v1/organization/exports/${requested.body.id}/download`);
    expect(download.status).toBe(200);
    expect(download.headers.get('content-type')).toBe('application/zip');
    const zip: Buffer = download.body;
    expect(zip.length).toBe(view.sizeBytes);
    expect(sha256(zip)).toBe(view.sha256);
    expect(download.headers.get('x-content-sha256')).toBe(view.sha256);

    const files = unzipSync(new Uint8Array(zip));
    const manifest = JSON.parse(Buffer.from(files['manifest.json']!).toString('utf8'));
    expect(manifest.organizationId).toBe(org.orgId);
    for (const entry of manifest.files as Array<{ name: string; sha256: string; size: number }>) {
      expect(files[entry.name]).toBeDefined();
      expect({ name: entry.name, sha256: sha256(files[entry.name]!), size: files[entry.name]!.length }).toEqual(entry);
    }
    // Everything in the archive is in the manifest (but the manifest itself and the README after it).
    expect(Object.keys(files).sort()).toEqual([...manifest.files.map((entry: Json) => entry.name), 'manifest.json', 'README.txt'].sort());
    expect(Buffer.from(files['README.txt']!).toString('utf8')).toContain('How to verify');

    // The sealed request: original as uploaded, the sealed PDF pyHanko-valid, its audit trail's chain intact.
    expect(Buffer.from(files[`requests/${sealedId}/original.pdf`]!)).toEqual(pdf);
    const sealed = files[`requests/${sealedId}/sealed.pdf`]!;
    const metadata = JSON.parse(Buffer.from(files[`requests/${sealedId}/request.json`]!).toString('utf8'));
    expect(metadata).toMatchObject({ id: sealedId, status: 'completed', sha256: sha256(sealed) });
    const dir = harness.tempDir('organization-export');
    const sealedFile = path.join(dir, 'sealed.pdf');
    fs.writeFileSync(sealedFile, sealed);
    const trust = path.join(dir, 'seal.pem');
    fs.writeFileSync(trust, new X509Certificate((await api.signing.sealKey()).certificateChain[0]!).toString());
    expect(pyhankoValidate(sealedFile, trust).output).toContain('The signature is judged VALID.');
    const trail = JSON.parse(Buffer.from(files[`requests/${sealedId}/audit-trail.json`]!).toString('utf8'));
    expect(trail.chainValid).toBe(true);
    const events = trail.events as Json[];
    expect(events.map((event) => event.sequence)).toEqual(events.map((_, index) => index + 1));
    events.forEach((event, index) => {
      expect(event.prevHash).toBe(index === 0 ? null : events[index - 1].hash);
      expect(event.chainFormat).toBe(2);
    });
    expect(trail.chainHead).toBe(events[events.length - 1].hash);
    expect(events.map((event) => event.type)).toContain('sealed');
    // The same trail the API verifies.
    const apiTrail = await call(`/v1/signing-requests/${sealedId}/audit-trail`);
    expect(apiTrail.body.chainHead).toBe(trail.chainHead);

    // The pending request (no sealed PDF yet) and the KYC case are there too.
    expect(files[`requests/${pendingId}/original.pdf`]).toBeDefined();
    expect(files[`requests/${pendingId}/sealed.pdf`]).toBeUndefined();
    expect(JSON.parse(Buffer.from(files[`requests/${pendingId}/request.json`]!).toString('utf8')).status).toBe('pending');
    expect(JSON.parse(Buffer.from(files[`kyc-cases/${caseId}/case.json`]!).toString('utf8'))).toMatchObject({ id: caseId, status: 'invited' });
    expect(JSON.parse(Buffer.from(files[`kyc-cases/${caseId}/audit-trail.json`]!).toString('utf8')).chainValid).toBe(true);
    // The deleted request: no content, a tombstone with its deletion receipt.
    expect(Object.keys(files).filter((name) => name.includes(shreddedId))).toEqual([]);
    expect(manifest.deletedRecords).toEqual([
      expect.objectContaining({ kind: 'signing_request', id: shreddedId, receipt: expect.objectContaining({ rule: 'manual', reason: 'Withdrawn offer deleted' }) }),
    ]);

    // The requester (an API key: the owners) is told by email; the audit log has request, completion, download.
    expect(await outboxMail(`organization-export-ready-${requested.body.id}-${org.ownerUserId}`)).toContain(view.sha256);
    const log = await call('/v1/audit-log');
    const types = (log.body.events as Json[]).filter((event) => event.detail?.exportId === requested.body.id).map((event) => event.type);
    expect(types).toEqual(expect.arrayContaining(['organization.export_requested', 'organization.export_completed', 'organization.export_downloaded']));
  }, 180_000);

  it('writes the ZIP in parts that download as one archive', async () => {
    const started = await requestOrganizationExport(
      api.signing,
      { client: api.client, taskQueue: api.taskQueue },
      { scope: organizationScope(org.orgId), actor: { actor: 'system' } },
      { partBytes: 16 * 1024 },
    );
    const { view } = await exportCompleted(call, started.id);
    const [row]: Array<{ part_count: number }> = await dataSource.query(`SELECT part_count FROM organization_exports WHERE id = $1`, [started.id]);
    expect(row!.part_count).toBe(Math.ceil(view.sizeBytes / (16 * 1024)));
    expect(row!.part_count).toBeGreaterThan(1);
    const download = await call(`/v1/organization/exports/${started.id}/download`);
    expect(sha256(download.body)).toBe(view.sha256);
    const files = unzipSync(new Uint8Array(download.body));
    expect(Buffer.from(files[`requests/${sealedId}/original.pdf`]!)).toEqual(pdf);
  }, 180_000);

  it('a late retry of the writing step changes nothing: the first attempt to finish names the parts', async () => {
    const started = await requestOrganizationExport(api.signing, { client: api.client, taskQueue: api.taskQueue }, { scope: organizationScope(org.orgId), actor: { actor: 'system' } });
    const { view } = await exportCompleted(call, started.id);
    const [before]: Array<{ blob_key: string; part_count: number }> = await dataSource.query(`SELECT blob_key, part_count FROM organization_exports WHERE id = $1`, [started.id]);
    // An attempt that was given up on (its heartbeat timed out) but ran on, finishing after the export completed.
    const late = await buildOrganizationExport(api.signing, { exportId: started.id, attempt: 9, partBytes: 4096 }, async () => undefined);
    expect(late.blobKey).not.toBe(before!.blob_key);
    await completeExport(api.signing, started.id, late);
    const [after]: Array<{ blob_key: string; part_count: number; sha256: string }> = await dataSource.query(
      `SELECT blob_key, part_count, sha256 FROM organization_exports WHERE id = $1`,
      [started.id],
    );
    expect(after).toEqual({ ...before, sha256: view.sha256 });
    // The late attempt's own parts are gone; the export's are there.
    expect(await api.signing.adapters.blobStore.get(`${late.blobKey}.part-00000`)).toBeUndefined();
    expect(await api.signing.adapters.blobStore.get(`${before!.blob_key}.part-00000`)).toBeDefined();
    const download = await call(`/v1/organization/exports/${started.id}/download`);
    expect(sha256(download.body)).toBe(view.sha256);
    expect(Object.keys(unzipSync(new Uint8Array(download.body)))).toContain('manifest.json');
  });

  it('refuses a body with any field (400 naming it, as everywhere) and starts nothing; none or {} is the request', async () => {
    const before = (await call('/v1/organization/exports')).body.exports.length;
    for (const body of [{ format: 'csv' }, { include: ['kyc'] }]) {
      const refused = await call('/v1/organization/exports', { method: 'POST', body });
      expect([refused.status, refused.body.error?.code]).toEqual([400, 'invalid_request']);
      expect(refused.body.error.message).toMatch(/^body/);
      expect(refused.body.error.message).toContain(Object.keys(body)[0]);
    }
    expect((await call('/v1/organization/exports')).body.exports.length).toBe(before);
    // Cancelling a closing takes no options either (checked before its state: no closing here).
    const cancel = await call('/v1/organization/close', { method: 'DELETE', body: { force: true } });
    expect([cancel.status, cancel.body.error?.code]).toEqual([400, 'invalid_request']);
  });

  it('is for owners and administrators only', async () => {
    const viewerKey = (await call('/v1/api-keys', { body: { name: 'Reporting', permissions: ['view', 'send'] } })).body.key;
    const viewer = apiClient(() => api.url, () => viewerKey);
    expect((await viewer('/v1/organization/exports', { method: 'POST' })).status).toBe(403);
    expect((await viewer('/v1/organization/exports')).status).toBe(403);
    const [anyExport] = (await call('/v1/organization/exports')).body.exports as Json[];
    expect((await viewer(`/v1/organization/exports/${anyExport.id}/download`)).status).toBe(403);
    // Another organisation's export is not found.
    const other = await createTestOrganization(dataSource);
    expect((await apiClient(() => api.url, () => other.apiKey)(`/v1/organization/exports/${anyExport.id}`)).status).toBe(404);
  });
});

describe("export to the customer's bucket (EXPORT_S3_*)", () => {
  it('writes the same ZIP to <prefix>/<organisation>/<export>/export.zip and says where', async () => {
    const bucket = await createMotoBucket('customer-exports');
    const targetApi = await startTestApi(dataSource, {
      env: { EXPORT_S3_BUCKET: bucket, EXPORT_S3_PREFIX: 'from-sigill/', EXPORT_S3_ENDPOINT: motoUrl(), EXPORT_S3_REGION: motoRegion, EXPORT_S3_ACCESS_KEY_ID: 'test', EXPORT_S3_SECRET_ACCESS_KEY: 'test' },
    });
    try {
      const org = await createTestOrganization(dataSource);
      const call = apiClient(() => targetApi.url, () => org.apiKey);
      expect((await call('/v1/signing-requests', { body: requestBody('Offer') })).status).toBe(201);
      const requested = await call('/v1/organization/exports', { method: 'POST' });
      const key = `from-sigill/${org.orgId}/${requested.body.id}/export.zip`;
      const view = await waitFor('the export copied', async () => {
        const got = await call(`/v1/organization/exports/${requested.body.id}`);
        return got.body.targetLocation ? got.body : undefined;
      });
      expect(view.targetLocation).toBe(`s3://${bucket}/${key}`);
      const objects = await readBucketObjects(bucket);
      expect(objects.map((object) => object.key)).toEqual([key]);
      expect(sha256(objects[0]!.body)).toBe(view.sha256);
      expect(Object.keys(unzipSync(new Uint8Array(objects[0]!.body)))).toContain('manifest.json');
    } finally {
      await targetApi.close();
    }
  });
});

describe('closing an organisation', () => {
  it('an owner asks through the API (name confirmed); API keys cannot; a cancel during the grace keeps it open', async () => {
    const email = `owner-${randomUUID()}@example.test`;
    const org = await createOrganization(dataSource, { name: `Closing ${randomUUID().slice(0, 8)}`, ownerEmail: email }, { publicUrl: api.url });
    const call = apiClient(() => api.url, () => org.apiKey);
    const [organization]: Array<{ name: string }> = await dataSource.query(`SELECT name FROM organizations WHERE id = $1`, [org.orgId]);
    expect((await call('/v1/organization/close', { body: { confirm: organization!.name } })).status).toBe(403);
    // The owner chooses a password from their link and signs in.
    const set = await apiClient(() => api.url, () => null)('/v1/auth/password', { body: { token: tokenOf(org.ownerPasswordLink!), password: goodPassword } });
    expect(set.status).toBe(200);
    const { browser } = await signIn(api, email, goodPassword);
    // An administrator who is not an owner cannot close it.
    const adminEmail = `admin-${randomUUID()}@example.test`;
    await inviteMember(api, org.apiKey, { email: adminEmail, role: 'admin', name: 'Admin', password: goodPassword });
    const admin = (await signIn(api, adminEmail, goodPassword)).browser;
    expect((await admin.call('/v1/organization/close', { body: { confirm: organization!.name } })).status).toBe(403);
    expect((await browser.call('/v1/organization/close', { body: { confirm: 'Some other name' } })).status).toBe(422);
    const closing = await browser.call('/v1/organization/close', { body: { confirm: organization!.name, graceDays: 14 } });
    expect(closing.status).toBe(202);
    expect(closing.body).toMatchObject({ state: 'closing' });
    expect(new Date(closing.body.closesAt).getTime() - new Date(closing.body.requestedAt).getTime()).toBe(14 * 24 * 3600_000);
    expect(closing.body.exportId).toEqual(expect.any(String)); // the export offered
    expect((await browser.call('/v1/organization/close', { body: { confirm: organization!.name } })).status).toBe(409);
    const cancelled = await browser.call('/v1/organization/close', { method: 'DELETE' });
    expect(cancelled.status).toBe(200);
    expect(cancelled.body.state).toBe('open');
    expect((await api.client.workflow.getHandle(workflowIdForClosing(org.orgId)).result()).status).toBe('cancelled');
    expect((await call('/v1/organization')).status).toBe(200);

    // A closing deletes everything, so it waits for no legal hold: a held request must be released first,
    // and no hold can be placed while a closing is pending.
    const held = (await call('/v1/signing-requests', { body: requestBody('Held offer') })).body.id as string;
    expect((await call(`/v1/signing-requests/${held}/cancel`, { body: { reason: 'Disputed' } })).status).toBeLessThan(300);
    expect((await browser.call(`/v1/signing-requests/${held}/legal-hold`, { method: 'PUT', body: { reason: 'Dispute with the buyer' } })).status).toBe(200);
    const refused = await browser.call('/v1/organization/close', { body: { confirm: organization!.name } });
    expect([refused.status, refused.body.error.code]).toEqual([409, 'legal_hold']);
    expect((await browser.call(`/v1/signing-requests/${held}/legal-hold`, { method: 'DELETE' })).status).toBe(200);
    expect((await browser.call('/v1/organization/close', { body: { confirm: organization!.name } })).status).toBe(202);
    const holdWhileClosing = await browser.call(`/v1/signing-requests/${held}/legal-hold`, { method: 'PUT', body: { reason: 'Too late' } });
    expect([holdWhileClosing.status, holdWhileClosing.body.error.code]).toEqual([409, 'conflict']);
    expect((await browser.call('/v1/organization/close', { method: 'DELETE' })).status).toBe(200);
    expect((await browser.call(`/v1/signing-requests/${held}/legal-hold`, { method: 'PUT', body: { reason: 'Now it can' } })).status).toBe(200);
  }, 120_000);

  it('after the grace period destroys the organisation key and issues the final receipt; a cancelled closing keeps everything', async () => {
    const closed = await createTestOrganization(dataSource);
    const kept = await createTestOrganization(dataSource);
    const closedCall = apiClient(() => api.url, () => closed.apiKey);
    const keptCall = apiClient(() => api.url, () => kept.apiKey);
    const closedRequest = await sealedRequest(closedCall);
    // Still out for signing when the grace ends: the closing waits for it.
    const openOffer = (await closedCall('/v1/signing-requests', { body: requestBody('Open offer') })).body;
    const signerSession = await openSignerSession(openOffer.signers[0]);
    const keptRequest = (await keptCall('/v1/signing-requests', { body: requestBody('Kept offer') })).body.id as string;
    const [{ sealed_blob_key: sealedKey, document_code: sealedCode }] = await dataSource.query(
      `SELECT sealed_blob_key, document_code FROM signing_requests WHERE id = $1`,
      [closedRequest],
    );
    const names: Array<{ id: string; name: string }> = await dataSource.query(`SELECT id, name FROM organizations WHERE id = ANY($1)`, [[closed.orgId, kept.orgId]]);
    const nameOf = (id: string) => names.find((row) => row.id === id)!.name;
    const owner = (orgId: string, userId: string) => ({ scope: organizationScope(orgId), actor: { actor: `user:${userId}` }, isOwner: true, userId });

    const timeSkipping = await startTimeSkipping(api.signing);
    try {
      await timeSkipping.withWorker(async (taskQueue) => {
        const temporal = { client: timeSkipping.env.client, taskQueue };
        await requestOrganizationClosing(api.signing, temporal, owner(closed.orgId, closed.ownerUserId), { confirm: nameOf(closed.orgId) });
        await requestOrganizationClosing(api.signing, temporal, owner(kept.orgId, kept.ownerUserId), { confirm: nameOf(kept.orgId) });
        // Ten days into the 30-day grace, one organisation changes its mind.
        await timeSkipping.env.sleep('10 days');
        expect((await keptCall('/v1/organization/closing')).body.state).toBe('closing');
        await cancelOrganizationClosing(api.signing, temporal, owner(kept.orgId, kept.ownerUserId));
        expect((await temporal.client.workflow.getHandle(workflowIdForClosing(kept.orgId)).result()).status).toBe('cancelled');
        // Past the grace: work has stopped (keys refused, nothing new), and the open round is waited for.
        await timeSkipping.env.sleep('21 days');
        await waitFor('work stopped', async () => (await closedCall('/v1/organization/closing')).body.state === 'stopped');
        expect((await closedCall('/v1/signing-requests', { body: requestBody('After the grace') })).body.error.code).toBe('organization_closed');
        expect((await closedCall(`/v1/signing-requests/${closedRequest}`)).status).toBe(403);
        await timeSkipping.env.sleep('1 day');
        expect((await closedCall('/v1/organization/closing')).body.state).toBe('stopped');
        // The signer ends it (signers are not the organisation's keys): then the organisation closes.
        const anonymous = apiClient(() => api.url, () => null);
        expect((await anonymous('/v1/signer/decline', { key: signerSession, body: { reason: 'No longer needed' } })).status).toBe(200);
        await waitFor('the open offer declined', async () => {
          const [row]: Array<{ status: string }> = await dataSource.query(`SELECT status FROM signing_requests WHERE id = $1`, [openOffer.id]);
          return row!.status === 'declined';
        });
        expect((await temporal.client.workflow.getHandle(workflowIdForClosing(closed.orgId)).result()).status).toBe('closed');
      });
    } finally {
      await timeSkipping.teardown();
    }

    // Closed: keys refused for everything but the closing's own state, which carries the final receipt.
    expect((await closedCall(`/v1/signing-requests/${closedRequest}/document`)).body.error.code).toBe('organization_closed');
    expect((await closedCall('/v1/signing-requests', { body: requestBody('After closing') })).status).toBe(403);
    const state = await closedCall('/v1/organization/closing');
    expect(state.status).toBe(200);
    expect(state.body).toMatchObject({ state: 'closed', receipt: { organizationId: closed.orgId, rule: 'organization-closed' } });
    expect(state.body.receipt.keyIdsDestroyed.length).toBeGreaterThan(0);
    // Its documents are gone (deleted, and their key destroyed); its rows are tombstones like deleted records',
    // each with a receipt under the closing's rule; no name, address or title is left in clear.
    expect(await api.signing.adapters.blobStore.get(sealedKey)).toBeUndefined();
    const requests: Array<{ id: string; title: string | null; document_filename: string | null; deleted_at: Date | null; rule: string | null }> = await dataSource.query(
      `SELECT r.id, r.title, r.document_filename, r.deleted_at, d.rule FROM signing_requests r LEFT JOIN deletion_receipts d ON d.id = r.deletion_receipt_id
        WHERE r.organization_id = $1`,
      [closed.orgId],
    );
    expect(requests.map((row) => row.id).sort()).toEqual([closedRequest, openOffer.id].sort());
    for (const row of requests) expect(row).toMatchObject({ title: null, document_filename: null, deleted_at: expect.any(Date), rule: 'organization-closed' });
    const signers: Array<{ name: string | null; email: string | null }> = await dataSource.query(
      `SELECT s.name, s.email FROM signers s JOIN signing_requests r ON r.id = s.request_id WHERE r.organization_id = $1`,
      [closed.orgId],
    );
    expect(signers.length).toBeGreaterThan(0);
    expect(signers.every((signer) => signer.name === null && signer.email === null)).toBe(true);
    const verified = await apiClient(() => api.url, () => null)(`/v1/verify/${sealedCode}`);
    expect(verified.body).toMatchObject({ deleted: { rule: 'organization-closed' } });
    expect(await outboxMail(`organization-closed-${closed.orgId}-${closed.ownerUserId}`)).toContain(state.body.receipt.id);

    // Kept: open, its request readable.
    expect((await keptCall('/v1/organization/closing')).body.state).toBe('open');
    expect((await keptCall(`/v1/signing-requests/${keptRequest}/original`)).status).toBe(200);
  }, 240_000);
});
