/**
 * What the customer does on their page once in: read the case and questionnaire, save a draft (encrypted;
 * it survives closing the browser), upload and remove files (stored encrypted by the blob store), and
 * submit (src/kyc/submit-kyc-answers.ts). Answers can change only while the case waits for them.
 */
import { storedUploadName, withUploadNames } from './kyc-upload-names';
import { createHash, randomUUID } from 'node:crypto';
import type { CustomerCaseView, KycCaseStatus, QuestionDefinition } from '../contract/kyc-cases';
import { queryReturning } from '../database/data-source';
import { Organization } from '../database/entities';
import { AppError } from '../errors';
import type { SigningContext } from '../signing/signing-context';
import { answersContext, decryptAnswers, type KycCaseRow } from './get-kyc-case';
import { recordKycEvent } from './kyc-audit-trail';
import { getQuestionnaire } from './questionnaires';
import { validateAnswers, type Answers } from './validate-answers';

export const answeringStatuses: KycCaseStatus[] = ['invited', 'in_progress', 'changes_requested'];

const notAnswering = (row: KycCaseRow) =>
  new AppError('conflict', `Your answers cannot be changed now: the case is ${row.status.replace('_', ' ')}.`);

export async function uploadsOf(context: SigningContext, caseId: string) {
  const stored: Array<{ id: string; question_key: string; filename: string | null; filename_sealed: Buffer | null; bytes: number }> = await context.dataSource.query(
    `SELECT id, question_key, filename, filename_sealed, bytes FROM kyc_uploads WHERE case_id = $1 AND deleted_at IS NULL ORDER BY created_at, id`,
    [caseId],
  );
  const rows = await withUploadNames(context.dataSource, caseId, stored);
  return rows.map((row) => ({ id: row.id, questionKey: row.question_key, filename: row.filename ?? '', bytes: row.bytes }));
}

export async function describeCaseForCustomer(context: SigningContext, row: KycCaseRow): Promise<CustomerCaseView> {
  const organization = await context.dataSource.getRepository(Organization).findOneByOrFail({ id: row.organization_id });
  const questionnaire = await getQuestionnaire(context.dataSource, row.organization_id, row.questionnaire_id, row.questionnaire_version);
  const draft = (await decryptAnswers(context, row.id, 'draft', row.draft)) ?? (await decryptAnswers(context, row.id, 'answers', row.answers)) ?? {};
  // 'preparing' until the declaration's round has invited its signer: only then can it be opened.
  const [declaration]: Array<{ status: string }> = await context.dataSource.query(
    `SELECT CASE WHEN r.status = 'pending' AND s.status NOT IN ('invited', 'opened', 'signed') THEN 'preparing' ELSE r.status END AS status
       FROM kyc_declarations d JOIN signing_requests r ON r.id = d.request_id JOIN signers s ON s.request_id = r.id
      WHERE d.case_id = $1 ORDER BY d.attempt DESC LIMIT 1`,
    [row.id],
  );
  return {
    status: row.status,
    organization: { name: organization.name },
    customer: { type: row.customer_type, name: row.customer_name },
    locale: row.customer_locale,
    expiresAt: row.expires_at.toISOString(),
    questionnaire: { id: questionnaire.id, version: questionnaire.version, definition: questionnaire.definition },
    draft,
    ...(row.status === 'changes_requested' && row.changes_reason && row.changes_requested_at
      ? { changesRequested: { reason: row.changes_reason, at: row.changes_requested_at.toISOString() } }
      : {}),
    uploads: await uploadsOf(context, row.id),
    ...(row.status === 'signing' ? { declaration: { status: declaration?.status ?? 'preparing' } } : {}),
  };
}

export async function uploadQuestionKeys(context: SigningContext, caseId: string): Promise<Map<string, string>> {
  return new Map((await uploadsOf(context, caseId)).map((upload) => [upload.id, upload.questionKey]));
}

/** Saves what the customer has so far: each answer present is checked, none is required yet. */
export async function saveDraft(context: SigningContext, row: KycCaseRow, answers: Answers, now: Date): Promise<{ savedAt: string }> {
  if (!answeringStatuses.includes(row.status)) throw notAnswering(row);
  const questionnaire = await getQuestionnaire(context.dataSource, row.organization_id, row.questionnaire_id, row.questionnaire_version);
  const checked = validateAnswers(questionnaire.definition, row.customer_type, answers, await uploadQuestionKeys(context, row.id), { complete: false });
  if (checked.problems.length > 0) throw invalidAnswers(checked.problems);
  // The whole draft as sent, hidden answers included: the customer may switch a condition back.
  const sealed = await context.recordKeys.encryptField({ kind: 'kyc_case', id: row.id }, answersContext(row.id, 'draft'), JSON.stringify(answers));
  const saved = await queryReturning(context.dataSource, `UPDATE kyc_cases SET draft = $2, draft_saved_at = $3 WHERE id = $1 AND status = ANY($4::text[]) RETURNING id`, [
    row.id,
    sealed,
    now,
    answeringStatuses,
  ]);
  if (saved.length === 0) throw notAnswering(row);
  return { savedAt: now.toISOString() };
}

export function invalidAnswers(problems: Array<{ key: string; message: string }>): AppError {
  const issues = problems.map((problem) => ({ path: `answers.${problem.key}`, key: problem.key, message: problem.message }));
  return new AppError('unprocessable', `Some answers need attention: ${problems.map((problem) => `${problem.key} ${problem.message}`).join('; ')}.`, {
    issues,
    questionKeys: problems.map((problem) => problem.key),
  });
}

/** What the first bytes say the file is: only PDF, JPEG and PNG are taken. */
function sniffMediaType(bytes: Buffer): string | undefined {
  if (bytes.subarray(0, 5).toString('latin1') === '%PDF-') return 'application/pdf';
  if (bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'image/jpeg';
  if (bytes.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))) return 'image/png';
  return undefined;
}

export const maxUploadsPerCase = 20;

export async function addUpload(
  context: SigningContext,
  row: KycCaseRow,
  input: { questionKey: string; filename: string; bytes: Buffer; actor: { ip?: string; userAgent?: string }; now: Date },
): Promise<{ id: string; questionKey: string; filename: string; bytes: number }> {
  if (!answeringStatuses.includes(row.status)) throw notAnswering(row);
  const questionnaire = await getQuestionnaire(context.dataSource, row.organization_id, row.questionnaire_id, row.questionnaire_version);
  const question = questionnaire.definition.questions.find((candidate) => candidate.key === input.questionKey);
  if (!question || question.type !== 'upload') throw new AppError('unprocessable', `questionKey: ${input.questionKey} is not an upload question of this questionnaire.`);
  const upload = question as Extract<QuestionDefinition, { type: 'upload' }>;
  if (input.bytes.length === 0) throw new AppError('unprocessable', 'file: the file is empty.');
  if (input.bytes.length > upload.maxBytes) throw new AppError('payload_too_large', `file: larger than the limit of ${Math.round(upload.maxBytes / 1024 / 1024)} MB for this question.`);
  const mediaType = sniffMediaType(input.bytes);
  if (!mediaType || !upload.accept.includes(mediaType)) {
    throw new AppError('unsupported_media_type', `file: this question takes ${upload.accept.map((type) => type.split('/')[1]!.toUpperCase()).join(', ')} files.`);
  }
  const [{ count }]: Array<{ count: string }> = await context.dataSource.query(`SELECT count(*) FROM kyc_uploads WHERE case_id = $1 AND deleted_at IS NULL`, [row.id]);
  if (Number(count) >= maxUploadsPerCase) throw new AppError('unprocessable', `file: at most ${maxUploadsPerCase} files per case.`);
  const id = randomUUID();
  const blobKey = `orgs/${row.organization_id}/kyc/${row.id}/uploads/${id}`;
  await context.adapters.blobStore.put(blobKey, input.bytes);
  const filename = input.filename.replace(/[\\/\u0000-\u001f]/g, '_').slice(0, 200) || 'upload';
  const name = await storedUploadName(context.dataSource, row.id, filename);
  await context.dataSource.query(
    `INSERT INTO kyc_uploads (id, case_id, question_key, filename, filename_sealed, media_type, bytes, sha256, blob_key) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
    [id, row.id, input.questionKey, name.filename, name.filename_sealed, mediaType, input.bytes.length, createHash('sha256').update(input.bytes).digest('hex'), blobKey],
  );
  await recordKycEvent(context.dataSource, {
    caseId: row.id,
    eventKey: `upload_added:${id}`,
    type: 'upload_added',
    actor: 'customer',
    ip: input.actor.ip,
    userAgent: input.actor.userAgent,
    detail: { uploadId: id, questionKey: input.questionKey, bytes: input.bytes.length },
    occurredAt: input.now,
  });
  return { id, questionKey: input.questionKey, filename, bytes: input.bytes.length };
}

/** Removed from the case (the blob stays until the case's retention ends: its evidence may name it). */
export async function removeUpload(context: SigningContext, row: KycCaseRow, uploadId: string, actor: { ip?: string; userAgent?: string }, now: Date): Promise<void> {
  if (!answeringStatuses.includes(row.status)) throw notAnswering(row);
  if (!/^[0-9a-f-]{36}$/i.test(uploadId)) throw new AppError('not_found', 'No such upload.');
  const removed = await queryReturning(context.dataSource, `UPDATE kyc_uploads SET deleted_at = $3 WHERE id = $1 AND case_id = $2 AND deleted_at IS NULL RETURNING id`, [
    uploadId,
    row.id,
    now,
  ]);
  if (removed.length === 0) throw new AppError('not_found', 'No such upload.');
  await recordKycEvent(context.dataSource, {
    caseId: row.id,
    eventKey: `upload_removed:${uploadId}`,
    type: 'upload_removed',
    actor: 'customer',
    ip: actor.ip,
    userAgent: actor.userAgent,
    detail: { uploadId },
    occurredAt: now,
  });
}
