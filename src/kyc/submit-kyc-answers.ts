/**
 * The customer submits their answers: checked against the case's questionnaire version (422 naming each
 * question that needs attention), stored encrypted, then handed to the case's workflow, which starts the
 * declaration's signing. The answers are stored first, and only while the case waits for them, so a
 * submission the workflow accepted always has its answers on record.
 */
import type { TemporalTarget } from '../adapters/temporal-connection';
import type { KycCaseStatus } from '../contract/kyc-cases';
import { queryReturning } from '../database/data-source';
import { AppError } from '../errors';
import type { SigningContext } from '../signing/signing-context';
import { answersSubmittedUpdate } from '../workflows/kyc-case';
import { answeringStatuses, invalidAnswers, uploadQuestionKeys } from './customer-case';
import { answersContext, type KycCaseRow } from './get-kyc-case';
import { getQuestionnaire } from './questionnaires';
import { updateKycCase } from './review-kyc-case';
import { secondReviewReasons, validateAnswers, type Answers } from './validate-answers';

export async function submitKycAnswers(
  context: SigningContext,
  temporal: TemporalTarget,
  row: KycCaseRow,
  input: { answers: Answers; actor: { ip?: string; userAgent?: string }; now: Date },
): Promise<{ status: KycCaseStatus }> {
  if (!answeringStatuses.includes(row.status)) throw new AppError('conflict', `Your answers were already sent: the case is ${row.status.replace('_', ' ')}.`);
  const questionnaire = await getQuestionnaire(context.dataSource, row.organization_id, row.questionnaire_id, row.questionnaire_version);
  const checked = validateAnswers(questionnaire.definition, row.customer_type, input.answers, await uploadQuestionKeys(context, row.id), { complete: true });
  if (checked.problems.length > 0) throw invalidAnswers(checked.problems);
  const record = { kind: 'kyc_case', id: row.id } as const;
  const json = JSON.stringify(checked.answers);
  const answers = await context.recordKeys.encryptField(record, answersContext(row.id, 'answers'), json);
  const draft = await context.recordKeys.encryptField(record, answersContext(row.id, 'draft'), json);
  // One submission at a time, and the answers on record are exactly those the workflow accepted: the case's
  // row stays locked from the check to the commit, the answers are written in that transaction, and the
  // second-review reasons the workflow gets are computed from those same answers. Should the workflow refuse
  // (a submission just before, the case ended), the transaction rolls back and the answers are unchanged.
  // The workflow's first step after accepting records the submission on this row, so it waits for the commit.
  const state = await context.dataSource.transaction(async (tx) => {
    await tx.query(`SET LOCAL lock_timeout = '15s'`);
    const locked = await queryReturning<{ status: KycCaseStatus }>(tx, `SELECT status FROM kyc_cases WHERE id = $1 FOR UPDATE`, [row.id]);
    if (!locked[0] || !answeringStatuses.includes(locked[0].status)) throw new AppError('conflict', 'Your answers were already sent.');
    await tx.query(`UPDATE kyc_cases SET answers = $2, draft = $3, draft_saved_at = $4, submitted_at = $4 WHERE id = $1`, [row.id, answers, draft, input.now]);
    return updateKycCase(temporal, row.id, answersSubmittedUpdate, {
      secondReviewReasons: secondReviewReasons(questionnaire.definition, checked.answers),
      ...input.actor,
    });
  });
  return { status: state.status };
}
