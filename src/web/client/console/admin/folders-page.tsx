/**
 * Folders and grants (R8): the organisation's folders as a tree; create a folder (at the top or inside
 * another); for the chosen folder, who is granted view, send or manage on it (and so on everything below it),
 * grant a member, change or withdraw a grant after a confirmation.
 */
import { useState } from 'preact/hooks';
import { describeError, type ConsoleContext } from '../context';
import { AdminFrame, Announcement, AskFirst, NotReady, useLoaded, useRowChange } from './admin-frame';
import { FolderSelect, FormEnd, SelectField, TextField, useSubmission } from './admin-form';
import { folderTree, grantPermissions, memberLabel, type Folder, type FolderTree, type Grant, type GrantPermission, type Member } from './admin-api';

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

function CreateFolderForm({ ctx, tree, onCreated }: { ctx: ConsoleContext; tree: FolderTree; onCreated(folder: Folder): Promise<void> }) {
  const { t } = ctx;
  const [name, setName] = useState('');
  const [parentId, setParentId] = useState('');
  const { busy, errors, failure, submit } = useSubmission(t);

  const create = (event: Event) => {
    event.preventDefault();
    void submit(
      async () => {
        const folder = await ctx.api.post<Folder>('/v1/folders', { name: name.trim(), ...(parentId ? { parentId } : {}) });
        setName('');
        await onCreated(folder);
      },
      { name: t('console:admin.folders.nameTaken') },
    );
  };

  return (
    <form class="card admin-form" onSubmit={create} aria-labelledby="new-folder-heading">
      <h3 id="new-folder-heading">{t('console:admin.folders.newHeading')}</h3>
      <TextField id="folder-name" label={t('console:admin.folders.name')} error={errors.name} required value={name} onInput={setName} />
      <FolderSelect
        id="folder-parent"
        label={t('console:admin.folders.parent')}
        error={errors.parentId}
        noFolder={t('console:admin.folders.topLevel')}
        tree={tree}
        value={parentId}
        onChange={setParentId}
      />
      <FormEnd failure={failure} disabled={busy} submit={t('console:admin.folders.create')} />
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
    return member ? memberLabel(member) : email;
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
  const { busy, error, change } = useRowChange((failure) => describeError(failure, t));
  const revoke = () =>
    change(async () => {
      await ctx.api.delete(`/v1/folders/${grant.folderId}/grants/${grant.userId}`);
      setConfirming(false);
      await onRevoked(t('console:admin.folders.revoked', { who, folder: folderName }));
    });
  return (
    <li class="grant">
      <span class="grant-who">{who}</span>
      <span class="tag">{t(`console:admin.permissions.${grant.permission}.name`)}</span>
      <AskFirst
        ctx={ctx}
        open={confirming}
        action={t('console:admin.folders.revoke')}
        actionLabel={t('console:admin.folders.revokeWho', { who })}
        question={t('console:admin.folders.revokeQuestion', { who, folder: folderName })}
        consequence={t('console:admin.folders.revokeConsequence')}
        confirmLabel={t('console:admin.folders.revokeConfirm')}
        busy={busy}
        error={error}
        onOpen={() => setConfirming(true)}
        onConfirm={revoke}
        onCancel={() => setConfirming(false)}
      />
    </li>
  );
}

function GrantForm({ ctx, folder, members, onGranted }: { ctx: ConsoleContext; folder: Folder; members: Member[]; onGranted(message: string): Promise<void> }) {
  const { t } = ctx;
  const [userId, setUserId] = useState('');
  const [permission, setPermission] = useState<GrantPermission>('view');
  const { busy, errors, setErrors, failure, submit } = useSubmission(t);

  if (members.length === 0) return <p class="hint">{t('console:admin.folders.nobodyToGrant')}</p>;

  const grant = (event: Event) => {
    event.preventDefault();
    if (!userId) {
      setErrors({ userId: t('console:admin.folders.chooseMember') });
      return;
    }
    void submit(async () => {
      const granted = await ctx.api.put<Grant>(`/v1/folders/${folder.id}/grants/${userId}`, { permission });
      const member = members.find((candidate) => candidate.userId === userId);
      setUserId('');
      await onGranted(
        t('console:admin.folders.granted', { who: member?.name ?? granted.email, folder: folder.name, permission: t(`console:admin.permissions.${permission}.name`) }),
      );
    });
  };

  return (
    <form class="card admin-form" onSubmit={grant} aria-labelledby="grant-heading">
      <h3 id="grant-heading">{t('console:admin.folders.grantHeading')}</h3>
      <div class="form-row">
        <SelectField
          id="grant-member"
          label={t('console:admin.folders.member')}
          error={errors.userId}
          value={userId}
          choices={[
            { value: '', label: t('console:admin.folders.chooseMember') },
            ...members.map((member) => ({ value: member.userId, label: memberLabel(member) })),
          ]}
          onChange={setUserId}
        />
        <SelectField
          id="grant-permission"
          label={t('console:admin.folders.permission')}
          error={errors.permission}
          hint={t(`console:admin.permissions.${permission}.hint`)}
          value={permission}
          choices={grantPermissions.map((option) => ({ value: option, label: t(`console:admin.permissions.${option}.name`) }))}
          onChange={setPermission}
        />
      </div>
      <FormEnd failure={failure} disabled={busy} submit={t('console:admin.folders.grant')} />
    </form>
  );
}
