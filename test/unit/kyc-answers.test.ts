/**
 * The KYC questionnaire's rules as the customer's page applies them (src/web/client/kyc/answers.ts) agree
 * with the server's (src/kyc/validate-answers.ts): the same questions are shown for the same answers and
 * customer type, a draft holds nothing the server would refuse, and the questions a refused submission names
 * are found in the API's answer.
 */
import { invalidAnswers } from '../../src/kyc/customer-case';
import { builtInAmlQuestionnaire } from '../../src/kyc/questionnaires';
import { shownQuestions, validateAnswers } from '../../src/kyc/validate-answers';
import { answersForDraft, answersToSubmit, questionKeysNamed, visibleQuestions } from '../../src/web/client/kyc/answers';

const questions = builtInAmlQuestionnaire.questions;
const keys = (list: Array<{ key: string }>) => list.map((question) => question.key);
const owner = { name: 'Matti Meikäläinen', birthdate: '1975-04-12', ownershipPercent: 60, pep: false };

describe('KYC answers on the customer page', () => {
  it.each([
    ['person', {}],
    ['person', { relationship_purpose: 'other', pep: true }],
    ['person', { relationship_purpose: 'savings', pep: false }],
    ['company', {}],
    ['company', { relationship_purpose: 'other', pep: true, beneficial_owners: [owner] }],
  ] as const)('shows the questions the server asks (%s, %j)', (customerType, answers) => {
    expect(keys(visibleQuestions(questions, answers, customerType))).toEqual(keys(shownQuestions(builtInAmlQuestionnaire, answers, customerType)));
  });

  it('asks a person no beneficial owners and a company for them, and PEP details only after a yes', () => {
    expect(keys(visibleQuestions(questions, { pep: false }, 'person'))).not.toContain('beneficial_owners');
    expect(keys(visibleQuestions(questions, { pep: false }, 'company'))).toContain('beneficial_owners');
    expect(keys(visibleQuestions(questions, { pep: false }, 'person'))).not.toContain('pep_details');
    expect(keys(visibleQuestions(questions, { pep: true }, 'person'))).toContain('pep_details');
  });

  it('saves a draft the server accepts while an owner row is still being filled in', () => {
    const answers = { relationship_purpose: 'business', beneficial_owners: [owner, { name: 'Half', birthdate: '', ownershipPercent: 0, pep: false }] };
    expect(validateAnswers(builtInAmlQuestionnaire, 'company', answers, new Map(), { complete: false }).problems.length).toBeGreaterThan(0);
    const draft = answersForDraft(questions, answers);
    expect(draft.beneficial_owners).toEqual([owner]);
    expect(validateAnswers(builtInAmlQuestionnaire, 'company', draft, new Map(), { complete: false }).problems).toEqual([]);
  });

  it('submits only the answers of questions shown now, which the server accepts as complete', () => {
    const answers = { relationship_purpose: 'savings', relationship_purpose_other: 'left from before', source_of_funds: ['salary'], pep: false, pep_details: 'no longer relevant' };
    const submitted = answersToSubmit(questions, answers, 'person');
    expect(Object.keys(submitted).sort()).toEqual(['pep', 'relationship_purpose', 'source_of_funds']);
    expect(validateAnswers(builtInAmlQuestionnaire, 'person', submitted, new Map(), { complete: true }).problems).toEqual([]);
  });

  it('finds the questions a refused submission names', () => {
    const refusal = invalidAnswers([
      { key: 'pep', message: 'must be answered' },
      { key: 'source_of_funds', message: 'has no choice "lottery"' },
    ]);
    expect(questionKeysNamed(refusal.details, keys(questions)).sort()).toEqual(['pep', 'source_of_funds']);
    expect(questionKeysNamed(undefined, keys(questions))).toEqual([]);
  });
});
