/**
 * An organisation's settings (issue 10): its default language (for signers given none, and for what its
 * members receive) and its time zone (for every date in emails and on the sealed audit page). Anyone of the
 * organisation reads them; owners and administrators change them, each change committed together with its
 * entry in the organisation's audit log.
 */
import { Organization } from '../database/entities';
import { AppError } from '../errors';
import type { Locale } from '../i18n/locales';
import { requireOrganizationAdmin, type AccessScope } from './access';
import type { AccountsContext } from './accounts-context';
import type { AdminCaller } from './members';
import { recordOrganizationEvent } from './organization-audit-log';

export interface OrganizationSettings {
  id: string;
  name: string;
  defaultLocale: Locale;
  timeZone: string;
  /** Its public privacy page is /privacy/<slug> (data-subject requests). */
  slug: string;
}

const view = (organization: Organization): OrganizationSettings => ({
  id: organization.id,
  name: organization.name,
  defaultLocale: organization.defaultLocale,
  timeZone: organization.timeZone,
  slug: organization.slug,
});

/**
 * True for an IANA zone name the runtime knows (`Europe/Helsinki`, `UTC`). Offsets such as `+02:00` are
 * refused even where Intl accepts them: they do not follow summer time.
 */
export function isIanaTimeZone(name: string): boolean {
  if (!/^[A-Za-z][A-Za-z0-9_+-]*(\/[A-Za-z0-9_+-]+)*$/.test(name)) return false;
  try {
    new Intl.DateTimeFormat('en', { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

export async function getOrganizationSettings(ctx: Pick<AccountsContext, 'dataSource'>, scope: AccessScope): Promise<OrganizationSettings> {
  return view(await ctx.dataSource.getRepository(Organization).findOneByOrFail({ id: scope.organizationId }));
}

export async function updateOrganizationSettings(
  ctx: Pick<AccountsContext, 'dataSource'>,
  caller: AdminCaller,
  change: { defaultLocale?: Locale; timeZone?: string },
): Promise<OrganizationSettings> {
  requireOrganizationAdmin(caller.scope);
  if (change.timeZone !== undefined && !isIanaTimeZone(change.timeZone)) {
    const message = 'must be an IANA time zone name such as Europe/Stockholm, Europe/Helsinki or UTC';
    throw new AppError('unprocessable', `body.timeZone: ${message}`, { issues: [{ path: 'body.timeZone', message }] });
  }
  return ctx.dataSource.transaction(async (tx) => {
    const before = await tx.getRepository(Organization).findOneOrFail({ where: { id: caller.scope.organizationId }, lock: { mode: 'pessimistic_write' } });
    const changed: Record<string, { from: string; to: string }> = {};
    if (change.defaultLocale !== undefined && change.defaultLocale !== before.defaultLocale) {
      changed.defaultLocale = { from: before.defaultLocale, to: change.defaultLocale };
    }
    if (change.timeZone !== undefined && change.timeZone !== before.timeZone) changed.timeZone = { from: before.timeZone, to: change.timeZone };
    if (Object.keys(changed).length === 0) return view(before);
    await tx.update(Organization, { id: before.id }, {
      ...(changed.defaultLocale ? { defaultLocale: change.defaultLocale } : {}),
      ...(changed.timeZone ? { timeZone: change.timeZone } : {}),
    });
    await recordOrganizationEvent(tx, { organizationId: before.id, type: 'organization.settings_changed', ...caller.actor, detail: changed });
    return view(await tx.getRepository(Organization).findOneByOrFail({ id: before.id }));
  });
}
