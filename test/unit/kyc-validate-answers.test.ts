/** The server's rules for a customer's answers (src/kyc/validate-answers.ts) on the built-in AML questionnaire. */
import { builtInAmlQuestionnaire as aml } from '../../src/kyc/questionnaires';
import { secondReviewReasons, validateAnswers } from '../../src/kyc/validate-answers';

const noUploads = new Map<string, string>();
const complete = { complete: true };
const person = { relationship_purpose: 'payments', source_of_funds: ['salary'], pep: false };
const owner = { name: 'Olga Owner', birthdate: '1970-03-04', ownershipPercent: 60, pep: false };

test('a complete person: accepted, and answers to questions not shown are dropped', () => {
  const result = validateAnswers(aml, 'person', { ...person, pep_details: 'left over from a yes', beneficial_owners: [owner] }, noUploads, complete);
  expect(result).toEqual({ answers: person, problems: [] });
});

test('every problem names its question', () => {
  const { problems } = validateAnswers(aml, 'person', { relationship_purpose: 'other', source_of_funds: ['salary', 'lottery'], pep: 'no', surprise: 1 }, noUploads, complete);
  expect(problems.map((problem) => problem.key).sort()).toEqual(['pep', 'relationship_purpose_other', 'source_of_funds', 'surprise']);
  expect(problems.find((problem) => problem.key === 'source_of_funds')!.message).toBe('has no choice "lottery"');
});

test('a draft checks what is there and requires nothing', () => {
  expect(validateAnswers(aml, 'person', { pep: true }, noUploads, { complete: false }).problems).toEqual([]);
  expect(validateAnswers(aml, 'person', { pep: true }, noUploads, complete).problems.map((problem) => problem.key)).toEqual(['relationship_purpose', 'source_of_funds', 'pep_details']);
});

test("a company must name its beneficial owners, each over 25 %, at most 100 % together", () => {
  expect(validateAnswers(aml, 'company', person, noUploads, complete).problems).toEqual([{ key: 'beneficial_owners', message: 'must be answered' }]);
  const small = validateAnswers(aml, 'company', { ...person, beneficial_owners: [{ ...owner, ownershipPercent: 20 }] }, noUploads, complete);
  expect(small.problems[0]!.message).toBe('owner 1 must own more than 25 % (at most 100)');
  const tooMuch = validateAnswers(aml, 'company', { ...person, beneficial_owners: [owner, { ...owner, name: 'Second' }] }, noUploads, complete);
  expect(tooMuch.problems[0]!.message).toBe('the shares add up to more than 100 %');
  expect(validateAnswers(aml, 'company', { ...person, beneficial_owners: [owner] }, noUploads, complete).problems).toEqual([]);
});

test('text refuses control characters; an upload answer must be a file uploaded for that question', () => {
  const text = validateAnswers(aml, 'person', { ...person, pep: true, pep_details: 'a\u0000b' }, noUploads, complete);
  expect(text.problems).toEqual([{ key: 'pep_details', message: 'contains a control character' }]);
  const uploads = new Map([['u1', 'id_document'], ['u2', 'other_question']]);
  expect(validateAnswers(aml, 'person', { ...person, id_document: 'u1' }, uploads, complete).problems).toEqual([]);
  expect(validateAnswers(aml, 'person', { ...person, id_document: 'u2' }, uploads, complete).problems[0]!.key).toBe('id_document');
});

test('a PEP answer, or a beneficial owner who is one, needs a second reviewer', () => {
  expect(secondReviewReasons(aml, person)).toEqual([]);
  expect(secondReviewReasons(aml, { ...person, pep: true })).toEqual(['pep']);
  expect(secondReviewReasons(aml, { ...person, beneficial_owners: [{ ...owner, pep: true }] })).toEqual(['pep']);
});

test("a question keyed like an inherited property ('constructor') is answered only by an answer the customer gave", () => {
  const definition = {
    ...aml,
    questions: [{ key: 'constructor', type: 'text', required: true, label: { en: 'Builder', sv: 'Byggare', fi: 'Rakentaja' } }],
    secondReviewRules: [{ id: 'odd', question: 'toString', equals: 'x' }],
  } as unknown as typeof aml;
  expect(validateAnswers(definition, 'person', {}, noUploads, complete).problems).toEqual([{ key: 'constructor', message: 'must be answered' }]);
  expect(validateAnswers(definition, 'person', { constructor: 'Bob' }, noUploads, complete)).toEqual({ answers: { constructor: 'Bob' }, problems: [] });
  expect(secondReviewReasons(definition, {})).toEqual([]);
});
