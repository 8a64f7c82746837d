/** Pieces the request pages share: a request's status, its signers' progress at a glance, an error banner. */
import type { Translate } from '../../../../i18n';
import type { RequestStatus, SignerStatus } from './request-model';

export function StatusBadge({ status, t }: { status: RequestStatus; t: Translate }) {
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
