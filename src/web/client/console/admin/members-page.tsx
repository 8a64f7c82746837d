/**
 * Members and invitations (R8): who belongs to the organisation and with which role; invite someone by email
 * (the API emails them a link to choose a password), change a role, remove a member after a confirmation.
 * Only owners make or unmake owners, so only they are offered the owner role.
 */
import { useState } from 'preact/hooks';
import { formatDate } from '../../../../i18n';
import { ApiError } from '../../shared/http';
import type { Translate } from '../../../../i18n';
import { describeError, fieldErrors, type ConsoleContext, type MemberRole } from '../context';
import { AdminFrame, AdminTable, Announcement, AskFirst, FailureAlert, NotReady, useLoaded, useRowChange } from './admin-frame';
import { FormEnd, Select, SelectField, TextField, useSubmission } from './admin-form';
import { memberLabel, memberRoles, useOrganizationTimeZone, type Member } from './admin-api';

const roleChoices = (roles: readonly MemberRole[], t: Translate) => roles.map((role) => ({ value: role, label: t(`console:admin.roles.${role}.name`) }));

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
          <AdminTable
            labelledBy="members-heading"
            columns={[t('console:admin.members.person'), t('console:admin.members.role'), t('console:admin.members.joined'), t('console:admin.actions')]}
          >
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
          </AdminTable>
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
  const { busy, errors, failure, submit } = useSubmission(t);

  const invite = (event: Event) => {
    event.preventDefault();
    void submit(
      async () => {
        const member = await ctx.api.post<Member>('/v1/members', { email: email.trim(), role, ...(name.trim() ? { name: name.trim() } : {}) });
        setEmail('');
        setName('');
        setRole('member');
        await onInvited(member);
      },
      { email: t('console:admin.members.alreadyMember') },
    );
  };

  return (
    <form class="card admin-form" onSubmit={invite} aria-labelledby="invite-heading">
      <h2 id="invite-heading">{t('console:admin.members.inviteHeading')}</h2>
      <p class="hint">{t('console:admin.members.inviteIntro')}</p>
      <div class="form-row">
        <TextField id="invite-email" label={t('console:admin.members.email')} error={errors.email} type="email" required value={email} onInput={setEmail} />
        <TextField id="invite-name" label={t('console:admin.members.nameOptional')} error={errors.name} value={name} onInput={setName} />
        <SelectField
          id="invite-role"
          label={t('console:admin.members.role')}
          error={errors.role}
          hint={t(`console:admin.roles.${role}.hint`)}
          value={role}
          choices={roleChoices(roles, t)}
          onChange={setRole}
        />
      </div>
      <FormEnd failure={failure} disabled={busy} submit={busy ? t('console:admin.members.inviting') : t('console:admin.members.invite')} />
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
  const [confirming, setConfirming] = useState(false);
  const who = memberLabel(member);
  const isYou = member.userId === ctx.session.user.id;

  const explain = (failure: unknown) => {
    if (failure instanceof ApiError && failure.status === 409) return t('console:admin.members.lastOwner');
    if (failure instanceof ApiError && failure.status === 403) return t('console:admin.members.onlyOwners');
    return fieldErrors(failure, t).role ?? describeError(failure, t);
  };

  const { busy, error, setError, change } = useRowChange(explain);

  const changeRole = () =>
    change(async () => {
      await ctx.api.patch<Member>(`/v1/members/${member.userId}`, { role });
      await onChanged(t('console:admin.members.roleChanged', { who, role: t(`console:admin.roles.${role}.name`) }));
    });

  const remove = () =>
    change(async () => {
      await ctx.api.delete(`/v1/members/${member.userId}`);
      setConfirming(false);
      await onChanged(t('console:admin.members.removed', { who }));
    });

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
          <Select id={roleId} value={role} choices={roleChoices(roles, t)} disabled={busy || !roles.includes(member.role)} onChange={setRole} />
          <button type="button" class="secondary" disabled={busy || role === member.role} onClick={changeRole} aria-label={t('console:admin.members.changeRoleOf', { who })}>
            {t('console:admin.members.changeRole')}
          </button>
        </div>
      </td>
      <td data-label={t('console:admin.members.joined')}>{formatDate(member.joinedAt, ctx.locale, timeZone)}</td>
      <td data-label={t('console:admin.actions')}>
        <AskFirst
          ctx={ctx}
          open={confirming}
          action={t('console:admin.members.remove')}
          actionLabel={t('console:admin.members.removeWho', { who })}
          disabled={busy}
          question={t('console:admin.members.removeQuestion', { who })}
          consequence={t('console:admin.members.removeConsequence')}
          confirmLabel={t('console:admin.members.removeConfirm')}
          busy={busy}
          error={error}
          onOpen={() => setConfirming(true)}
          onConfirm={remove}
          onCancel={() => {
            setConfirming(false);
            setError(undefined);
          }}
        />
        {!confirming && <FailureAlert failure={error} />}
      </td>
    </tr>
  );
}
