/**
 * The evidence package of a decided case: one ZIP with the sealed declaration, the answers, the
 * identification evidence (with the broker's ID token), the uploaded files, the review decisions and the
 * case's audit trail with its chain verification, plus a manifest of every file's SHA-256. Stored in the
 * blob store (encrypted per object, src/adapters/encrypted-blob-store.ts) at a fixed key, its SHA-256 on
 * the case: a retried activity finds it built and builds nothing twice.
 *
 * Downloading it (`GET /v1/kyc-cases/:id/evidence`) needs the `documents` permission in the case's folder,
 * like a signed document: support staff follow the case without reading what the customer declared.
 */
import { withUploadNames } from './kyc-upload-names';
import { createHash } from 'node:crypto';
import type { AccessScope } from '../accounts/access';
import { AppError } from '../errors';
import { readIdentificationEvidence, readIdTokenEvidence } from '../identity/identification-evidence';
import type { SigningContext } from '../signing/signing-context';
import { decryptAnswers, kycCaseView, loadKycCaseInScope, readKycCaseRow } from './get-kyc-case';
import { readKycAuditTrail, recordKycEvent, verifyKycAuditChain } from './kyc-audit-trail';
import { zipArchive } from './zip-archive';

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');
const json = (value: unknown) => Buffer.from(`${JSON.stringify(value, null, 2)}\n`, 'utf8');

export async function archiveEvidencePackage(context: SigningContext, input: { caseId: string; createdAt: string }): Promise<{ sha256: string }> {
  const db = context.dataSource;
  const row = await readKycCaseRow(db, input.caseId);
  if (!row) throw new Error(`KYC case ${input.caseId} does not exist`);
  if (row.evidence_sha256) return { sha256: row.evidence_sha256 };

  const files: Array<{ name: string; bytes: Uint8Array }> = [];
  const [declaration]: Array<{ request_id: string; sealed_blob_key: string | null; sealed_sha256: string | null }> = await db.query(
    `SELECT d.request_id, r.sealed_blob_key, r.sealed_sha256 FROM kyc_declarations d JOIN signing_requests r ON r.id = d.request_id
      WHERE d.case_id = $1 AND r.status = 'completed' ORDER BY d.attempt DESC LIMIT 1`,
    [row.id],
  );
  if (declaration?.sealed_blob_key) {
    const sealed = await context.adapters.blobStore.get(declaration.sealed_blob_key);
    if (!sealed) throw new Error(`the sealed declaration of KYC case ${row.id} is missing from the blob store`);
    files.push({ name: 'declaration-sealed.pdf', bytes: sealed });
  }
  const view = await kycCaseView(context, row);
  files.push({ name: 'case.json', bytes: json({ ...view, answers: undefined, reviews: undefined }) });
  files.push({ name: 'answers.json', bytes: json((await decryptAnswers(context, row.id, 'answers', row.answers)) ?? {}) });
  if (row.identification_id) {
    files.push({ name: 'identification.json', bytes: json(await readIdentificationEvidence(db, row.identification_id)) });
    files.push({ name: 'identification-id-token.jwt', bytes: Buffer.from(await readIdTokenEvidence(db, context.adapters.keyService, row.identification_id)) });
  }
  const uploads = await withUploadNames(
    db,
    row.id,
    (await db.query(`SELECT id, filename, filename_sealed, blob_key FROM kyc_uploads WHERE case_id = $1 AND deleted_at IS NULL ORDER BY created_at, id`, [row.id])) as Array<{
      id: string;
      filename: string | null;
      filename_sealed: Buffer | null;
      blob_key: string;
    }>,
  );
  for (const upload of uploads) {
    const bytes = await context.adapters.blobStore.get(upload.blob_key);
    if (bytes) files.push({ name: `uploads/${upload.id}-${(upload.filename ?? 'upload').replace(/[^\p{L}\p{N}._-]/gu, '_')}`, bytes });
  }
  files.push({ name: 'reviews.json', bytes: json(view.reviews) });
  files.push({ name: 'audit-trail.json', bytes: json({ events: await readKycAuditTrail(db, row.id), verification: await verifyKycAuditChain(db, row.id) }) });
  files.push({ name: 'manifest.json', bytes: json({ caseId: row.id, createdAt: input.createdAt, files: files.map((file) => ({ name: file.name, sha256: sha256(file.bytes) })) }) });

  const archive = zipArchive(files, new Date(input.createdAt));
  const blobKey = `orgs/${row.organization_id}/kyc/${row.id}/evidence.zip`;
  const digest = sha256(archive);
  await context.adapters.blobStore.put(blobKey, archive);
  await db.query(`UPDATE kyc_cases SET evidence_blob_key = $2, evidence_sha256 = $3, evidence_created_at = $4 WHERE id = $1 AND evidence_sha256 IS NULL`, [
    row.id,
    blobKey,
    digest,
    new Date(input.createdAt),
  ]);
  await recordKycEvent(db, { caseId: row.id, eventKey: 'evidence_archived', type: 'evidence_archived', actor: 'system', detail: { sha256: digest }, occurredAt: input.createdAt });
  return { sha256: digest };
}

export async function readEvidencePackage(context: SigningContext, scope: AccessScope, caseId: string): Promise<{ filename: string; bytes: Uint8Array; sha256: string }> {
  const row = await loadKycCaseInScope(context.dataSource, scope, caseId, 'documents');
  if (!row.evidence_blob_key || !row.evidence_sha256) throw new AppError('conflict', 'The evidence package is made once the case is decided.');
  const bytes = await context.adapters.blobStore.get(row.evidence_blob_key);
  if (!bytes) throw new AppError('dependency_unavailable', 'The evidence package is not available right now.');
  return { filename: `kyc-case-${row.id}-evidence.zip`, bytes, sha256: row.evidence_sha256 };
}
