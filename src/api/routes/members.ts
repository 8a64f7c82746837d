import { z } from 'zod';
import { singleLineText } from '../../text-input';
import type { AccountsContext } from '../../accounts/accounts-context';
import { requireOrganizationAdmin } from '../../accounts/access';
import { changeMemberRole, grantPermissions, inviteMember, listGrants, listMembers, memberRoles, removeGrant, removeMember, setGrant } from '../../accounts/members';
import { readOrganizationAuditLog } from '../../accounts/organization-audit-log';
import { adminCaller } from '../principal';
import { defineRoute } from '../route';

const memberBody = z.object({
  userId: z.uuid(),
  email: z.string(),
  name: z.string().nullable(),
  phone: z.string().nullable(),
  role: z.enum(memberRoles),
  passwordSet: z.boolean(),
  joinedAt: z.iso.datetime(),
});

const grantBody = z.object({
  folderId: z.uuid(),
  userId: z.uuid(),
  email: z.string(),
  permission: z.enum(grantPermissions),
  createdAt: z.iso.datetime(),
});

const userParams = z.object({ userId: z.uuid('must be a user id') });
const grantParams = z.object({ folderId: z.uuid('must be a folder id'), userId: z.uuid('must be a user id') });

/** Members, roles, folder grants and the organisation's audit log (R8): owners and admins (grants: `manage` too). */
export function memberRoutes(accounts: AccountsContext) {
  return [
    defineRoute({
      method: 'get',
      path: '/v1/members',
      summary: "The organisation's members and their roles",
      tag: 'Administration',
      auth: 'principal',
      permission: 'admin',
      responses: { 200: { description: 'Members', schema: z.object({ items: z.array(memberBody) }) } },
      handler: async ({ principal, ctx }) => ({ status: 200, body: { items: await listMembers(accounts, adminCaller(principal!, ctx)) } }),
    }),
    defineRoute({
      method: 'post',
      path: '/v1/members',
      summary: 'Invite a person: they get an email with a link to choose their password',
      tag: 'Administration',
      auth: 'principal',
      permission: 'admin',
      body: z.strictObject({
        email: z.email('must be an email address').max(254),
        name: singleLineText({ max: 200 }).optional(),
        phone: z.string().regex(/^\+[1-9]\d{6,14}$/, 'must be in international format, e.g. +46701234567').optional().describe('Where new-device codes go by SMS'),
        role: z.enum(memberRoles),
      }),
      responses: { 201: { description: 'Invited', schema: memberBody } },
      errors: [409],
      handler: async ({ body, principal, ctx }) => ({ status: 201, body: await inviteMember(accounts, adminCaller(principal!, ctx), body) }),
    }),
    defineRoute({
      method: 'patch',
      path: '/v1/members/:userId',
      summary: "Change a member's role (only owners make or unmake owners; the last owner stays)",
      tag: 'Administration',
      auth: 'principal',
      permission: 'admin',
      params: userParams,
      body: z.strictObject({ role: z.enum(memberRoles) }),
      responses: { 200: { description: 'Changed', schema: memberBody } },
      errors: [404, 409],
      handler: async ({ params, body, principal, ctx }) => ({
        status: 200,
        body: await changeMemberRole(accounts, adminCaller(principal!, ctx), params.userId, body.role),
      }),
    }),
    defineRoute({
      method: 'delete',
      path: '/v1/members/:userId',
      summary: 'Remove a member: their grants go and their sessions end at once',
      tag: 'Administration',
      auth: 'principal',
      permission: 'admin',
      params: userParams,
      responses: { 204: { description: 'Removed' } },
      errors: [404, 409],
      handler: async ({ params, principal, ctx }) => {
        await removeMember(accounts, adminCaller(principal!, ctx), params.userId);
        return { status: 204, body: undefined };
      },
    }),
    defineRoute({
      method: 'get',
      path: '/v1/folders/:folderId/grants',
      summary: 'Who is granted this folder (grants are inherited by subfolders)',
      tag: 'Administration',
      auth: 'principal',
      permission: 'admin',
      params: z.object({ folderId: z.uuid('must be a folder id') }),
      responses: { 200: { description: 'Grants on the folder itself', schema: z.object({ items: z.array(grantBody) }) } },
      errors: [404],
      handler: async ({ params, principal, ctx }) => ({
        status: 200,
        body: { items: await listGrants(accounts, adminCaller(principal!, ctx), params.folderId) },
      }),
    }),
    defineRoute({
      method: 'put',
      path: '/v1/folders/:folderId/grants/:userId',
      summary: 'Grant a member view, send or manage on a folder and its subfolders',
      tag: 'Administration',
      auth: 'principal',
      permission: 'admin',
      params: grantParams,
      body: z.strictObject({ permission: z.enum(grantPermissions) }),
      responses: { 200: { description: 'Granted', schema: grantBody } },
      errors: [404],
      handler: async ({ params, body, principal, ctx }) => ({
        status: 200,
        body: await setGrant(accounts, adminCaller(principal!, ctx), params.folderId, params.userId, body.permission),
      }),
    }),
    defineRoute({
      method: 'delete',
      path: '/v1/folders/:folderId/grants/:userId',
      summary: "Withdraw a member's grant on a folder",
      tag: 'Administration',
      auth: 'principal',
      permission: 'admin',
      params: grantParams,
      responses: { 204: { description: 'Withdrawn' } },
      errors: [404],
      handler: async ({ params, principal, ctx }) => {
        await removeGrant(accounts, adminCaller(principal!, ctx), params.folderId, params.userId);
        return { status: 204, body: undefined };
      },
    }),
    defineRoute({
      method: 'get',
      path: '/v1/audit-log',
      summary: "The organisation's audit log (admin actions, sign-ins, failed sign-ins), hash-chained and verified",
      tag: 'Administration',
      auth: 'principal',
      permission: 'admin',
      responses: {
        200: {
          description: 'Every event in chain order, and whether the chain holds',
          schema: z.object({
            chain: z.object({
              valid: z.boolean(),
              head: z.string().optional(),
              firstBrokenEvent: z.object({ sequence: z.number(), type: z.string(), reason: z.string() }).optional(),
            }),
            events: z.array(
              z.object({
                sequence: z.number(),
                type: z.string(),
                actor: z.string(),
                at: z.iso.datetime(),
                ip: z.string().nullable(),
                userAgent: z.string().nullable(),
                detail: z.record(z.string(), z.unknown()).nullable(),
                hash: z.string(),
              }),
            ),
          }),
        },
      },
      handler: async ({ principal }) => {
        requireOrganizationAdmin(principal!);
        const { events, verification } = await readOrganizationAuditLog(accounts.dataSource, principal!.organizationId);
        return {
          status: 200,
          body: {
            chain: verification,
            events: events.map((event) => ({
              sequence: event.sequence,
              type: event.type,
              actor: event.actor,
              at: event.occurredAt.toISOString(),
              ip: event.ip,
              userAgent: event.userAgent,
              detail: event.detail,
              hash: event.hash,
            })),
          },
        };
      },
    }),
  ];
}
