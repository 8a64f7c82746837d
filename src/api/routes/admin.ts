import { z } from 'zod';
import { singleLineText } from '../../text-input';
import type { DataSource } from 'typeorm';
import { permissions } from '../../accounts/access';
import { createApiKey, listApiKeys, revokeApiKey } from '../../accounts/api-keys';
import { createFolder, listFolders } from '../../accounts/folders';
import { actorContext } from '../principal';
import { defineRoute } from '../route';

const folderBody = z.object({
  id: z.uuid(),
  name: z.string(),
  parentId: z.uuid().nullable(),
  isDefault: z.boolean(),
  createdAt: z.iso.datetime(),
});

const apiKeyBody = z.object({
  id: z.uuid(),
  name: z.string(),
  prefix: z.string().describe('The public part of the key, to recognise it'),
  folderId: z.uuid().nullable().describe('Null: the whole organisation'),
  permissions: z.array(z.enum(permissions)),
  createdAt: z.iso.datetime(),
  lastUsedAt: z.iso.datetime().nullable(),
  revokedAt: z.iso.datetime().nullable(),
});

/** Folders and API keys (R8, R9): for keys with the `admin` permission, within the key's own scope. */
export function adminRoutes(dataSource: DataSource) {
  return [
    defineRoute({
      method: 'get',
      path: '/v1/folders',
      summary: 'The folders the key reaches',
      tag: 'Administration',
      auth: 'principal',
      permission: 'view',
      responses: { 200: { description: 'Flat list; parentId gives the tree', schema: z.object({ items: z.array(folderBody) }) } },
      handler: async ({ principal }) => ({ status: 200, body: { items: await listFolders(dataSource, principal!) } }),
    }),
    defineRoute({
      method: 'post',
      path: '/v1/folders',
      summary: 'Create a folder',
      tag: 'Administration',
      auth: 'principal',
      permission: 'admin',
      body: z.strictObject({
        name: singleLineText({ max: 200 }),
        parentId: z.uuid('must be a folder id').optional(),
      }),
      responses: { 201: { description: 'Created', schema: folderBody } },
      errors: [404, 409],
      handler: async ({ body, principal, ctx }) => ({ status: 201, body: await createFolder(dataSource, principal!, body, actorContext(principal!, ctx)) }),
    }),
    defineRoute({
      method: 'get',
      path: '/v1/api-keys',
      summary: "The organisation's API keys the key reaches (never the secrets)",
      tag: 'Administration',
      auth: 'principal',
      permission: 'admin',
      responses: { 200: { description: 'Keys with their scope and last use', schema: z.object({ items: z.array(apiKeyBody) }) } },
      handler: async ({ principal }) => ({ status: 200, body: { items: await listApiKeys(dataSource, principal!) } }),
    }),
    defineRoute({
      method: 'post',
      path: '/v1/api-keys',
      summary: 'Create a scoped API key (the key is in this response only)',
      tag: 'Administration',
      auth: 'principal',
      permission: 'admin',
      body: z.strictObject({
        name: singleLineText({ max: 200 }),
        folderId: z.uuid('must be a folder id').optional().describe('Limit the key to this folder and its subfolders'),
        permissions: z.array(z.enum(permissions)).min(1, 'must name at least one permission'),
      }),
      responses: { 201: { description: 'Created; store `key` now, it is never shown again', schema: apiKeyBody.extend({ key: z.string() }) } },
      errors: [404],
      handler: async ({ body, principal, ctx }) => ({ status: 201, body: await createApiKey(dataSource, principal!, body, actorContext(principal!, ctx)) }),
    }),
    defineRoute({
      method: 'delete',
      path: '/v1/api-keys/:id',
      summary: 'Revoke an API key (effective immediately)',
      tag: 'Administration',
      auth: 'principal',
      permission: 'admin',
      params: z.object({ id: z.uuid('must be an API key id') }),
      responses: { 204: { description: 'Revoked' } },
      errors: [404],
      handler: async ({ params, principal, ctx }) => {
        await revokeApiKey(dataSource, principal!, params.id, actorContext(principal!, ctx));
        return { status: 204, body: undefined };
      },
    }),
  ];
}
