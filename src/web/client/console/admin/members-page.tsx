/**
 * Members and invitations (R8): who belongs to the organisation and with which role; invite someone by email
 * (the API emails them a link to choose a password), change a role, remove a member after a confirmation.
 * Only owners make or unmake owners, so only they are offered the owner role.
 */
import { useState } from 'preact/hooks';
import { formatDate } from '../../../../i18n';
import { ApiError } from '../../shared/http';
import { describeError, fieldErrors, type ConsoleContext, type MemberRole } from '../context';
import { AdminFrame, Announcement, ConfirmStep, Field, NotReady, useLoaded } from './admin-frame';
import { memberRoles, useOrganizationTimeZone, type Member } from './admin-api';

export function MembersPage({ ctx }: { ctx: ConsoleContext }) {
  const { t } = ctx;
  const [members, reload] = useLoaded(ctx, () => ctx.api.get<{ items: Member[] }>('/v1/members').then((answer) => answer.items));
  const timeZone = useOrganizationTimeZone(ctx);
  const [announcement, setAnnouncement] = useState<string | undefined>();
  const isOwner = ctx.session.organization.role === 'owner';
  const offeredRoles = memberRoles.filter((role) => role !== 'owner' || isOwner);

  return (
    <AdminFrame ctx={ctx} page="members">
      <p class="hint">{t('console:admin.members.intro')}</p>
      <Announcement message={announcement} />
      {members.kind !== 'ready' ? (
        <NotReady ctx={ctx} state={members} retry={reload} />
      ) : (
        <>
          <InviteForm
            ctx={ctx}
            roles={offeredRoles}
            onInvited={async (member) => {
              setAnnouncement(t('console:admin.members.invited', { email: member.email }));
              await reload();
            }}
          />
          <h2 id="members-heading">{t('console:admin.members.listHeading', { count: members.data.length })}</h2>
          <table class="admin-table" aria-labelledby="members-heading">
            <thead>
              <tr>
                <th scope="col">{t('console:admin.members.person')}</th>
                <th scope="col">{t('console:admin.members.role')}</th>
                <th scope="col">{t('console:admin.members.joined')}</th>
                <th scope="col">{t('console:admin.actions')}</th>
              </tr>
            </thead>
            <tbody>
              {members.data.map((member) => (
                <MemberRow
                  key={member.userId}
                  ctx={ctx}
                  member={member}
                  timeZone={timeZone}
                  roles={member.role === 'owner' && !isOwner ? memberRoles : offeredRoles}
                  onChanged={async (message) => {
                    setAnnouncement(message);
                    await reload();
                  }}
                />
              ))}
            </tbody>
          </table>
        </>
      )}
    </AdminFrame>
  );
}

function InviteForm({ ctx, roles, onInvited }: { ctx: ConsoleContext; roles: readonly MemberRole[]; onInvited(member: Member): Promise<void> }) {
  const { t } = ctx;
  const [email, setEmail] = useState('');
  const [name, setName] = useState('');
  const [role, setRole] = useState<MemberRole>('member');
  const [busy, setBusy] = useState(false);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [failure, setFailure] = useState<string | undefined>();

  const submit = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    setErrors({});
    setFailure(undefined);
    try {
      const member = await ctx.api.post<Member>('/v1/members', { email: email.trim(), role, ...(name.trim() ? { name: name.trim() } : {}) });
      setEmail('');
      setName('');
      setRole('member');
      await onInvited(member);
    } catch (error) {
      if (error instanceof ApiError && error.status === 409) setErrors({ email: t('console:admin.members.alreadyMember') });
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
    <form class="card admin-form" onSubmit={submit} aria-labelledby="invite-heading">
      <h2 id="invite-heading">{t('console:admin.members.inviteHeading')}</h2>
      <p class="hint">{t('console:admin.members.inviteIntro')}</p>
      <div class="form-row">
        <Field id="invite-email" label={t('console:admin.members.email')} error={errors.email}>
          {(describedBy, invalid) => (
            <input
              id="invite-email"
              type="email"
              autoComplete="off"
              required
              value={email}
              onInput={(event) => setEmail((event.target as HTMLInputElement).value)}
              aria-describedby={describedBy}
              aria-invalid={invalid}
            />
          )}
        </Field>
        <Field id="invite-name" label={t('console:admin.members.nameOptional')} error={errors.name}>
          {(describedBy, invalid) => (
            <input
              id="invite-name"
              autoComplete="off"
              value={name}
              onInput={(event) => setName((event.target as HTMLInputElement).value)}
              aria-describedby={describedBy}
              aria-invalid={invalid}
            />
          )}
        </Field>
        <Field id="invite-role" label={t('console:admin.members.role')} error={errors.role} hint={t(`console:admin.roles.${role}.hint`)}>
          {(describedBy, invalid) => (
            <select id="invite-role" value={role} onChange={(event) => setRole((event.target as HTMLSelectElement).value as MemberRole)} aria-describedby={describedBy} aria-invalid={invalid}>
              {roles.map((option) => (
                <option key={option} value={option}>
                  {t(`console:admin.roles.${option}.name`)}
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
          {busy ? t('console:admin.members.inviting') : t('console:admin.members.invite')}
        </button>
      </div>
    </form>
  );
}

function MemberRow({
  ctx,
  member,
  timeZone,
  roles,
  onChanged,
}: {
  ctx: ConsoleContext;
  member: Member;
  timeZone: string;
  roles: readonly MemberRole[];
  onChanged(message: string): Promise<void>;
}) {
  const { t } = ctx;
  const [role, setRole] = useState<MemberRole>(member.role);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | undefined>();
  const [confirming, setConfirming] = useState(false);
  const who = member.name ? `${member.name} (${member.email})` : member.email;
  const isYou = member.userId === ctx.session.user.id;

  const explain = (failure: unknown) => {
    if (failure instanceof ApiError && failure.status === 409) return t('console:admin.members.lastOwner');
    if (failure instanceof ApiError && failure.status === 403) return t('console:admin.members.onlyOwners');
    return fieldErrors(failure).role ?? describeError(failure, t);
  };

  const changeRole = async () => {
    setBusy(true);
    setError(undefined);
    try {
      await ctx.api.patch<Member>(`/v1/members/${member.userId}`, { role });
      await onChanged(t('console:admin.members.roleChanged', { who, role: t(`console:admin.roles.${role}.name`) }));
    } catch (failure) {
      setError(explain(failure));
    } finally {
      setBusy(false);
    }
  };

  const remove = async () => {
    setBusy(true);
    setError(undefined);
    try {
      await ctx.api.delete(`/v1/members/${member.userId}`);
      setConfirming(false);
      await onChanged(t('console:admin.members.removed', { who }));
    } catch (failure) {
      setError(explain(failure));
    } finally {
      setBusy(false);
    }
  };

  const roleId = `role-${member.userId}`;
  return (
    <tr>
      <th scope="row" data-label={t('console:admin.members.person')}>
        <span class="person-name">{member.name ?? member.email}</span>
        {member.name && <span class="muted person-email">{member.email}</span>}
        {isYou && <span class="tag">{t('console:admin.members.you')}</span>}
        {!member.passwordSet && <span class="tag">{t('console:admin.members.invitationPending')}</span>}
      </th>
      <td data-label={t('console:admin.members.role')}>
        <div class="inline-change">
          <label class="visually-hidden" for={roleId}>
            {t('console:admin.members.roleOf', { who })}
          </label>
          <select
            id={roleId}
            value={role}
            disabled={busy || !roles.includes(member.role)}
            onChange={(event) => setRole((event.target as HTMLSelectElement).value as MemberRole)}
          >
            {roles.map((option) => (
              <option key={option} value={option}>
                {t(`console:admin.roles.${option}.name`)}
              </option>
            ))}
          </select>
          <button type="button" class="secondary" disabled={busy || role === member.role} onClick={changeRole} aria-label={t('console:admin.members.changeRoleOf', { who })}>
            {t('console:admin.members.changeRole')}
          </button>
        </div>
      </td>
      <td data-label={t('console:admin.members.joined')}>{formatDate(member.joinedAt, ctx.locale, timeZone)}</td>
      <td data-label={t('console:admin.actions')}>
        {confirming ? (
          <ConfirmStep
            question={t('console:admin.members.removeQuestion', { who })}
            consequence={t('console:admin.members.removeConsequence')}
            confirmLabel={t('console:admin.members.removeConfirm')}
            cancelLabel={t('console:admin.keep')}
            busy={busy}
            error={error}
            onConfirm={remove}
            onCancel={() => {
              setConfirming(false);
              setError(undefined);
            }}
          />
        ) : (
          <button type="button" class="secondary" disabled={busy} onClick={() => setConfirming(true)} aria-label={t('console:admin.members.removeWho', { who })}>
            {t('console:admin.members.remove')}
          </button>
        )}
        {error && !confirming && (
          <p class="error" role="alert">
            {error}
          </p>
        )}
      </td>
    </tr>
  );
}
