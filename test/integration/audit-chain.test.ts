/**
 * The tamper-evident audit trail (R5): events are chained per request under a key of the key service
 * (HMAC-SHA-256), the chain head is printed on the sealed document and stored with the seal, the database
 * refuses to change or remove audit rows, and after someone does so anyway (as a superuser, bypassing the
 * trigger) verification names the first broken event, also when they recomputed plain SHA-256 hashes along
 * the chain. The test database user is a superuser on PostgreSQL and on PGlite.
 */
import { createHmac, randomBytes, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { DataSource, QueryRunner } from 'typeorm';
import { InitialSchema1763820000000 } from '../../migrations/1763820000000-initial-schema';
import { SigningRequests1763830000000 } from '../../migrations/1763830000000-signing-requests';
import { AuditChain1763840000000 } from '../../migrations/1763840000000-audit-chain';
import { KeyedAuditChains1763910000000 } from '../../migrations/1763910000000-keyed-audit-chains';
import { migrations } from '../../migrations';
import { createAdapters } from '../../src/adapters';
import { auditEventHash, organizationAuditEventHash } from '../../src/signing/audit-chain';
import { auditChainKey, loadAuditChainKey, reanchorPlainChainsIn } from '../../src/signing/audit-chain-key';
import { readOrganizationAuditLog, recordOrganizationEvent } from '../../src/accounts/organization-audit-log';
import {
  deleteSigningRequestWithAuditTrail,
  readAuditTrail,
  recordAuditEvent,
  verifyAuditChain,
  type NewAuditEvent,
} from '../../src/signing/audit-trail';
import { workflowIdForRequest } from '../../src/signing/create-signing-request';
import { apiClient, type Json } from '../support/api-client';
import { createTestOrganization } from '../support/factories';
import { harness, openTestDataSource, startTestApi, testConfig, type TestApi } from '../support/harness';
import { createTestPdf } from '../support/pdf-factories';
import { pageText } from '../support/pdf-validators';
import { signingTokenIn, startSmtpCatcher } from '../support/smtp-catcher';
import { waitFor } from '../support/wait-for';
import { reportDocumentDisplayed } from '../support/signer-reading';

let dataSource: DataSource;
let smtp: Awaited<ReturnType<typeof startSmtpCatcher>>;
let api: TestApi;
let org: { orgId: string; apiKey: string };
let pdfBase64: string;

beforeAll(async () => {
  dataSource = await openTestDataSource();
  smtp = await startSmtpCatcher();
  api = await startTestApi(dataSource, { env: { SMTP_URL: smtp.url } });
  org = await createTestOrganization(dataSource);
  pdfBase64 = Buffer.from(await createTestPdf([{}, {}])).toString('base64');
});

afterAll(async () => {
  await api?.close();
  await smtp?.close();
  await dataSource?.destroy();
});

const call = apiClient(() => api.url, () => org.apiKey);
const appendOnly = /audit events are append-only/;

/**
 * A request row with no round behind it, so only the test records its events. `schema: 'before-folders'`
 * for a database migrated only up to the audit chain (the migration test), before requests had folders.
 */
async function bareRequest(
  db: Pick<DataSource, 'query'> = dataSource,
  organizationId = org.orgId,
  schema: 'current' | 'before-folders' = 'current',
): Promise<string> {
  const id = randomUUID();
  const withFolder = schema === 'current';
  const folderColumn = withFolder ? 'folder_id, ' : '';
  const folderValue = withFolder ? '(SELECT id FROM folders WHERE organization_id = $2 AND is_default), ' : '';
  await db.query(
    `INSERT INTO signing_requests (id, organization_id, ${folderColumn}title, document_filename, document_code, original_blob_key,
       original_sha256, page_count, routing, reminder_first_after_ms, reminder_every_ms, reminder_max, status,
       created_at, expires_at)
     VALUES ($1, $2, ${folderValue}'Chain test', 'chain.pdf', $3,
       'none', $4, 1, 'parallel', 86400000, 86400000, 0, 'pending', now(), now() + interval '30 days')`,
    [id, organizationId, `SGL-TEST-${randomBytes(6).toString('hex')}`, '0'.repeat(64)],
  );
  return id;
}

let eventCounter = 0;
function event(requestId: string, overrides: Partial<NewAuditEvent> = {}): NewAuditEvent {
  const n = ++eventCounter;
  return {
    requestId,
    eventKey: `test:${n}`,
    type: 'opened',
    signerId: randomUUID(),
    actor: 'signer',
    channel: 'link',
    ip: `192.0.2.${n % 250}`,
    userAgent: `Mozilla/5.0 (chain test ${n})`,
    occurredAt: new Date(Date.UTC(2025, 0, 1, 12, 0, 0, n)),
    ...overrides,
  };
}

async function trailOf(requestId: string): Promise<Json> {
  const response = await call(`/v1/signing-requests/${requestId}/audit-trail`);
  expect(response.status).toBe(200);
  return response.body;
}

/** As a superuser, with every trigger off for this one transaction: what an attacker with the database could do. */
async function bypassingTriggers(sql: string, parameters: unknown[]): Promise<void> {
  await dataSource.transaction(async (tx) => {
    await tx.query(`SET LOCAL session_replication_role = replica`);
    await tx.query(sql, parameters);
  });
}

/** Runs `sql` in a transaction that is always rolled back, and answers with its error (if it succeeded, nothing happened). */
async function errorOf(sql: string, parameters: unknown[] = [], before?: string): Promise<unknown> {
  const runner = dataSource.createQueryRunner();
  await runner.connect();
  await runner.startTransaction();
  try {
    if (before) await runner.query(before);
    await runner.query(sql, parameters);
    return undefined;
  } catch (error) {
    return error;
  } finally {
    await runner.rollbackTransaction();
    await runner.release();
  }
}

/** The documented format (keyed, format 2), implemented independently of src/signing/audit-chain.ts. */
function independentHash(requestId: string, event: Json): string {
  const canonical = (value: unknown): string => {
    if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
    if (value && typeof value === 'object') {
      const entries = Object.entries(value).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
      return `{${entries.map(([key, inner]) => `${JSON.stringify(key)}:${canonical(inner)}`).join(',')}}`;
    }
    return JSON.stringify(value);
  };
  const record = {
    request_id: requestId,
    sequence: event.sequence,
    event_key: event.eventKey,
    type: event.type,
    signer_id: event.signerId ?? null,
    actor: event.actor,
    channel: event.channel ?? null,
    ip: event.ip ?? null,
    user_agent: event.userAgent ?? null,
    detail: event.detail ?? null,
    occurred_at: event.at,
  };
  return createHmac('sha256', auditChainKey(dataSource)).update(`${event.prevHash ?? ''}${canonical(record)}`).digest('hex');
}

function expectLinked(events: Json[]): void {
  events.forEach((event, index) => {
    expect(event.sequence).toBe(index + 1);
    expect(event.prevHash).toBe(index === 0 ? undefined : events[index - 1].hash);
    expect(event.hash).toMatch(/^[0-9a-f]{64}$/);
  });
}

describe('a completed round', () => {
  test('has a valid chain whose head at sealing is stored with the seal and printed on the audit page', async () => {
    const email = `chain-${randomUUID()}@example.test`;
    const created = await call('/v1/signing-requests', {
      body: { title: 'Chained agreement', document: { filename: 'chained.pdf', contentBase64: pdfBase64 }, signers: [{ name: 'Ilona Ketola', email }] },
    });
    expect(created.status).toBe(201);
    const id: string = created.body.id;
    const [invitation] = await smtp.waitForMail(email, 'Please sign');
    const session = await call('/v1/signer/session', { key: null, body: { token: signingTokenIn(invitation!), pin: created.body.signers[0].pin } });
    expect(session.status).toBe(200);
    const auth = { authorization: `Bearer ${session.body.sessionToken}` };
    await reportDocumentDisplayed(call, session.body.sessionToken);
    expect((await call('/v1/signer/sign', { key: null, headers: auth, body: { typedName: 'Ilona Ketola', consent: true } })).status).toBe(200);
    expect((await api.client.workflow.getHandle(workflowIdForRequest(id)).result()).status).toBe('completed');
    await smtp.waitForMail(email, 'Signed:');

    const trail = await trailOf(id);
    expect(trail.chainValid).toBe(true);
    expect(trail.firstBrokenEvent).toBeUndefined();
    const events: Json[] = trail.events;
    expectLinked(events);
    expect(trail.chainHead).toBe(events.at(-1).hash);
    for (const event of events) expect(independentHash(id, event)).toBe(event.hash);

    // The head printed at sealing: an event before 'sealed', kept with the seal and named by the 'sealed' event.
    const [row] = await dataSource.query(`SELECT audit_chain_head FROM signing_requests WHERE id = $1`, [id]);
    const sealedHead: string = row.audit_chain_head;
    expect(sealedHead).toMatch(/^[0-9a-f]{64}$/);
    const sealedEvent = events.find((event) => event.type === 'sealed');
    const headEvent = events.find((event) => event.hash === sealedHead);
    expect(headEvent).toBeDefined();
    expect(headEvent.sequence).toBeLessThan(sealedEvent.sequence);
    expect(sealedEvent.detail.auditChainHead).toBe(sealedHead);

    const sealed = await call(`/v1/signing-requests/${id}/document`);
    expect(sealed.status).toBe(200);
    const file = path.join(harness.tempDir('chain'), 'sealed.pdf');
    fs.writeFileSync(file, sealed.body);
    const auditPage = pageText(file, 3); // after the two original pages
    expect(auditPage).toMatch(/Audit chain head\s+[0-9a-f]{64}/);
    expect(auditPage).toContain(sealedHead);
    expect((await verifyAuditChain(dataSource, id)).head).toBe(trail.chainHead);

    // Someone edits the event at the sealed head and recomputes plain SHA-256 hashes from there on, as the
    // chain was before it was keyed: without the key, the edited event is the first broken one.
    const rows = await readAuditTrail(dataSource, id);
    let prevHash: string | null = null;
    for (const row of rows) {
      if (row.sequence === headEvent.sequence) row.ip = '198.51.100.99';
      if (row.sequence >= headEvent.sequence) {
        const hash = auditEventHash(prevHash, row);
        await bypassingTriggers(`UPDATE audit_events SET ip = $2, prev_hash = $3, hash = $4 WHERE id = $1`, [row.id, row.ip, prevHash, hash]);
        row.hash = hash;
      }
      prevHash = row.hash;
    }
    const rewritten = await trailOf(id);
    expect(rewritten.chainValid).toBe(false);
    expect(rewritten.firstBrokenEvent).toEqual({ sequence: headEvent.sequence, type: headEvent.type, eventKey: headEvent.eventKey, reason: 'hash_mismatch' });
  });

  // The personal part of an event (IP, browser, personal detail) is stored sealed under the request's key. A
  // sealed value edited in the database, or copied from another event, no longer opens: the trail still reads,
  // shows the event with what the row holds in the clear, and names it as the first broken event.
  test('an event whose sealed personal data was edited or moved is the first broken event, and the trail still reads', async () => {
    const email = `sealed-${randomUUID()}@example.test`;
    const created = await call('/v1/signing-requests', {
      body: { title: 'Sealed detail', document: { filename: 'sealed.pdf', contentBase64: pdfBase64 }, signers: [{ name: 'Aino Laine', email }] },
    });
    expect(created.status).toBe(201);
    const id: string = created.body.id;
    const [invitation] = await smtp.waitForMail(email, 'Please sign');
    // The signer opens the link: the 'opened' event holds their IP address and browser.
    const session = await call('/v1/signer/session', {
      key: null,
      headers: { 'user-agent': 'Mozilla/5.0 (sealed detail test)' },
      body: { token: signingTokenIn(invitation!), pin: created.body.signers[0].pin },
    });
    expect(session.status).toBe(200);
    await reportDocumentDisplayed(call, session.body.sessionToken); // 'viewed', a second event with them
    await waitFor('the opened and viewed events', async () => {
      const types = (await trailOf(id)).events.map((event: Json) => event.type);
      return types.includes('opened') && types.includes('viewed');
    });
    const sealedRows: Array<{ id: string; sequence: number; sealed: Buffer }> = await dataSource.query(
      `SELECT id::text AS id, sequence, sealed FROM audit_events WHERE request_id = $1 AND sealed IS NOT NULL ORDER BY sequence`,
      [id],
    );
    expect(sealedRows.length).toBeGreaterThanOrEqual(2);
    const before = await trailOf(id);
    expect(before.chainValid).toBe(true);
    const target = sealedRows[0]!;
    const targetEvent = before.events.find((event: Json) => event.sequence === target.sequence);
    expect(targetEvent.ip).toBeTruthy();

    const edited = Buffer.from(target.sealed);
    edited[edited.length - 1]! ^= 0x01;
    await bypassingTriggers(`UPDATE audit_events SET sealed = $2 WHERE id = $1`, [target.id, edited]);
    const trail = await trailOf(id);
    expect(trail.chainValid).toBe(false);
    expect(trail.firstBrokenEvent).toEqual({ sequence: target.sequence, type: targetEvent.type, eventKey: targetEvent.eventKey, reason: 'hash_mismatch' });
    const shown = trail.events.find((event: Json) => event.sequence === target.sequence);
    expect(shown.ip).toBeUndefined();
    expect(shown.userAgent).toBeUndefined();
    expect((await call(`/v1/signing-requests/${id}`)).status).toBe(200);

    // Another event's sealed value, intact, in this row: it is bound to the other event and does not open here.
    await bypassingTriggers(`UPDATE audit_events SET sealed = $2 WHERE id = $1`, [target.id, sealedRows[1]!.sealed]);
    const moved = await trailOf(id);
    expect(moved.firstBrokenEvent).toMatchObject({ sequence: target.sequence, reason: 'hash_mismatch' });
    expect(moved.events.find((event: Json) => event.sequence === sealedRows[1]!.sequence).ip).toBe(targetEvent.ip);
    await call(`/v1/signing-requests/${id}/cancel`, { body: { reason: 'test over' } });
  });
});

describe('the database', () => {
  let requestId: string;
  beforeAll(async () => {
    requestId = await bareRequest();
    for (let i = 0; i < 3; i++) await recordAuditEvent(dataSource, event(requestId));
  });

  test('refuses UPDATE, DELETE and TRUNCATE of audit rows', async () => {
    for (const [sql, parameters] of [
      [`UPDATE audit_events SET ip = '203.0.113.1' WHERE request_id = $1`, [requestId]],
      [`DELETE FROM audit_events WHERE request_id = $1 AND sequence = 2`, [requestId]],
      [`TRUNCATE audit_events`, []],
    ] as const) {
      expect(String(await errorOf(sql, [...parameters]))).toMatch(appendOnly);
    }
    const trail = await trailOf(requestId);
    expect(trail.events).toHaveLength(3);
    expect(trail.chainValid).toBe(true);
  });

  test('refuses to delete a request with its trail unless the transaction opts in', async () => {
    const deleteRequest = `DELETE FROM signing_requests WHERE id = $1`;
    expect(String(await errorOf(deleteRequest, [requestId]))).toMatch(appendOnly);
    // The opt-in covers only rows whose request is being deleted, never a single audit row.
    const optIn = `SELECT set_config('sigill.allow_audit_delete', 'on', true)`;
    expect(String(await errorOf(`DELETE FROM audit_events WHERE request_id = $1 AND sequence = 3`, [requestId], optIn))).toMatch(appendOnly);
    expect(await errorOf(deleteRequest, [requestId], optIn)).toBeUndefined(); // (rolled back)
    expect((await trailOf(requestId)).events).toHaveLength(3);
  });

  test('removes a request that could not be started together with its trail (the create rollback)', async () => {
    const id = await bareRequest();
    await recordAuditEvent(dataSource, { requestId: id, eventKey: 'created', type: 'created', actor: 'sender', occurredAt: new Date() });
    await deleteSigningRequestWithAuditTrail(dataSource, id);
    expect(await dataSource.query(`SELECT 1 FROM signing_requests WHERE id = $1`, [id])).toHaveLength(0);
    expect(await dataSource.query(`SELECT 1 FROM audit_events WHERE request_id = $1`, [id])).toHaveLength(0);
    // The opt-in ended with that transaction.
    const other = await bareRequest();
    await recordAuditEvent(dataSource, { requestId: other, eventKey: 'created', type: 'created', actor: 'sender', occurredAt: new Date() });
    expect(String(await errorOf(`DELETE FROM signing_requests WHERE id = $1`, [other]))).toMatch(appendOnly);
  });
});

describe('verification after tampering behind the database', () => {
  test('an edited row is the first broken event', async () => {
    const id = await bareRequest();
    const types = ['created', 'invited', 'opened', 'viewed', 'signed'] as const;
    for (const type of types) await recordAuditEvent(dataSource, event(id, { type }));
    expect((await trailOf(id)).chainValid).toBe(true);

    await bypassingTriggers(`UPDATE audit_events SET ip = '198.51.100.7' WHERE request_id = $1 AND sequence = 3`, [id]);
    const trail = await trailOf(id);
    expect(trail.chainValid).toBe(false);
    expect(trail.chainHead).toBeUndefined();
    expect(trail.firstBrokenEvent).toEqual({ sequence: 3, type: 'opened', eventKey: trail.events[2].eventKey, reason: 'hash_mismatch' });
    expect(trail.events[2].ip).toBe('198.51.100.7');
  });

  // What the key is for: someone with the database edits a row and recomputes plain SHA-256 hashes along
  // the chain (the rule anyone can read in the docs), marking the rows keyed or plain.
  test.each([
    ['from the edited row on, the rows marked keyed', 3, 2, 3],
    ['from the edited row on, the rows marked plain', 3, 1, 3],
    ['over the whole chain, the rows marked plain', 1, 1, 1],
  ])('an edited row, plain SHA-256 hashes recomputed %s: the chain still breaks, also after a restart', async (_, from, format, brokenAt) => {
    const id = await bareRequest();
    for (const type of ['created', 'invited', 'opened', 'viewed', 'signed'] as const) await recordAuditEvent(dataSource, event(id, { type }));
    expect((await trailOf(id)).chainValid).toBe(true);

    const rows = await readAuditTrail(dataSource, id);
    let prevHash: string | null = null;
    for (const row of rows) {
      if (row.sequence === 3) row.ip = '198.51.100.8';
      if (row.sequence >= from) {
        const hash = auditEventHash(prevHash, row);
        await bypassingTriggers(
          `UPDATE audit_events SET ip = $2, prev_hash = $3, hash = $4, chain_format = $5, legacy_hash = NULL WHERE id = $1`,
          [row.id, row.ip, prevHash, hash, format],
        );
        row.hash = hash;
      }
      prevHash = row.hash;
    }
    const trail = await trailOf(id);
    expect(trail.chainValid).toBe(false);
    expect(trail.firstBrokenEvent).toMatchObject({ sequence: brokenAt, reason: 'hash_mismatch' });

    // A process starting later finds the key and never keys plain rows (that happens once, with the key).
    const restarted = await openTestDataSource();
    const adapters = createAdapters(testConfig());
    try {
      await loadAuditChainKey(restarted, adapters.keyService);
      expect(auditChainKey(restarted).equals(auditChainKey(dataSource))).toBe(true);
      expect(await verifyAuditChain(restarted, id)).toMatchObject({ valid: false, firstBrokenEvent: { sequence: brokenAt, reason: 'hash_mismatch' } });
    } finally {
      adapters.close();
      await restarted.destroy();
    }
  });

  test("the organisation's audit log: an edited row with plain SHA-256 hashes recomputed after it breaks the chain", async () => {
    const { orgId } = await createTestOrganization(dataSource);
    for (let i = 0; i < 4; i++) {
      await recordOrganizationEvent(dataSource, { organizationId: orgId, type: 'folder.created', actor: 'system', detail: { n: i } });
    }
    const { events, verification } = await readOrganizationAuditLog(dataSource, orgId);
    expect(verification).toEqual({ valid: true, head: events.at(-1)!.hash });
    expect(events.every((e) => e.chainFormat === 2 && e.legacyHash === null)).toBe(true);

    const edited = events.find((e) => e.type === 'folder.created' && (e.detail as { n: number }).n === 1)!;
    let prevHash: string | null = null;
    for (const row of events) {
      if (row === edited) row.detail = { n: 99 };
      if (row.sequence >= edited.sequence) {
        const hash = organizationAuditEventHash(prevHash, row);
        await bypassingTriggers(
          `UPDATE organization_audit_events SET detail = $3, prev_hash = $4, hash = $5 WHERE organization_id = $1 AND sequence = $2`,
          [orgId, row.sequence, JSON.stringify(row.detail), prevHash, hash],
        );
        row.hash = hash;
      }
      prevHash = row.hash;
    }
    expect((await readOrganizationAuditLog(dataSource, orgId)).verification).toEqual({
      valid: false,
      firstBrokenEvent: { sequence: edited.sequence, type: 'folder.created', reason: 'hash_mismatch' },
    });
  });

  test('a deleted row breaks the chain at the first event after the gap', async () => {
    const id = await bareRequest();
    const types = ['created', 'invited', 'opened', 'signed'] as const;
    for (const type of types) await recordAuditEvent(dataSource, event(id, { type }));
    await bypassingTriggers(`DELETE FROM audit_events WHERE request_id = $1 AND sequence = 2`, [id]);
    const trail = await trailOf(id);
    expect(trail.chainValid).toBe(false);
    expect(trail.firstBrokenEvent).toMatchObject({ sequence: 3, type: 'opened', reason: 'missing_event' });
    expect(await verifyAuditChain(dataSource, id)).toEqual({ valid: false, firstBrokenEvent: trail.firstBrokenEvent });
  });

  test('a deleted row with the rest renumbered breaks the link', async () => {
    const id = await bareRequest();
    for (const type of ['created', 'invited', 'opened'] as const) await recordAuditEvent(dataSource, event(id, { type }));
    await bypassingTriggers(`DELETE FROM audit_events WHERE request_id = $1 AND sequence = 2`, [id]);
    await bypassingTriggers(`UPDATE audit_events SET sequence = 2 WHERE request_id = $1 AND sequence = 3`, [id]);
    expect((await trailOf(id)).firstBrokenEvent).toMatchObject({ sequence: 2, type: 'opened', reason: 'link_mismatch' });
  });
});

describe('recording', () => {
  test('the same event twice keeps one row and a valid chain', async () => {
    const id = await bareRequest();
    const once = event(id, { type: 'created' });
    await recordAuditEvent(dataSource, once);
    await recordAuditEvent(dataSource, once);
    await Promise.all([recordAuditEvent(dataSource, once), recordAuditEvent(dataSource, { ...once, occurredAt: new Date() })]);
    await recordAuditEvent(dataSource, event(id));
    const trail = await trailOf(id);
    expect(trail.events.map((e: Json) => e.eventKey)).toEqual([once.eventKey, expect.any(String)]);
    expect(trail.chainValid).toBe(true);
  });

  test('concurrent events of one request get a gap-free valid chain', async () => {
    const id = await bareRequest();
    await recordAuditEvent(dataSource, event(id, { type: 'created' }));
    const concurrent = Array.from({ length: 10 }, () => event(id));
    // Duplicates among them too: a retried activity racing its first attempt.
    await Promise.all([...concurrent, concurrent[0]!, concurrent[5]!].map((e) => recordAuditEvent(dataSource, e)));
    const trail = await trailOf(id);
    expect(trail.events).toHaveLength(11);
    expectLinked(trail.events);
    expect(trail.chainValid).toBe(true);
    expect(new Set(trail.events.map((e: Json) => e.eventKey)).size).toBe(11);
  });

  test("inside a caller's transaction, losing the race for a position does not abort the transaction", async () => {
    const id = await bareRequest();
    await recordAuditEvent(dataSource, event(id, { type: 'created' }));
    const first = dataSource.createQueryRunner();
    const second = dataSource.createQueryRunner();
    try {
      await first.startTransaction();
      await recordAuditEvent(first.manager, event(id)); // position 2, not committed yet
      // The second transaction reads position 1 as the last and waits for the first on position 2's index
      // entry (on PGlite, which runs one transaction at a time, it simply waits for the first to end).
      const racing = (async () => {
        await second.startTransaction();
        await recordAuditEvent(second.manager, event(id));
        await second.query(`SELECT 1`); // still usable
        await second.commitTransaction();
      })();
      if (process.env.DATABASE_URL) {
        await waitFor('the second append to wait for the first', async () => {
          const [row] = await dataSource.query(
            `SELECT count(*)::int AS waiting FROM pg_stat_activity
              WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE '%INSERT INTO audit_events%'`,
          );
          return row.waiting > 0;
        });
      }
      await first.commitTransaction();
      await racing;
    } finally {
      await first.release();
      await second.release();
    }
    const trail = await trailOf(id);
    expect(trail.events.map((e: Json) => e.sequence)).toEqual([1, 2, 3]);
    expect(trail.chainValid).toBe(true);
  });

  test('hashes what the database stores: jsonb key order, uuid spelling, timestamps, text encoding', async () => {
    const id = await bareRequest();
    const signerId = randomUUID();
    await dataSource.transaction(async (tx) => {
      // Inside the caller's transaction, as archiveSealedDocument does.
      await recordAuditEvent(tx, event(id.toUpperCase(), {
        signerId: signerId.toUpperCase(),
        detail: { zeta: 1, alpha: { b: [3, { y: 'ü', x: null }], a: 1.5 }, '10': 'ten', '2': 'two', skipped: undefined },
        occurredAt: '2025-03-04T05:06:07.891Z',
      }));
      await recordAuditEvent(tx, event(id, { userAgent: `${'a'.repeat(511)}😀 and more`, ip: undefined, channel: undefined }));
      await recordAuditEvent(tx, event(id, { userAgent: 'lone \ud800 surrogate', detail: { reason: 'Šime 😀 “quoted”' } }));
    });
    const trail = await trailOf(id);
    expect(trail.chainValid).toBe(true);
    expect(trail.events[0].signerId).toBe(signerId);
    expect(trail.events[0].detail).toEqual({ zeta: 1, alpha: { b: [3, { y: 'ü', x: null }], a: 1.5 }, '10': 'ten', '2': 'two' });
    expect(trail.events[1].userAgent).toHaveLength(511);
    for (const e of trail.events) expect(independentHash(id, e)).toBe(e.hash);
  });
});

describe('the migrations', () => {
  test('chain the events of a non-empty table, protect them, and re-anchor them under the key with the printed head still valid', async () => {
    const runner: QueryRunner = dataSource.createQueryRunner();
    await runner.connect();
    await runner.startTransaction();
    try {
      // The schema before the audit chain, in a scratch schema of this transaction only.
      const schema = `legacy_${randomBytes(4).toString('hex')}`;
      await runner.query(`CREATE SCHEMA ${schema}`);
      await runner.query(`SET LOCAL search_path = ${schema}`);
      await new InitialSchema1763820000000().up(runner);
      await new SigningRequests1763830000000().up(runner);
      const [organization] = await runner.query(`INSERT INTO organizations (name) VALUES ('Legacy Oy') RETURNING id`);
      const requests = [
        await bareRequest(runner, organization.id, 'before-folders'),
        await bareRequest(runner, organization.id, 'before-folders'),
        await bareRequest(runner, organization.id, 'before-folders'),
      ];
      const insert = `INSERT INTO audit_events (request_id, event_key, type, actor, ip, detail, occurred_at) VALUES ($1, $2, $3, 'system', $4, $5, $6)`;
      for (const requestId of requests) {
        // Recorded out of order, and one with microseconds as SQL's now() would store.
        await runner.query(insert, [requestId, 'invited', 'invited', null, JSON.stringify({ b: 2, a: 1 }), '2025-01-01T10:00:01.5Z']);
        await runner.query(insert, [requestId, 'created', 'created', '192.0.2.1', null, '2025-01-01T10:00:00.123456Z']);
        await runner.query(insert, [requestId, 'opened', 'opened', '192.0.2.2', null, '2025-01-01T10:00:02Z']);
      }

      await new AuditChain1763840000000().up(runner);

      const plainRows = async (requestId: string) =>
        runner.query(
          `SELECT id, request_id, event_key, type, signer_id, actor, channel, ip, user_agent, detail, occurred_at, sequence, prev_hash, hash
             FROM audit_events WHERE request_id = $1 ORDER BY sequence`,
          [requestId],
        );
      const plainHash = (prevHash: string | null, row: Json) =>
        auditEventHash(prevHash, {
          requestId: row.request_id, sequence: row.sequence, eventKey: row.event_key, type: row.type, signerId: row.signer_id, actor: row.actor,
          channel: row.channel, ip: row.ip, userAgent: row.user_agent, detail: row.detail, occurredAt: row.occurred_at,
        });
      for (const requestId of requests) {
        const rows = await plainRows(requestId);
        expect(rows.map((row: Json) => [row.type, row.sequence])).toEqual([['created', 1], ['invited', 2], ['opened', 3]]);
        rows.forEach((row: Json, index: number) => {
          const prevHash = index === 0 ? null : rows[index - 1].hash;
          expect(row.prev_hash).toBe(prevHash);
          expect(row.hash).toBe(plainHash(prevHash, row));
        });
      }
      // Last: the refusal aborts the transaction (so inside a savepoint here).
      await runner.query(`SAVEPOINT refused`);
      await expect(runner.query(`UPDATE audit_events SET ip = NULL`)).rejects.toThrow(appendOnly);
      await runner.query(`ROLLBACK TO SAVEPOINT refused`);

      // Request 0 was sealed before the key: its 'sealed' event names the plain head the PDF printed.
      const printedHead: string = (await plainRows(requests[0]!))[2].hash;
      const sealedRow = {
        request_id: requests[0], sequence: 4, event_key: 'sealed', type: 'sealed', signer_id: null, actor: 'system', channel: null, ip: null,
        user_agent: null, detail: { sha256: 'ab'.repeat(32), auditChainHead: printedHead }, occurred_at: new Date('2025-01-01T10:00:03Z'),
      };
      await runner.query(
        `INSERT INTO audit_events (request_id, event_key, type, actor, detail, occurred_at, sequence, prev_hash, hash)
         VALUES ($1, 'sealed', 'sealed', 'system', $2, $3, 4, $4, $5)`,
        [requests[0], JSON.stringify(sealedRow.detail), sealedRow.occurred_at, printedHead, plainHash(printedHead, sealedRow)],
      );
      // Request 2's trail was edited behind the database before the key: its break must survive re-anchoring.
      await runner.query(`SET LOCAL session_replication_role = replica`);
      await runner.query(`UPDATE audit_events SET ip = '198.51.100.1' WHERE request_id = $1 AND sequence = 2`, [requests[2]]);
      await runner.query(`SET LOCAL session_replication_role = origin`);

      // The later migrations, up to the keyed chains; the organisation's log appears on the way.
      const keyedAt = migrations.indexOf(KeyedAuditChains1763910000000);
      const auditChainAt = migrations.indexOf(AuditChain1763840000000);
      for (const Migration of migrations.slice(auditChainAt + 1, keyedAt)) await new Migration().up(runner);
      let orgPrev: string | null = null;
      for (let sequence = 1; sequence <= 3; sequence++) {
        const fields = {
          organizationId: organization.id, sequence, type: 'folder.created', actor: 'system', ip: null, userAgent: null,
          detail: { sequence }, occurredAt: new Date(Date.UTC(2025, 0, 2, 0, 0, sequence)),
        };
        const hash = organizationAuditEventHash(orgPrev, fields);
        await runner.query(
          `INSERT INTO organization_audit_events (organization_id, sequence, type, actor, detail, occurred_at, prev_hash, hash)
           VALUES ($1, $2, 'folder.created', 'system', $3, $4, $5, $6)`,
          [organization.id, sequence, JSON.stringify(fields.detail), fields.occurredAt, orgPrev, hash],
        );
        orgPrev = hash;
      }
      const before = { trail: await plainRows(requests[0]!) };

      await new KeyedAuditChains1763910000000().up(runner);
      expect(await runner.query(`SELECT DISTINCT chain_format FROM audit_events`)).toEqual([{ chain_format: 1 }]);
      // A process of the previous version, which does not name the format, can append no plain rows now.
      await runner.query(`SAVEPOINT old_version`);
      await expect(
        runner.query(`INSERT INTO audit_events (request_id, event_key, type, actor, occurred_at, sequence, prev_hash, hash) VALUES ($1, 'x', 'viewed', 'system', now(), 5, $2, $2)`, [
          requests[0],
          'cd'.repeat(32),
        ]),
      ).rejects.toThrow(/chain_format/);
      await runner.query(`ROLLBACK TO SAVEPOINT old_version`);

      // What the first process to create the key does (here with the test deployment's key).
      expect(await reanchorPlainChainsIn(runner.manager, auditChainKey(dataSource))).toEqual({ requestEvents: 4 + 3 + 1, organizationEvents: 3 });

      const sealedTrail = await verifyAuditChain(runner.manager, requests[0]!);
      expect(sealedTrail).toMatchObject({ valid: true });
      const rekeyed = await readAuditTrail(runner.manager, requests[0]!);
      expect(rekeyed.map((row) => [row.type, row.chainFormat, row.legacyHash])).toEqual(before.trail.map((row: Json) => [row.type, 2, row.hash]));
      // The printed head is still there, as the plain hash of the event the seal named, and verified.
      expect(rekeyed[2]!.legacyHash).toBe(printedHead);
      expect(rekeyed[2]!.hash).not.toBe(printedHead);
      expect(rekeyed.at(-1)!.detail).toMatchObject({ auditChainHead: printedHead });
      for (const row of rekeyed) expect(independentHash(row.requestId, { ...row, at: row.occurredAt.toISOString(), prevHash: row.prevHash ?? undefined })).toBe(row.hash);
      expect(await verifyAuditChain(runner.manager, requests[1]!)).toMatchObject({ valid: true });
      // Broken before the key, broken where it was: the edited event stays plain, and is never keyed.
      expect(await verifyAuditChain(runner.manager, requests[2]!)).toEqual({
        valid: false,
        firstBrokenEvent: { sequence: 2, type: 'invited', eventKey: 'invited', reason: 'hash_mismatch' },
      });
      expect((await readAuditTrail(runner.manager, requests[2]!)).map((row) => row.chainFormat)).toEqual([2, 1, 1]);
      expect((await readOrganizationAuditLog(runner.manager, organization.id)).verification).toMatchObject({ valid: true });

      // New events follow the re-anchored head, written by today's code on today's schema (the later migrations first).
      for (const Migration of migrations.slice(keyedAt + 1)) await new Migration().up(runner);
      await recordAuditEvent(runner.manager, { requestId: requests[0]!, eventKey: 'after', type: 'viewed', actor: 'signer', occurredAt: new Date() });
      expect(await verifyAuditChain(runner.manager, requests[0]!)).toMatchObject({ valid: true });
      await recordOrganizationEvent(runner.manager, { organizationId: organization.id, type: 'logout', actor: 'system' });
      expect((await readOrganizationAuditLog(runner.manager, organization.id)).verification).toMatchObject({ valid: true });

      // The rechain permission never reaches a keyed row (still on in this transaction). Last: it aborts.
      await expect(
        runner.query(`UPDATE audit_events SET chain_format = 2, legacy_hash = hash, hash = $2 WHERE request_id = $1 AND sequence = 1`, [
          requests[1],
          'ef'.repeat(32),
        ]),
      ).rejects.toThrow(appendOnly);
    } finally {
      await runner.rollbackTransaction();
      await runner.release();
    }
  });
});
