import { z } from 'zod';
import type { AccountsContext } from '../../accounts/accounts-context';
import { getOrganizationSettings, updateOrganizationSettings } from '../../accounts/organization-settings';
import { locales } from '../../i18n/locales';
import { adminCaller } from '../principal';
import { defineRoute } from '../route';

const organizationBody = z.object({
  id: z.uuid(),
  name: z.string(),
  defaultLocale: z.enum(locales).describe('The language of signers given none, and of what members receive'),
  timeZone: z.string().describe('IANA name, e.g. Europe/Helsinki: the zone of dates in emails and on the sealed audit page'),
  slug: z.string().describe('Its public privacy page for data-subject requests is /privacy/<slug> (unique, made from the name at creation)'),
});

/** The organisation's own settings: read by anyone of it, changed by its owners and administrators. */
export function organizationRoutes(accounts: AccountsContext) {
  return [
    defineRoute({
      method: 'get',
      path: '/v1/organization',
      summary: "The caller's organisation: name, default language and time zone",
      tag: 'Administration',
      auth: 'principal',
      responses: { 200: { description: 'The organisation', schema: organizationBody } },
      handler: async ({ principal }) => ({ status: 200, body: await getOrganizationSettings(accounts, principal!) }),
    }),
    defineRoute({
      method: 'patch',
      path: '/v1/organization',
      summary: "Change the organisation's default language or time zone (recorded in the organisation's audit log)",
      tag: 'Administration',
      auth: 'principal',
      permission: 'admin',
      body: z.strictObject({
        defaultLocale: z.enum(locales).optional().describe('Applies to requests created from now on; signers keep the language they were given'),
        timeZone: z.string().max(64).optional().describe('An IANA time zone name (Europe/Stockholm, Europe/Helsinki, UTC); anything else is 422'),
      }),
      responses: { 200: { description: 'The organisation as changed', schema: organizationBody } },
      errors: [422],
      handler: async ({ body, principal, ctx }) => ({
        status: 200,
        body: await updateOrganizationSettings(accounts, adminCaller(principal!, ctx), body),
      }),
    }),
  ];
}
