/**
 * Folders and scoped API keys (R8, R9), through the real API, Temporal and PostgreSQL: every route that
 * touches a signing request answers 404 for objects outside the caller's organisation or folders, and 403
 * for actions outside its permissions; keys can only mint keys within their own scope.
 */
import type { DataSource } from 'typeorm';
import { apiClient, type Json } from '../support/api-client';
import { createTestOrganization, signingRequestBody } from '../support/factories';
import { openTestDataSource, startTestApi, type TestApi } from '../support/harness';
import { createTestPdf } from '../support/pdf-factories';

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

const requestBody = (title: string, folderId?: string) => signingRequestBody(pdfBase64, title, folderId);

/** Every route that names one signing request, with the status a caller outside its scope must get. */
function requestRoutes(id: string, signerId: string): Array<[string, { method?: string; body?: unknown }]> {
  return [
    [`/v1/signing-requests/${id}`, {}],
    [`/v1/signing-requests/${id}/document`, {}],
    [`/v1/signing-requests/${id}/original`, {}],
    [`/v1/signing-requests/${id}/audit-trail`, {}],
    [`/v1/signing-requests/${id}/history`, {}],
    [`/v1/signing-requests/${id}/remind`, { method: 'POST', body: {} }],
    [`/v1/signing-requests/${id}/signers/${signerId}/reset-pin`, { method: 'POST', body: {} }],
    [`/v1/signing-requests/${id}/cancel`, { method: 'POST', body: { reason: 'not yours to cancel' } }],
  ];
}

describe('within one organisation', () => {
  let admin: ReturnType<typeof as>;
  let sales: Json;
  let salesEurope: Json;
  let legal: Json;
  let salesKey: string;
  let viewerKey: string;
  let inSales: Json;
  let inEurope: Json;
  let inLegal: Json;

  beforeAll(async () => {
    const org = await createTestOrganization(dataSource);
    admin = as(org.apiKey);
    sales = (await admin('/v1/folders', { body: { name: 'Sales' } })).body;
    salesEurope = (await admin('/v1/folders', { body: { name: 'Europe', parentId: sales.id } })).body;
    legal = (await admin('/v1/folders', { body: { name: 'Legal' } })).body;
    const salesKeyCreated = await admin('/v1/api-keys', { body: { name: 'CRM', folderId: sales.id, permissions: ['view', 'send'] } });
    expect(salesKeyCreated.status).toBe(201);
    salesKey = salesKeyCreated.body.key;
    viewerKey = (await admin('/v1/api-keys', { body: { name: 'Reporting', permissions: ['view'] } })).body.key;

    // A folder-scoped key files its requests in its own folder by default.
    inSales = (await as(salesKey)('/v1/signing-requests', { body: requestBody('Sales deal') })).body;
    inEurope = (await as(salesKey)('/v1/signing-requests', { body: requestBody('EU deal', salesEurope.id) })).body;
    inLegal = (await admin('/v1/signing-requests', { body: requestBody('NDA', legal.id) })).body;
  });

  test('the default folder exists and folders form a tree', async () => {
    const folders = (await admin('/v1/folders')).body.items as Json[];
    expect(folders.filter((folder) => folder.isDefault)).toEqual([expect.objectContaining({ name: 'Shared', parentId: null })]);
    expect(folders.find((folder) => folder.id === salesEurope.id).parentId).toBe(sales.id);
    const duplicate = await admin('/v1/folders', { body: { name: 'sales' } });
    expect(duplicate.status).toBe(409);
  });

  test('a folder-scoped key lists only its folder and subfolders', async () => {
    const listed = await as(salesKey)('/v1/signing-requests');
    expect(listed.status).toBe(200);
    expect((listed.body.items as Json[]).map((item) => item.id).sort()).toEqual([inSales.id, inEurope.id].sort());
    const folders = (await as(salesKey)('/v1/folders')).body.items as Json[];
    expect(folders.map((folder) => folder.id).sort()).toEqual([sales.id, salesEurope.id].sort());
    // Filtering by a folder outside the scope yields nothing, not the folder's content.
    expect((await as(salesKey)(`/v1/signing-requests?folderId=${legal.id}`)).body.items).toEqual([]);
    // The organisation-wide key sees all three.
    const all = (await admin('/v1/signing-requests')).body.items as Json[];
    expect(all.map((item) => item.id)).toEqual(expect.arrayContaining([inSales.id, inEurope.id, inLegal.id]));
  });

  test('a folder-scoped key gets 404 on every route of a request in another folder, and cannot file there', async () => {
    for (const [path, init] of requestRoutes(inLegal.id, inLegal.signers[0].id)) {
      const response = await as(salesKey)(path, init);
      expect([path, response.status]).toEqual([path, 404]);
    }
    const elsewhere = await as(salesKey)('/v1/signing-requests', { body: requestBody('Sneaky', legal.id) });
    expect(elsewhere.status).toBe(404);
    // The request in Legal is untouched: still pending.
    expect((await admin(`/v1/signing-requests/${inLegal.id}`)).body.status).toBe('pending');
  });

  test('a view-only key reads everything and can send nothing', async () => {
    const viewer = as(viewerKey);
    expect((await viewer(`/v1/signing-requests/${inLegal.id}`)).status).toBe(200);
    // `view` brings the documents with it for keys (only support members read requests without them).
    const original = await viewer(`/v1/signing-requests/${inLegal.id}/original`);
    expect([original.status, original.headers.get('content-type')]).toEqual([200, 'application/pdf']);
    expect(Buffer.compare(original.body, Buffer.from(pdfBase64, 'base64'))).toBe(0);
    expect((await as(salesKey)(`/v1/signing-requests/${inEurope.id}/original`)).status).toBe(200);
    const create = await viewer('/v1/signing-requests', { body: requestBody('Not allowed') });
    expect(create.status).toBe(403);
    expect(create.body.error.code).toBe('forbidden');
    for (const [path, init] of requestRoutes(inLegal.id, inLegal.signers[0].id).filter(([, init]) => init.method === 'POST')) {
      expect([path, (await viewer(path, init)).status]).toEqual([path, 403]);
    }
    expect((await viewer('/v1/api-keys')).status).toBe(403);
    expect((await viewer('/v1/folders', { body: { name: 'Nope' } })).status).toBe(403);
  });

  test('keys cannot mint keys wider than themselves', async () => {
    const scopedAdminKey = (await admin('/v1/api-keys', { body: { name: 'Sales admin', folderId: sales.id, permissions: ['view', 'admin'] } })).body.key;
    const scopedAdmin = as(scopedAdminKey);
    expect((await scopedAdmin('/v1/api-keys', { body: { name: 'Org-wide', permissions: ['view'] } })).status).toBe(403);
    expect((await scopedAdmin('/v1/api-keys', { body: { name: 'Sender', folderId: sales.id, permissions: ['send'] } })).status).toBe(403);
    expect((await scopedAdmin('/v1/api-keys', { body: { name: 'Legal', folderId: legal.id, permissions: ['view'] } })).status).toBe(404);
    expect((await scopedAdmin('/v1/folders', { body: { name: 'Top level' } })).status).toBe(403);
    const narrower = await scopedAdmin('/v1/api-keys', { body: { name: 'EU reader', folderId: salesEurope.id, permissions: ['view'] } });
    expect(narrower.status).toBe(201);
    // It lists only keys within its folders: not the organisation-wide ones.
    const listed = (await scopedAdmin('/v1/api-keys')).body.items as Json[];
    expect(listed.every((key) => key.folderId === sales.id || key.folderId === salesEurope.id)).toBe(true);
  });

  test('a key is shown once, listed with its last use, and revoked at once', async () => {
    const created = await admin('/v1/api-keys', { body: { name: 'Temporary', permissions: ['view'] } });
    const key: string = created.body.key;
    expect((await as(key)('/v1/signing-requests')).status).toBe(200);
    const listed = (await admin('/v1/api-keys')).body.items as Json[];
    const entry = listed.find((item) => item.id === created.body.id);
    expect(entry).toMatchObject({ name: 'Temporary', permissions: ['view'], folderId: null, revokedAt: null });
    expect(entry.lastUsedAt).not.toBeNull();
    expect(JSON.stringify(listed)).not.toContain(key);
    const [row]: Array<Record<string, unknown>> = await dataSource.query(`SELECT * FROM api_keys WHERE id = $1`, [created.body.id]);
    expect(JSON.stringify(row)).not.toContain(key.split('_').slice(2).join('_')); // the secret may itself hold '_'

    expect((await admin(`/v1/api-keys/${created.body.id}`, { method: 'DELETE' })).status).toBe(204);
    expect((await as(key)('/v1/signing-requests')).status).toBe(401);
  });
});

test('another organisation gets 404 for every object of this one', async () => {
  const mine = await createTestOrganization(dataSource);
  const theirs = await createTestOrganization(dataSource);
  const folder = (await as(mine.apiKey)('/v1/folders', { body: { name: 'Private' } })).body;
  const request = (await as(mine.apiKey)('/v1/signing-requests', { body: requestBody('Ours', folder.id) })).body;
  const ourKey = (await as(mine.apiKey)('/v1/api-keys', { body: { name: 'Ours', permissions: ['view'] } })).body;
  const stranger = as(theirs.apiKey);

  for (const [path, init] of requestRoutes(request.id, request.signers[0].id)) {
    expect([path, (await stranger(path, init)).status]).toEqual([path, 404]);
  }
  expect((await stranger(`/v1/api-keys/${ourKey.id}`, { method: 'DELETE' })).status).toBe(404);
  expect((await stranger('/v1/api-keys', { body: { name: 'x', folderId: folder.id, permissions: ['view'] } })).status).toBe(404);
  expect((await stranger('/v1/folders', { body: { name: 'x', parentId: folder.id } })).status).toBe(404);
  expect((await stranger('/v1/signing-requests', { body: requestBody('Into theirs', folder.id) })).status).toBe(404);
  const theirFolders = (await stranger('/v1/folders')).body.items as Json[];
  expect(theirFolders.map((item) => item.id)).not.toContain(folder.id);
  expect(((await stranger('/v1/signing-requests')).body.items as Json[]).map((item) => item.id)).not.toContain(request.id);
});
