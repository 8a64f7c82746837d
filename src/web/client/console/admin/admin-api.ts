/**
 * The shapes of the administration answers of /v1 (docs/API.md, "Members, roles and folder grants" and
 * "Folders and scoped API keys"), as the pages read them.
 */
import { useEffect, useState } from 'preact/hooks';
import type { Locale } from '../../../../i18n';
import type { MemberView } from '../../../../contract/members';
import type { ConsoleContext, MemberRole } from '../context';

export const memberRoles = ['owner', 'admin', 'member', 'viewer', 'support'] as const satisfies readonly MemberRole[];
export const grantPermissions = ['view', 'send', 'manage'] as const;
export type GrantPermission = (typeof grantPermissions)[number];
export const keyPermissions = ['view', 'send', 'admin'] as const;
export type KeyPermission = (typeof keyPermissions)[number];

/** One member as `GET /v1/members` answers. */
export type Member = MemberView;

/** How the administration pages name a member: "Name (email)", or the email alone. */
export const memberLabel = (member: Pick<Member, 'name' | 'email'>) => (member.name ? `${member.name} (${member.email})` : member.email);

export interface Folder {
  id: string;
  name: string;
  parentId: string | null;
  isDefault: boolean;
  createdAt: string;
}

export interface Grant {
  folderId: string;
  userId: string;
  email: string;
  permission: GrantPermission;
  createdAt: string;
}

export interface ApiKey {
  id: string;
  name: string;
  prefix: string;
  folderId: string | null;
  permissions: KeyPermission[];
  createdAt: string;
  lastUsedAt: string | null;
  revokedAt: string | null;
}

export interface OrganizationSettings {
  id: string;
  name: string;
  defaultLocale: Locale;
  timeZone: string;
}

export interface OrganizationEvent {
  sequence: number;
  type: string;
  actor: string;
  at: string;
  ip: string | null;
  userAgent: string | null;
  detail: Record<string, unknown> | null;
}

export interface AuditLog {
  chain: { valid: boolean; firstBrokenEvent?: { sequence: number; type: string; reason: string } };
  events: OrganizationEvent[];
}

/** The organisation's time zone, for dates (UTC until it is known; any member may read it). */
export function useOrganizationTimeZone(ctx: ConsoleContext): string {
  const [timeZone, setTimeZone] = useState('UTC');
  useEffect(() => {
    ctx.api.get<OrganizationSettings>('/v1/organization').then(
      (organization) => setTimeZone(organization.timeZone),
      () => undefined,
    );
  }, [ctx.api]);
  return timeZone;
}

export type FolderTree = Array<{ folder: Folder; depth: number; path: string }>;

/** Folders in tree order (parents before their children, siblings by name), each with its depth. */
export function folderTree(folders: Folder[]): FolderTree {
  const children = new Map<string | null, Folder[]>();
  const known = new Set(folders.map((folder) => folder.id));
  for (const folder of folders) {
    // A folder whose parent the caller cannot see is a root of what they see.
    const parent = folder.parentId && known.has(folder.parentId) ? folder.parentId : null;
    children.set(parent, [...(children.get(parent) ?? []), folder]);
  }
  const ordered: FolderTree = [];
  const walk = (parent: string | null, depth: number, prefix: string) => {
    const siblings = (children.get(parent) ?? []).sort((a, b) => (a.isDefault === b.isDefault ? a.name.localeCompare(b.name) : a.isDefault ? -1 : 1));
    for (const folder of siblings) {
      const path = prefix ? `${prefix} / ${folder.name}` : folder.name;
      ordered.push({ folder, depth, path });
      walk(folder.id, depth + 1, path);
    }
  };
  walk(null, 0, '');
  return ordered;
}
