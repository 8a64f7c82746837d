/**
 * The questionnaire's rules as the pages apply them: which questions show (a `showIf` on another answer and
 * the customer's type), whether a question is answered, and which questions an API refusal names. Pure (no
 * DOM), shared by the customer's page and the console's case page. The server checks the same rules again.
 */
import type { Locale } from '../../../i18n';
import type { BeneficialOwnerAnswer, KycCustomerType, LocalizedText, QuestionDefinition } from '../../../contract/kyc-cases';

export type Answers = Record<string, unknown>;

/** A text in the reader's language, else English, else any language it has. */
export const localized = (text: LocalizedText | undefined, locale: Locale): string => text?.[locale] || text?.en || Object.values(text ?? {}).find(Boolean) || '';

/** Whether `answer` is the value a `showIf` waits for (a multiple choice holds it among its values). */
const matches = (answer: unknown, expected: string | boolean) => (Array.isArray(answer) ? answer.includes(expected) : answer === expected);

export function isShown(question: QuestionDefinition, answers: Answers, customerType: KycCustomerType): boolean {
  // Beneficial owners are a company's: never asked of a person (src/kyc/validate-answers.ts agrees).
  if (question.type === 'beneficial_owners' && customerType !== 'company') return false;
  const condition = question.showIf;
  if (!condition) return true;
  if (condition.customerType && condition.customerType !== customerType) return false;
  return matches(answers[condition.question], condition.equals);
}

/** The questions the customer sees now, in order (a question hidden by its condition hides its followers too). */
export function visibleQuestions(questions: QuestionDefinition[], answers: Answers, customerType: KycCustomerType): QuestionDefinition[] {
  const shown = new Set<string>();
  return questions.filter((question) => {
    const visible = isShown(question, answers, customerType) && (!question.showIf || shown.has(question.showIf.question));
    if (visible) shown.add(question.key);
    return visible;
  });
}

/** A company's beneficial owners are required whatever the definition says, as the server requires them. */
export const isRequired = (question: QuestionDefinition, customerType: KycCustomerType) => question.required || (question.type === 'beneficial_owners' && customerType === 'company');

/** At most four people can each own over 25 %. */
export const maxBeneficialOwners = 4;

export function isAnswered(question: QuestionDefinition, answer: unknown): boolean {
  switch (question.type) {
    case 'yes_no':
      return typeof answer === 'boolean';
    case 'beneficial_owners':
      return Array.isArray(answer) && answer.length > 0;
    case 'choice':
    case 'upload':
      return Array.isArray(answer) ? answer.length > 0 : typeof answer === 'string' && answer !== '';
    case 'text':
      return typeof answer === 'string' && answer.trim() !== '';
  }
}

/** A beneficial owner's row is complete when every field is filled and the share is over 25 %. */
export function ownerProblems(owner: BeneficialOwnerAnswer): Array<'name' | 'birthdate' | 'ownershipPercent'> {
  const problems: Array<'name' | 'birthdate' | 'ownershipPercent'> = [];
  if (!owner.name.trim()) problems.push('name');
  if (!/^\d{4}-\d{2}-\d{2}$/.test(owner.birthdate)) problems.push('birthdate');
  if (!(owner.ownershipPercent > 25 && owner.ownershipPercent <= 100)) problems.push('ownershipPercent');
  return problems;
}

/** Only the answers of questions shown now: a hidden question's earlier answer is not sent. */
export function answersToSubmit(questions: QuestionDefinition[], answers: Answers, customerType: KycCustomerType): Answers {
  const submitted: Answers = {};
  for (const question of visibleQuestions(questions, answers, customerType)) if (isAnswered(question, answers[question.key])) submitted[question.key] = answers[question.key];
  return submitted;
}

/**
 * What a draft can hold: the server checks every answer present, so an owner row still being filled in is
 * left out until it is complete (it stays on the page; only the saved copy waits for it).
 */
export function answersForDraft(questions: QuestionDefinition[], answers: Answers): Answers {
  const draft: Answers = { ...answers };
  for (const question of questions) {
    if (question.type !== 'beneficial_owners' || !Array.isArray(draft[question.key])) continue;
    const complete = (draft[question.key] as BeneficialOwnerAnswer[]).filter((owner) => ownerProblems(owner).length === 0);
    if (complete.length > 0) draft[question.key] = complete;
    else delete draft[question.key];
  }
  return draft;
}

/**
 * The question keys a refused submission (422) names: the API lists them in `details.questionKeys` and names
 * each in `details.issues[].path` as `answers.<key>` (src/kyc/customer-case.ts, invalidAnswers).
 */
export function questionKeysNamed(details: unknown, keys: string[]): string[] {
  const named = (details ?? {}) as { questionKeys?: unknown; issues?: Array<{ path?: unknown }> };
  const listed = Array.isArray(named.questionKeys) ? named.questionKeys : [];
  const inIssues = (Array.isArray(named.issues) ? named.issues : []).map((issue) => String(issue.path ?? '').replace(/^answers\./, '').split('.')[0]);
  return keys.filter((key) => listed.includes(key) || inIssues.includes(key));
}
