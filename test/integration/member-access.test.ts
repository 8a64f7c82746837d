/**
 * Signed-in members (R7, R8), through the real API, Temporal and PostgreSQL, each invited by email, choosing a
 * password and signing in with a new-device code: on every route that names a signing request, a member sees
 * exactly the folders granted to them (inherited by subfolders) and nothing else (404); what they see but may
 * not do answers 403 (a `view` grant, or the viewer role, cannot send). A `manage` grant administers its own
 * subtree only; owners and admins see everything, only owners make owners, the last owner stays. Removing a
 * member or withdrawing a grant applies to the very next request. Support staff follow every request of the
 * organisation (status, audit trail, workflow history) and get 403 on both PDFs and on every action. Another
 * organisation's administrator or support member gets 404 for every object of this one and never finds them
 * in a list. The organisation audit log records it all.
 */
import { createHash, randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { apiClient, type Json } from '../support/api-client';
import type { BrowserResponse } from '../support/browser';
import { createTestOrganization, signingRequestBody } from '../support/factories';
import { openTestDataSource, startTestApi, type TestApi } from '../support/harness';
import { goodPassword, inviteMember, outboxMessage, passwordLinkIn, signIn, tokenOf } from '../support/members';
import { createTestPdf } from '../support/pdf-factories';
import { recordAuditEvent } from '../../src/signing/audit-trail';

type Role = 'owner' | 'admin' | 'member' | 'viewer' | 'support';
type Grant = 'view' | 'send' | 'manage';
type Init = { method?: string; body?: unknown };

/** A person signed in on a browser of their own: calls carry the session cookie and, on changes, the CSRF token. */
interface Member {
  userId: string;
  email: string;
  call(path: string, init?: Init): Promise<BrowserResponse>;
}

let dataSource: DataSource;
let api: TestApi;
let pdfBase64: string;

beforeAll(async () => {
  dataSource = await openTestDataSource();
  api = await startTestApi(dataSource);
  pdfBase64 = Buffer.from(await createTestPdf()).toString('base64');
});
afterAll(async () => {
  await api?.close();
  await dataSource?.destroy();
});

const as = (key: string) => apiClient(() => api.url, () => key);
const anonymous = () => apiClient(() => api.url, () => null);
const uniqueEmail = (label: string) => `${label}-${randomUUID().slice(0, 8)}@example.test`;

const requestBody = (title: string, folderId?: string) => signingRequestBody(pdfBase64, title, folderId);

/** Every route that names one signing request (as in access-control.test.ts). */
function requestRoutes(request: Json): Array<[string, Init]> {
  const { id } = request;
  return [
    [`/v1/signing-requests/${id}`, {}],
    [`/v1/signing-requests/${id}/document`, {}],
    [`/v1/signing-requests/${id}/original`, {}],
    [`/v1/signing-requests/${id}/audit-trail`, {}],
    [`/v1/signing-requests/${id}/history`, {}],
    [`/v1/signing-requests/${id}/remind`, { method: 'POST', body: {} }],
    [`/v1/signing-requests/${id}/signers/${request.signers[0].id}/reset-pin`, { method: 'POST', body: {} }],
    [`/v1/signing-requests/${id}/cancel`, { method: 'POST', body: { reason: 'not yours to cancel' } }],
  ];
}
const isAction = ([, init]: [string, Init]) => init.method === 'POST';
const isDocument = ([path]: [string, Init]) => path.endsWith('/document') || path.endsWith('/original');
const readRoutes = (request: Json) => requestRoutes(request).filter((route) => !isAction(route));
const actionRoutes = (request: Json) => requestRoutes(request).filter(isAction);

/** What `who` gets on each route, as [path, status] pairs: one failure names every route that answers wrongly. */
async function answers(who: Member, routes: Array<[string, Init]>): Promise<Array<[string, number]>> {
  const result: Array<[string, number]> = [];
  for (const [path, init] of routes) result.push([path, (await who.call(path, init)).status]);
  return result;
}
const everyRoute = (routes: Array<[string, Init]>, status: number | ((path: string) => number)): Array<[string, number]> =>
  routes.map(([path]) => [path, typeof status === 'number' ? status : status(path)]);
/** A pending request, seen: its sealed document does not exist yet (409), everything else (its original too) reads (200). */
const seenPending = (path: string) => (path.endsWith('/document') ? 409 : 200);

const ids = (items: Json[]) => (items as Array<{ id: string }>).map((item) => item.id).sort();

/** Invites `role` into the organisation with its key, gives the folder grants, and signs the person in. */
async function signedInMember(orgKey: string, label: string, role: Role, grants: Array<[Json, Grant]> = []): Promise<Member> {
  const email = uniqueEmail(label);
  const { userId } = await inviteMember(api, orgKey, { email, role, password: goodPassword });
  for (const [folder, permission] of grants) {
    const granted = await as(orgKey)(`/v1/folders/${folder.id}/grants/${userId}`, { method: 'PUT', body: { permission } });
    expect(granted.status).toBe(200);
  }
  const { browser } = await signIn(api, email, goodPassword);
  return { userId, email, call: (path, init = {}) => browser.call(path, init) };
}

/** The organisation's first owner has no password: they set one with "forgot password", then sign in. */
async function signedInOwner(ownerEmail: string, ownerUserId: string): Promise<Member> {
  expect((await anonymous()('/v1/auth/password-reset', { body: { email: ownerEmail } })).status).toBe(202);
  const token = tokenOf(passwordLinkIn(outboxMessage(api, 'mail', 'password-reset-')));
  expect((await anonymous()('/v1/auth/password', { body: { token, password: goodPassword } })).status).toBe(200);
  const { browser } = await signIn(api, ownerEmail, goodPassword);
  return { userId: ownerUserId, email: ownerEmail, call: (path, init = {}) => browser.call(path, init) };
}

// Organisation A: folders F (with F/Sub) and G, one request in each, and people with different roles and grants.
let orgA: { key: string; ownerEmail: string; ownerUserId: string };
let F: Json;
let Sub: Json;
let G: Json;
let inF: Json;
let inSub: Json;
let inG: Json;
let aReportingKey: Json;
let memberG: Member;
let memberF: Member;
let viewerF: Member;
let viewGrantF: Member;
let ungranted: Member;
let manager: Member;
let adminUser: Member;
let supportA: Member;

beforeAll(async () => {
  const ownerEmail = uniqueEmail('owner-a');
  const created = await createTestOrganization(dataSource, { ownerEmail });
  orgA = { key: created.apiKey, ownerEmail, ownerUserId: created.ownerUserId };
  const org = as(orgA.key);
  F = (await org('/v1/folders', { body: { name: 'F' } })).body;
  Sub = (await org('/v1/folders', { body: { name: 'Sub', parentId: F.id } })).body;
  G = (await org('/v1/folders', { body: { name: 'G' } })).body;
  inF = (await org('/v1/signing-requests', { body: requestBody('In F', F.id) })).body;
  inSub = (await org('/v1/signing-requests', { body: requestBody('In F/Sub', Sub.id) })).body;
  inG = (await org('/v1/signing-requests', { body: requestBody('In G', G.id) })).body;
  aReportingKey = (await org('/v1/api-keys', { body: { name: 'Reporting', permissions: ['view'] } })).body;
  for (const request of [inF, inSub, inG]) expect(request.status).toBe('pending');

  memberG = await signedInMember(orgA.key, 'member-g', 'member', [[G, 'send']]);
  memberF = await signedInMember(orgA.key, 'member-f', 'member', [[F, 'send']]);
  viewerF = await signedInMember(orgA.key, 'viewer-f', 'viewer', [[F, 'send']]);
  viewGrantF = await signedInMember(orgA.key, 'view-f', 'member', [[F, 'view']]);
  ungranted = await signedInMember(orgA.key, 'ungranted', 'member');
  manager = await signedInMember(orgA.key, 'manager-f', 'member', [[F, 'manage']]);
  adminUser = await signedInMember(orgA.key, 'admin-a', 'admin');
  // A grant means nothing to support staff: they follow the whole organisation, read-only, without documents.
  supportA = await signedInMember(orgA.key, 'support-a', 'support', [[G, 'manage']]);
}, 60_000);

describe('members of one organisation', () => {
  test('a member granted send on G sees, lists and files only in G', async () => {
    expect(await answers(memberG, requestRoutes(inF))).toEqual(everyRoute(requestRoutes(inF), 404));
    expect(await answers(memberG, requestRoutes(inSub))).toEqual(everyRoute(requestRoutes(inSub), 404));

    const listed = await memberG.call('/v1/signing-requests');
    expect(listed.status).toBe(200);
    expect(ids(listed.body.items)).toEqual([inG.id]);
    // Filtering by a folder outside the grants yields nothing, not the folder's content.
    expect((await memberG.call(`/v1/signing-requests?folderId=${F.id}`)).body.items).toEqual([]);
    expect(ids((await memberG.call('/v1/folders')).body.items)).toEqual([G.id]);

    expect((await memberG.call('/v1/signing-requests', { body: requestBody('Into F', F.id) })).status).toBe(404);
    const filed = await memberG.call('/v1/signing-requests', { body: requestBody('Default folder') });
    expect(filed.status).toBe(201);
    expect(ids((await as(orgA.key)(`/v1/signing-requests?folderId=${G.id}`)).body.items)).toContain(filed.body.id);

    // Nothing of G's member's attempts touched F: its request is still pending.
    expect((await as(orgA.key)(`/v1/signing-requests/${inF.id}`)).body.status).toBe('pending');

    // Folders: none at the top level (403: a member works inside granted folders), and F is not there to build in.
    expect((await memberG.call('/v1/folders', { body: { name: 'Top level by G' } })).status).toBe(403);
    expect((await memberG.call('/v1/folders', { body: { name: 'Under F by G', parentId: F.id } })).status).toBe(404);
  });

  test('a grant on F is inherited by F/Sub: its member reads and acts there, and nowhere else', async () => {
    const toCancel = (await as(orgA.key)('/v1/signing-requests', { body: requestBody('Cancel me', Sub.id) })).body;
    expect(await answers(memberF, readRoutes(inSub))).toEqual(everyRoute(readRoutes(inSub), seenPending));
    expect(ids((await memberF.call('/v1/signing-requests')).body.items)).toEqual([inF.id, inSub.id, toCancel.id].sort());

    const reset = await memberF.call(`/v1/signing-requests/${inSub.id}/signers/${inSub.signers[0].id}/reset-pin`, { method: 'POST' });
    expect(reset).toMatchObject({ status: 200, body: { delivery: 'sender', pin: expect.stringMatching(/^\d{6}$/) } });
    expect((await memberF.call(`/v1/signing-requests/${inSub.id}/remind`, { method: 'POST' })).status).toBe(200);
    const cancelled = await memberF.call(`/v1/signing-requests/${toCancel.id}/cancel`, { body: { reason: 'Sent by mistake' } });
    expect(cancelled.status).toBe(200);
    expect((await as(orgA.key)(`/v1/signing-requests/${toCancel.id}`)).body.status).toBe('cancelled');

    expect(await answers(memberF, requestRoutes(inG))).toEqual(everyRoute(requestRoutes(inG), 404));
  });

  test('a viewer cannot send, whatever the grant says: reads F, 403 on every action and on creating', async () => {
    for (const request of [inF, inSub]) {
      expect(await answers(viewerF, readRoutes(request))).toEqual(everyRoute(readRoutes(request), seenPending));
      expect(await answers(viewerF, actionRoutes(request))).toEqual(everyRoute(actionRoutes(request), 403));
    }
    const create = await viewerF.call('/v1/signing-requests', { body: requestBody('Viewer sends', F.id) });
    expect(create.status).toBe(403);
    expect(create.body.error.code).toBe('forbidden');
    expect((await viewerF.call('/v1/signing-requests', { body: requestBody('Viewer sends') })).status).toBe(403);
    expect(ids((await viewerF.call('/v1/signing-requests')).body.items)).toEqual(expect.arrayContaining([inF.id, inSub.id]));
    expect(ids((await viewerF.call('/v1/signing-requests')).body.items)).not.toContain(inG.id);
  });

  test('a member with a view grant reads F and is refused (403) every action there', async () => {
    expect(await answers(viewGrantF, readRoutes(inF))).toEqual(everyRoute(readRoutes(inF), seenPending));
    expect(await answers(viewGrantF, actionRoutes(inF))).toEqual(everyRoute(actionRoutes(inF), 403));
    expect((await viewGrantF.call('/v1/signing-requests', { body: requestBody('View sends', F.id) })).status).toBe(403);
    expect((await as(orgA.key)(`/v1/signing-requests/${inF.id}`)).body.status).toBe('pending');
  });

  test('support staff follow every request of the organisation: status, audit trail and history, never a document (403), no action (403)', async () => {
    expect(ids((await supportA.call('/v1/signing-requests?limit=100')).body.items)).toEqual(expect.arrayContaining([inF.id, inSub.id, inG.id]));
    const linkPrefix = `${api.config.http.publicUrl}/s/`;
    for (const request of [inF, inSub, inG]) {
      const reads = readRoutes(request).filter((route) => !isDocument(route));
      expect(await answers(supportA, reads)).toEqual(everyRoute(reads, 200));
      const documents = readRoutes(request).filter(isDocument);
      expect(await answers(supportA, documents)).toEqual(everyRoute(documents, 403));
      expect(await answers(supportA, actionRoutes(request))).toEqual(everyRoute(actionRoutes(request), 403));
      // What support reads shows progress, never a way in: no signer link in any answer.
      for (const [path] of reads) expect([path, (await supportA.call(path)).text.includes(linkPrefix)]).toEqual([path, false]);
    }
    const status = await supportA.call(`/v1/signing-requests/${inG.id}`);
    expect(status.body).toMatchObject({ status: 'pending', signers: [{ id: inG.signers[0].id, status: expect.any(String) }] });
    // A signer's IP address and user agent are the sender's evidence, not support's to read.
    await recordAuditEvent(dataSource, {
      requestId: inG.id,
      eventKey: `link_opened:${inG.signers[0].id}:support-walk`,
      type: 'link_opened',
      signerId: inG.signers[0].id,
      actor: 'signer',
      channel: 'link',
      ip: '203.0.113.9',
      userAgent: 'Mozilla/5.0 (support walk)',
      occurredAt: new Date(),
    });
    const trail = await supportA.call(`/v1/signing-requests/${inG.id}/audit-trail`);
    expect(trail.body.chainValid).toBe(true);
    expect((trail.body.events as Json[]).map((event) => event.type)).toEqual(expect.arrayContaining(['created', 'link_opened']));
    expect(trail.text).not.toContain('203.0.113.9');
    expect(trail.text).not.toContain('support walk');
    const asSender = await adminUser.call(`/v1/signing-requests/${inG.id}/audit-trail`);
    expect((asSender.body.events as Json[]).find((event) => event.type === 'link_opened')).toMatchObject({ ip: '203.0.113.9', userAgent: 'Mozilla/5.0 (support walk)' });
    const history = await supportA.call(`/v1/signing-requests/${inG.id}/history`);
    expect((history.body.steps as Json[])[0]).toMatchObject({ event: 'WorkflowExecutionStarted' });

    const original = await supportA.call(`/v1/signing-requests/${inG.id}/original`);
    expect(original.body.error).toMatchObject({ code: 'forbidden', message: expect.stringContaining('"documents"') });
    expect(original.body.error.message).toContain('support staff');
    // The same request's documents are there for those who may read them: the 403 is support's alone.
    const asAdmin = await adminUser.call(`/v1/signing-requests/${inG.id}/original`);
    expect([asAdmin.status, asAdmin.headers.get('content-type')]).toEqual([200, 'application/pdf']);
    const asKey = await as(orgA.key)(`/v1/signing-requests/${inG.id}/original`);
    const pdf = Buffer.from(pdfBase64, 'base64');
    expect(Buffer.compare(asKey.body, pdf)).toBe(0); // decrypted on the way out
    expect(asKey.headers.get('x-content-sha256')).toBe(createHash('sha256').update(pdf).digest('hex'));

    for (const folderId of [undefined, G.id]) {
      const create = await supportA.call('/v1/signing-requests', { body: requestBody('Support sends', folderId) });
      expect([folderId, create.status]).toEqual([folderId, 403]);
    }
    expect(
      await answers(supportA, [
        ['/v1/members', {}],
        ['/v1/members', { body: { email: uniqueEmail('by-support'), role: 'member' } }],
        [`/v1/members/${memberF.userId}`, { method: 'PATCH', body: { role: 'support' } }],
        ['/v1/audit-log', {}],
        ['/v1/api-keys', {}],
        ['/v1/api-keys', { body: { name: 'Support key', permissions: ['view'] } }],
        ['/v1/folders', { body: { name: 'By support' } }],
        [`/v1/folders/${G.id}/grants`, {}],
      ]),
    ).toEqual(everyRoute([['/v1/members', {}], ['/v1/members', {}], [`/v1/members/${memberF.userId}`, {}], ['/v1/audit-log', {}], ['/v1/api-keys', {}], ['/v1/api-keys', {}], ['/v1/folders', {}], [`/v1/folders/${G.id}/grants`, {}]], 403));
    // Nothing support tried changed anything.
    expect((await as(orgA.key)(`/v1/signing-requests/${inG.id}`)).body.status).toBe('pending');
  });

  test('the support role is given and taken through the role change API, effective on the next request', async () => {
    const person = await signedInMember(orgA.key, 'becomes-support', 'member', [[F, 'send']]);
    expect((await person.call(`/v1/signing-requests/${inF.id}/original`)).status).toBe(200);
    expect((await person.call(`/v1/signing-requests/${inG.id}`)).status).toBe(404);

    const changed = await adminUser.call(`/v1/members/${person.userId}`, { method: 'PATCH', body: { role: 'support' } });
    expect(changed).toMatchObject({ status: 200, body: { role: 'support' } });
    expect((await person.call(`/v1/signing-requests/${inF.id}/original`)).status).toBe(403);
    expect((await person.call(`/v1/signing-requests/${inF.id}/remind`, { method: 'POST' })).status).toBe(403);
    expect((await person.call(`/v1/signing-requests/${inG.id}`)).status).toBe(200);

    expect((await adminUser.call(`/v1/members/${person.userId}`, { method: 'PATCH', body: { role: 'member' } })).status).toBe(200);
    expect((await person.call(`/v1/signing-requests/${inF.id}/original`)).status).toBe(200);
    expect((await person.call(`/v1/signing-requests/${inG.id}`)).status).toBe(404);
    const log = (await as(orgA.key)('/v1/audit-log')).body.events as Json[];
    const changes = log.filter((event) => event.type === 'member.role_changed' && event.detail?.userId === person.userId);
    expect(changes.map((event) => [event.detail.from, event.detail.to])).toEqual([['member', 'support'], ['support', 'member']]);
  });

  test('a member with no grants finds an empty list and 404 on every route', async () => {
    const listed = await ungranted.call('/v1/signing-requests');
    expect(listed.status).toBe(200);
    expect(listed.body.items).toEqual([]);
    expect((await ungranted.call('/v1/folders')).body.items).toEqual([]);
    for (const request of [inF, inSub, inG]) {
      expect(await answers(ungranted, requestRoutes(request))).toEqual(everyRoute(requestRoutes(request), 404));
    }
  });

  test('a manager of F administers F’s subtree only: subfolders, grants, folder keys', async () => {
    const subfolder = await manager.call('/v1/folders', { body: { name: 'Made by manager', parentId: F.id } });
    expect(subfolder.status).toBe(201);
    expect(subfolder.body.parentId).toBe(F.id);
    expect((await manager.call('/v1/folders', { body: { name: 'Under G', parentId: G.id } })).status).toBe(404);
    expect((await manager.call('/v1/folders', { body: { name: 'Top level' } })).status).toBe(403);

    // A grant the manager gives works on the grantee's next request.
    const grantee = await signedInMember(orgA.key, 'grantee', 'member');
    expect((await grantee.call(`/v1/signing-requests/${inSub.id}`)).status).toBe(404);
    const granted = await manager.call(`/v1/folders/${Sub.id}/grants/${grantee.userId}`, { method: 'PUT', body: { permission: 'view' } });
    expect(granted).toMatchObject({ status: 200, body: { folderId: Sub.id, userId: grantee.userId, permission: 'view' } });
    expect((await grantee.call(`/v1/signing-requests/${inSub.id}`)).status).toBe(200);
    expect((await grantee.call(`/v1/signing-requests/${inF.id}`)).status).toBe(404);

    expect((await manager.call(`/v1/folders/${G.id}/grants/${grantee.userId}`, { method: 'PUT', body: { permission: 'view' } })).status).toBe(404);
    expect((await manager.call(`/v1/folders/${G.id}/grants`)).status).toBe(404);
    expect((await manager.call('/v1/members')).status).toBe(403);
    expect((await manager.call('/v1/members', { body: { email: uniqueEmail('by-manager'), role: 'member' } })).status).toBe(403);
    expect((await manager.call('/v1/audit-log')).status).toBe(403);

    const folderKey = await manager.call('/v1/api-keys', { body: { name: 'F integration', folderId: F.id, permissions: ['view', 'send'] } });
    expect(folderKey.status).toBe(201);
    expect(ids((await as(folderKey.body.key)('/v1/signing-requests')).body.items)).not.toContain(inG.id);
    expect(ids((await as(folderKey.body.key)('/v1/signing-requests')).body.items)).toEqual(expect.arrayContaining([inF.id, inSub.id]));
    expect((await manager.call('/v1/api-keys', { body: { name: 'Org-wide', permissions: ['view'] } })).status).toBe(403);
    expect((await manager.call('/v1/api-keys', { body: { name: 'G key', folderId: G.id, permissions: ['view'] } })).status).toBe(404);
  });

  test('an admin sees everything and invites, but only an owner makes owners; the last owner stays', async () => {
    expect(ids((await adminUser.call('/v1/signing-requests?limit=100')).body.items)).toEqual(expect.arrayContaining([inF.id, inSub.id, inG.id]));
    expect(await answers(adminUser, readRoutes(inG))).toEqual(everyRoute(readRoutes(inG), seenPending));
    const invited = await adminUser.call('/v1/members', { body: { email: uniqueEmail('by-admin'), role: 'member' } });
    expect(invited).toMatchObject({ status: 201, body: { role: 'member' } });
    expect((await adminUser.call('/v1/members', { body: { email: uniqueEmail('owner-by-admin'), role: 'owner' } })).status).toBe(403);
    expect((await adminUser.call(`/v1/members/${invited.body.userId}`, { method: 'PATCH', body: { role: 'owner' } })).status).toBe(403);
    expect((await adminUser.call(`/v1/members/${orgA.ownerUserId}`, { method: 'PATCH', body: { role: 'member' } })).status).toBe(403);
    expect((await adminUser.call(`/v1/members/${orgA.ownerUserId}`, { method: 'DELETE' })).status).toBe(403);

    const owner = await signedInOwner(orgA.ownerEmail, orgA.ownerUserId);
    // Alone, the owner can neither step down nor leave.
    expect((await owner.call(`/v1/members/${owner.userId}`, { method: 'PATCH', body: { role: 'admin' } })).status).toBe(409);
    expect((await owner.call(`/v1/members/${owner.userId}`, { method: 'DELETE' })).status).toBe(409);
    const promoted = await owner.call(`/v1/members/${invited.body.userId}`, { method: 'PATCH', body: { role: 'owner' } });
    expect(promoted).toMatchObject({ status: 200, body: { role: 'owner' } });
    const roles = (await adminUser.call('/v1/members')).body.items as Json[];
    expect(roles.filter((member) => member.role === 'owner').map((member) => member.userId).sort()).toEqual([owner.userId, invited.body.userId].sort());
  });

  test('removing a member ends their session at once; a withdrawn grant is gone on the next request', async () => {
    const leaver = await signedInMember(orgA.key, 'leaver', 'member', [[F, 'send']]);
    expect((await leaver.call(`/v1/signing-requests/${inF.id}`)).status).toBe(200);
    expect((await adminUser.call(`/v1/members/${leaver.userId}`, { method: 'DELETE' })).status).toBe(204);
    expect((await leaver.call(`/v1/signing-requests/${inF.id}`)).status).toBe(401);
    expect((await leaver.call('/v1/signing-requests')).status).toBe(401);

    const withdrawn = await signedInMember(orgA.key, 'withdrawn', 'member', [[F, 'view']]);
    expect((await withdrawn.call(`/v1/signing-requests/${inSub.id}`)).status).toBe(200);
    expect((await adminUser.call(`/v1/folders/${F.id}/grants/${withdrawn.userId}`, { method: 'DELETE' })).status).toBe(204);
    expect((await withdrawn.call(`/v1/signing-requests/${inSub.id}`)).status).toBe(404);
    expect((await withdrawn.call('/v1/signing-requests')).body.items).toEqual([]);
  });

  test('the organisation audit log records invitations, grants, role changes and removals, with an intact chain', async () => {
    const org = as(orgA.key);
    const { userId } = await inviteMember(api, orgA.key, { email: uniqueEmail('audited'), role: 'viewer' });
    expect((await org(`/v1/folders/${G.id}/grants/${userId}`, { method: 'PUT', body: { permission: 'view' } })).status).toBe(200);
    expect((await org(`/v1/members/${userId}`, { method: 'PATCH', body: { role: 'member' } })).status).toBe(200);
    expect((await org(`/v1/members/${userId}`, { method: 'DELETE' })).status).toBe(204);

    const log = await org('/v1/audit-log');
    expect(log.status).toBe(200);
    expect(log.body.chain.valid).toBe(true);
    const about = (log.body.events as Json[]).filter((event) => event.detail?.userId === userId);
    expect(about.map((event) => event.type)).toEqual(['member.invited', 'grant.set', 'member.role_changed', 'member.removed']);
    expect(about[1].detail).toMatchObject({ folderId: G.id, permission: 'view' });
    expect(about[2].detail).toMatchObject({ from: 'viewer', to: 'member' });
    // What members did with their sessions is logged under their name, e.g. the manager's grant.
    const events = log.body.events as Json[];
    expect(events).toEqual(expect.arrayContaining([expect.objectContaining({ type: 'grant.set', actor: `user:${manager.userId}`, detail: expect.objectContaining({ folderId: Sub.id }) })]));
  });
});

describe('another organisation', () => {
  let bAdmin: Member;
  let bSupport: Member;
  let bKey: string;
  let inB: Json;

  beforeAll(async () => {
    bKey = (await createTestOrganization(dataSource)).apiKey;
    inB = (await as(bKey)('/v1/signing-requests', { body: requestBody('B request') })).body;
    bAdmin = await signedInMember(bKey, 'admin-b', 'admin');
    bSupport = await signedInMember(bKey, 'support-b', 'support');
  });

  test('its support staff see none of this one: 404 on every read, absent from their list', async () => {
    for (const request of [inF, inSub, inG]) {
      expect(await answers(bSupport, readRoutes(request))).toEqual(everyRoute(readRoutes(request), 404));
      // Actions are refused (403) before any lookup, exactly as for a request that does not exist: nothing is learnt.
      const madeUp = { id: randomUUID(), signers: [{ id: randomUUID() }] };
      expect(await answers(bSupport, actionRoutes(request))).toEqual(everyRoute(actionRoutes(request), 403));
      expect(await answers(bSupport, actionRoutes(madeUp))).toEqual(everyRoute(actionRoutes(madeUp), 403));
    }
    expect(ids((await bSupport.call('/v1/signing-requests?limit=100')).body.items)).toEqual([inB.id]);
  });

  test('its administrator gets 404 for every object of this one', async () => {
    for (const request of [inF, inSub, inG]) {
      expect(await answers(bAdmin, requestRoutes(request))).toEqual(everyRoute(requestRoutes(request), 404));
    }
    const grant = `/v1/folders/${F.id}/grants/${memberF.userId}`;
    const member = `/v1/members/${memberF.userId}`;
    expect(
      await answers(bAdmin, [
        [`/v1/folders/${F.id}/grants`, {}],
        [grant, { method: 'PUT', body: { permission: 'manage' } }],
        [grant, { method: 'DELETE' }],
        [member, { method: 'PATCH', body: { role: 'admin' } }],
        [member, { method: 'DELETE' }],
        [`/v1/api-keys/${aReportingKey.id}`, { method: 'DELETE' }],
        ['/v1/folders', { body: { name: 'Into A', parentId: F.id } }],
        ['/v1/api-keys', { body: { name: 'Into A', folderId: F.id, permissions: ['view'] } }],
        ['/v1/signing-requests', { body: requestBody('Into A', F.id) }],
      ]),
    ).toEqual([
      [`/v1/folders/${F.id}/grants`, 404],
      [grant, 404],
      [grant, 404],
      [member, 404],
      [member, 404],
      [`/v1/api-keys/${aReportingKey.id}`, 404],
      ['/v1/folders', 404],
      ['/v1/api-keys', 404],
      ['/v1/signing-requests', 404],
    ]);

    // A is untouched: its request pending, its member still a member with the same grant, its key working.
    expect((await as(orgA.key)(`/v1/signing-requests/${inF.id}`)).body.status).toBe('pending');
    expect(((await as(orgA.key)(`/v1/folders/${F.id}/grants`)).body.items as Json[]).find((g) => g.userId === memberF.userId)?.permission).toBe('send');
    expect((await memberF.call(`/v1/signing-requests/${inF.id}`)).status).toBe(200);
    expect((await as(aReportingKey.key)('/v1/signing-requests')).status).toBe(200);
  });

  test('none of this organisation’s objects appear in its lists', async () => {
    const idsOfA = [F.id, Sub.id, G.id, inF.id, inSub.id, inG.id, aReportingKey.id, orgA.ownerUserId, memberF.userId, memberG.userId, manager.userId, adminUser.userId];
    for (const path of ['/v1/signing-requests?limit=100', '/v1/folders', '/v1/members', '/v1/api-keys', '/v1/audit-log']) {
      const listed = await bAdmin.call(path);
      expect([path, listed.status]).toEqual([path, 200]);
      expect([path, idsOfA.filter((id) => listed.text.includes(id))]).toEqual([path, []]);
      expect([path, listed.text.includes(memberF.email)]).toEqual([path, false]);
    }
    // The lists do work: B's own objects are there.
    expect(ids((await bAdmin.call('/v1/signing-requests')).body.items)).toEqual([inB.id]);
    expect(((await bAdmin.call('/v1/members')).body.items as Json[]).map((m) => m.userId)).toContain(bAdmin.userId);
  });
});
