/**
 * Pieces the request pages share: a request's status, its signers' progress at a glance, how a signer
 * identifies and the eID evidence once they have, an error banner.
 */
import type { SignerIdentificationView } from '../../../../contract/identification';
import type { Translate } from '../../../../i18n';
import { eidName } from '../../shared/eid-names';
import type { RequestStatus, SignerStatus } from './request-model';

/** A deleted request's tombstone keeps the status it ended in; the badge says "Deleted" instead. */
export function StatusBadge({ status, deleted, t }: { status: RequestStatus; deleted?: boolean; t: Translate }) {
  if (deleted) return <span class="badge badge-deleted">{t('console:request.deleted.badge')}</span>;
  return <span class={`badge badge-${status}`}>{t(`common:requestStatus.${status}`)}</span>;
}

const signerMarks: Record<SignerStatus, string> = { waiting: '○', invited: '○', opened: '◐', signed: '✓', declined: '✗', locked: '!' };

/** "1 of 2 signed" and each signer with a mark and the status in words (the mark is decoration only). */
export function SignerProgress({ signers, t }: { signers: Array<{ name: string; status: SignerStatus }>; t: Translate }) {
  const signed = signers.filter((signer) => signer.status === 'signed').length;
  return (
    <div class="signer-progress">
      <p class="progress-count">{t('console:requests.signedCount', { count: signers.length, signed })}</p>
      <ul>
        {signers.map((signer, index) => (
          <li key={index} class={`signer-${signer.status}`}>
            <span aria-hidden="true" class="mark">
              {signerMarks[signer.status]}
            </span>
            <span class="signer-name">{signer.name}</span>
            <span class="signer-state">{t(`common:signerStatus.${signer.status}`)}</span>
          </li>
        ))}
      </ul>
    </div>
  );
}

export function ErrorBanner({ message }: { message?: string }) {
  return message ? (
    <p role="alert" class="error banner">
      {message}
    </p>
  ) : null;
}

/**
 * How the signer proves who they are, and once they identified with eID what the broker vouched for: the
 * national identity number only masked (the API never answers it in clear), the broker's transaction id to
 * trace it there.
 */
export function SignerIdentification({ identification, t, when }: { identification?: SignerIdentificationView; t: Translate; when(at: string): string }) {
  if (!identification) return null;
  const { method, acr, expectsNationalId, evidence } = identification;
  const scheme = evidence?.scheme ?? evidence?.acr ?? acr;
  return (
    <div class="signer-identification">
      <p>
        {t('console:identification.label')}: <strong>{t(`console:identification.method.${method}`)}</strong>
        {method !== 'pin' && acr && ` · ${eidName(acr, t)}`}
        {method !== 'pin' && expectsNationalId && ` · ${t('console:identification.expectsNationalId')}`}
      </p>
      {evidence && (
        <dl class="facts identification-evidence" aria-label={t('console:identification.evidence')}>
          <div>
            <dt>{t('console:identification.identifiedAs')}</dt>
            <dd>{evidence.name ?? t('console:identification.notGiven')}</dd>
          </div>
          {scheme && (
            <div>
              <dt>{t('console:identification.scheme')}</dt>
              <dd>{eidName(scheme, t)}</dd>
            </div>
          )}
          {evidence.nationalIdMasked && (
            <div>
              <dt>{t('console:identification.nationalId')}</dt>
              <dd class="code">{evidence.nationalIdMasked}</dd>
            </div>
          )}
          <div>
            <dt>{t('console:identification.identifiedAt')}</dt>
            <dd>
              <time dateTime={evidence.identifiedAt}>{when(evidence.identifiedAt)}</time>
            </dd>
          </div>
          {evidence.transactionId && (
            <div>
              <dt>{t('console:identification.transactionId')}</dt>
              <dd class="code">{evidence.transactionId}</dd>
            </div>
          )}
        </dl>
      )}
    </div>
  );
}
