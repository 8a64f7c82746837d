/**
 * Folders and grants (R8): the organisation's folders as a tree; create a folder (at the top or inside
 * another); for the chosen folder, who is granted view, send or manage on it (and so on everything below it),
 * grant a member, change or withdraw a grant after a confirmation.
 */
import { useState } from 'preact/hooks';
import { ApiError } from '../../shared/http';
import { describeError, fieldErrors, type ConsoleContext } from '../context';
import { AdminFrame, Announcement, ConfirmStep, Field, NotReady, useLoaded } from './admin-frame';
import { folderTree, grantPermissions, type Folder, type Grant, type GrantPermission, type Member } from './admin-api';

export function FoldersPage({ ctx }: { ctx: ConsoleContext }) {
  const { t } = ctx;
  const [loaded, reload] = useLoaded(ctx, async () => {
    const [folders, members] = await Promise.all([
      ctx.api.get<{ items: Folder[] }>('/v1/folders'),
      ctx.api.get<{ items: Member[] }>('/v1/members'),
    ]);
    return { folders: folders.items, members: members.items };
  });
  const [chosen, setChosen] = useState<string | undefined>();
  const [announcement, setAnnouncement] = useState<string | undefined>();

  if (loaded.kind !== 'ready') {
    return (
      <AdminFrame ctx={ctx} page="folders">
        <NotReady ctx={ctx} state={loaded} retry={reload} />
      </AdminFrame>
    );
  }
  const { folders, members } = loaded.data;
  const tree = folderTree(folders);
  const current = folders.find((folder) => folder.id === chosen) ?? tree[0]?.folder;

  return (
    <AdminFrame ctx={ctx} page="folders">
      <p class="hint">{t('console:admin.folders.intro')}</p>
      <Announcement message={announcement} />
      <div class="admin-columns">
        <section aria-labelledby="tree-heading">
          <h2 id="tree-heading">{t('console:admin.folders.treeHeading')}</h2>
          <FolderList ctx={ctx} folders={folders} parentId={null} currentId={current?.id} onChoose={setChosen} />
          <CreateFolderForm
            ctx={ctx}
            tree={tree}
            onCreated={async (folder) => {
              setAnnouncement(t('console:admin.folders.created', { name: folder.name }));
              setChosen(folder.id);
              await reload();
            }}
          />
        </section>
        {current && (
          <FolderGrants
            key={current.id}
            ctx={ctx}
            folder={current}
            path={tree.find((entry) => entry.folder.id === current.id)?.path ?? current.name}
            members={members}
            onAnnounce={setAnnouncement}
          />
        )}
      </div>
    </AdminFrame>
  );
}

/** One level of the tree as a list; each folder a button that shows its grants, its subfolders nested below. */
function FolderList({
  ctx,
  folders,
  parentId,
  currentId,
  onChoose,
}: {
  ctx: ConsoleContext;
  folders: Folder[];
  parentId: string | null;
  currentId?: string;
  onChoose(id: string): void;
}) {
  const known = new Set(folders.map((folder) => folder.id));
  const level = folderTree(folders).filter(({ folder }) => (folder.parentId && known.has(folder.parentId) ? folder.parentId : null) === parentId);
  if (level.length === 0) return null;
  return (
    <ul class={parentId ? 'folder-tree nested' : 'folder-tree'}>
      {level.map(({ folder }) => (
        <li key={folder.id}>
          <button
            type="button"
            class={folder.id === currentId ? 'folder-button current' : 'folder-button'}
            aria-pressed={folder.id === currentId}
            onClick={() => onChoose(folder.id)}
          >
            {folder.name}
            {folder.isDefault && <span class="tag">{ctx.t('console:admin.folders.default')}</span>}
          </button>
          <FolderList ctx={ctx} folders={folders} parentId={folder.id} currentId={currentId} onChoose={onChoose} />
        </li>
      ))}
    </ul>
  );
}

function CreateFolderForm({ ctx, tree, onCreated }: { ctx: ConsoleContext; tree: ReturnType<typeof folderTree>; onCreated(folder: Folder): Promise<void> }) {
  const { t } = ctx;
  const [name, setName] = useState('');
  const [parentId, setParentId] = useState('');
  const [busy, setBusy] = useState(false);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [failure, setFailure] = useState<string | undefined>();

  const submit = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    setErrors({});
    setFailure(undefined);
    try {
      const folder = await ctx.api.post<Folder>('/v1/folders', { name: name.trim(), ...(parentId ? { parentId } : {}) });
      setName('');
      await onCreated(folder);
    } catch (error) {
      if (error instanceof ApiError && error.status === 409) setErrors({ name: t('console:admin.folders.nameTaken') });
      else {
        const byField = fieldErrors(error);
        setErrors(byField);
        if (Object.keys(byField).length === 0) setFailure(describeError(error, t));
      }
    } finally {
      setBusy(false);
    }
  };

  return (
    <form class="card admin-form" onSubmit={submit} aria-labelledby="new-folder-heading">
      <h3 id="new-folder-heading">{t('console:admin.folders.newHeading')}</h3>
      <Field id="folder-name" label={t('console:admin.folders.name')} error={errors.name}>
        {(describedBy, invalid) => (
          <input
            id="folder-name"
            required
            autoComplete="off"
            value={name}
            onInput={(event) => setName((event.target as HTMLInputElement).value)}
            aria-describedby={describedBy}
            aria-invalid={invalid}
          />
        )}
      </Field>
      <Field id="folder-parent" label={t('console:admin.folders.parent')} error={errors.parentId}>
        {(describedBy, invalid) => (
          <select id="folder-parent" value={parentId} onChange={(event) => setParentId((event.target as HTMLSelectElement).value)} aria-describedby={describedBy} aria-invalid={invalid}>
            <option value="">{t('console:admin.folders.topLevel')}</option>
            {tree.map(({ folder, path }) => (
              <option key={folder.id} value={folder.id}>
                {path}
              </option>
            ))}
          </select>
        )}
      </Field>
      {failure && (
        <p class="error" role="alert">
          {failure}
        </p>
      )}
      <div class="actions">
        <button type="submit" disabled={busy}>
          {t('console:admin.folders.create')}
        </button>
      </div>
    </form>
  );
}

function FolderGrants({
  ctx,
  folder,
  path,
  members,
  onAnnounce,
}: {
  ctx: ConsoleContext;
  folder: Folder;
  path: string;
  members: Member[];
  onAnnounce(message: string): void;
}) {
  const { t } = ctx;
  const [grants, reload] = useLoaded(ctx, () => ctx.api.get<{ items: Grant[] }>(`/v1/folders/${folder.id}/grants`).then((answer) => answer.items));
  const nameOf = (userId: string, email: string) => {
    const member = members.find((candidate) => candidate.userId === userId);
    return member?.name ? `${member.name} (${member.email})` : (member?.email ?? email);
  };

  return (
    <section aria-labelledby="grants-heading" class="folder-grants">
      <h2 id="grants-heading">{t('console:admin.folders.grantsHeading', { folder: path })}</h2>
      <p class="hint">{t('console:admin.folders.grantsIntro')}</p>
      {grants.kind !== 'ready' ? (
        <NotReady ctx={ctx} state={grants} retry={reload} />
      ) : (
        <>
          {grants.data.length === 0 ? (
            <p>{t('console:admin.folders.noGrants')}</p>
          ) : (
            <ul class="grant-list">
              {grants.data.map((grant) => (
                <GrantItem
                  key={grant.userId}
                  ctx={ctx}
                  grant={grant}
                  who={nameOf(grant.userId, grant.email)}
                  folderName={folder.name}
                  onRevoked={async (message) => {
                    onAnnounce(message);
                    await reload();
                  }}
                />
              ))}
            </ul>
          )}
          <GrantForm
            ctx={ctx}
            folder={folder}
            members={members.filter((member) => member.role === 'member' || member.role === 'viewer')}
            onGranted={async (message) => {
              onAnnounce(message);
              await reload();
            }}
          />
        </>
      )}
    </section>
  );
}

function GrantItem({ ctx, grant, who, folderName, onRevoked }: { ctx: ConsoleContext; grant: Grant; who: string; folderName: string; onRevoked(message: string): Promise<void> }) {
  const { t } = ctx;
  const [confirming, setConfirming] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | undefined>();
  const revoke = async () => {
    setBusy(true);
    setError(undefined);
    try {
      await ctx.api.delete(`/v1/folders/${grant.folderId}/grants/${grant.userId}`);
      setConfirming(false);
      await onRevoked(t('console:admin.folders.revoked', { who, folder: folderName }));
    } catch (failure) {
      setError(describeError(failure, t));
    } finally {
      setBusy(false);
    }
  };
  return (
    <li class="grant">
      <span class="grant-who">{who}</span>
      <span class="tag">{t(`console:admin.permissions.${grant.permission}.name`)}</span>
      {confirming ? (
        <ConfirmStep
          question={t('console:admin.folders.revokeQuestion', { who, folder: folderName })}
          consequence={t('console:admin.folders.revokeConsequence')}
          confirmLabel={t('console:admin.folders.revokeConfirm')}
          cancelLabel={t('console:admin.keep')}
          busy={busy}
          error={error}
          onConfirm={revoke}
          onCancel={() => setConfirming(false)}
        />
      ) : (
        <button type="button" class="secondary" onClick={() => setConfirming(true)} aria-label={t('console:admin.folders.revokeWho', { who })}>
          {t('console:admin.folders.revoke')}
        </button>
      )}
    </li>
  );
}

function GrantForm({ ctx, folder, members, onGranted }: { ctx: ConsoleContext; folder: Folder; members: Member[]; onGranted(message: string): Promise<void> }) {
  const { t } = ctx;
  const [userId, setUserId] = useState('');
  const [permission, setPermission] = useState<GrantPermission>('view');
  const [busy, setBusy] = useState(false);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [failure, setFailure] = useState<string | undefined>();

  if (members.length === 0) return <p class="hint">{t('console:admin.folders.nobodyToGrant')}</p>;

  const submit = async (event: Event) => {
    event.preventDefault();
    if (!userId) {
      setErrors({ userId: t('console:admin.folders.chooseMember') });
      return;
    }
    setBusy(true);
    setErrors({});
    setFailure(undefined);
    try {
      const grant = await ctx.api.put<Grant>(`/v1/folders/${folder.id}/grants/${userId}`, { permission });
      const member = members.find((candidate) => candidate.userId === userId);
      setUserId('');
      await onGranted(
        t('console:admin.folders.granted', { who: member?.name ?? grant.email, folder: folder.name, permission: t(`console:admin.permissions.${permission}.name`) }),
      );
    } catch (error) {
      const byField = fieldErrors(error);
      setErrors(byField);
      if (Object.keys(byField).length === 0) setFailure(describeError(error, t));
    } finally {
      setBusy(false);
    }
  };

  return (
    <form class="card admin-form" onSubmit={submit} aria-labelledby="grant-heading">
      <h3 id="grant-heading">{t('console:admin.folders.grantHeading')}</h3>
      <div class="form-row">
        <Field id="grant-member" label={t('console:admin.folders.member')} error={errors.userId}>
          {(describedBy, invalid) => (
            <select id="grant-member" value={userId} onChange={(event) => setUserId((event.target as HTMLSelectElement).value)} aria-describedby={describedBy} aria-invalid={invalid}>
              <option value="">{t('console:admin.folders.chooseMember')}</option>
              {members.map((member) => (
                <option key={member.userId} value={member.userId}>
                  {member.name ? `${member.name} (${member.email})` : member.email}
                </option>
              ))}
            </select>
          )}
        </Field>
        <Field id="grant-permission" label={t('console:admin.folders.permission')} error={errors.permission} hint={t(`console:admin.permissions.${permission}.hint`)}>
          {(describedBy, invalid) => (
            <select
              id="grant-permission"
              value={permission}
              onChange={(event) => setPermission((event.target as HTMLSelectElement).value as GrantPermission)}
              aria-describedby={describedBy}
              aria-invalid={invalid}
            >
              {grantPermissions.map((option) => (
                <option key={option} value={option}>
                  {t(`console:admin.permissions.${option}.name`)}
                </option>
              ))}
            </select>
          )}
        </Field>
      </div>
      {failure && (
        <p class="error" role="alert">
          {failure}
        </p>
      )}
      <div class="actions">
        <button type="submit" disabled={busy}>
          {t('console:admin.folders.grant')}
        </button>
      </div>
    </form>
  );
}
