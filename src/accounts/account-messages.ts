/**
 * What Sigill sends people about their own account (catalog `account`, src/i18n): member invitations,
 * password-reset links and new-device sign-in codes. Written in the organisation's default language with
 * dates in its time zone: the organisation that invites someone, or, for a person's own codes and resets,
 * the organisation the code or link is for. Pure, like src/signing/messages.ts, and laid out by the same
 * renderer (src/email/render-email.ts): HTML and text from one description, every value escaped.
 */
import { renderEmail, type Block, type Email } from '../email/render-email';
import { formatDateTime, translator, type Locale, type Translate } from '../i18n';

/** The organisation a message is sent for: its name, its default language and its time zone (IANA). */
export interface OrganizationVoice {
  name: string;
  locale: Locale;
  timeZone: string;
}

export const voiceOf = (organization: { name: string; defaultLocale: Locale; timeZone: string }): OrganizationVoice => ({
  name: organization.name,
  locale: organization.defaultLocale,
  timeZone: organization.timeZone,
});

const greeting = (t: Translate, name: string | null | undefined) => (name ? t('account:greeting.named', { name }) : t('account:greeting.anonymous'));

export interface InvitationFacts {
  organization: OrganizationVoice;
  /** The member who invited; null when an API key did (the organisation alone is named). */
  inviterName: string | null;
  inviteeName: string | null;
}

/**
 * To a new member: a link to choose a password (a person new to Sigill) or a link to sign in (someone who
 * already has a password). One subject for both: either way they were invited.
 */
export function memberInvitationEmail(
  facts: InvitationFacts,
  access: { kind: 'choose-password'; link: string; expiresAt: Date } | { kind: 'sign-in'; link: string },
): Email {
  const { organization } = facts;
  const t = translator(organization.locale);
  const values = { organization: organization.name, inviter: facts.inviterName ?? '' };
  const by = facts.inviterName ? 'person' : 'organization';
  const blocks: Block[] =
    access.kind === 'choose-password'
      ? [
          { kind: 'paragraph', text: t(`account:invitation.invited.${by}`, values) },
          { kind: 'paragraph', text: t('account:invitation.choosePassword', { date: formatDateTime(access.expiresAt, organization.locale, organization.timeZone) }) },
          { kind: 'action', label: t('account:invitation.choosePasswordAction'), url: access.link },
          { kind: 'paragraph', text: t('account:invitation.otherSignIn') },
          { kind: 'note', text: t('account:personalLink') },
        ]
      : [
          { kind: 'paragraph', text: t(`account:invitation.added.${by}`, values) },
          { kind: 'paragraph', text: t('account:invitation.existingAccount') },
          { kind: 'action', label: t('account:invitation.signInAction'), url: access.link },
        ];
  const subject = t('account:invitation.subject', { organization: organization.name });
  return renderEmail(organization.locale, subject, greeting(t, facts.inviteeName), blocks, t('account:sentOnBehalf', { organization: organization.name }));
}

export interface AccountHolder {
  name: string | null;
  email: string;
}

export function passwordResetEmail(organization: OrganizationVoice, holder: AccountHolder, link: { url: string; expiresAt: Date; lifetimeMinutes: number }): Email {
  const t = translator(organization.locale);
  const blocks: Block[] = [
    { kind: 'paragraph', text: t('account:passwordReset.asked', { email: holder.email }) },
    { kind: 'action', label: t('account:passwordReset.action'), url: link.url },
    {
      kind: 'paragraph',
      text: t('account:passwordReset.expires', { count: link.lifetimeMinutes, date: formatDateTime(link.expiresAt, organization.locale, organization.timeZone) }),
    },
    { kind: 'note', text: t('account:passwordReset.notYou') },
  ];
  return renderEmail(organization.locale, t('account:passwordReset.subject'), greeting(t, holder.name), blocks, t('account:yourAccount', { organization: organization.name }));
}

export interface DeviceCodeFacts {
  code: string;
  expiresAt: Date;
  lifetimeMinutes: number;
}

/** The code comes first after the greeting: it is what the reader came for (and what a phone's preview shows). */
export function deviceCodeEmail(organization: OrganizationVoice, holder: AccountHolder, code: DeviceCodeFacts): Email {
  const t = translator(organization.locale);
  const blocks: Block[] = [
    { kind: 'code', label: t('account:deviceCode.label'), code: code.code },
    { kind: 'paragraph', text: t('account:deviceCode.why', { organization: organization.name }) },
    {
      kind: 'paragraph',
      text: t('account:deviceCode.expires', { count: code.lifetimeMinutes, date: formatDateTime(code.expiresAt, organization.locale, organization.timeZone) }),
    },
    { kind: 'note', text: t('account:deviceCode.notYou') },
  ];
  return renderEmail(organization.locale, t('account:deviceCode.subject'), greeting(t, holder.name), blocks, t('account:yourAccount', { organization: organization.name }));
}

/** One short SMS: the code first, then how long it lives and what to do if it was not you. */
export function deviceCodeSms(organization: OrganizationVoice, code: Pick<DeviceCodeFacts, 'code' | 'lifetimeMinutes'>): string {
  return translator(organization.locale)('account:deviceCode.sms', { code: code.code, count: code.lifetimeMinutes });
}
