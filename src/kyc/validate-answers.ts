/**
 * The server's check of a customer's answers against the questionnaire version of the case: the same
 * rules the pages apply (src/web/client/kyc/answers.ts), applied again because the page is not trusted.
 * Answers to questions not shown (a condition not met, a question for the other customer type) are dropped,
 * unknown keys refused. Every problem names its question key, so a page can point at each one.
 */
import type { BeneficialOwnerAnswer, KycCustomerType, QuestionDefinition, QuestionnaireDefinition } from '../contract/kyc-cases';
import { forbiddenCharacterIn } from '../text-input';

export type Answers = Record<string, unknown>;

export interface AnswerProblem {
  key: string;
  message: string;
}

const matches = (answer: unknown, expected: string | boolean) => (Array.isArray(answer) ? answer.includes(expected) : answer === expected);

/** Whether a question is asked of this customer with these answers (its condition's question shown too). */
/** A question's answer only if the customer gave one: never a property every object inherits ('constructor', 'toString'). */
const answerOf = (answers: Answers, key: string): unknown => (Object.hasOwn(answers, key) ? answers[key] : undefined);

export function shownQuestions(definition: QuestionnaireDefinition, answers: Answers, customerType: KycCustomerType): QuestionDefinition[] {
  const shown = new Set<string>();
  return definition.questions.filter((question) => {
    // Beneficial owners are a company's: never asked of a person.
    if (question.type === 'beneficial_owners' && customerType !== 'company') return false;
    const condition = question.showIf;
    const visible =
      !condition || ((!condition.customerType || condition.customerType === customerType) && shown.has(condition.question) && matches(answerOf(answers, condition.question), condition.equals));
    if (visible) shown.add(question.key);
    return visible;
  });
}

const isEmpty = (answer: unknown) =>
  answer === undefined || answer === null || answer === '' || (Array.isArray(answer) && answer.length === 0) || (typeof answer === 'string' && answer.trim() === '');

/** A company's beneficial owners are required whatever the definition says (see questionnaires.ts). */
const isRequired = (question: QuestionDefinition, customerType: KycCustomerType) => question.required || (question.type === 'beneficial_owners' && customerType === 'company');

function textProblem(value: string, multiline: boolean): string | undefined {
  const problem = forbiddenCharacterIn(value, { lineBreaks: multiline });
  if (problem) return problem === 'control_character' ? 'contains a control character' : 'contains an invalid character';
  return undefined;
}

function checkOwner(owner: unknown, index: number): string | undefined {
  if (typeof owner !== 'object' || owner === null || Array.isArray(owner)) return `owner ${index + 1} must be an object`;
  const { name, birthdate, ownershipPercent, pep, ...rest } = owner as Partial<BeneficialOwnerAnswer>;
  if (Object.keys(rest).length > 0) return `owner ${index + 1} has unknown fields (${Object.keys(rest).join(', ')})`;
  if (typeof name !== 'string' || name.trim() === '' || name.length > 200 || textProblem(name, false)) return `owner ${index + 1} needs a name (at most 200 characters)`;
  if (typeof birthdate !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(birthdate) || Number.isNaN(Date.parse(birthdate))) return `owner ${index + 1} needs a birth date (YYYY-MM-DD)`;
  if (typeof ownershipPercent !== 'number' || !(ownershipPercent > 25 && ownershipPercent <= 100)) return `owner ${index + 1} must own more than 25 % (at most 100)`;
  if (typeof pep !== 'boolean') return `owner ${index + 1} needs a yes or no: politically exposed`;
  return undefined;
}

function checkAnswer(question: QuestionDefinition, answer: unknown, uploads: ReadonlyMap<string, string>): string | undefined {
  switch (question.type) {
    case 'text': {
      if (typeof answer !== 'string') return 'must be text';
      const max = question.maxLength ?? 2000;
      if (answer.length > max) return `must be at most ${max} characters`;
      return textProblem(answer, question.multiline === true);
    }
    case 'yes_no':
      return typeof answer === 'boolean' ? undefined : 'must be yes (true) or no (false)';
    case 'choice': {
      const values = question.options.map((option) => option.value);
      if (question.multiple) {
        if (!Array.isArray(answer) || answer.some((value) => typeof value !== 'string')) return 'must be a list of choices';
        if (new Set(answer).size !== answer.length) return 'names a choice more than once';
        const unknown = answer.find((value) => !values.includes(value as string));
        return unknown === undefined ? undefined : `has no choice "${String(unknown).slice(0, 50)}"`;
      }
      if (typeof answer !== 'string') return 'must be one choice';
      return values.includes(answer) ? undefined : `has no choice "${answer.slice(0, 50)}"`;
    }
    case 'beneficial_owners': {
      if (!Array.isArray(answer)) return 'must be a list of beneficial owners';
      if (answer.length > 4) return 'more than four people cannot each own over 25 %';
      for (const [index, owner] of answer.entries()) {
        const problem = checkOwner(owner, index);
        if (problem) return problem;
      }
      const total = (answer as BeneficialOwnerAnswer[]).reduce((sum, owner) => sum + owner.ownershipPercent, 0);
      return total > 100 ? 'the shares add up to more than 100 %' : undefined;
    }
    case 'upload': {
      const ids = Array.isArray(answer) ? answer : [answer];
      if (ids.length === 0 || ids.some((id) => typeof id !== 'string')) return 'must name uploaded files';
      const foreign = ids.find((id) => uploads.get(id as string) !== question.key);
      return foreign === undefined ? undefined : 'names a file that was not uploaded for this question';
    }
  }
}

/**
 * Checks the answers; with `complete` (a submission) required questions must be answered, otherwise (a
 * draft) only what is there is checked. Answers the customer cannot see are dropped. `uploads` maps each
 * upload id of the case to its question key.
 */
export function validateAnswers(
  definition: QuestionnaireDefinition,
  customerType: KycCustomerType,
  answers: Answers,
  uploads: ReadonlyMap<string, string>,
  options: { complete: boolean },
): { answers: Answers; problems: AnswerProblem[] } {
  const known = new Set(definition.questions.map((question) => question.key));
  const problems: AnswerProblem[] = Object.keys(answers)
    .filter((key) => !known.has(key))
    .map((key) => ({ key, message: 'is not a question of this questionnaire' }));
  const kept: Answers = {};
  for (const question of shownQuestions(definition, answers, customerType)) {
    const answer = answerOf(answers, question.key);
    if (isEmpty(answer)) {
      if (options.complete && isRequired(question, customerType)) problems.push({ key: question.key, message: 'must be answered' });
      continue;
    }
    const problem = checkAnswer(question, answer, uploads);
    if (problem) problems.push({ key: question.key, message: problem });
    else Object.defineProperty(kept, question.key, { value: answer, enumerable: true, writable: true, configurable: true });
  }
  return { answers: kept, problems };
}

/** Which second-review rules the answers trigger (`pep` for a PEP answer; a beneficial owner who is a PEP counts too). */
export function secondReviewReasons(definition: QuestionnaireDefinition, answers: Answers): string[] {
  const reasons = definition.secondReviewRules.filter((rule) => matches(answerOf(answers, rule.question), rule.equals)).map((rule) => rule.id);
  const ownerIsPep = definition.questions.some(
    (question) => question.type === 'beneficial_owners' && Array.isArray(answerOf(answers, question.key)) && (answerOf(answers, question.key) as BeneficialOwnerAnswer[]).some((owner) => owner.pep),
  );
  if (ownerIsPep && !reasons.includes('pep')) reasons.push('pep');
  return reasons;
}
