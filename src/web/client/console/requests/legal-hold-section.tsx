/**
 * A request's legal hold on its page (owners and administrators): while held — by itself or by its folder —
 * retention never deletes it. Placed with a reason; its own hold can be lifted here, a folder's in the API.
 */
import { useState } from 'preact/hooks';
import { formatDateTime } from '../../../../i18n';
import type { SigningRequestView } from '../../../../contract/signing-requests';
import { describeError, type ConsoleContext } from '../context';
import { ErrorBanner } from './request-parts';

export function LegalHoldSection({
  ctx,
  requestId,
  hold,
  timeZone,
  onChanged,
}: {
  ctx: ConsoleContext;
  requestId: string;
  hold: SigningRequestView['legalHold'];
  timeZone: string;
  onChanged(): void;
}) {
  const { t } = ctx;
  const [reason, setReason] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | undefined>();
  const path = `/v1/signing-requests/${requestId}/legal-hold`;

  const change = async (send: () => Promise<unknown>) => {
    setBusy(true);
    setError(undefined);
    try {
      await send();
      setReason('');
      onChanged();
    } catch (failure) {
      setError(describeError(failure, t));
    } finally {
      setBusy(false);
    }
  };

  return (
    <section aria-labelledby="legal-hold-heading">
      <h2 id="legal-hold-heading">{t('console:request.legalHold.heading')}</h2>
      {hold ? (
        <>
          <p>
            {t(hold.folderId ? 'console:request.legalHold.byFolder' : 'console:request.legalHold.held', {
              date: formatDateTime(hold.placedAt, ctx.locale, timeZone),
              reason: hold.reason,
            })}
          </p>
          {!hold.folderId && (
            <button type="button" class="secondary" disabled={busy} onClick={() => void change(() => ctx.api.delete(path))}>
              {t('console:request.legalHold.lift')}
            </button>
          )}
        </>
      ) : (
        <form
          class="card"
          onSubmit={(event) => {
            event.preventDefault();
            void change(() => ctx.api.put(path, { reason }));
          }}
        >
          <p class="muted">{t('console:request.legalHold.none')}</p>
          <label for="legal-hold-reason">{t('console:request.legalHold.reason')}</label>
          <input
            id="legal-hold-reason"
            type="text"
            maxLength={1000}
            autoComplete="off"
            value={reason}
            onInput={(event) => setReason((event.target as HTMLInputElement).value)}
          />
          <div class="actions">
            <button type="submit" disabled={busy || !reason.trim()}>
              {t('console:request.legalHold.place')}
            </button>
          </div>
        </form>
      )}
      <ErrorBanner message={error} />
    </section>
  );
}
