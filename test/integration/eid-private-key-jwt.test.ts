/**
 * A broker that takes no client secret: Sigill authenticates at its token endpoint with `private_key_jwt`
 * (EID_PRIVATE_KEY_PATH, EID_PRIVATE_KEY_ID), as Idura/Criipto and Signicat allow. The real oidc-provider
 * checks the signed assertion against the client's registered public key.
 */
import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { apiClient } from '../support/api-client';
import { freePort, identifyWithEid, startLocalEidBroker, type LocalEidBroker } from '../support/eid-broker';
import { createTestOrganization } from '../support/factories';
import { harness, openTestDataSource, startTestApi, type TestApi } from '../support/harness';
import { createTestPdf } from '../support/pdf-factories';

let dataSource: DataSource;
let broker: LocalEidBroker;
let api: TestApi;
let org: { orgId: string; apiKey: string };
const call = apiClient(() => api.url, () => org.apiKey);
const person = { sub: `keyed-${randomUUID().slice(0, 8)}`, name: 'Kalle Nyckel', birthdate: '1985-03-03', nationalId: '198503031234' };

beforeAll(async () => {
  dataSource = await openTestDataSource();
  const port = await freePort();
  broker = await startLocalEidBroker({ port, people: [person], privateKeyJwt: { keyDir: harness.tempDir('eid-key') } });
  expect(broker.env.EID_CLIENT_SECRET).toBeUndefined();
  api = await startTestApi(dataSource, { port, env: broker.env });
  org = await createTestOrganization(dataSource);
});
afterAll(async () => {
  await api?.close();
  await broker?.stop();
  await dataSource?.destroy();
});

test('a signer identifies through a broker that authenticates Sigill by private_key_jwt', async () => {
  const created = await call('/v1/signing-requests', {
    body: {
      title: 'Keyed',
      document: { filename: 'k.pdf', contentBase64: Buffer.from(await createTestPdf()).toString('base64') },
      signers: [{ name: 'Kalle Nyckel', email: `kalle-${randomUUID().slice(0, 8)}@example.test`, identification: { method: 'eid' } }],
    },
  });
  expect(created.status).toBe(201);
  const signer = await dataSource.query(`SELECT id, link_version FROM signers WHERE request_id = $1`, [created.body.id]);
  const token = api.signing.credentials.linkToken({ signerId: signer[0].id, linkVersion: signer[0].link_version });
  const start = await fetch(`${api.url}/v1/signer/eid/start`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token }) });
  expect(start.status).toBe(200);
  const { authorizationUrl } = (await start.json()) as { authorizationUrl: string };
  const back = await identifyWithEid(api.url, { authorizationUrl, setCookies: start.headers.getSetCookie() }, person.sub);
  expect(back.location).toBe(`/s/${token}?eid=ok`);
  const session = await fetch(`${api.url}/v1/signer/eid/session`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', cookie: back.resultCookie! },
    body: JSON.stringify({ token }),
  });
  expect(session.status).toBe(200);
  const round = await call('/v1/signer/round', { key: ((await session.json()) as { sessionToken: string }).sessionToken });
  expect(round.body.you.identification.evidence).toMatchObject({ name: 'Kalle Nyckel', nationalIdMasked: '19850303-****' });
});
