/**
 * The emails of export and leaving (catalog `email:organizationExport` and `email:organizationClosed`, in
 * the organisation's default language). Pure, so tests can assert what a person reads.
 */
import { renderEmail, type Email } from '../email/render-email';
import { formatDateTime, translator, type Locale } from '../i18n';
import type { DeletionReceipt } from '../privacy/shred-record';

export function exportReadyEmail(
  facts: { organizationName: string; exportId: string; sha256: string; sizeBytes: number; expiresAt: Date; timeZone: string },
  recipient: { name: string; locale: Locale },
  consoleLink: string,
): Email {
  const { locale } = recipient;
  const t = translator(locale);
  return renderEmail(
    locale,
    t('email:organizationExport.subject', { organization: facts.organizationName }),
    t('email:greeting', { name: recipient.name }),
    [
      {
        kind: 'paragraph',
        text: t('email:organizationExport.ready', {
          organization: facts.organizationName,
          megabytes: (facts.sizeBytes / 1024 / 1024).toFixed(facts.sizeBytes < 1024 * 1024 ? 2 : 1),
          date: formatDateTime(facts.expiresAt, locale, facts.timeZone),
        }),
      },
      { kind: 'note', text: t('email:organizationExport.checksum', { sha256: facts.sha256 }) },
      { kind: 'action', label: t('email:organizationExport.action'), url: consoleLink },
    ],
    t('email:sentOnBehalf.organization', { organization: facts.organizationName }),
  );
}

export function organizationClosedEmail(
  facts: { organizationName: string; receipt: DeletionReceipt; timeZone: string },
  recipient: { name: string; locale: Locale },
): Email {
  const { locale } = recipient;
  const t = translator(locale);
  return renderEmail(
    locale,
    t('email:organizationClosed.subject', { organization: facts.organizationName }),
    t('email:greeting', { name: recipient.name }),
    [
      {
        kind: 'paragraph',
        text: t('email:organizationClosed.what', {
          organization: facts.organizationName,
          date: formatDateTime(facts.receipt.deletedAt, locale, facts.timeZone),
        }),
      },
      {
        kind: 'note',
        text: t('email:organizationClosed.receipt', {
          receiptId: facts.receipt.id,
          rule: facts.receipt.rule,
          keyIds: facts.receipt.keyIdsDestroyed.join(', ') || '-',
        }),
      },
    ],
    t('email:sentOnBehalf.organization', { organization: facts.organizationName }),
  );
}
