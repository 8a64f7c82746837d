import { z } from 'zod';
import type { DataSource } from 'typeorm';
import { AppError } from '../../errors';
import { retentionBounds, retentionSettings, type RetentionOverrides, type RetentionSetting } from '../../retention/policy';
import {
  getRetentionPolicy,
  liftLegalHold,
  listUpcomingDeletions,
  placeLegalHold,
  readLegalHold,
  removeFolderRetentionPolicy,
  setRetentionPolicy,
  type HoldTarget,
} from '../../retention/retention-admin';
import { adminCaller } from '../principal';
import { defineRoute, emptyBody } from '../route';

const settingWords: Record<RetentionSetting, string> = {
  completedDays: 'Days a completed (sealed) request is kept after it completed (default 3653, 10 years: limitation periods)',
  unfinishedDays: 'Days a declined, expired or cancelled request is kept after it ended (default 90)',
  failedDays: 'Days a failed request is kept after it failed (default 90)',
  kycDays: 'Days a KYC case is kept after it ended: approved, rejected, expired, cancelled or failed (default 1826, 5 years: AML record keeping)',
  dsrDays:
    'Days a data-subject request is kept after it ended: completed, rejected or withdrawn (default 1096, 3 years: proof the organisation answered, GDPR Art. 5(2)); organisation policy only',
  noticeDays: "Days between the owners' and administrators' notice and the deletion (default 14)",
};

const days = z.object(Object.fromEntries(retentionSettings.map((setting) => [setting, z.number().int()])) as Record<RetentionSetting, z.ZodNumber>);
const nullableDays = z.object(
  Object.fromEntries(retentionSettings.map((setting) => [setting, z.number().int().nullable().describe(`${settingWords[setting]}; null: not set here`)])) as Record<
    RetentionSetting,
    z.ZodNullable<z.ZodNumber>
  >,
);
const source = z.enum(['default', 'organization', 'folder']);

const policyBody = z.object({
  folderId: z.uuid().nullable().describe('The folder of a folder override; null for the organisation policy'),
  settings: nullableDays.describe('What this policy sets'),
  effective: days.describe('What applies: folder override, else organisation policy, else default'),
  sources: z.object(Object.fromEntries(retentionSettings.map((setting) => [setting, source])) as Record<RetentionSetting, typeof source>),
  defaults: days,
  updatedAt: z.iso.datetime().nullable(),
});

const policyChange = z.strictObject(
  Object.fromEntries(
    retentionSettings.map((setting) => [
      setting,
      z
        .number()
        .nullable()
        .optional()
        .describe(`${settingWords[setting]}. Whole days from ${retentionBounds[setting].min} to ${retentionBounds[setting].max}; null or left out: not set here`),
    ]),
  ) as Record<RetentionSetting, z.ZodOptional<z.ZodNullable<z.ZodNumber>>>,
);

/** Whole days within bounds; anything else is 422 naming the field. */
function checkedPolicy(body: Partial<Record<RetentionSetting, number | null>>): Partial<RetentionOverrides> {
  const issues: Array<{ path: string; message: string }> = [];
  for (const setting of retentionSettings) {
    const value = body[setting];
    if (value === undefined || value === null) continue;
    const { min, max } = retentionBounds[setting];
    if (!Number.isInteger(value) || value < min || value > max) issues.push({ path: `body.${setting}`, message: `must be a whole number of days from ${min} to ${max}` });
  }
  if (issues.length > 0) throw new AppError('unprocessable', `${issues[0]!.path}: ${issues[0]!.message}`, { issues });
  return body;
}

const holdBody = z.object({
  kind: z.enum(['signing_request', 'kyc_case', 'folder']),
  id: z.uuid(),
  legalHold: z
    .object({ placedAt: z.iso.datetime(), reason: z.string(), placedBy: z.string().describe('user:<id> or api-key:<id>') })
    .nullable()
    .describe('null: no hold on this record itself (its folder may hold one)'),
});

const upcomingBody = z.object({
  items: z.array(
    z.object({
      kind: z.enum(['signing_request', 'kyc_case']),
      id: z.uuid(),
      title: z.string().nullable().describe("The request's title (null for KYC cases)"),
      status: z.string(),
      noticedAt: z.iso.datetime(),
      deleteNotBefore: z.iso.datetime().describe('The first daily sweep after this deletes it, unless held or no longer due by then'),
      rule: z.string(),
      reason: z.string(),
    }),
  ),
});

const holdTargets = [
  { kind: 'signing_request', path: '/v1/signing-requests/:id/legal-hold', words: 'a signing request' },
  { kind: 'kyc_case', path: '/v1/kyc-cases/:id/legal-hold', words: 'a KYC case' },
  { kind: 'folder', path: '/v1/folders/:id/legal-hold', words: 'a folder (and every record in it and its subfolders)' },
] as const;

/** Retention policies, legal holds and upcoming deletions (R13): owners, administrators and organisation-wide admin keys. */
export function retentionRoutes(dataSource: DataSource) {
  const policyRoutes = (path: string, folder: boolean) => {
    const params = folder ? z.object({ id: z.uuid('must be a folder id') }) : z.object({});
    const folderOf = (params: Record<string, unknown>) => (folder ? (params.id as string) : null);
    const scope = folder ? "a folder's retention overrides" : "the organisation's retention policy";
    return [
      defineRoute({
        method: 'get',
        path,
        summary: `Read ${scope}, and what applies`,
        tag: 'Retention',
        auth: 'principal',
        permission: 'admin',
        params,
        responses: { 200: { description: 'The policy', schema: policyBody } },
        errors: [404],
        handler: async ({ params, principal, ctx }) => ({
          status: 200,
          body: await getRetentionPolicy(dataSource, adminCaller(principal!, ctx), folderOf(params)),
        }),
      }),
      defineRoute({
        method: 'put',
        path,
        summary: `Set ${scope} (recorded in the organisation's audit log)`,
        tag: 'Retention',
        auth: 'principal',
        permission: 'admin',
        params,
        body: policyChange,
        responses: { 200: { description: 'The policy as set', schema: policyBody } },
        errors: [404, 422],
        handler: async ({ params, body, principal, ctx }) => ({
          status: 200,
          body: await setRetentionPolicy(dataSource, adminCaller(principal!, ctx), folderOf(params), checkedPolicy(body)),
        }),
      }),
    ];
  };

  return [
    ...policyRoutes('/v1/retention-policy', false),
    ...policyRoutes('/v1/folders/:id/retention-policy', true),
    defineRoute({
      method: 'delete',
      path: '/v1/folders/:id/retention-policy',
      summary: "Remove a folder's retention overrides: the organisation's policy applies to it again",
      tag: 'Retention',
      auth: 'principal',
      permission: 'admin',
      params: z.object({ id: z.uuid('must be a folder id') }),
      body: emptyBody,
      responses: { 204: { description: 'Removed (or there were none)' } },
      errors: [404],
      handler: async ({ params, principal, ctx }) => {
        await removeFolderRetentionPolicy(dataSource, adminCaller(principal!, ctx), params.id);
        return { status: 204, body: undefined };
      },
    }),
    ...holdTargets.flatMap(({ kind, path, words }) => {
      const params = z.object({ id: z.uuid() });
      const target = (id: string): HoldTarget => ({ kind, id });
      return [
        defineRoute({
          method: 'get',
          path,
          summary: `Whether ${words} is under a legal hold`,
          tag: 'Retention',
          auth: 'principal',
          permission: 'admin',
          params,
          responses: { 200: { description: 'The hold', schema: holdBody } },
          errors: [404],
          handler: async ({ params, principal, ctx }) => ({ status: 200, body: await readLegalHold(dataSource, adminCaller(principal!, ctx), target(params.id)) }),
        }),
        defineRoute({
          method: 'put',
          path,
          summary: `Place a legal hold on ${words}: retention never deletes it while held (audit-logged; pending deletion notices are cleared)`,
          tag: 'Retention',
          auth: 'principal',
          permission: 'admin',
          params,
          body: z.strictObject({ reason: z.string().trim().min(1).max(1000).describe('Why it must be kept, e.g. the case or authority asking') }),
          responses: { 200: { description: 'Held', schema: holdBody } },
          // 409 conflict: the organisation is closing (a closing deletes everything; cancel it first).
          errors: kind === 'folder' ? [404, 409, 422] : [404, 409, 410, 422],
          handler: async ({ params, body, principal, ctx }) => ({
            status: 200,
            body: await placeLegalHold(dataSource, adminCaller(principal!, ctx), target(params.id), body.reason),
          }),
        }),
        defineRoute({
          method: 'delete',
          path,
          summary: `Lift the legal hold on ${words} (audit-logged): retention applies again`,
          tag: 'Retention',
          auth: 'principal',
          permission: 'admin',
          params,
          body: emptyBody,
          responses: { 200: { description: 'Not held (any more)', schema: holdBody } },
          errors: [404],
          handler: async ({ params, principal, ctx }) => ({ status: 200, body: await liftLegalHold(dataSource, adminCaller(principal!, ctx), target(params.id)) }),
        }),
      ];
    }),
    defineRoute({
      method: 'get',
      path: '/v1/retention/upcoming',
      summary: 'Records noticed for deletion under the retention policy, and from when they will be deleted (soonest first)',
      tag: 'Retention',
      auth: 'principal',
      permission: 'admin',
      query: z.object({ limit: z.coerce.number().int().min(1).max(500).default(100) }),
      responses: { 200: { description: 'Upcoming deletions', schema: upcomingBody } },
      handler: async ({ query, principal, ctx }) => ({
        status: 200,
        body: { items: await listUpcomingDeletions(dataSource, adminCaller(principal!, ctx), query.limit) },
      }),
    }),
  ];
}
