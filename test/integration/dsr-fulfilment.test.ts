/**
 * Fulfilment of data-subject requests (issue 14 part 4) against the real Temporal dev server and PostgreSQL:
 * a person (Petra) signs one round with another person (Olof) and declines a second one with him, and is the
 * customer of a KYC case. Discovery finds exactly her records; her access package holds her data from both
 * rounds and the case and nothing of Olof's; erasure shreds the declined round and keeps the sealed contract
 * (and the KYC case) with their legal bases, also when retried; rectification corrects her email in a pending
 * round only; restriction stops her reminders while Olof still gets his.
 */
import { createHash, randomUUID } from 'node:crypto';
import { unzipSync } from 'fflate';
import type { DataSource } from 'typeorm';
import {
  buildAccessPackage,
  discoverSubjectRecords,
  eraseSubjectData,
  rectifySubjectContact,
  restrictSubject,
  type DataSubject,
} from '../../src/dsr/fulfilment';
import { Signer } from '../../src/database/entities';
import { workflowIdForRequest } from '../../src/signing/create-signing-request';
import { apiClient, type ApiCall, type Json } from '../support/api-client';
import { createTestOrganization } from '../support/factories';
import { openTestDataSource, startTestApi, type TestApi } from '../support/harness';
import { outboxMessage } from '../support/members';
import { createTestPdf } from '../support/pdf-factories';
import { reportDocumentDisplayed } from '../support/signer-reading';
import { waitFor } from '../support/wait-for';

let dataSource: DataSource;
let api: TestApi;
let org: { orgId: string; apiKey: string };
let call: ApiCall;
let pdfBase64: string;

const run = randomUUID().slice(0, 8);
const petra = { name: `Petra Persson ${run}`, email: `petra-${run}@example.test`, phone: '+46701234567' };
const olof = { name: `Olof Olsson ${run}`, email: `olof-${run}@example.test` };
let subject: DataSubject;
const senderBrowser = `sender browser ${run}`;

let sealedRound: Json;
let declinedRound: Json;
let kycCase: Json;

beforeAll(async () => {
  dataSource = await openTestDataSource();
  api = await startTestApi(dataSource);
  org = await createTestOrganization(dataSource);
  call = apiClient(() => api.url, () => org.apiKey);
  pdfBase64 = Buffer.from(await createTestPdf([{}])).toString('base64');
  // As the verified requester typed them: another case, a phone in the 00 form with spaces.
  subject = { organizationId: org.orgId, emails: [petra.email.toUpperCase()], phones: ['0046 70 123 45 67'], nationalIds: [] };

  sealedRound = await createRound('Consulting agreement');
  await sign(sealedRound, 0, petra.name);
  await sign(sealedRound, 1, olof.name);
  expect((await roundResult(sealedRound.id)).status).toBe('completed');

  declinedRound = await createRound('Second agreement');
  // The sender issues Petra a new PIN from their own browser: that member's IP and browser are not hers to receive.
  const reset = await call(`/v1/signing-requests/${declinedRound.id}/signers/${declinedRound.signers[0].id}/reset-pin`, {
    method: 'POST',
    headers: { 'user-agent': senderBrowser },
  });
  expect(reset.status).toBe(200);
  declinedRound.signers[0].pin = reset.body.pin;
  const petraInDeclined = await signerSession(declinedRound, 0);
  expect((await call('/v1/signer/decline', { key: null, headers: petraInDeclined, body: { reason: 'Not what we agreed.' } })).status).toBe(200);
  expect((await roundResult(declinedRound.id)).status).toBe('declined');

  const created = await call('/v1/kyc-cases', { body: { customer: { type: 'person', name: petra.name, email: petra.email, phone: petra.phone } } });
  expect(created.status).toBe(201);
  kycCase = created.body;
  // An ended case: anti-money-laundering law keeps it.
  expect((await call(`/v1/kyc-cases/${kycCase.id}/cancel`, { body: { reason: 'The customer withdrew.' } })).body.status).toBe('cancelled');
});

afterAll(async () => {
  await api?.close();
  await dataSource?.destroy();
});

async function createRound(title: string, extra: Record<string, unknown> = {}): Promise<Json> {
  const created = await call('/v1/signing-requests', {
    body: {
      title,
      document: { filename: 'agreement.pdf', contentBase64: pdfBase64 },
      signers: [
        { name: petra.name, email: petra.email },
        { name: olof.name, email: olof.email },
      ],
      ...extra,
    },
  });
  expect(created.status).toBe(201);
  return created.body;
}

const roundResult = (id: string) => api.client.workflow.getHandle(workflowIdForRequest(id)).result();

/** Opens signer `index`'s emailed link (from the outbox) with their PIN. */
async function signerSession(round: Json, index: number): Promise<Record<string, string>> {
  const signer = round.signers[index];
  const text = await waitFor('the invitation', () => {
    try {
      return outboxMessage(api, 'mail', `invitation-${signer.id}`);
    } catch {
      return undefined;
    }
  });
  const token = /\/s\/([0-9a-f]{64})/.exec(text)![1]!;
  const session = await call('/v1/signer/session', { key: null, body: { token, pin: signer.pin }, headers: { 'user-agent': `test browser of ${index}` } });
  expect(session.status).toBe(200);
  return { authorization: `Bearer ${session.body.sessionToken}`, 'user-agent': `test browser of ${index}` };
}

async function sign(round: Json, index: number, name: string) {
  const auth = await signerSession(round, index);
  expect((await call('/v1/signer/document', { key: null, headers: auth })).status).toBe(200);
  await reportDocumentDisplayed(call, auth.authorization!.slice('Bearer '.length), { 'user-agent': auth['user-agent']! });
  expect((await call('/v1/signer/sign', { key: null, headers: auth, body: { typedName: name, consent: true } })).status).toBe(200);
}

const ids = (records: Array<{ kind: string; id: string }>) => records.map((record) => `${record.kind}:${record.id}`).sort();

test("discovery finds exactly the person's records, how they matched, and what erasure would do", async () => {
  const records = await discoverSubjectRecords(api.signing, subject);
  const own = records.filter((record) => record.kind !== 'audit_entry');
  expect(ids(own)).toEqual(ids([
    { kind: 'signing_request', id: sealedRound.id },
    { kind: 'signing_request', id: declinedRound.id },
    { kind: 'kyc_case', id: kycCase.id },
  ]));
  const byId = new Map(own.map((record) => [record.id, record]));
  expect(byId.get(sealedRound.id)).toMatchObject({
    role: 'signer',
    status: 'completed',
    matchedBy: ['email'],
    erasure: { action: 'keep', legalBasis: expect.stringContaining('Art. 17(3)(b)'), keepUntil: expect.any(String) },
  });
  expect(byId.get(declinedRound.id)).toMatchObject({ status: 'declined', erasure: { action: 'erase' } });
  expect(byId.get(kycCase.id)).toMatchObject({
    role: 'customer',
    status: 'cancelled',
    matchedBy: ['email', 'phone'],
    erasure: { action: 'keep', legalBasis: expect.stringContaining('anti-money-laundering'), keepUntil: expect.any(String) },
  });
  // Five years after the case ended.
  const keepUntil = new Date((byId.get(kycCase.id)!.erasure as { keepUntil: string }).keepUntil);
  expect(keepUntil.getUTCFullYear() - new Date().getUTCFullYear()).toBe(5);

  // Olof is in both rounds but not the KYC case; someone unknown is in nothing.
  const his = await discoverSubjectRecords(api.signing, { organizationId: org.orgId, emails: [olof.email], phones: [], nationalIds: [] });
  expect(ids(his.filter((record) => record.kind !== 'audit_entry'))).toEqual(ids([
    { kind: 'signing_request', id: sealedRound.id },
    { kind: 'signing_request', id: declinedRound.id },
  ]));
  expect(await discoverSubjectRecords(api.signing, { organizationId: org.orgId, emails: [`nobody-${run}@example.test`], phones: [], nationalIds: [] })).toEqual([]);
  // Another organisation's records are never found.
  const other = await createTestOrganization(dataSource);
  expect(await discoverSubjectRecords(api.signing, { ...subject, organizationId: other.orgId })).toEqual([]);
});

test("the access package holds the person's data from both rounds and the KYC case, and nobody else's", async () => {
  const dsrId = randomUUID();
  const built = await buildAccessPackage(api.signing, dsrId, subject);
  expect(built.blobKey).toBe(`orgs/${org.orgId}/dsr/${dsrId}/access-package.zip`);
  const zip = await api.signing.adapters.blobStore.get(built.blobKey);
  expect(zip).toBeDefined();
  expect(createHash('sha256').update(zip!).digest('hex')).toBe(built.sha256);
  expect(zip!.length).toBe(built.size);
  expect(built.recordCount).toBeGreaterThanOrEqual(3);

  const files = unzipSync(new Uint8Array(zip!));
  const text = (name: string) => Buffer.from(files[name]!).toString('utf8');
  const sealedData = JSON.parse(text(`signing-requests/${sealedRound.id}/your-data.json`));
  const declinedData = JSON.parse(text(`signing-requests/${declinedRound.id}/your-data.json`));
  const kycData = JSON.parse(text(`kyc-cases/${kycCase.id}/your-data.json`));
  expect(sealedData.you).toEqual([expect.objectContaining({ name: petra.name, email: petra.email, status: 'signed', signedAt: expect.any(String) })]);
  expect(sealedData.otherSigners.count).toBe(1);
  // Her own events with where she acted from.
  expect(sealedData.auditTrail).toEqual(expect.arrayContaining([expect.objectContaining({ type: 'signed', by: 'you', userAgent: 'test browser of 0', ip: expect.any(String) })]));
  expect(declinedData.you).toEqual([expect.objectContaining({ email: petra.email, status: 'declined' })]);
  expect(declinedData.auditTrail).toEqual(expect.arrayContaining([expect.objectContaining({ type: 'declined', detail: { reason: 'Not what we agreed.' } })]));
  expect(kycData.you).toMatchObject({ name: petra.name, email: petra.email, phone: petra.phone });
  expect(kycData.kycCase.status).toBe('cancelled');

  // The document she signed, exactly as sealed (its audit page lists both signers: the README says so).
  const sealed = await call(`/v1/signing-requests/${sealedRound.id}/document`);
  expect(Buffer.from(files[`signing-requests/${sealedRound.id}/signed-agreement.pdf`]!)).toEqual(sealed.body);
  expect(text('README.txt')).toContain('exactly as it was signed');

  // Nothing of Olof's anywhere else in the package.
  for (const [name, bytes] of Object.entries(files)) {
    if (name.endsWith('.pdf')) continue;
    const content = Buffer.from(bytes).toString('utf8');
    expect({ name, hasOlof: content.includes(olof.email) || content.includes(olof.name) || content.includes('test browser of 1') }).toEqual({ name, hasOlof: false });
    expect({ name, hasSenderBrowser: content.includes(senderBrowser) }).toEqual({ name, hasSenderBrowser: false });
  }
  // The sender's PIN reset is there as what and when.
  expect(declinedData.auditTrail).toEqual(expect.arrayContaining([{ sequence: expect.any(Number), type: 'pin_reset', by: 'the organisation', channel: 'sender', occurredAt: expect.any(String) }]));
  // The manifest's checksums are the files'.
  const manifest = JSON.parse(text('manifest.json'));
  for (const file of manifest.files) expect(createHash('sha256').update(files[file.name]!).digest('hex')).toBe(file.sha256);
  expect(Object.keys(files).filter((name) => name !== 'manifest.json').sort()).toEqual(manifest.files.map((file: Json) => file.name).sort());
});

test('erasure shreds the declined round and keeps the sealed contract and the KYC case with their legal bases; a retry changes nothing', async () => {
  const dsrId = randomUUID();
  const first = await eraseSubjectData(api.signing, dsrId, subject, 'user:test');
  expect(ids(first.erased)).toEqual(ids([{ kind: 'signing_request', id: declinedRound.id }]));
  const kept = new Map(first.kept.map((record) => [record.id, record]));
  expect(kept.get(sealedRound.id)?.erasure).toMatchObject({ action: 'keep', legalBasis: expect.stringContaining('evidence of a contract') });
  expect(kept.get(kycCase.id)?.erasure).toMatchObject({ action: 'keep', legalBasis: expect.stringContaining('anti-money-laundering') });

  // The declined round is a tombstone with a receipt under this request's rule; the sealed one is intact.
  const [receipt] = await dataSource.query(`SELECT rule, reason, actor FROM deletion_receipts WHERE record_id = $1`, [declinedRound.id]);
  expect(receipt).toEqual({ rule: `data-subject-request:${dsrId}`, reason: 'Erasure requested by the data subject (GDPR Art. 17)', actor: 'user:test' });
  const signers: Array<{ email: string | null; name: string | null }> = await dataSource.query(`SELECT email, name FROM signers WHERE request_id = $1`, [declinedRound.id]);
  expect(signers.every((signer) => signer.email === null && signer.name === null)).toBe(true);
  const sealed = await call(`/v1/signing-requests/${sealedRound.id}/document`);
  expect(sealed.status).toBe(200);

  // The activity retried: the same answer, no error.
  const again = await eraseSubjectData(api.signing, dsrId, subject, 'user:test');
  expect(ids(again.erased)).toEqual(ids(first.erased));
  expect(ids(again.kept)).toEqual(ids(first.kept));
  // Discovery no longer finds the shredded round: nothing of her is left in it.
  const after = await discoverSubjectRecords(api.signing, subject);
  expect(after.map((record) => record.id)).not.toContain(declinedRound.id);
});

describe('an open round', () => {
  let pending: Json;
  const newEmail = `petra.persson-${run}@example.test`;

  beforeAll(async () => {
    pending = await createRound('Third agreement');
    await signerSession(pending, 0); // both invited (parallel)
  });

  test("rectification corrects the person's email in the pending round only, recorded in its trail", async () => {
    const result = await rectifySubjectContact(api.signing, subject, { email: newEmail }, 'user:test');
    expect(ids(result.updated)).toEqual(ids([{ kind: 'signing_request', id: pending.id }]));
    // Read through the entity: contacts are stored under the request's key (src/signing/round-personal-data.ts).
    const rows = await dataSource.getRepository(Signer).find({ where: { requestId: pending.id }, order: { position: 'ASC' } });
    expect(rows.map((row) => row.email)).toEqual([newEmail, olof.email]);
    // The sealed contract keeps the address it was signed with.
    const sealedSigner = await dataSource.getRepository(Signer).findOneByOrFail({ requestId: sealedRound.id, position: 0 });
    expect(sealedSigner.email).toBe(petra.email);
    const trail = await call(`/v1/signing-requests/${pending.id}/audit-trail`);
    expect(trail.body.events).toEqual(
      expect.arrayContaining([expect.objectContaining({ type: 'contact_rectified', signerId: rows[0]!.id, detail: expect.objectContaining({ fields: ['email'] }) })]),
    );
    // The signer is found by the corrected address from now on.
    const found = await discoverSubjectRecords(api.signing, { ...subject, emails: [newEmail] });
    // Still in progress: erasure keeps it until the sender cancels it.
    expect(found.find((record) => record.id === pending.id)).toMatchObject({
      status: 'pending',
      erasure: { action: 'keep', explanation: expect.stringContaining('cancelled first') },
    });
  });

  test('restriction stops the reminders to the person; the other signer is still reminded', async () => {
    const dsrId = randomUUID();
    const restricted = await restrictSubject(api.signing, dsrId, { ...subject, emails: [newEmail] }, 'restriction', 'user:test');
    expect(ids(restricted.restricted)).toEqual(ids([{ kind: 'signing_request', id: pending.id }]));

    // The sender reminds everyone who has not signed: the round's reminder activity runs for both signers.
    expect((await call(`/v1/signing-requests/${pending.id}/remind`, { method: 'POST' })).status).toBe(200);
    const [petraSigner, olofSigner] = pending.signers as Json[];
    await waitFor("Olof's reminder", () => {
      try {
        return outboxMessage(api, 'mail', `reminder-manual-1-${olofSigner.id}`);
      } catch {
        return undefined;
      }
    });
    const skipped = await waitFor('the skipped reminder in the trail', async () => {
      const trail = await call(`/v1/signing-requests/${pending.id}/audit-trail`);
      return (trail.body.events as Json[]).find((event) => event.type === 'reminder_skipped');
    });
    expect(skipped).toMatchObject({ signerId: petraSigner.id, detail: { reason: 'contact_restricted' } });
    expect(() => outboxMessage(api, 'mail', `reminder-manual-1-${petraSigner.id}`)).toThrow(/no mail message/);
    const trail = await call(`/v1/signing-requests/${pending.id}/audit-trail`);
    const reminded = (trail.body.events as Json[]).filter((event) => event.type === 'reminded').map((event) => event.signerId);
    expect(reminded).toEqual([olofSigner.id]);
  });
});

describe('a KYC customer known by national id', () => {
  let openCase: Json;
  const customerEmail = `customer-${run}@example.test`;

  beforeAll(async () => {
    const created = await call('/v1/kyc-cases', { body: { customer: { type: 'person', name: 'Karin Karlsson', email: customerEmail, nationalId: '198001011234' } } });
    expect(created.status).toBe(201);
    openCase = created.body;
  });

  test('is found by the national id (stored only encrypted) in its short form, and only by the right number', async () => {
    const found = await discoverSubjectRecords(api.signing, { organizationId: org.orgId, emails: [], phones: [], nationalIds: ['800101-1234'] });
    expect(found).toEqual([
      expect.objectContaining({
        kind: 'kyc_case',
        id: openCase.id,
        matchedBy: ['national_id'],
        status: 'invited',
        // Open: kept while in progress, not shredded under the customer's feet.
        erasure: expect.objectContaining({ action: 'keep', explanation: expect.stringContaining('in progress') }),
      }),
    ]);
    expect(await discoverSubjectRecords(api.signing, { organizationId: org.orgId, emails: [], phones: [], nationalIds: ['800101-1235'] })).toEqual([]);
  });

  test("an objection stops the case's reminders to the customer", async () => {
    const subjectByNationalId = { organizationId: org.orgId, emails: [], phones: [], nationalIds: ['198001011234'] };
    const restricted = await restrictSubject(api.signing, randomUUID(), subjectByNationalId, 'objection', 'user:test');
    expect(ids(restricted.restricted)).toEqual(ids([{ kind: 'kyc_case', id: openCase.id }]));
    expect((await call(`/v1/kyc-cases/${openCase.id}/remind`, { method: 'POST' })).status).toBe(200);
    const skipped = await waitFor('the skipped KYC reminder', async () => {
      const trail = await call(`/v1/kyc-cases/${openCase.id}/audit-trail`);
      return (trail.body.events as Json[]).find((event) => event.type === 'reminder_skipped');
    });
    expect(skipped.detail).toEqual({ reason: 'contact_restricted' });
    const trail = await call(`/v1/kyc-cases/${openCase.id}/audit-trail`);
    expect((trail.body.events as Json[]).filter((event) => event.type === 'reminded')).toEqual([]);
    expect(() => outboxMessage(api, 'mail', `kyc-reminder-manual-1-${openCase.id}`)).toThrow(/no mail message/);
  });
});

describe('a legal hold on a folder above the round', () => {
  test('keeps the round the person could otherwise have erased, and erasure leaves it', async () => {
    const folder = async (name: string, parentId?: string) => {
      const created = await call('/v1/folders', { body: { name, ...(parentId ? { parentId } : {}) } });
      expect(created.status).toBe(201);
      return created.body.id as string;
    };
    const parent = await folder(`Disputes ${run}`);
    const child = await folder(`Disputes 2026 ${run}`, parent);
    const held = { name: `Hanna Hold ${run}`, email: `hanna-${run}@example.test` };
    const created = await call('/v1/signing-requests', {
      body: { title: 'Held agreement', folderId: child, document: { filename: 'agreement.pdf', contentBase64: pdfBase64 }, signers: [held] },
    });
    expect(created.status).toBe(201);
    expect((await call(`/v1/signing-requests/${created.body.id}/cancel`, { body: { reason: 'No longer needed' } })).status).toBe(200);
    expect((await roundResult(created.body.id)).status).toBe('cancelled');
    expect((await call(`/v1/folders/${parent}/legal-hold`, { method: 'PUT', body: { reason: 'Litigation' } })).status).toBe(200);

    const person: DataSubject = { organizationId: org.orgId, emails: [held.email], phones: [], nationalIds: [] };
    const [found] = (await discoverSubjectRecords(api.signing, person)).filter((record) => record.kind === 'signing_request');
    expect(found).toMatchObject({ id: created.body.id, status: 'cancelled', erasure: { action: 'keep', legalBasis: expect.stringContaining('legal hold') } });
    const erasure = await eraseSubjectData(api.signing, randomUUID(), person, 'user:test');
    expect(erasure.erased).toEqual([]);
    expect(ids(erasure.kept.filter((record) => record.kind === 'signing_request'))).toEqual(ids([{ kind: 'signing_request', id: created.body.id }]));
  });
});

describe('an objection fulfilled before the round exists', () => {
  test('a round created after it does not remind the person; the other signer is reminded', async () => {
    const rita = { name: `Rita Invändning ${run}`, email: `rita-${run}@example.test` };
    const created = await call('/v1/data-subject-requests', { body: { type: 'objection', requester: rita } });
    expect(created.status).toBe(201);
    const dsrId: string = created.body.id;
    const text = await waitFor('the confirmation code email', () => {
      try {
        return outboxMessage(api, 'mail', `dsr-code-${dsrId}-v1`);
      } catch {
        return undefined;
      }
    });
    const code = /^(\d{8})\s*$/m.exec(text)![1]!;
    const token = /\/privacy\/[a-z0-9-]+\/r\/([0-9a-f]{64})/.exec(text)![1]!;
    expect((await call('/v1/privacy/requests/confirm', { key: null, body: { token, code } })).status).toBe(200);
    expect((await call(`/v1/data-subject-requests/${dsrId}/fulfil`, { body: {} })).status).toBe(200);
    await waitFor('the objection fulfilled', async () => (await call(`/v1/data-subject-requests/${dsrId}`)).body.fulfilledAt);

    // A new round next week, her address typed in capitals: she gets the invitation, but no reminders.
    const round = await call('/v1/signing-requests', {
      body: { title: 'Later agreement', document: { filename: 'agreement.pdf', contentBase64: pdfBase64 }, signers: [{ ...rita, email: rita.email.toUpperCase() }, olof] },
    });
    expect(round.status).toBe(201);
    const [ritaSigner, olofSigner] = round.body.signers as Json[];
    const remind = await call(`/v1/signing-requests/${round.body.id}/remind`, { method: 'POST' });
    expect(remind.status).toBe(200);
    // Both are pending: the round decides per signer, when it sends, that Rita is not reminded.
    expect(remind.body).toEqual({ reminded: 2 });
    // On a busy machine this reminder reaches the round together with its start; it reminds both signers
    // all the same (test/integration/signing-request-management.test.ts pins that case down).
    await waitFor("Olof's reminder", () => {
      try {
        return outboxMessage(api, 'mail', `reminder-manual-1-${olofSigner.id}`);
      } catch {
        return undefined;
      }
    });
    const skipped = await waitFor(
      'the skipped reminder in the trail',
      async () => {
        const trail = await call(`/v1/signing-requests/${round.body.id}/audit-trail`);
        return (trail.body.events as Json[]).find((event) => event.type === 'reminder_skipped');
      },
      90_000,
    );
    expect(skipped).toMatchObject({ signerId: ritaSigner.id, detail: { reason: 'contact_restricted' } });
    expect(() => outboxMessage(api, 'mail', `reminder-manual-1-${ritaSigner.id}`)).toThrow(/no mail message/);
  });
});

describe('an access package made before an erasure', () => {
  test('is deleted by the erasure and its download ends: it was a copy of the erased data', async () => {
    const erik = { name: `Erik Eriksson ${run}`, email: `erik-${run}@example.test` };
    const created = await call('/v1/data-subject-requests', { body: { type: 'access', requester: erik } });
    expect(created.status).toBe(201);
    const dsrId: string = created.body.id;
    const text = await waitFor('the confirmation code email', () => {
      try {
        return outboxMessage(api, 'mail', `dsr-code-${dsrId}-v1`);
      } catch {
        return undefined;
      }
    });
    const code = /^(\d{8})\s*$/m.exec(text)![1]!;
    const token = /\/privacy\/[a-z0-9-]+\/r\/([0-9a-f]{64})/.exec(text)![1]!;
    expect((await call('/v1/privacy/requests/confirm', { key: null, body: { token, code } })).status).toBe(200);
    expect((await call(`/v1/data-subject-requests/${dsrId}/fulfil`, { body: {} })).status).toBe(200);
    const fulfilled = await waitFor('the access package built', async () => {
      const read = await call(`/v1/data-subject-requests/${dsrId}`);
      return read.body.accessPackage ? read.body : undefined;
    });
    expect(new Date(fulfilled.accessPackage.expiresAt).getTime()).toBeGreaterThan(Date.now());
    const blobKey = `orgs/${org.orgId}/dsr/${dsrId}/access-package.zip`;
    expect(await api.signing.adapters.blobStore.get(blobKey)).toBeDefined();

    await eraseSubjectData(api.signing, randomUUID(), { organizationId: org.orgId, emails: [erik.email], phones: [], nationalIds: [] }, 'user:test');
    expect(await api.signing.adapters.blobStore.get(blobKey)).toBeUndefined();
    const after = await call(`/v1/data-subject-requests/${dsrId}`);
    expect(new Date(after.body.accessPackage.expiresAt).getTime()).toBeLessThanOrEqual(Date.now());
  });
});
