/**
 * Stuck-process visibility (issue 12 §3, R17) against the real parts: a round whose seal key cannot be
 * opened (the deployment's PKCS#12 file is missing, as when its secret was not mounted) keeps retrying its
 * seal; the worker's interceptor records each failure, and the round appears in GET /v1/stuck-rounds with
 * `seal_retrying` and in the `sigill_stuck_rounds` gauge. Once the key is there, the next retry seals, the
 * record is cleared and the round leaves the list. A round past its deadline whose workflow no worker runs
 * appears as `past_deadline`; one whose invitations cannot be sent (the mail server is unreachable) as
 * `activity_failing`. Callers see their own organisation's and folders' rounds only; support staff see the
 * list. A gauge whose query fails leaves the rest of the scrape intact.
 *
 * The file runs on a database of its own, so the deployment-wide gauge counts exactly this file's rounds.
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { DataSource } from 'typeorm';
import { createDataSource } from '../../src/database/data-source';
import { metricsRegistry } from '../../src/observability/metrics';
import { registerOperationalGauges, type OperationalGauges } from '../../src/observability/operational-gauges';
import { apiClient, type Json } from '../support/api-client';
import { createTestOrganization } from '../support/factories';
import { freePort } from '../support/free-port';
import { harness, startTestApi, testLog, type TestApi } from '../support/harness';
import { startIsolatedDatabase, type IsolatedDatabase } from '../support/isolated-database';
import { goodPassword, inviteMember, outboxMessage, signIn } from '../support/members';
import { createTestPdf } from '../support/pdf-factories';
import { runTool } from '../support/pdf-validators';
import { reportDocumentDisplayed } from '../support/signer-reading';
import { waitFor } from '../support/wait-for';

const sealPassword = `seal-${randomUUID()}`;
let sealKeyFile: string;
let database: IsolatedDatabase;
let dataSource: DataSource;
/** Rounds and signing run here; its worker seals with a key file that does not exist yet. */
let api: TestApi;
/** An API whose task queue no worker polls: its rounds' workflows never run (as with every worker gone). */
let unattended: TestApi;
let gauges: OperationalGauges;
let pdfBase64: string;

// Small thresholds: two failed seal attempts (5 s apart by the round's retry policy), a second past the
// deadline, two seconds overdue.
const thresholds = { STUCK_ACTIVITY_ATTEMPTS: '2', STUCK_DEADLINE_GRACE: 'PT1S', STUCK_PROGRESS_AFTER: 'PT2S' };

beforeAll(async () => {
  database = await startIsolatedDatabase('stuck');
  dataSource = database.dataSource;
  sealKeyFile = path.join(harness.tempDir('stuck-seal'), 'seal.p12');
  api = await startTestApi(dataSource, { env: { ...thresholds, SEAL_P12_PATH: sealKeyFile, SEAL_P12_PASSWORD: sealPassword } });
  unattended = await startTestApi(dataSource, { env: thresholds, withWorker: false });
  gauges = registerOperationalGauges({ dataSource, stuckRounds: api.config.stuckRounds, log: testLog });
  pdfBase64 = Buffer.from(await createTestPdf()).toString('base64');
});

afterAll(async () => {
  gauges?.unregister();
  await unattended?.close();
  await api?.close();
  await database?.stop();
});

const as = (key: string, target: () => TestApi = () => api) => apiClient(() => target().url, () => key);

const requestBody = (title: string, folderId?: string, signerEmail = `signer-${randomUUID()}@example.test`) => ({
  title,
  ...(folderId ? { folderId } : {}),
  document: { filename: 'agreement.pdf', contentBase64: pdfBase64 },
  signers: [{ name: 'Signer', email: signerEmail, pinDelivery: 'sender' }],
});

/** The round answered for `requestId` in the stuck list `call` gets, if it is there. */
async function stuckEntry(call: ReturnType<typeof as>, requestId: string): Promise<Json | undefined> {
  const answer = await call('/v1/stuck-rounds');
  expect(answer.status).toBe(200);
  return (answer.body.items as Json[]).find((item) => item.requestId === requestId);
}

const reasonCodes = (entry: Json) => (entry.reasons as Json[]).map((reason) => reason.code).sort();

/** `sigill_stuck_rounds` by reason, read from a whole scrape of the registry as Prometheus would read it. */
async function stuckGauge(): Promise<Record<string, number>> {
  const text = await metricsRegistry.metrics();
  const values: Record<string, number> = {};
  for (const [, reason, value] of text.matchAll(/^sigill_stuck_rounds\{reason="([a-z_]+)"\} (\d+)$/gm)) values[reason!] = Number(value);
  return values;
}

/** A round with every signature in: invitation from the outbox, PIN from the create answer, document displayed, signed. */
async function signedRound(orgKey: string, folderId: string): Promise<string> {
  const created = await as(orgKey)('/v1/signing-requests', { body: requestBody('Lease agreement', folderId) });
  expect(created.status).toBe(201);
  const signer = created.body.signers[0];
  const invitation = await waitFor('the invitation in the outbox', () => {
    try {
      return outboxMessage(api, 'mail', `invitation-${signer.id}`);
    } catch {
      return undefined;
    }
  });
  const token = /\/s\/([0-9a-f]{64})/.exec(invitation)![1];
  const anonymous = apiClient(() => api.url, () => null);
  const session = await anonymous('/v1/signer/session', { body: { token, pin: signer.pin } });
  expect(session.status).toBe(200);
  await reportDocumentDisplayed(anonymous, session.body.sessionToken);
  const signed = await anonymous('/v1/signer/sign', { key: session.body.sessionToken, body: { typedName: 'Signer', consent: true } });
  expect(signed.status).toBe(200);
  return created.body.id;
}

/** A pending round whose workflow no worker runs, with its deadline moved into the past (its timer never fires). */
async function roundPastDeadline(orgKey: string, folderId: string): Promise<string> {
  const created = await as(orgKey, () => unattended)('/v1/signing-requests', { body: requestBody('Supplier contract', folderId) });
  expect(created.status).toBe(201);
  await dataSource.query(`UPDATE signing_requests SET expires_at = now() - interval '1 hour' WHERE id = $1`, [created.body.id]);
  return created.body.id;
}

describe('rounds that need a person', () => {
  let orgKey: string;
  let salesKey: string;
  let sealStuck: string;
  let pastDeadline: string;
  let otherOrganizations: string;

  beforeAll(async () => {
    const org = await createTestOrganization(dataSource);
    orgKey = org.apiKey;
    const sales = (await as(orgKey)('/v1/folders', { body: { name: 'Sales' } })).body;
    const legal = (await as(orgKey)('/v1/folders', { body: { name: 'Legal' } })).body;
    const key = await as(orgKey)('/v1/api-keys', { body: { name: 'CRM', folderId: sales.id, permissions: ['view', 'send'] } });
    expect(key.status).toBe(201);
    salesKey = key.body.key;
    sealStuck = await signedRound(orgKey, sales.id);
    pastDeadline = await roundPastDeadline(orgKey, legal.id);
    const other = await createTestOrganization(dataSource);
    const otherFolder = (await as(other.apiKey)('/v1/folders', { body: { name: 'Elsewhere' } })).body;
    otherOrganizations = await roundPastDeadline(other.apiKey, otherFolder.id);
  });

  test('a seal key that fails: the round is listed as seal_retrying with the step, attempts and failure kind, and counted by the gauge', async () => {
    const entry = await waitFor('the round listed as seal_retrying', async () => {
      const found = await stuckEntry(as(orgKey), sealStuck);
      return found && reasonCodes(found).includes('seal_retrying') ? found : undefined;
    });
    expect(entry).toMatchObject({ requestId: sealStuck, title: 'Lease agreement', status: 'pending' });
    const sealing = (entry.reasons as Json[]).find((reason) => reason.code === 'seal_retrying');
    // The file is missing: a stable code, not the message (which names the path).
    expect(sealing).toMatchObject({ activity: 'sealSignedDocument', lastError: 'Error:ENOENT' });
    expect(sealing.attempts).toBeGreaterThanOrEqual(2);
    expect(JSON.stringify(entry)).not.toContain(sealKeyFile);
    // Everyone signed and nothing was sealed within the allowance: no progress as well.
    await waitFor('no_progress beside seal_retrying', async () => reasonCodes((await stuckEntry(as(orgKey), sealStuck))!).includes('no_progress'));

    // The gauge counts it (this file's database holds only this file's rounds).
    await waitFor('the gauge counting the stuck seal', async () => (await stuckGauge()).seal_retrying === 1);
    expect(await stuckGauge()).toMatchObject({ activity_failing: 0 });
  });

  test('a round past its deadline whose workflow no worker runs is past_deadline (and no_progress: nobody was invited)', async () => {
    const entry = await waitFor('the round listed past its deadline', async () => {
      const found = await stuckEntry(as(orgKey), pastDeadline);
      return found && reasonCodes(found).includes('no_progress') ? found : undefined;
    });
    expect(reasonCodes(entry)).toEqual(['no_progress', 'past_deadline']);
    const reason = (entry.reasons as Json[]).find((item) => item.code === 'past_deadline');
    expect(reason).toMatchObject({ since: entry.expiresAt, activity: null, attempts: null, lastError: null });
    // Both organisations' rounds past their deadline count, deployment-wide.
    expect((await stuckGauge()).past_deadline).toBe(2);
  });

  test("a caller sees its own organisation's and folders' stuck rounds only", async () => {
    const everything = (await as(orgKey)('/v1/stuck-rounds')).body.items as Json[];
    expect(everything.map((item) => item.requestId).sort()).toEqual([sealStuck, pastDeadline].sort());
    expect(everything.map((item) => item.requestId)).not.toContain(otherOrganizations);
    // A key scoped to Sales does not see the round in Legal.
    const sales = (await as(salesKey)('/v1/stuck-rounds')).body.items as Json[];
    expect(sales.map((item) => item.requestId)).toEqual([sealStuck]);
    // No credential, no list.
    expect((await apiClient(() => api.url, () => null)('/v1/stuck-rounds')).status).toBe(401);
  });

  test('support staff see the list', async () => {
    const email = `support-${randomUUID().slice(0, 8)}@example.test`;
    await inviteMember(api, orgKey, { email, role: 'support', password: goodPassword });
    const { browser } = await signIn(api, email, goodPassword);
    const answer = await browser.call('/v1/stuck-rounds');
    expect(answer.status).toBe(200);
    expect((answer.body.items as Json[]).map((item) => item.requestId).sort()).toEqual([sealStuck, pastDeadline].sort());
  });

  test('once the seal key is there, the next retry seals: the failure record is cleared and the round leaves the list', async () => {
    const dir = path.dirname(sealKeyFile);
    const run = (...args: string[]) => expect(runTool('openssl', args).status).toBe(0);
    run('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', path.join(dir, 'key.pem'), '-out', path.join(dir, 'cert.pem'), '-days', '30', '-subj', '/O=Sigill test/CN=Sigill test seal');
    run('pkcs12', '-export', '-inkey', path.join(dir, 'key.pem'), '-in', path.join(dir, 'cert.pem'), '-out', `${sealKeyFile}.partial`, '-passout', `pass:${sealPassword}`);
    fs.renameSync(`${sealKeyFile}.partial`, sealKeyFile); // whole or not at all: a retry must not read half a file

    const status = await waitFor('the round to complete', async () => {
      const answer = await as(orgKey)(`/v1/signing-requests/${sealStuck}`);
      return answer.body.status === 'completed' ? answer.body.status : undefined;
    }, 45_000);
    expect(status).toBe('completed');
    expect(await stuckEntry(as(orgKey), sealStuck)).toBeUndefined();
    await waitFor('the failure record cleared', async () =>
      Number((await dataSource.query(`SELECT count(*) AS n FROM activity_failures WHERE request_id = $1`, [sealStuck]))[0].n) === 0,
    );
    expect(await stuckGauge()).toMatchObject({ seal_retrying: 0, past_deadline: 2 });
  }, 60_000);
});

describe('another step that keeps failing', () => {
  let unreachableMail: TestApi | undefined;
  afterAll(() => unreachableMail?.close());

  test('invitations that cannot be sent (the mail server is unreachable) make the round activity_failing', async () => {
    // Nothing listens on this port: every sendInvitation attempt fails and is retried (2 s, then 4 s later).
    unreachableMail = await startTestApi(dataSource, { env: { ...thresholds, SMTP_URL: `smtp://127.0.0.1:${await freePort()}` } });
    const org = await createTestOrganization(dataSource);
    const created = await as(org.apiKey, () => unreachableMail!)('/v1/signing-requests', { body: requestBody('Consultancy agreement') });
    expect(created.status).toBe(201);
    const entry = await waitFor('the round listed as activity_failing', async () => {
      const found = await stuckEntry(as(org.apiKey, () => unreachableMail!), created.body.id);
      return found && reasonCodes(found).includes('activity_failing') ? found : undefined;
    });
    const failing = (entry.reasons as Json[]).find((reason) => reason.code === 'activity_failing');
    expect(failing.activity).toBe('sendInvitation');
    expect(failing.attempts).toBeGreaterThanOrEqual(2);
    expect(failing.lastError).toMatch(/^Error:E[A-Z]+$/); // a socket error code, not the server's address
    await waitFor('the gauge counting it', async () => (await stuckGauge()).activity_failing === 1);
  });
});

describe('operational gauges', () => {
  test('webhook endpoints Sigill disabled are counted by reason; ones turned off by hand are not', async () => {
    const org = await createTestOrganization(dataSource);
    const insert = (reason: string) =>
      dataSource.query(
        `INSERT INTO webhook_endpoints (id, organization_id, url, events, enabled, disabled_reason, disabled_at)
         VALUES ($1, $2, 'https://receiver.example.test/hook', '{signing_request.completed}', false, $3, now())`,
        [randomUUID(), org.orgId, reason],
      );
    await insert('gone');
    await insert('manual');
    const text = await metricsRegistry.metrics();
    expect(text).toMatch(/^sigill_webhook_endpoints_disabled\{reason="gone"\} 1$/m);
    expect(text).toMatch(/^sigill_webhook_endpoints_disabled\{reason="failing"\} 0$/m);
    expect(text).not.toMatch(/reason="manual"/);
  });

  test('a gauge whose query fails leaves the rest of the scrape intact and says so', async () => {
    // A pool that is gone, as after the database dropped every connection.
    const broken = await createDataSource(harness.databaseUrl(), { poolSize: 1 }).initialize();
    await broken.destroy();
    const failing = registerOperationalGauges({ dataSource: broken, stuckRounds: api.config.stuckRounds, log: testLog });
    try {
      const text = await metricsRegistry.metrics();
      expect(text).toMatch(/^sigill_operational_gauge_up\{gauge="sigill_stuck_rounds"\} 0$/m);
      expect(text).not.toMatch(/^sigill_stuck_rounds\{/m);
      expect(text).toMatch(/^sigill_process_cpu_user_seconds_total /m);
    } finally {
      failing.unregister();
      gauges = registerOperationalGauges({ dataSource, stuckRounds: api.config.stuckRounds, log: testLog });
    }
    expect(await metricsRegistry.metrics()).toMatch(/^sigill_operational_gauge_up\{gauge="sigill_stuck_rounds"\} 1$/m);
  });
});
