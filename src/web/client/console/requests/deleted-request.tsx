/**
 * A deleted (shredded) request's page: its tombstone (docs/ARCHITECTURE.md, "Shredding and tombstones").
 * Title, names, documents, audit trail and history are gone (the API answers 410 for them), so the page asks
 * for none of them and offers no action: it says when and under which rule the request was deleted, links the
 * deletion receipt, and shows what the tombstone keeps (document code, times, the status it ended in).
 */
import type { RefObject } from 'preact';
import type { Translate } from '../../../../i18n';
import type { ConsoleContext } from '../context';
import { Link } from '../main';
import type { RequestView } from './request-model';
import { StatusBadge } from './request-parts';

/** A deletion's rule in words: 'manual', 'retention:<policy>', 'data-subject-request:<id>', 'organization-closed'. */
export function deletionRuleText(rule: string, t: Translate): string {
  if (rule === 'manual') return t('console:request.deleted.ruleName.manual');
  if (rule.startsWith('retention:')) return t('console:request.deleted.ruleName.retention');
  if (rule.startsWith('data-subject-request:')) return t('console:request.deleted.ruleName.dataSubjectRequest');
  if (rule === 'organization-closed') return t('console:request.deleted.ruleName.organizationClosed');
  return rule;
}

export function DeletedRequest({
  ctx,
  request,
  when,
  headingRef,
}: {
  ctx: ConsoleContext;
  request: RequestView & { deletedAt: string };
  when(at: string): string;
  headingRef: RefObject<HTMLHeadingElement>;
}) {
  const { t } = ctx;
  const deletion = request.deletion;
  const privacyRequestId = deletion?.rule.startsWith('data-subject-request:') ? deletion.rule.slice('data-subject-request:'.length) : undefined;
  return (
    <article class="request" aria-labelledby="request-heading">
      <p class="breadcrumb">
        <Link ctx={ctx} href="/">
          {t('console:request.backToList')}
        </Link>
      </p>
      <div class="page-title">
        <h1 id="request-heading" ref={headingRef} tabIndex={-1}>
          {t('console:request.deleted.title')}
        </h1>
        <StatusBadge status={request.status} deleted t={t} />
      </div>
      <p class="notice-box" role="note">
        {t('console:request.deleted.notice', { at: when(request.deletedAt) })}
      </p>
      <dl class="facts">
        <div>
          <dt>{t('console:request.deleted.at')}</dt>
          <dd>{when(request.deletedAt)}</dd>
        </div>
        {deletion && (
          <div>
            <dt>{t('console:request.deleted.rule')}</dt>
            <dd>
              {privacyRequestId ? (
                <Link ctx={ctx} href={`/privacy-requests/${privacyRequestId}`}>
                  {deletionRuleText(deletion.rule, t)}
                </Link>
              ) : (
                deletionRuleText(deletion.rule, t)
              )}
            </dd>
          </div>
        )}
        {deletion?.reason && (
          <div>
            <dt>{t('console:request.deleted.reason')}</dt>
            <dd>{deletion.reason}</dd>
          </div>
        )}
        {deletion && (
          <div>
            <dt>{t('console:request.deleted.receipt')}</dt>
            <dd>
              <a href={`/v1/deletion-receipts/${encodeURIComponent(deletion.receiptId)}`}>{t('console:request.deleted.receiptLink')}</a>
            </dd>
          </div>
        )}
        <div>
          <dt>{t('console:request.deleted.statusBefore')}</dt>
          <dd>
            <StatusBadge status={request.status} t={t} />
          </dd>
        </div>
        <div>
          <dt>{t('console:request.documentCode')}</dt>
          <dd class="code">{request.documentCode}</dd>
        </div>
        <div>
          <dt>{t('console:request.created')}</dt>
          <dd>{when(request.createdAt)}</dd>
        </div>
        {request.sealedAt && (
          <div>
            <dt>{t('console:request.sealed')}</dt>
            <dd>{when(request.sealedAt)}</dd>
          </div>
        )}
      </dl>
    </article>
  );
}
