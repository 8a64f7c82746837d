/**
 * KYC cases end to end through the API, against the real Temporal dev server and PostgreSQL: a case is
 * created, the customer opens their emailed link with the PIN, saves a draft, submits (invalid answers are
 * refused naming each question), signs the declaration in a child signing round (sealed, pyHanko-valid),
 * and two different reviewers approve a PEP case (four eyes); the evidence package is downloadable only by
 * members who may read documents. Also: send back for changes, cancel, webhook messages.
 */
import { X509Certificate, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { DataSource } from 'typeorm';
import { apiClient, type ApiCall, type Json } from '../support/api-client';
import { createTestOrganization } from '../support/factories';
import { harness, openTestDataSource, startTestApi, type TestApi } from '../support/harness';
import { goodPassword, inviteMember, outboxMessage, signIn } from '../support/members';
import { pyhankoValidate } from '../support/pdf-validators';
import { reportDocumentDisplayed } from '../support/signer-reading';
import { waitFor } from '../support/wait-for';
import { smsPinFor } from '../support/sms-outbox';
import type { TestBrowser } from '../support/browser';

let dataSource: DataSource;
let api: TestApi;
let org: { orgId: string; apiKey: string };
let call: ApiCall;
let reviewerA: TestBrowser;
let reviewerB: TestBrowser;
let support: TestBrowser;

const unique = (name: string) => `${name}-${randomUUID()}@example.test`;

beforeAll(async () => {
  dataSource = await openTestDataSource();
  api = await startTestApi(dataSource);
  org = await createTestOrganization(dataSource);
  call = apiClient(() => api.url, () => org.apiKey);
  const people: TestBrowser[] = [];
  for (const [label, role] of [['reviewer-a', 'admin'], ['reviewer-b', 'admin'], ['support', 'support']] as const) {
    const email = unique(label);
    await inviteMember(api, org.apiKey, { email, role, name: label, password: goodPassword });
    people.push((await signIn(api, email, goodPassword)).browser);
  }
  [reviewerA, reviewerB, support] = people as [TestBrowser, TestBrowser, TestBrowser];
  // An enabled endpoint, so the organisation's webhook messages are written (nobody dispatches them here).
  expect((await call('/v1/webhook-endpoints', { body: { url: 'http://127.0.0.1:9/hooks', events: ['kyc_case.created', 'kyc_case.approved'] } })).status).toBe(201);
});

afterAll(async () => {
  await api?.close();
  await dataSource?.destroy();
});

async function createCase(body: Record<string, unknown> = {}, headers?: Record<string, string>) {
  const email = unique('customer');
  const created = await call('/v1/kyc-cases', { body: { customer: { type: 'person', name: 'Aino Virtanen', email }, ...body }, headers });
  expect(created.status).toBe(201);
  return { ...(created.body as Json), email };
}

/** The customer's link from their invitation email. */
async function customerToken(caseId: string): Promise<string> {
  const text = await waitFor('the KYC invitation', () => {
    try {
      return outboxMessage(api, 'mail', `kyc-invitation-${caseId}`);
    } catch {
      return undefined;
    }
  });
  const match = /\/k\/([0-9a-f]{64})/.exec(text);
  expect(match).not.toBeNull();
  return match![1]!;
}

async function openSession(token: string, pin: string): Promise<Record<string, string>> {
  const session = await call('/v1/kyc/customer/session', { key: null, body: { token, pin } });
  expect(session.status).toBe(200);
  return { authorization: `Bearer ${session.body.sessionToken}` };
}

const customer = (auth: Record<string, string>) => (pathname: string, init: { method?: string; body?: unknown } = {}) =>
  call(pathname, { key: null, headers: auth, ...init });

const pepAnswers = {
  relationship_purpose: 'savings',
  source_of_funds: ['salary', 'savings'],
  pep: true,
  pep_details: 'My sister is a member of parliament.',
};

/** The customer signs the declaration on the signer API with the session the case hands over. */
async function signDeclaration(auth: Record<string, string>, name: string) {
  // The page offers the declaration once the case says it is pending (while 'preparing' it waits); then it opens at once.
  await waitFor('the declaration pending', async () => (await customer(auth)('/v1/kyc/customer/case')).body.declaration?.status === 'pending');
  const opened = await customer(auth)('/v1/kyc/customer/declaration-session', { method: 'POST' });
  expect(opened.status).toBe(200);
  const handed = opened.body;
  expect(handed.signingUrl).toMatch(new RegExp(`^${api.url}/s/[0-9a-f]{64}$`));
  const signer = { authorization: `Bearer ${handed.sessionToken}` };
  const document = await call('/v1/signer/document', { key: null, headers: signer });
  expect(document.status).toBe(200);
  expect(document.body.subarray(0, 5).toString()).toBe('%PDF-');
  await reportDocumentDisplayed(call, handed.sessionToken);
  const signed = await call('/v1/signer/sign', { key: null, headers: signer, body: { typedName: name, consent: true } });
  expect(signed).toMatchObject({ status: 200, body: { status: 'pending' } });
}

const caseStatus = async (id: string) => (await call(`/v1/kyc-cases/${id}`)).body as Json;

describe('creating a case', () => {
  test('201 with the defaults, the PIN for the sender, and Idempotency-Key honoured', async () => {
    const before = Date.now();
    const created = await createCase({}, { 'idempotency-key': `kyc-${before}` });
    expect(created).toMatchObject({ status: 'invited', customer: { pin: expect.stringMatching(/^\d{6}$/) } });
    expect(Date.parse(created.expiresAt) - before).toBeGreaterThan(29.9 * 86_400_000);

    const view = await caseStatus(created.id);
    expect(view).toMatchObject({ identification: 'pin', questionnaire: { version: 1, title: 'Customer due diligence (AML)' }, customer: { hasNationalId: false } });

    const again = await call('/v1/kyc-cases', { body: { customer: { type: 'person', name: 'Aino Virtanen', email: created.email } }, headers: { 'idempotency-key': `kyc-${before}` } });
    expect(again).toMatchObject({ status: 201, body: { id: created.id } });
    const other = await call('/v1/kyc-cases', { body: { customer: { type: 'person', name: 'Someone Else', email: created.email } }, headers: { 'idempotency-key': `kyc-${before}` } });
    expect(other.status).toBe(409);
  });

  test('bad input is refused with a message naming the field', async () => {
    const email = unique('bad');
    const unknownQuestionnaire = await call('/v1/kyc-cases', { body: { customer: { type: 'person', name: 'A', email }, questionnaireId: '00000000-0000-4000-8000-000000000001' } });
    expect(unknownQuestionnaire).toMatchObject({ status: 422, body: { error: { message: expect.stringContaining('questionnaireId') } } });
    const companyWithNationalId = await call('/v1/kyc-cases', { body: { customer: { type: 'company', name: 'Oy Ab', email, nationalId: '010180-123A' } } });
    expect(companyWithNationalId).toMatchObject({ status: 422, body: { error: { message: expect.stringContaining('customer.nationalId') } } });
    const noBroker = await call('/v1/kyc-cases', { body: { customer: { type: 'person', name: 'A', email }, identification: 'eid' } });
    expect(noBroker).toMatchObject({ status: 422, body: { error: { code: 'eid_unavailable', message: expect.stringContaining('identification') } } });
    const badEmail = await call('/v1/kyc-cases', { body: { customer: { type: 'person', name: 'A', email: 'not-an-email' } } });
    expect(badEmail).toMatchObject({ status: 400, body: { error: { message: expect.stringContaining('customer.email') } } });
  });
});

test('a PEP case end to end: draft, refused answers, declaration signed and sealed, four-eyes approval, evidence package', async () => {
  const created = await createCase();
  const token = await customerToken(created.id);
  expect((await call('/v1/kyc/customer/link', { key: null, body: { token: 'f'.repeat(64) } })).body).toEqual({ state: 'unknown' });
  expect((await call('/v1/kyc/customer/link', { key: null, body: { token } })).body).toEqual({ state: 'open', locale: 'en', identification: 'pin' });

  const wrongPin = created.customer.pin === '000000' ? '111111' : '000000';
  expect(await call('/v1/kyc/customer/session', { key: null, body: { token, pin: wrongPin } })).toMatchObject({ status: 401, body: { attemptsLeft: 4 } });

  // A draft survives the browser closing: a new session reads it back.
  const first = customer(await openSession(token, created.customer.pin));
  expect((await first('/v1/kyc/customer/case')).body).toMatchObject({ status: 'in_progress', draft: {}, questionnaire: { definition: { questions: expect.any(Array) } } });
  expect((await first('/v1/kyc/customer/draft', { method: 'PUT', body: { answers: { relationship_purpose: 'savings' } } })).status).toBe(200);
  const auth = await openSession(token, created.customer.pin);
  const again = customer(auth);
  expect((await again('/v1/kyc/customer/case')).body.draft).toEqual({ relationship_purpose: 'savings' });

  const refused = await again('/v1/kyc/customer/submit', { body: { answers: { relationship_purpose: 'savings', pep: 'maybe' } } });
  expect(refused.status).toBe(422);
  expect(refused.body.error.details.questionKeys.sort()).toEqual(['pep', 'source_of_funds']);
  expect(refused.body.error.message).toContain('source_of_funds must be answered');

  expect(await again('/v1/kyc/customer/submit', { body: { answers: pepAnswers } })).toMatchObject({ status: 200, body: { status: 'signing' } });
  await signDeclaration(auth, 'Aino Virtanen');

  const inReview = await waitFor('the case in review', async () => {
    const view = await caseStatus(created.id);
    return view.status === 'in_review' ? view : undefined;
  });
  // Stored encrypted: the answers are nowhere in the case's row in clear.
  const [row] = await dataSource.query(`SELECT answers, draft FROM kyc_cases WHERE id = $1`, [created.id]);
  for (const sealed of [row.answers, row.draft] as Buffer[]) expect(sealed.includes(Buffer.from('member of parliament'))).toBe(false);
  expect(inReview).toMatchObject({ secondReviewReasons: ['pep'], answers: pepAnswers, declaration: { status: 'completed', sha256: expect.stringMatching(/^[0-9a-f]{64}$/) } });

  // The declaration is a signing request like any other: its sealed PDF validates with pyHanko.
  const sealed = await call(`/v1/signing-requests/${inReview.declaration.requestId}/document`);
  expect(sealed.status).toBe(200);
  const dir = harness.tempDir('kyc');
  const sealedFile = path.join(dir, 'declaration.pdf');
  fs.writeFileSync(sealedFile, sealed.body);
  const trust = path.join(dir, 'seal.pem');
  fs.writeFileSync(trust, new X509Certificate((await api.signing.sealKey()).certificateChain[0]!).toString());
  expect(pyhankoValidate(sealedFile, trust).output).toContain('The signature is judged VALID.');

  // Four eyes: two different signed-in members; an API key can approve neither first nor second.
  const byKey = await call(`/v1/kyc-cases/${created.id}/approve`, { body: {} });
  expect(byKey).toMatchObject({ status: 409, body: { error: { code: 'conflict', message: 'A second review needs two different members; API keys cannot approve a case that needs four eyes.' } } });
  // The first approval waits for a second reviewer, who must be someone else.
  const firstApproval = await reviewerA.call(`/v1/kyc-cases/${created.id}/approve`, { body: { note: 'Checked the PEP details.' } });
  expect(firstApproval).toMatchObject({ status: 200, body: { status: 'in_review', reviews: [{ decision: 'approved', round: 1, reviewer: { name: 'reviewer-a' } }] } });
  const sameReviewer = await reviewerA.call(`/v1/kyc-cases/${created.id}/approve`, { body: {} });
  expect(sameReviewer).toMatchObject({ status: 409, body: { error: { code: 'conflict', message: 'A second reviewer must approve: you approved first.' } } });
  expect((await call(`/v1/kyc-cases/${created.id}/approve`, { body: {} })).status).toBe(409);
  expect((await caseStatus(created.id)).status).toBe('in_review');
  const secondApproval = await reviewerB.call(`/v1/kyc-cases/${created.id}/approve`, { body: {} });
  expect(secondApproval).toMatchObject({ status: 200, body: { status: 'approved', reviews: [{ round: 1 }, { decision: 'approved', round: 2, reviewer: { name: 'reviewer-b' } }] } });

  const approved = await waitFor('the evidence package', async () => {
    const view = await caseStatus(created.id);
    return view.evidencePackage ? view : undefined;
  });
  expect(approved).toMatchObject({ status: 'approved', endedAt: expect.any(String) });
  expect((await reviewerB.call(`/v1/kyc-cases/${created.id}/evidence`)).status).toBe(200);
  const evidence = await call(`/v1/kyc-cases/${created.id}/evidence`);
  expect(evidence).toMatchObject({ status: 200, headers: expect.anything() });
  expect(evidence.headers.get('content-type')).toBe('application/zip');
  const zip = evidence.body as Buffer;
  expect(zip.subarray(0, 2).toString()).toBe('PK');
  expect(evidence.headers.get('x-content-sha256')).toBe(approved.evidencePackage.sha256);
  // Archived encrypted: the stored object is not the ZIP the member downloads.
  const stored = fs.readFileSync(path.join(api.config.dataDir, 'blobs', 'orgs', org.orgId, 'kyc', created.id, 'evidence.zip'));
  expect(stored.subarray(0, 2).toString()).not.toBe('PK');
  expect(stored.includes(Buffer.from('answers.json'))).toBe(false);
  for (const name of ['declaration-sealed.pdf', 'answers.json', 'reviews.json', 'audit-trail.json', 'manifest.json']) expect(zip.includes(Buffer.from(name))).toBe(true);
  // Support staff follow the case but do not read what the customer declared.
  expect((await support.call(`/v1/kyc-cases/${created.id}`)).body.answers).toBeUndefined();
  expect((await support.call(`/v1/kyc-cases/${created.id}/evidence`)).status).toBe(403);

  // The readable history, once the workflow has told everyone (its last step).
  const history = await waitFor('the whole history', async () => {
    const steps = (await support.call(`/v1/kyc-cases/${created.id}/history`)).body.steps as Json[];
    return steps.some((step) => step.event === 'WorkflowExecutionCompleted') ? steps : undefined;
  });
  expect(history.map((step) => step.activity).filter(Boolean)).toEqual(expect.arrayContaining(['sendKycInvitation', 'prepareKycDeclaration', 'archiveKycEvidence', 'notifyKycOutcome']));
  expect(history.filter((step) => step.update).map((step) => step.update)).toEqual(expect.arrayContaining(['answersSubmitted', 'approve']));
  expect(history.some((step) => step.event === 'StartChildWorkflowExecutionInitiated')).toBe(true);
  const trail = await call(`/v1/kyc-cases/${created.id}/audit-trail`);
  expect(trail.body.chainValid).toBe(true);
  expect(trail.body.events.map((event: Json) => event.type)).toEqual(
    expect.arrayContaining(['created', 'invited', 'opened', 'pin_failed', 'submitted', 'declaration_signed', 'approved', 'evidence_archived']),
  );

  const messages: Array<{ type: string; payload: Json }> = await dataSource.query(
    `SELECT type, payload FROM webhook_messages WHERE organization_id = $1 AND payload->'data'->>'kycCaseId' = $2 ORDER BY created_at`,
    [org.orgId, created.id],
  );
  expect(messages.map((message) => message.type)).toEqual(['kyc_case.created', 'kyc_case.submitted', 'kyc_case.signed', 'kyc_case.approved']);
  expect(JSON.stringify(messages)).not.toContain('Aino');
  // The customer hears the outcome, and so do the staff: the owner and both reviewers.
  await waitFor('the outcome email', () => {
    try {
      return outboxMessage(api, 'mail', `kyc-outcome-customer-${created.id}`).includes('approved your customer due diligence');
    } catch {
      return undefined;
    }
  });
  await waitFor('the staff told', async () => (await call(`/v1/kyc-cases/${created.id}/audit-trail`)).body.events.some((event: Json) => event.type === 'notified'));
  const staffMail = fs.readdirSync(path.join(api.config.dataDir, 'outbox', 'mail')).filter((name) => name.startsWith(`kyc-outcome-staff-${created.id}-`));
  expect(staffMail.filter((name) => name.endsWith('.eml'))).toHaveLength(3);
});

test('sent back for changes: the customer finds the reason and their answers, and submits again', async () => {
  const created = await createCase();
  const auth = await openSession(await customerToken(created.id), created.customer.pin);
  const answers = { relationship_purpose: 'payments', source_of_funds: ['salary'], pep: false };
  expect((await customer(auth)('/v1/kyc/customer/submit', { body: { answers } })).status).toBe(200);
  await signDeclaration(auth, 'Aino Virtanen');
  const firstRequest = await waitFor('the case in review', async () => {
    const view = await caseStatus(created.id);
    return view.status === 'in_review' ? (view.declaration.requestId as string) : undefined;
  });

  const sentBack = await reviewerA.call(`/v1/kyc-cases/${created.id}/request-changes`, { body: { reason: 'Please describe where your savings come from.' } });
  expect(sentBack).toMatchObject({ status: 200, body: { status: 'changes_requested' } });
  // The customer is told by email, with the reason and their link.
  const told = await waitFor('the changes email', () => {
    try {
      return outboxMessage(api, 'mail', `kyc-changes-${created.id}-review-1`);
    } catch {
      return undefined;
    }
  });
  expect(told).toContain('Please describe where your savings come from.');
  expect(told).toMatch(/\/k\/[0-9a-f]{64}/);
  const page = (await customer(auth)('/v1/kyc/customer/case')).body;
  expect(page).toMatchObject({ status: 'changes_requested', draft: answers, changesRequested: { reason: 'Please describe where your savings come from.' } });

  expect((await customer(auth)('/v1/kyc/customer/submit', { body: { answers: { ...answers, source_of_funds: ['salary', 'savings'] } } })).body).toEqual({ status: 'signing' });
  await signDeclaration(auth, 'Aino Virtanen');
  const reviewed = await waitFor('the case in review again', async () => {
    const view = await caseStatus(created.id);
    return view.status === 'in_review' ? view : undefined;
  });
  expect(reviewed.declaration.requestId).not.toBe(firstRequest);
  // One approval suffices without a PEP answer.
  expect((await reviewerB.call(`/v1/kyc-cases/${created.id}/approve`, { body: {} })).body).toMatchObject({ status: 'approved', reviews: [{ decision: 'changes_requested' }, { decision: 'approved', round: null }] });
});

test('a retried create of an approved case answers as before and starts nothing: the case stays approved, its one run completed', async () => {
  const key = `kyc-replay-${randomUUID()}`;
  const created = await createCase({}, { 'idempotency-key': key });
  const auth = await openSession(await customerToken(created.id), created.customer.pin);
  expect((await customer(auth)('/v1/kyc/customer/submit', { body: { answers: { relationship_purpose: 'payments', source_of_funds: ['salary'], pep: false } } })).status).toBe(200);
  await signDeclaration(auth, 'Aino Virtanen');
  await waitFor('the case in review', async () => (await caseStatus(created.id)).status === 'in_review');
  expect((await reviewerA.call(`/v1/kyc-cases/${created.id}/approve`, { body: {} })).body.status).toBe('approved');
  const handle = api.client.workflow.getHandle(`kyc-case-${created.id}`);
  await handle.result();
  const run = await handle.describe();

  const again = await call('/v1/kyc-cases', { body: { customer: { type: 'person', name: 'Aino Virtanen', email: created.email } }, headers: { 'idempotency-key': key } });
  expect(again).toMatchObject({ status: 201, body: { id: created.id, customer: { pin: created.customer.pin } } });
  const after = await handle.describe();
  expect({ runId: after.runId, status: after.status.name }).toEqual({ runId: run.runId, status: 'COMPLETED' });
  expect((await caseStatus(created.id)).status).toBe('approved');
  const events = (await call(`/v1/kyc-cases/${created.id}/audit-trail`)).body.events as Json[];
  expect(events.filter((event) => event.type === 'invited')).toHaveLength(1);
});

test('two submissions at once: exactly one is accepted, and the answers on record are the accepted ones with their second-review reasons', async () => {
  const created = await createCase();
  const auth = await openSession(await customerToken(created.id), created.customer.pin);
  const plain = { relationship_purpose: 'payments', source_of_funds: ['salary'], pep: false };
  const [first, second] = await Promise.all([
    customer(auth)('/v1/kyc/customer/submit', { body: { answers: plain } }),
    customer(auth)('/v1/kyc/customer/submit', { body: { answers: pepAnswers } }),
  ]);
  expect([first.status, second.status].sort()).toEqual([200, 409]);
  const accepted = first.status === 200 ? plain : pepAnswers;
  const view = await waitFor('the submission recorded', async () => {
    const found = await caseStatus(created.id);
    return found.status === 'signing' ? found : undefined;
  });
  expect(view).toMatchObject({ status: 'signing', answers: accepted, secondReviewReasons: accepted.pep ? ['pep'] : [] });
  expect((await call(`/v1/kyc-cases/${created.id}/audit-trail`)).body.events.filter((event: Json) => event.type === 'submitted')).toHaveLength(1);
  // A submission the case no longer takes changes nothing on record.
  expect((await customer(auth)('/v1/kyc/customer/submit', { body: { answers: accepted.pep ? plain : pepAnswers } })).status).toBe(409);
  expect((await caseStatus(created.id)).answers).toEqual(accepted);
});

test('cancel: the case ends, its link says so, and a second cancel is a conflict', async () => {
  const created = await createCase();
  const token = await customerToken(created.id);
  const cancelled = await call(`/v1/kyc-cases/${created.id}/cancel`, { body: { reason: 'Opened by mistake.' } });
  expect(cancelled).toMatchObject({ status: 200, body: { status: 'cancelled' } });
  expect((await call('/v1/kyc/customer/link', { key: null, body: { token } })).body).toEqual({ state: 'ended', locale: 'en' });
  expect((await call(`/v1/kyc-cases/${created.id}/cancel`, { body: { reason: 'again' } })).status).toBe(409);
  const listed = await call('/v1/kyc-cases?status=cancelled&limit=100');
  expect(listed.body.items.map((item: Json) => item.id)).toContain(created.id);
});

test('uploads are checked for question, type and size, and an answer may name only files uploaded for it', async () => {
  const created = await createCase();
  const auth = await openSession(await customerToken(created.id), created.customer.pin);
  const upload = async (questionKey: string, bytes: Buffer, filename: string) => {
    const form = new FormData();
    form.append('questionKey', questionKey);
    form.append('file', new Blob([bytes]), filename);
    const response = await fetch(`${api.url}/v1/kyc/customer/uploads`, { method: 'POST', headers: auth, body: form });
    return { status: response.status, body: (await response.json()) as Json };
  };
  const pdf = Buffer.from('%PDF-1.4\n% a passport scan\n');
  const added = await upload('id_document', pdf, 'passport.pdf');
  expect(added).toMatchObject({ status: 201, body: { questionKey: 'id_document', filename: 'passport.pdf', bytes: pdf.length } });
  expect((await upload('pep', pdf, 'x.pdf')).status).toBe(422);
  expect(await upload('id_document', Buffer.from('MZ not a document'), 'run.exe')).toMatchObject({ status: 415, body: { error: { message: expect.stringContaining('PDF, JPEG, PNG') } } });
  expect((await upload('id_document', Buffer.concat([pdf, Buffer.alloc(10 * 1024 * 1024)]), 'huge.pdf')).status).toBe(413);
  expect((await customer(auth)('/v1/kyc/customer/case')).body.uploads).toEqual([added.body]);
  // The name (often the customer's own) is stored only under the case's key; the customer still sees it.
  const [storedName]: Array<{ filename: string | null; filename_sealed: Buffer | null }> = await dataSource.query(
    `SELECT filename, filename_sealed FROM kyc_uploads WHERE id = $1`,
    [added.body.id],
  );
  expect(storedName).toEqual({ filename: null, filename_sealed: expect.any(Buffer) });

  const answers = { relationship_purpose: 'payments', source_of_funds: ['salary'], pep: false, id_document: '00000000-0000-4000-8000-000000000000' };
  const refused = await customer(auth)('/v1/kyc/customer/submit', { body: { answers } });
  expect(refused).toMatchObject({ status: 422, body: { error: { details: { questionKeys: ['id_document'] } } } });
  expect((await customer(auth)(`/v1/kyc/customer/uploads/${added.body.id}`, { method: 'DELETE' })).status).toBe(204);
  expect((await customer(auth)('/v1/kyc/customer/case')).body.uploads).toEqual([]);
});

test("an organisation's own questionnaire with a risk rule needs a second reviewer; a rejection ends the case", async () => {
  const definition = {
    title: { en: 'Trading account', sv: 'Handelskonto', fi: 'Kaupankäyntitili' },
    questions: [
      { key: 'country', type: 'choice', required: true, label: { en: 'Country of residence', sv: 'Bosättningsland', fi: 'Asuinmaa' }, options: [
        { value: 'fi', label: { en: 'Finland', sv: 'Finland', fi: 'Suomi' } },
        { value: 'other', label: { en: 'Elsewhere', sv: 'Annat', fi: 'Muu' } },
      ] },
    ],
    secondReviewRules: [{ id: 'high_risk_country', question: 'country', equals: 'other' }],
  };
  expect((await reviewerA.call('/v1/questionnaires', { body: { definition: { ...definition, questions: [] } } })).status).toBe(400);
  const made = await reviewerA.call('/v1/questionnaires', { body: { definition } });
  expect(made).toMatchObject({ status: 201, body: { version: 1, builtIn: false } });
  const v2 = await reviewerA.call(`/v1/questionnaires/${made.body.id}/versions`, { body: { definition: { ...definition, title: { ...definition.title, en: 'Trading account (2)' } } } });
  expect(v2).toMatchObject({ status: 201, body: { id: made.body.id, version: 2 } });
  const listed = (await call('/v1/questionnaires')).body.items;
  expect(listed[0]).toMatchObject({ builtIn: true });
  expect(listed.find((item: Json) => item.id === made.body.id)).toMatchObject({ version: 2 });

  const created = await createCase({ questionnaireId: made.body.id });
  expect((await caseStatus(created.id)).questionnaire).toEqual({ id: made.body.id, version: 2, title: 'Trading account (2)' });
  const auth = await openSession(await customerToken(created.id), created.customer.pin);
  expect((await customer(auth)('/v1/kyc/customer/submit', { body: { answers: { country: 'other' } } })).status).toBe(200);
  await signDeclaration(auth, 'Aino Virtanen');
  await waitFor('the case in review', async () => (await caseStatus(created.id)).status === 'in_review');
  expect((await caseStatus(created.id)).secondReviewReasons).toEqual(['high_risk_country']);
  expect((await reviewerA.call(`/v1/kyc-cases/${created.id}/approve`, { body: {} })).body.status).toBe('in_review');
  const rejected = await reviewerB.call(`/v1/kyc-cases/${created.id}/reject`, { body: { reason: 'Outside our market.' } });
  expect(rejected).toMatchObject({ status: 200, body: { status: 'rejected', reviews: [{ decision: 'approved' }, { decision: 'rejected', reason: 'Outside our market.' }] } });
  expect((await reviewerB.call(`/v1/kyc-cases/${created.id}/approve`, { body: {} })).status).toBe(409);
});

test('cancelling while the declaration is out cancels its signing round too; a manual reminder at most hourly', async () => {
  const created = await createCase();
  const auth = await openSession(await customerToken(created.id), created.customer.pin);
  expect((await call(`/v1/kyc-cases/${created.id}/remind`, { method: 'POST' })).body).toEqual({ reminded: 1 });
  expect((await call(`/v1/kyc-cases/${created.id}/remind`, { method: 'POST' })).status).toBe(429);
  expect((await customer(auth)('/v1/kyc/customer/submit', { body: { answers: { relationship_purpose: 'payments', source_of_funds: ['salary'], pep: false } } })).status).toBe(200);
  await waitFor('the declaration out', async () => (await customer(auth)('/v1/kyc/customer/declaration-session', { method: 'POST' })).status === 200);
  const requestId = (await caseStatus(created.id)).declaration.requestId;
  // The declaration is the case's to act on: the ordinary signing-request actions are refused, naming the case.
  const signerId = (await call(`/v1/signing-requests/${requestId}`)).body.signers[0].id as string;
  const refusal = { status: 409, body: { error: { code: 'conflict', message: `This signing request belongs to KYC case ${created.id}; act on the case.` } } };
  expect(await call(`/v1/signing-requests/${requestId}/remind`, { method: 'POST' })).toMatchObject(refusal);
  expect(await call(`/v1/signing-requests/${requestId}/signers/${signerId}/reset-pin`, { method: 'POST' })).toMatchObject(refusal);
  expect(await call(`/v1/signing-requests/${requestId}/cancel`, { body: { reason: 'Behind the case.' } })).toMatchObject(refusal);
  expect((await call(`/v1/signing-requests/${requestId}`)).body.status).toBe('pending');
  expect((await call(`/v1/kyc-cases/${created.id}/cancel`, { body: { reason: 'The customer withdrew.' } })).body.status).toBe('cancelled');
  await waitFor('the declaration cancelled', async () => (await call(`/v1/signing-requests/${requestId}`)).body.status === 'cancelled');
  // The customer's page reads the case as ended; there is nothing left to sign.
  expect((await customer(auth)('/v1/kyc/customer/case')).body.status).toBe('cancelled');
  expect((await customer(auth)('/v1/kyc/customer/declaration-session', { method: 'POST' })).status).toBe(409);
});

test("cancelled while a reminder is on its way during signing: the declaration's round ends cancelled too, and nothing runs on", async () => {
  const created = await createCase();
  const auth = await openSession(await customerToken(created.id), created.customer.pin);
  expect((await customer(auth)('/v1/kyc/customer/submit', { body: { answers: { relationship_purpose: 'payments', source_of_funds: ['salary'], pep: false } } })).status).toBe(200);
  await waitFor('the declaration out', async () => (await customer(auth)('/v1/kyc/customer/declaration-session', { method: 'POST' })).status === 200);
  const requestId = (await caseStatus(created.id)).declaration.requestId as string;
  // The reminder is queued work the loop is doing when the cancellation arrives.
  expect((await call(`/v1/kyc-cases/${created.id}/remind`, { method: 'POST' })).body).toEqual({ reminded: 1 });
  expect((await call(`/v1/kyc-cases/${created.id}/cancel`, { body: { reason: 'The customer withdrew.' } })).body.status).toBe('cancelled');
  expect((await api.client.workflow.getHandle(`kyc-case-${created.id}`).result()).status).toBe('cancelled');
  expect((await api.client.workflow.getHandle(`signing-request-${requestId}`).describe()).status.name).not.toBe('RUNNING');
  expect((await call(`/v1/signing-requests/${requestId}`)).body.status).toBe('cancelled');
});

test("the case's trail is append-only, and a row edited behind the database's back breaks its chain there", async () => {
  const created = await createCase();
  await customerToken(created.id); // the invitation is recorded
  await waitFor('the invitation recorded', async () => (await call(`/v1/kyc-cases/${created.id}/audit-trail`)).body.events.length >= 2);
  for (const statement of [`UPDATE kyc_audit_events SET actor = 'someone' WHERE case_id = $1`, `DELETE FROM kyc_audit_events WHERE case_id = $1`]) {
    await expect(dataSource.query(statement, [created.id])).rejects.toThrow(/append-only/);
  }
  await dataSource.transaction(async (tx) => {
    await tx.query(`SET LOCAL session_replication_role = replica`);
    await tx.query(`UPDATE kyc_audit_events SET actor = 'api-key:forged' WHERE case_id = $1 AND sequence = 1`, [created.id]);
  });
  const trail = (await call(`/v1/kyc-cases/${created.id}/audit-trail`)).body;
  expect(trail).toMatchObject({ chainValid: false, firstBrokenEvent: { sequence: 1, type: 'created', reason: 'hash_mismatch' } });
});

test('five wrong PINs lock the link; a new PIN from the sender unlocks it and the old one stops working', async () => {
  const created = await createCase();
  const token = await customerToken(created.id);
  const wrong = created.customer.pin === '000000' ? '111111' : '000000';
  for (let attempt = 1; attempt <= 4; attempt++) {
    expect(await call('/v1/kyc/customer/session', { key: null, body: { token, pin: wrong } })).toMatchObject({ status: 401, body: { attemptsLeft: 5 - attempt } });
  }
  expect(await call('/v1/kyc/customer/session', { key: null, body: { token, pin: wrong } })).toMatchObject({ status: 423, body: { attemptsLeft: 0 } });
  expect((await call('/v1/kyc/customer/session', { key: null, body: { token, pin: created.customer.pin } })).status).toBe(423);
  expect((await call('/v1/kyc/customer/link', { key: null, body: { token } })).body.state).toBe('locked');

  const reset = await call(`/v1/kyc-cases/${created.id}/reset-pin`, { method: 'POST' });
  expect(reset).toMatchObject({ status: 200, body: { pin: expect.stringMatching(/^\d{6}$/) } });
  if (reset.body.pin !== created.customer.pin) {
    expect((await call('/v1/kyc/customer/session', { key: null, body: { token, pin: created.customer.pin } })).status).toBe(401);
  }
  expect((await call('/v1/kyc/customer/session', { key: null, body: { token, pin: reset.body.pin } })).status).toBe(200);
  const types = (await call(`/v1/kyc-cases/${created.id}/audit-trail`)).body.events.map((event: Json) => event.type);
  expect(types).toEqual(expect.arrayContaining(['pin_failed', 'locked', 'pin_reset', 'opened']));
});

test('a customer with a phone gets the PIN by SMS, as a signer does: the create answer has none', async () => {
  const phone = `+35840${Math.floor(1_000_000 + Math.random() * 8_999_999)}`;
  const created = await createCase({ customer: { type: 'person', name: 'Pekka Puhelin', email: unique('phone'), phone, locale: 'fi' } });
  expect(created.customer).toEqual({});
  const token = await customerToken(created.id);
  expect(outboxMessage(api, 'mail', `kyc-invitation-${created.id}`)).toContain('PIN-koodisi tulee');
  const pin = await waitFor('the PIN by SMS', () => smsPinFor(api.config.dataDir, phone));
  expect((await call('/v1/kyc/customer/session', { key: null, body: { token, pin } })).status).toBe(200);
  const trail = (await call(`/v1/kyc-cases/${created.id}/audit-trail`)).body.events;
  expect(trail.find((event: Json) => event.type === 'pin_sent')).toMatchObject({ detail: { channel: 'sms' } });
  expect(JSON.stringify(trail)).not.toContain(pin);
});
