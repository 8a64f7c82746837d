import { z } from 'zod';
import type { QuestionnaireDefinition } from '../../contract/kyc-cases';
import { requireOrganizationAdmin } from '../../accounts/access';
import { creatorOf } from '../../kyc/create-kyc-case';
import { addQuestionnaireVersion, createQuestionnaire, getQuestionnaire, listQuestionnaires, questionnaireDefinitionSchema } from '../../kyc/questionnaires';
import type { SigningContext } from '../../signing/signing-context';
import { defineRoute } from '../route';

const questionnaireBody = z.object({
  id: z.string(),
  version: z.number().int(),
  builtIn: z.boolean(),
  definition: z.record(z.string(), z.unknown()).describe('The definition: title, questions, secondReviewRules (see src/contract/kyc-cases.ts)'),
  createdAt: z.string(),
});
const params = z.object({ id: z.uuid('must be a questionnaire id') });
const tag = 'Questionnaires';

/**
 * KYC questionnaires: every member who may view reads them (the built-in AML questionnaire first);
 * organisation administrators add questionnaires and versions. A case keeps the version it was created with.
 */
export function questionnaireRoutes(context: SigningContext) {
  const db = context.dataSource;
  return [
    defineRoute({
      method: 'get',
      path: '/v1/questionnaires',
      permission: 'view',
      summary: 'The latest version of each questionnaire, the built-in AML questionnaire included',
      tag,
      auth: 'principal',
      responses: { 200: { description: 'Questionnaires', schema: z.object({ items: z.array(questionnaireBody) }) } },
      handler: async ({ principal }) => ({ status: 200, body: { items: await listQuestionnaires(db, principal!.organizationId) } }),
    }),
    defineRoute({
      method: 'get',
      path: '/v1/questionnaires/:id',
      permission: 'view',
      summary: 'A questionnaire (its latest version, or `?version=`)',
      tag,
      auth: 'principal',
      params,
      query: z.object({ version: z.coerce.number().int().min(1).optional() }),
      responses: { 200: { description: 'The questionnaire', schema: questionnaireBody } },
      errors: [404],
      handler: async ({ params: { id }, query, principal }) => ({ status: 200, body: await getQuestionnaire(db, principal!.organizationId, id, query.version) }),
    }),
    defineRoute({
      method: 'post',
      path: '/v1/questionnaires',
      permission: 'admin',
      summary: 'Add a questionnaire (organisation administrators)',
      tag,
      auth: 'principal',
      body: z.strictObject({ definition: questionnaireDefinitionSchema }),
      responses: { 201: { description: 'Created (version 1)', schema: questionnaireBody } },
      errors: [422],
      handler: async ({ body, principal }) => {
        requireOrganizationAdmin(principal!);
        const created = await createQuestionnaire(db, {
          organizationId: principal!.organizationId,
          definition: body.definition as QuestionnaireDefinition,
          createdByUserId: creatorOf(principal!),
        });
        return { status: 201, body: created };
      },
    }),
    defineRoute({
      method: 'post',
      path: '/v1/questionnaires/:id/versions',
      permission: 'admin',
      summary: 'Add a version of a questionnaire (cases already opened keep theirs)',
      tag,
      auth: 'principal',
      params,
      body: z.strictObject({ definition: questionnaireDefinitionSchema }),
      responses: { 201: { description: 'The new version', schema: questionnaireBody } },
      errors: [404, 409, 422],
      handler: async ({ params: { id }, body, principal }) => {
        requireOrganizationAdmin(principal!);
        const added = await addQuestionnaireVersion(db, {
          organizationId: principal!.organizationId,
          id,
          definition: body.definition as QuestionnaireDefinition,
          createdByUserId: creatorOf(principal!),
        });
        return { status: 201, body: added };
      },
    }),
  ];
}
