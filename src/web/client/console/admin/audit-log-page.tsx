/**
 * The organisation's audit log (R5, R8), newest first, a page at a time: when, who (a member's name, an API
 * key's name), what in a sentence, and from which address; and whether the hash chain holds. The log names
 * people and keys by id, so the page looks the names up in the member, key and folder lists; someone no
 * longer a member keeps their id.
 */
import { useState } from 'preact/hooks';
import { formatDateTime, type Translate } from '../../../../i18n';
import type { ConsoleContext } from '../context';
import { AdminFrame, AdminTable, NotReady, useLoaded } from './admin-frame';
import { memberLabel, type ApiKey, type AuditLog, type Folder, type Member, type OrganizationEvent, type OrganizationSettings } from './admin-api';

const pageSize = 20;

interface Names {
  members: Map<string, Member>;
  keys: Map<string, ApiKey>;
  folders: Map<string, Folder>;
}

export function AuditLogPage({ ctx }: { ctx: ConsoleContext }) {
  const { t } = ctx;
  const [loaded, reload] = useLoaded(ctx, async () => {
    const [log, members, keys, folders, organization] = await Promise.all([
      ctx.api.get<AuditLog>('/v1/audit-log'),
      ctx.api.get<{ items: Member[] }>('/v1/members'),
      ctx.api.get<{ items: ApiKey[] }>('/v1/api-keys'),
      ctx.api.get<{ items: Folder[] }>('/v1/folders'),
      ctx.api.get<OrganizationSettings>('/v1/organization'),
    ]);
    const names: Names = {
      members: new Map(members.items.map((member) => [member.userId, member])),
      keys: new Map(keys.items.map((key) => [key.id, key])),
      folders: new Map(folders.items.map((folder) => [folder.id, folder])),
    };
    return { chain: log.chain, events: [...log.events].sort((a, b) => b.sequence - a.sequence), names, timeZone: organization.timeZone };
  });
  const [page, setPage] = useState(0);

  if (loaded.kind !== 'ready') {
    return (
      <AdminFrame ctx={ctx} page="auditLog">
        <NotReady ctx={ctx} state={loaded} retry={reload} />
      </AdminFrame>
    );
  }
  const { chain, events, names, timeZone } = loaded.data;
  const pages = Math.max(1, Math.ceil(events.length / pageSize));
  const shown = events.slice(page * pageSize, (page + 1) * pageSize);

  return (
    <AdminFrame ctx={ctx} page="auditLog">
      <p class="hint">{t('console:admin.auditLog.intro', { zone: timeZone })}</p>
      <p class={chain.valid ? 'notice' : 'error'}>
        {chain.valid ? t('console:admin.auditLog.chainValid') : t('console:admin.auditLog.chainBroken', { sequence: chain.firstBrokenEvent?.sequence })}
      </p>
      {events.length === 0 ? (
        <p>{t('console:admin.auditLog.empty')}</p>
      ) : (
        <>
          <AdminTable
            class="audit-table"
            describedBy="audit-position"
            caption={t('console:admin.auditLog.caption')}
            columns={[t('console:admin.auditLog.when'), t('console:admin.auditLog.who'), t('console:admin.auditLog.what'), t('console:admin.auditLog.from')]}
          >
            {shown.map((event) => (
              <tr key={event.sequence}>
                <td data-label={t('console:admin.auditLog.when')}>
                  <time dateTime={event.at}>{formatDateTime(event.at, ctx.locale, timeZone)}</time>
                </td>
                <td data-label={t('console:admin.auditLog.who')}>{actorName(event.actor, names, t)}</td>
                <th scope="row" data-label={t('console:admin.auditLog.what')}>
                  {describeEvent(event, names, t)}
                </th>
                <td data-label={t('console:admin.auditLog.from')}>{event.ip ?? '—'}</td>
              </tr>
            ))}
          </AdminTable>
          <nav class="pager" aria-label={t('console:admin.auditLog.paging')}>
            <button type="button" class="secondary" disabled={page === 0} onClick={() => setPage(page - 1)}>
              {t('console:admin.auditLog.newer')}
            </button>
            <p id="audit-position" aria-live="polite">
              {t('console:admin.auditLog.position', { from: page * pageSize + 1, to: page * pageSize + shown.length, total: events.length })}
            </p>
            <button type="button" class="secondary" disabled={page >= pages - 1} onClick={() => setPage(page + 1)}>
              {t('console:admin.auditLog.older')}
            </button>
          </nav>
        </>
      )}
    </AdminFrame>
  );
}

function memberName(userId: unknown, names: Names, t: Translate): string {
  const member = typeof userId === 'string' ? names.members.get(userId) : undefined;
  if (member) return memberLabel(member);
  return t('console:admin.auditLog.formerMember', { id: String(userId).slice(0, 8) });
}

function actorName(actor: string, names: Names, t: Translate): string {
  const [kind, id] = actor.split(':', 2) as [string, string | undefined];
  if (kind === 'user') return memberName(id, names, t);
  if (kind === 'api-key') {
    const key = id ? names.keys.get(id) : undefined;
    return key ? t('console:admin.auditLog.apiKey', { name: key.name }) : t('console:admin.auditLog.unknownApiKey', { id: id?.slice(0, 8) });
  }
  if (kind === 'system') return t('console:admin.auditLog.system');
  return actor;
}

const roleName = (role: unknown, t: Translate) => (typeof role === 'string' ? t(`console:admin.roles.${role}.name`, { defaultValue: role }) : '');

/** The event as a sentence: "Invited Maria Virtanen as Support", "Changed the time zone from UTC to Europe/Helsinki". */
function describeEvent(event: OrganizationEvent, names: Names, t: Translate): string {
  const detail = event.detail ?? {};
  const folder = (id: unknown) => (typeof id === 'string' ? (names.folders.get(id)?.name ?? t('console:admin.auditLog.unknownFolder')) : t('console:admin.apiKeys.wholeOrganization'));
  const key = (id: unknown) => (typeof id === 'string' ? (names.keys.get(id)?.name ?? String(id).slice(0, 8)) : '');
  switch (event.type) {
    case 'member.invited':
      return t('console:admin.auditLog.events.member_invited', { who: memberName(detail.userId, names, t), role: roleName(detail.role, t) });
    case 'member.role_changed':
      return t('console:admin.auditLog.events.member_role_changed', { who: memberName(detail.userId, names, t), from: roleName(detail.from, t), to: roleName(detail.to, t) });
    case 'member.removed':
      return t('console:admin.auditLog.events.member_removed', { who: memberName(detail.userId, names, t) });
    case 'grant.set':
      return t('console:admin.auditLog.events.grant_set', {
        who: memberName(detail.userId, names, t),
        folder: folder(detail.folderId),
        permission: t(`console:admin.permissions.${String(detail.permission)}.name`, { defaultValue: String(detail.permission) }),
      });
    case 'grant.removed':
      return t('console:admin.auditLog.events.grant_removed', { who: memberName(detail.userId, names, t), folder: folder(detail.folderId) });
    case 'folder.created':
      return t('console:admin.auditLog.events.folder_created', { folder: folder(detail.folderId) });
    case 'api_key.created':
      return t('console:admin.auditLog.events.api_key_created', { name: key(detail.apiKeyId), scope: folder(detail.folderId) });
    case 'api_key.revoked':
      return t('console:admin.auditLog.events.api_key_revoked', { name: key(detail.apiKeyId) });
    case 'organization.settings_changed':
      return settingsChange(detail, t);
    default:
      return t(`console:admin.auditLog.events.${event.type.replace('.', '_')}`, { defaultValue: event.type });
  }
}

function settingsChange(detail: Record<string, unknown>, t: Translate): string {
  const parts: string[] = [];
  const change = (value: unknown) => value as { from?: string; to?: string } | undefined;
  const language = change(detail.defaultLocale);
  if (language) {
    parts.push(
      t('console:admin.auditLog.events.language_changed', {
        from: t(`console:admin.languages.${language.from}`, { defaultValue: language.from }),
        to: t(`console:admin.languages.${language.to}`, { defaultValue: language.to }),
      }),
    );
  }
  const zone = change(detail.timeZone);
  if (zone) parts.push(t('console:admin.auditLog.events.time_zone_changed', { from: zone.from, to: zone.to }));
  return parts.join(' ') || t('console:admin.auditLog.events.organization_settings_changed');
}
