/**
 * One whole signing round the way its users drive it: create through the API, the invitation by real SMTP,
 * the signer's PIN and signature through the signer API, then the sealed PDF back from the API.
 */
import { createHash, randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { workflowIdForRequest } from '../../src/signing/create-signing-request';
import { apiClient, type Json } from './api-client';
import { createTestOrganization } from './factories';
import type { TestApi } from './harness';
import { signingTokenIn, type startSmtpCatcher } from './smtp-catcher';
import { reportDocumentDisplayed } from './signer-reading';

export interface CompletedRound {
  id: string;
  documentCode: string;
  sealed: Buffer;
  sha256: string;
  signerName: string;
  signerEmail: string;
  /** The audit trail's 'archived' event. */
  archived: Json;
  /** The blob keys of the original and the sealed document. */
  blobKeys: string[];
  /** The sending organisation's API key, to read the request back later. */
  apiKey: string;
}

export async function completeOneRound(
  api: TestApi,
  dataSource: DataSource,
  smtp: Awaited<ReturnType<typeof startSmtpCatcher>>,
  pdf: Buffer,
  signerName = 'Aino Virtanen',
): Promise<CompletedRound> {
  const org = await createTestOrganization(dataSource);
  const call = apiClient(() => api.url, () => org.apiKey);
  const signerEmail = `signer-${randomUUID()}@example.test`;
  const created = await call('/v1/signing-requests', {
    body: {
      title: 'Encrypted at rest',
      document: { filename: 'agreement.pdf', contentBase64: pdf.toString('base64') },
      signers: [{ name: signerName, email: signerEmail }],
    },
  });
  expect(created.status).toBe(201);
  const id: string = created.body.id;

  const [invitation] = await smtp.waitForMail(signerEmail, 'Please sign');
  const session = await call('/v1/signer/session', { key: null, body: { token: signingTokenIn(invitation!), pin: created.body.signers[0].pin } });
  expect(session.status).toBe(200);
  const auth = { authorization: `Bearer ${session.body.sessionToken}` };
  const original = await call('/v1/signer/document', { key: null, headers: auth });
  expect(original.status).toBe(200);
  expect(Buffer.from(original.body)).toEqual(pdf); // decrypted on the way out
  await reportDocumentDisplayed(call, session.body.sessionToken);
  expect((await call('/v1/signer/sign', { key: null, headers: auth, body: { typedName: signerName, consent: true } })).status).toBe(200);

  expect((await api.client.workflow.getHandle(workflowIdForRequest(id)).result()).status).toBe('completed');
  const status = await call(`/v1/signing-requests/${id}`);
  expect(status.body.status).toBe('completed');
  const sealed = await call(`/v1/signing-requests/${id}/document`);
  expect(sealed.status).toBe(200);
  expect(sealed.headers.get('content-type')).toBe('application/pdf');
  expect(sealed.body.subarray(0, 5).toString('latin1')).toBe('%PDF-');
  const sha256 = createHash('sha256').update(sealed.body).digest('hex');
  expect(sha256).toBe(status.body.sha256);

  const trail = await call(`/v1/signing-requests/${id}/audit-trail`);
  const archived = (trail.body.events as Json[]).find((event) => event.type === 'archived');
  const [row]: Array<{ original_blob_key: string; sealed_blob_key: string }> = await dataSource.query(
    `SELECT original_blob_key, sealed_blob_key FROM signing_requests WHERE id = $1`,
    [id],
  );
  return {
    id,
    documentCode: status.body.documentCode,
    sealed: sealed.body,
    sha256,
    signerName,
    signerEmail,
    archived,
    blobKeys: [row!.original_blob_key, row!.sealed_blob_key],
    apiKey: org.apiKey,
  };
}
