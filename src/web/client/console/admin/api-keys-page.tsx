/**
 * API keys (R9): the organisation's keys with their scope and last use (never secrets); create one with a
 * name, a folder scope and permissions — its secret is shown once, with a copy button, and never again —;
 * revoke one after a confirmation (it stops working at once).
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import { formatDateTime } from '../../../../i18n';
import { describeError, type ConsoleContext } from '../context';
import { AdminFrame, AdminTable, Announcement, AskFirst, NotReady, useLoaded, useRowChange } from './admin-frame';
import { FolderSelect, FormEnd, TextField, useSubmission } from './admin-form';
import { folderTree, keyPermissions, useOrganizationTimeZone, type ApiKey, type Folder, type FolderTree, type KeyPermission } from './admin-api';

type CreatedKey = ApiKey & { key: string };

export function ApiKeysPage({ ctx }: { ctx: ConsoleContext }) {
  const { t } = ctx;
  const [loaded, reload] = useLoaded(ctx, async () => {
    const [keys, folders] = await Promise.all([ctx.api.get<{ items: ApiKey[] }>('/v1/api-keys'), ctx.api.get<{ items: Folder[] }>('/v1/folders')]);
    return { keys: keys.items, folders: folders.items };
  });
  const timeZone = useOrganizationTimeZone(ctx);
  const [created, setCreated] = useState<CreatedKey | undefined>();
  const [announcement, setAnnouncement] = useState<string | undefined>();

  if (loaded.kind !== 'ready') {
    return (
      <AdminFrame ctx={ctx} page="apiKeys">
        <NotReady ctx={ctx} state={loaded} retry={reload} />
      </AdminFrame>
    );
  }
  const { keys, folders } = loaded.data;
  const tree = folderTree(folders);
  const folderPath = (id: string | null) => (id ? (tree.find((entry) => entry.folder.id === id)?.path ?? t('console:admin.apiKeys.unknownFolder')) : t('console:admin.apiKeys.wholeOrganization'));
  const active = keys.filter((key) => !key.revokedAt);
  const revoked = keys.filter((key) => key.revokedAt);

  return (
    <AdminFrame ctx={ctx} page="apiKeys">
      <p class="hint">{t('console:admin.apiKeys.intro')}</p>
      <Announcement message={announcement} />
      {created ? (
        <SecretShownOnce
          ctx={ctx}
          created={created}
          onDone={() => {
            setAnnouncement(undefined);
            setCreated(undefined);
          }}
        />
      ) : (
        <CreateKeyForm
          ctx={ctx}
          tree={tree}
          onCreated={async (key) => {
            setCreated(key);
            await reload();
          }}
        />
      )}
      <h2 id="keys-heading">{t('console:admin.apiKeys.listHeading', { count: active.length })}</h2>
      {active.length === 0 ? (
        <p>{t('console:admin.apiKeys.none')}</p>
      ) : (
        <AdminTable
          labelledBy="keys-heading"
          columns={[
            t('console:admin.apiKeys.name'),
            t('console:admin.apiKeys.scope'),
            t('console:admin.apiKeys.permissions'),
            t('console:admin.apiKeys.lastUsed'),
            t('console:admin.actions'),
          ]}
        >
          {active.map((key) => (
            <KeyRow
              key={key.id}
              ctx={ctx}
              apiKey={key}
              scope={folderPath(key.folderId)}
              timeZone={timeZone}
              onRevoked={async () => {
                setAnnouncement(t('console:admin.apiKeys.revoked', { name: key.name }));
                await reload();
              }}
            />
          ))}
        </AdminTable>
      )}
      {revoked.length > 0 && (
        <details class="revoked-keys">
          <summary>{t('console:admin.apiKeys.revokedHeading', { count: revoked.length })}</summary>
          <ul>
            {revoked.map((key) => (
              <li key={key.id}>
                {t('console:admin.apiKeys.revokedLine', { name: key.name, prefix: key.prefix, at: formatDateTime(key.revokedAt!, ctx.locale, timeZone) })}
              </li>
            ))}
          </ul>
        </details>
      )}
    </AdminFrame>
  );
}

function CreateKeyForm({ ctx, tree, onCreated }: { ctx: ConsoleContext; tree: FolderTree; onCreated(key: CreatedKey): Promise<void> }) {
  const { t } = ctx;
  const [name, setName] = useState('');
  const [folderId, setFolderId] = useState('');
  const [chosen, setChosen] = useState<KeyPermission[]>(['view']);
  const { busy, errors, setErrors, failure, submit } = useSubmission(t);

  const create = (event: Event) => {
    event.preventDefault();
    if (chosen.length === 0) {
      setErrors({ permissions: t('console:admin.apiKeys.choosePermission') });
      return;
    }
    void submit(async () => {
      const created = await ctx.api.post<CreatedKey>('/v1/api-keys', {
        name: name.trim(),
        permissions: keyPermissions.filter((permission) => chosen.includes(permission)),
        ...(folderId ? { folderId } : {}),
      });
      setName('');
      setFolderId('');
      setChosen(['view']);
      await onCreated(created);
    });
  };

  return (
    <form class="card admin-form" onSubmit={create} aria-labelledby="new-key-heading">
      <h2 id="new-key-heading">{t('console:admin.apiKeys.newHeading')}</h2>
      <div class="form-row">
        <TextField id="key-name" label={t('console:admin.apiKeys.name')} error={errors.name} hint={t('console:admin.apiKeys.nameHint')} required value={name} onInput={setName} />
        <FolderSelect
          id="key-folder"
          label={t('console:admin.apiKeys.scope')}
          error={errors.folderId}
          noFolder={t('console:admin.apiKeys.wholeOrganization')}
          tree={tree}
          value={folderId}
          onChange={setFolderId}
        />
      </div>
      <fieldset class="choices" aria-describedby={errors.permissions ? 'key-permissions-error' : undefined}>
        <legend>{t('console:admin.apiKeys.permissions')}</legend>
        {keyPermissions.map((permission) => (
          <div class="checkbox" key={permission}>
            <input
              type="checkbox"
              id={`key-permission-${permission}`}
              checked={chosen.includes(permission)}
              onChange={(event) => {
                const on = (event.target as HTMLInputElement).checked;
                setChosen((current) => (on ? [...current, permission] : current.filter((entry) => entry !== permission)));
              }}
              aria-describedby={`key-permission-${permission}-hint`}
            />
            <div>
              <label for={`key-permission-${permission}`}>{t(`console:admin.keyPermissions.${permission}.name`)}</label>
              <p id={`key-permission-${permission}-hint`} class="hint">
                {t(`console:admin.keyPermissions.${permission}.hint`)}
              </p>
            </div>
          </div>
        ))}
        {errors.permissions && (
          <p id="key-permissions-error" class="error">
            {errors.permissions}
          </p>
        )}
      </fieldset>
      <FormEnd failure={failure} disabled={busy} submit={t('console:admin.apiKeys.create')} />
    </form>
  );
}

/** The one time anyone sees the secret: a read-only field, a copy button, and a plain warning. */
function SecretShownOnce({ ctx, created, onDone }: { ctx: ConsoleContext; created: CreatedKey; onDone(): void }) {
  const { t } = ctx;
  const [copied, setCopied] = useState<'copied' | 'failed' | undefined>();
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => heading.current?.focus(), []);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(created.key);
      setCopied('copied');
    } catch {
      setCopied('failed');
    }
  };
  return (
    <section class="card secret-once" aria-labelledby="secret-heading">
      <h2 id="secret-heading" ref={heading} tabIndex={-1}>
        {t('console:admin.apiKeys.createdHeading', { name: created.name })}
      </h2>
      <p class="warning">
        <strong>{t('console:admin.apiKeys.onceWarning')}</strong>
      </p>
      <label for="new-secret">{t('console:admin.apiKeys.secretLabel')}</label>
      <input id="new-secret" class="secret" readOnly value={created.key} onFocus={(event) => (event.target as HTMLInputElement).select()} />
      <p role="status" class={copied === 'failed' ? 'error' : 'notice'}>
        {copied === 'copied' ? t('console:admin.apiKeys.copied') : copied === 'failed' ? t('console:admin.apiKeys.copyFailed') : ''}
      </p>
      <div class="actions">
        <button type="button" onClick={copy}>
          {t('console:admin.apiKeys.copy')}
        </button>
        <button type="button" class="secondary" onClick={onDone}>
          {t('console:admin.apiKeys.done')}
        </button>
      </div>
    </section>
  );
}

function KeyRow({ ctx, apiKey, scope, timeZone, onRevoked }: { ctx: ConsoleContext; apiKey: ApiKey; scope: string; timeZone: string; onRevoked(): Promise<void> }) {
  const { t } = ctx;
  const [confirming, setConfirming] = useState(false);
  const { busy, error, change } = useRowChange((failure) => describeError(failure, t));
  const revoke = () =>
    change(async () => {
      await ctx.api.delete(`/v1/api-keys/${apiKey.id}`);
      setConfirming(false);
      await onRevoked();
    });
  return (
    <tr>
      <th scope="row" data-label={t('console:admin.apiKeys.name')}>
        <span class="person-name">{apiKey.name}</span>
        <code class="muted">{apiKey.prefix}…</code>
      </th>
      <td data-label={t('console:admin.apiKeys.scope')}>{scope}</td>
      <td data-label={t('console:admin.apiKeys.permissions')}>
        {apiKey.permissions.map((permission) => t(`console:admin.keyPermissions.${permission}.name`)).join(', ')}
      </td>
      <td data-label={t('console:admin.apiKeys.lastUsed')}>
        {apiKey.lastUsedAt ? formatDateTime(apiKey.lastUsedAt, ctx.locale, timeZone) : t('console:admin.apiKeys.neverUsed')}
      </td>
      <td data-label={t('console:admin.actions')}>
        <AskFirst
          ctx={ctx}
          open={confirming}
          action={t('console:admin.apiKeys.revoke')}
          actionLabel={t('console:admin.apiKeys.revokeWhich', { name: apiKey.name })}
          question={t('console:admin.apiKeys.revokeQuestion', { name: apiKey.name })}
          consequence={t('console:admin.apiKeys.revokeConsequence')}
          confirmLabel={t('console:admin.apiKeys.revokeConfirm')}
          busy={busy}
          error={error}
          onOpen={() => setConfirming(true)}
          onConfirm={revoke}
          onCancel={() => setConfirming(false)}
        />
      </td>
    </tr>
  );
}
