/**
 * Export and leaving (R13): the organisation's export of everything, and its closing. Owners and
 * administrators (or an organisation-wide admin key) export; only owners (signed in) close or cancel.
 */
import { z } from 'zod';
import type { TemporalTarget } from '../../adapters/temporal-connection';
import {
  cancelOrganizationClosing,
  defaultGraceDays,
  getOrganizationClosing,
  maxGraceDays,
  minGraceDays,
  requestOrganizationClosing,
} from '../../organization-export/close-organization';
import {
  getOrganizationExport,
  listOrganizationExports,
  openOrganizationExportDownload,
  requestOrganizationExport,
} from '../../organization-export/organization-exports';
import type { SigningContext } from '../../signing/signing-context';
import { actorContext, type Principal } from '../principal';
import { defineRoute, emptyBody } from '../route';
import type { Context } from 'koa';

const exportBody = z.object({
  id: z.uuid(),
  status: z.enum(['queued', 'running', 'completed', 'failed', 'expired']),
  requestedBy: z.string().describe('user:<id> or api-key:<id>'),
  itemsTotal: z.number().int().describe('Signing requests and KYC cases to export'),
  itemsDone: z.number().int(),
  sha256: z.string().optional().describe('SHA-256 of the whole ZIP, once completed'),
  sizeBytes: z.number().int().optional(),
  createdAt: z.string(),
  completedAt: z.string().optional(),
  expiresAt: z.string().optional().describe('After this the ZIP is deleted and the download answers 410'),
  downloadUrl: z.string().optional().describe('While completed and not expired'),
  targetLocation: z.string().optional().describe("s3://bucket/key of its copy in the customer's bucket (EXPORT_S3_*), once written there"),
});

const receiptBody = z.object({
  id: z.string(),
  organizationId: z.string(),
  rule: z.string(),
  reason: z.string(),
  actor: z.string(),
  deletedAt: z.string(),
  keyIdsDestroyed: z.array(z.string()),
}).passthrough();

const closingBody = z.object({
  state: z.enum(['open', 'closing', 'stopped', 'closed']).describe(
    'open; closing: in the grace period (cancellable); stopped: grace over, keys and sign-ins refused, waiting for open rounds and cases; closed: organisation key destroyed',
  ),
  requestedAt: z.string().optional(),
  requestedBy: z.string().optional(),
  closesAt: z.string().optional(),
  workStoppedAt: z.string().optional(),
  closedAt: z.string().optional(),
  receipt: receiptBody.optional().describe('The final receipt, once closed'),
  exportId: z.string().optional().describe('The export offered with the closing'),
});

const exportParams = z.object({ id: z.uuid('must be an export id') });

const exportCaller = (principal: Principal, ctx: Context) => ({
  scope: principal,
  actor: actorContext(principal, ctx),
  userId: principal.kind === 'user' ? principal.userId : undefined,
});
const closingCaller = (principal: Principal, ctx: Context) => ({
  ...exportCaller(principal, ctx),
  isOwner: principal.kind === 'user' && principal.role === 'owner',
});

export function organizationExportRoutes(context: SigningContext, temporal: TemporalTarget) {
  return [
    defineRoute({
      method: 'post',
      path: '/v1/organization/exports',
      summary: 'Export everything the organisation holds (every request with its documents and audit trail, every KYC case) as one ZIP, written in the background',
      tag: 'Export and closing',
      auth: 'principal',
      permission: 'admin',
      body: emptyBody,
      responses: { 202: { description: 'The export, queued; GET it for progress', schema: exportBody } },
      handler: async ({ principal, ctx }) => ({ status: 202, body: await requestOrganizationExport(context, temporal, exportCaller(principal!, ctx)) }),
    }),
    defineRoute({
      method: 'get',
      path: '/v1/organization/exports',
      summary: "The organisation's exports, newest first (the last 50)",
      tag: 'Export and closing',
      auth: 'principal',
      permission: 'admin',
      responses: { 200: { description: 'Exports', schema: z.object({ exports: z.array(exportBody) }) } },
      handler: async ({ principal }) => ({ status: 200, body: { exports: await listOrganizationExports(context, principal!) } }),
    }),
    defineRoute({
      method: 'get',
      path: '/v1/organization/exports/:id',
      summary: "An export's status and progress; its SHA-256, size and download link once completed",
      tag: 'Export and closing',
      auth: 'principal',
      permission: 'admin',
      params: exportParams,
      responses: { 200: { description: 'The export', schema: exportBody } },
      errors: [404],
      handler: async ({ params, principal }) => ({ status: 200, body: await getOrganizationExport(context, principal!, params.id) }),
    }),
    defineRoute({
      method: 'get',
      path: '/v1/organization/exports/:id/download',
      summary: 'The export ZIP, streamed (409 before it is completed, 410 once expired); X-Content-SHA256 carries its SHA-256',
      tag: 'Export and closing',
      auth: 'principal',
      permission: 'admin',
      params: exportParams,
      responses: { 200: { description: 'application/zip: the export' } },
      errors: [404, 409, 410],
      handler: async ({ params, principal, ctx }) => {
        const download = await openOrganizationExportDownload(context, exportCaller(principal!, ctx), params.id);
        ctx.attachment(download.filename);
        ctx.type = 'application/zip';
        ctx.length = download.sizeBytes;
        ctx.set('X-Content-SHA256', download.sha256);
        return { status: 200, body: download.stream };
      },
    }),
    defineRoute({
      method: 'get',
      path: '/v1/organization/closing',
      summary: "The organisation's closing: its state, when it closes, and the final receipt once closed (readable by owners and admins also after closing)",
      tag: 'Export and closing',
      auth: 'principal',
      permission: 'admin',
      responses: { 200: { description: 'The closing', schema: closingBody } },
      handler: async ({ principal }) => ({ status: 200, body: await getOrganizationClosing(context, principal!) }),
    }),
    defineRoute({
      method: 'post',
      path: '/v1/organization/close',
      summary: `Close the organisation (owners only): an export is offered (started unless a downloadable one exists); after the grace period (default ${defaultGraceDays} days) work stops, open rounds are waited for and the organisation key is destroyed`,
      tag: 'Export and closing',
      auth: 'principal',
      permission: 'admin',
      body: z.strictObject({
        confirm: z.string().min(1).max(200).describe("The organisation's name (or id), typed to confirm"),
        graceDays: z.number().int().min(minGraceDays).max(maxGraceDays).optional().describe(`Days until the organisation closes (${minGraceDays}-${maxGraceDays}, default ${defaultGraceDays})`),
      }),
      responses: { 202: { description: 'The closing, in its grace period', schema: closingBody } },
      errors: [409],
      handler: async ({ body, principal, ctx }) => ({
        status: 202,
        body: await requestOrganizationClosing(context, temporal, closingCaller(principal!, ctx), body),
      }),
    }),
    defineRoute({
      method: 'delete',
      path: '/v1/organization/close',
      summary: "Cancel the organisation's closing during its grace period (owners only)",
      tag: 'Export and closing',
      auth: 'principal',
      permission: 'admin',
      body: emptyBody,
      responses: { 200: { description: 'The organisation, open again', schema: closingBody } },
      errors: [409],
      handler: async ({ principal, ctx }) => ({ status: 200, body: await cancelOrganizationClosing(context, temporal, closingCaller(principal!, ctx)) }),
    }),
  ];
}
