/**
 * Questionnaires: versioned definitions per organisation (a new version is a new row under the same id, a
 * case keeps the version it was created with), and the built-in AML questionnaire every organisation has,
 * which lives here in code, in en/sv/fi, and is never stored.
 *
 * The built-in questionnaire asks what anti-money-laundering rules ask at least: the purpose of the
 * relationship, the source of funds, whether the customer (or a family member or close associate) is a
 * politically exposed person, and for a company its beneficial owners over 25 %. A `beneficial_owners`
 * question is required of companies and not asked of persons, whatever its `required` says: a page hides it
 * from persons by customer type, and the server refuses a company's submission without it
 * (src/kyc/validate-answers.ts).
 */
import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { z } from 'zod';
import type { QuestionDefinition, QuestionnaireDefinition, QuestionnaireView } from '../contract/kyc-cases';
import { AppError } from '../errors';
import { locales } from '../i18n/locales';
import { singleLineText } from '../text-input';

export const builtInQuestionnaireId = '00000000-0000-4000-8000-000000000a31';

const text = (en: string, sv: string, fi: string) => ({ en, sv, fi });

export const builtInAmlQuestionnaire: QuestionnaireDefinition = {
  title: text('Customer due diligence (AML)', 'Kundkännedom (penningtvätt)', 'Asiakkaan tunteminen (rahanpesu)'),
  questions: [
    {
      key: 'relationship_purpose',
      type: 'choice',
      required: true,
      label: text(
        'What is the purpose of our business relationship?',
        'Vad är syftet med vår affärsrelation?',
        'Mikä on liiketoimintasuhteemme tarkoitus?',
      ),
      options: [
        { value: 'payments', label: text('Payments and everyday banking', 'Betalningar och vardagsekonomi', 'Maksut ja päivittäiset raha-asiat') },
        { value: 'savings', label: text('Savings and investments', 'Sparande och investeringar', 'Säästäminen ja sijoittaminen') },
        { value: 'financing', label: text('Loans and financing', 'Lån och finansiering', 'Lainat ja rahoitus') },
        { value: 'business', label: text('Business operations', 'Affärsverksamhet', 'Liiketoiminta') },
        { value: 'other', label: text('Other', 'Annat', 'Muu') },
      ],
    },
    {
      key: 'relationship_purpose_other',
      type: 'text',
      required: true,
      maxLength: 1000,
      multiline: true,
      label: text('Describe the purpose', 'Beskriv syftet', 'Kuvaile tarkoitus'),
      showIf: { question: 'relationship_purpose', equals: 'other' },
    },
    {
      key: 'source_of_funds',
      type: 'choice',
      multiple: true,
      required: true,
      label: text('Where do your funds come from?', 'Var kommer dina medel ifrån?', 'Mistä varasi ovat peräisin?'),
      options: [
        { value: 'salary', label: text('Salary or pension', 'Lön eller pension', 'Palkka tai eläke') },
        { value: 'business_income', label: text('Business income', 'Inkomst från näringsverksamhet', 'Liiketoiminnan tulot') },
        { value: 'savings', label: text('Savings', 'Sparande', 'Säästöt') },
        { value: 'investments', label: text('Investments', 'Investeringar', 'Sijoitukset') },
        { value: 'inheritance', label: text('Inheritance or gift', 'Arv eller gåva', 'Perintö tai lahja') },
        { value: 'other', label: text('Other', 'Annat', 'Muu') },
      ],
    },
    {
      key: 'pep',
      type: 'yes_no',
      required: true,
      label: text(
        'Are you, or is a family member or close associate of yours, a politically exposed person (PEP)? For a company: any of its representatives or beneficial owners.',
        'Är du, eller är en familjemedlem eller nära medarbetare till dig, en person i politiskt utsatt ställning (PEP)? För ett företag: någon av dess företrädare eller verkliga huvudmän.',
        'Oletko sinä, tai onko perheenjäsenesi tai läheinen yhtiökumppanisi, poliittisesti vaikutusvaltainen henkilö (PEP)? Yrityksen osalta: joku sen edustajista tai tosiasiallisista edunsaajista.',
      ),
    },
    {
      key: 'pep_details',
      type: 'text',
      required: true,
      maxLength: 1000,
      multiline: true,
      label: text(
        'Who is politically exposed, and which position do they hold (or held)?',
        'Vem är i politiskt utsatt ställning, och vilken befattning har (eller hade) personen?',
        'Kuka on poliittisesti vaikutusvaltainen, ja missä asemassa hän on (tai oli)?',
      ),
      showIf: { question: 'pep', equals: true },
    },
    {
      key: 'beneficial_owners',
      type: 'beneficial_owners',
      required: false,
      label: text(
        'Beneficial owners: every person who owns or controls more than 25 % of the company',
        'Verkliga huvudmän: varje person som äger eller kontrollerar mer än 25 % av företaget',
        'Tosiasialliset edunsaajat: jokainen henkilö, joka omistaa tai määrää yli 25 % yrityksestä',
      ),
    },
    {
      key: 'id_document',
      type: 'upload',
      required: false,
      accept: ['application/pdf', 'image/jpeg', 'image/png'],
      maxBytes: 10 * 1024 * 1024,
      label: text(
        'A copy of an identity document (optional)',
        'En kopia av en identitetshandling (valfritt)',
        'Kopio henkilöllisyystodistuksesta (vapaaehtoinen)',
      ),
    },
  ],
  secondReviewRules: [
    { id: 'pep', question: 'pep', equals: true },
  ],
};

const builtInView: QuestionnaireView = {
  id: builtInQuestionnaireId,
  version: 1,
  builtIn: true,
  definition: builtInAmlQuestionnaire,
  createdAt: '2025-11-24T00:00:00.000Z',
};

// What an organisation may store as a definition: the contract's shape, checked here once for every version.
const localizedText = z.strictObject(Object.fromEntries(locales.map((locale) => [locale, singleLineText({ max: 2000 })])) as Record<(typeof locales)[number], ReturnType<typeof singleLineText>>);
const questionKey = z.string().regex(/^[a-z][a-z0-9_]{0,63}$/, 'must be a lower-case key of letters, digits and _ (at most 64)');
const showIf = z.strictObject({ question: questionKey, equals: z.union([z.string().max(200), z.boolean()]), customerType: z.enum(['person', 'company']).optional() });
const common = { key: questionKey, label: localizedText, required: z.boolean(), showIf: showIf.optional() };
const questionSchema = z.discriminatedUnion('type', [
  z.strictObject({ ...common, type: z.literal('text'), maxLength: z.number().int().min(1).max(10_000).optional(), multiline: z.boolean().optional() }),
  z.strictObject({
    ...common,
    type: z.literal('choice'),
    options: z.array(z.strictObject({ value: z.string().min(1).max(200), label: localizedText })).min(1).max(100),
    multiple: z.boolean().optional(),
  }),
  z.strictObject({ ...common, type: z.literal('yes_no') }),
  z.strictObject({ ...common, type: z.literal('beneficial_owners') }),
  z.strictObject({
    ...common,
    type: z.literal('upload'),
    accept: z.array(z.enum(['application/pdf', 'image/jpeg', 'image/png'])).min(1),
    maxBytes: z.number().int().min(1).max(20 * 1024 * 1024),
  }),
]);

export const questionnaireDefinitionSchema = z
  .strictObject({
    title: localizedText,
    questions: z.array(questionSchema).min(1).max(200),
    secondReviewRules: z.array(z.strictObject({ id: questionKey, question: questionKey, equals: z.union([z.string().max(200), z.boolean()]) })).max(50),
  })
  .superRefine((definition, issues) => {
    const keys = new Set<string>();
    definition.questions.forEach((question, index) => {
      if (keys.has(question.key)) issues.addIssue({ code: 'custom', path: ['questions', index, 'key'], message: `${question.key} appears more than once` });
      // A condition names a question asked before it, so a page can show them in order.
      if (question.showIf && !keys.has(question.showIf.question)) {
        issues.addIssue({ code: 'custom', path: ['questions', index, 'showIf', 'question'], message: 'must name a question that comes before this one' });
      }
      keys.add(question.key);
    });
    definition.secondReviewRules.forEach((rule, index) => {
      if (!keys.has(rule.question)) issues.addIssue({ code: 'custom', path: ['secondReviewRules', index, 'question'], message: 'must name a question of this questionnaire' });
    });
  });

interface QuestionnaireRow {
  id: string;
  version: number;
  definition: QuestionnaireDefinition;
  created_at: Date;
}

const viewOf = (row: QuestionnaireRow): QuestionnaireView => ({
  id: row.id,
  version: row.version,
  builtIn: false,
  definition: row.definition,
  createdAt: row.created_at.toISOString(),
});

const notFound = () => new AppError('not_found', 'No such questionnaire.');

/** The latest version of each of the organisation's questionnaires, the built-in one first. */
export async function listQuestionnaires(db: DataSource, organizationId: string): Promise<QuestionnaireView[]> {
  const rows: QuestionnaireRow[] = await db.query(
    `SELECT DISTINCT ON (id) id, version, definition, created_at FROM questionnaires
      WHERE organization_id = $1 ORDER BY id, version DESC`,
    [organizationId],
  );
  return [builtInView, ...rows.sort((a, b) => b.created_at.getTime() - a.created_at.getTime()).map(viewOf)];
}

/** A questionnaire: the version asked for, else its latest. */
export async function getQuestionnaire(db: DataSource, organizationId: string, id: string, version?: number): Promise<QuestionnaireView> {
  if (id === builtInQuestionnaireId) {
    if (version !== undefined && version !== 1) throw notFound();
    return builtInView;
  }
  if (!/^[0-9a-f-]{36}$/i.test(id)) throw notFound();
  const rows: QuestionnaireRow[] = await db.query(
    `SELECT id, version, definition, created_at FROM questionnaires
      WHERE organization_id = $1 AND id = $2 AND ($3::integer IS NULL OR version = $3) ORDER BY version DESC LIMIT 1`,
    [organizationId, id, version ?? null],
  );
  if (!rows[0]) throw notFound();
  return viewOf(rows[0]);
}

export async function createQuestionnaire(
  db: DataSource,
  input: { organizationId: string; definition: QuestionnaireDefinition; createdByUserId: string | null },
): Promise<QuestionnaireView> {
  const id = randomUUID();
  await db.query(`INSERT INTO questionnaires (id, version, organization_id, definition, created_by_user_id) VALUES ($1, 1, $2, $3, $4)`, [
    id,
    input.organizationId,
    JSON.stringify(input.definition),
    input.createdByUserId,
  ]);
  return getQuestionnaire(db, input.organizationId, id);
}

/** A new version; cases already created keep theirs. */
export async function addQuestionnaireVersion(
  db: DataSource,
  input: { organizationId: string; id: string; definition: QuestionnaireDefinition; createdByUserId: string | null },
): Promise<QuestionnaireView> {
  if (input.id === builtInQuestionnaireId) throw new AppError('conflict', 'The built-in questionnaire cannot be changed: create a questionnaire of your own.');
  const current = await getQuestionnaire(db, input.organizationId, input.id);
  try {
    await db.query(`INSERT INTO questionnaires (id, version, organization_id, definition, created_by_user_id) VALUES ($1, $2, $3, $4, $5)`, [
      input.id,
      current.version + 1,
      input.organizationId,
      JSON.stringify(input.definition),
      input.createdByUserId,
    ]);
  } catch (error) {
    if ((error as { code?: string }).code === '23505') throw new AppError('conflict', 'Another version was added at the same time; read the questionnaire again.');
    throw error;
  }
  return getQuestionnaire(db, input.organizationId, input.id);
}

export type { QuestionDefinition };
