/**
 * An endpoint's delivery log (issue 12 §1): each message with its event type, status and every attempt
 * (when, the receiver's HTTP status, latency, the error in words), newest first, older ones on demand,
 * filtered by status; refreshed every few seconds while the tab is visible, like the request list. A message
 * can be sent again ("Redeliver", same message id, so receivers deduplicate), and so can every failed one
 * since a time given in the organisation's zone. A message still waiting to retry after a failed attempt
 * says "Retrying" and can be sent again at once too (a receiver that recovered need not wait for the
 * schedule). Each message links to the request it is about.
 */
import { useEffect, useState } from 'preact/hooks';
import { formatDateTime } from '../../../../i18n';
import { describeError, type ConsoleContext } from '../context';
import { Link } from '../main';
import { wallTimeInZone, wallTimeOf } from '../requests/zoned-days';
import { useLivePagedList } from '../use-live-paged-list';
import { Announcement, FailureAlert, useRowChange } from './admin-frame';
import { Field } from './admin-form';
import { eventTypeName, type RedeliveryResult, type WebhookDeliveryView } from './webhook-parts';

const pageSize = 20;
const refreshEveryMs = 4000;
const deliveryStatuses = ['failed', 'pending', 'delivered', 'cancelled'] as const;
type ShownStatus = WebhookDeliveryView['status'] | 'retrying';
const statusBadge: Record<ShownStatus, string> = {
  delivered: 'badge-completed',
  pending: 'badge-pending',
  retrying: 'badge-pending',
  failed: 'badge-failed',
  cancelled: 'badge-cancelled',
};

/** Pending after a failed attempt is a delivery waiting to retry: said so, and offered for redelivery. */
const shownStatus = (delivery: WebhookDeliveryView): ShownStatus =>
  delivery.status === 'pending' && delivery.attempts.some((attempt) => attempt.error !== null) ? 'retrying' : delivery.status;

/** `enabled`: a turned-off endpoint is sent nothing, redeliveries included (the API answers 409), so none is offered. */
export function DeliveryLog({ ctx, endpointId, enabled, timeZone }: { ctx: ConsoleContext; endpointId: string; enabled: boolean; timeZone: string }) {
  const { t } = ctx;
  const [status, setStatus] = useState('');
  const [announcement, setAnnouncement] = useState<string | undefined>();
  const base = `/v1/webhook-endpoints/${encodeURIComponent(endpointId)}/deliveries?limit=${pageSize}${status ? `&status=${status}` : ''}`;

  // Live: known messages updated in place (new attempts), every new one on top. An answer asked before the
  // status filter changed is dropped: merged, it would show the old filter's rows.
  const { items, nextCursor, error, loadingMore, loadMore, refresh } = useLivePagedList<WebhookDeliveryView>({
    api: ctx.api,
    firstPage: base,
    keyOf: (item) => item.messageId,
    refreshEveryMs,
    t,
  });

  const redelivered = async (result: RedeliveryResult, single: boolean) => {
    setAnnouncement(single ? t('console:webhooks.redeliveredOne') : t('console:webhooks.redeliveredSince', { count: result.messageIds.length }));
    await refresh();
  };

  return (
    <section class="delivery-log" aria-labelledby="deliveries-heading">
      <h2 id="deliveries-heading">{t('console:webhooks.deliveriesHeading')}</h2>
      <p class="hint">{t('console:webhooks.deliveriesIntro', { timeZone })}</p>
      <Announcement message={announcement} />
      {enabled ? (
        <RedeliverSince ctx={ctx} endpointId={endpointId} timeZone={timeZone} onDone={(result) => redelivered(result, false)} />
      ) : (
        <p class="notice-box">{t('console:webhooks.redeliverNeedsEnabled')}</p>
      )}
      <div class="field delivery-filter">
        <label for="delivery-status">{t('console:webhooks.statusFilter')}</label>
        <select id="delivery-status" value={status} onChange={(event) => setStatus((event.target as HTMLSelectElement).value)}>
          <option value="">{t('console:webhooks.anyStatus')}</option>
          {deliveryStatuses.map((value) => (
            <option key={value} value={value}>
              {t(`console:webhooks.deliveryStatus.${value}`)}
            </option>
          ))}
        </select>
      </div>
      <FailureAlert failure={error} />
      {items === undefined && !error && (
        <p role="status" class="muted">
          {t('common:loading')}
        </p>
      )}
      {items?.length === 0 && <p class="empty">{status ? t('console:webhooks.noDeliveriesMatching') : t('console:webhooks.noDeliveries')}</p>}
      {items && items.length > 0 && (
        <ul class="deliveries" aria-label={t('console:webhooks.deliveriesHeading')}>
          {items.map((delivery) => (
            <DeliveryItem key={delivery.messageId} ctx={ctx} endpointId={endpointId} delivery={delivery} redeliverable={enabled} timeZone={timeZone} onRedelivered={(result) => redelivered(result, true)} />
          ))}
        </ul>
      )}
      {nextCursor && (
        <p>
          <button type="button" class="secondary" disabled={loadingMore} onClick={() => void loadMore()}>
            {loadingMore ? t('common:loading') : t('console:webhooks.olderDeliveries')}
          </button>
        </p>
      )}
    </section>
  );
}

function DeliveryItem({
  ctx,
  endpointId,
  delivery,
  redeliverable,
  timeZone,
  onRedelivered,
}: {
  ctx: ConsoleContext;
  endpointId: string;
  delivery: WebhookDeliveryView;
  redeliverable: boolean;
  timeZone: string;
  onRedelivered(result: RedeliveryResult): Promise<void>;
}) {
  const { t } = ctx;
  const when = (at: string) => formatDateTime(at, ctx.locale, timeZone);
  const status = shownStatus(delivery);
  const { busy, error, change } = useRowChange((failure) => describeError(failure, t));
  const redeliver = () =>
    change(async () => {
      const result = await ctx.api.post<RedeliveryResult>(`/v1/webhook-endpoints/${encodeURIComponent(endpointId)}/redeliver`, { messageId: delivery.messageId });
      await onRedelivered(result);
    });
  return (
    <li class="card delivery">
      <div class="request-item-head">
        <h3>{eventTypeName(delivery.eventType, t)}</h3>
        <span class={`badge ${statusBadge[status]}`}>{t(`console:webhooks.deliveryStatus.${status}`)}</span>
      </div>
      <dl class="delivery-facts">
        {delivery.signingRequestId && (
          <div>
            <dt>{t('console:webhooks.signingRequest')}</dt>
            <dd class="message-id">
              <Link ctx={ctx} href={`/requests/${encodeURIComponent(delivery.signingRequestId)}`}>
                {delivery.signingRequestId}
              </Link>
            </dd>
          </div>
        )}
        <div>
          <dt>{t('console:webhooks.messageId')}</dt>
          <dd class="message-id">{delivery.messageId}</dd>
        </div>
        <div>
          <dt>{t('console:webhooks.eventType')}</dt>
          <dd class="message-id">{delivery.eventType}</dd>
        </div>
        <div>
          <dt>{t('console:webhooks.createdAt')}</dt>
          <dd>{when(delivery.createdAt)}</dd>
        </div>
        {delivery.nextAttemptAt && delivery.status === 'pending' && (
          <div>
            <dt>{t('console:webhooks.nextAttempt')}</dt>
            <dd>{when(delivery.nextAttemptAt)}</dd>
          </div>
        )}
      </dl>
      {delivery.attempts.length === 0 ? (
        <p class="muted">{t('console:webhooks.noAttemptYet')}</p>
      ) : (
        <ul class="attempts" aria-label={t('console:webhooks.attemptsOf', { event: eventTypeName(delivery.eventType, t) })}>
          {delivery.attempts.map((attempt) => (
            <li key={attempt.attempt} class={attempt.httpStatus !== null && attempt.httpStatus < 300 ? 'attempt-ok' : 'attempt-failed'}>
              <span class="attempt-when">{t('console:webhooks.attemptLine', { attempt: attempt.attempt, at: when(attempt.attemptedAt) })}</span>
              {' · '}
              <span>{attempt.httpStatus !== null ? t('console:webhooks.httpStatus', { status: attempt.httpStatus }) : t('console:webhooks.noAnswer')}</span>
              {attempt.latencyMs !== null && (
                <>
                  {' · '}
                  <span>{t('console:webhooks.latency', { ms: attempt.latencyMs })}</span>
                </>
              )}
              {/* "HTTP 500" as the error would only repeat the status beside it. */}
              {attempt.error && attempt.error !== `HTTP ${attempt.httpStatus}` && <span class="attempt-error">{attempt.error}</span>}
            </li>
          ))}
        </ul>
      )}
      {redeliverable && status !== 'pending' && (
        <div class="actions">
          <button type="button" class="secondary" disabled={busy} onClick={() => void redeliver()} aria-label={t('console:webhooks.redeliverWhich', { id: delivery.messageId })}>
            {t('console:webhooks.redeliver')}
          </button>
        </div>
      )}
      <FailureAlert failure={error} />
    </li>
  );
}

/** "Redeliver all failed since …": a time in the organisation's zone, a day back to start with. */
function RedeliverSince({ ctx, endpointId, timeZone, onDone }: { ctx: ConsoleContext; endpointId: string; timeZone: string; onDone(result: RedeliveryResult): Promise<void> }) {
  const { t } = ctx;
  const [since, setSince] = useState('');
  const { busy, error, setError, change } = useRowChange((failure) => describeError(failure, t));
  // The zone arrives after the first render; the starting time follows it until someone types one.
  const [touched, setTouched] = useState(false);
  useEffect(() => {
    if (!touched) setSince(wallTimeOf(new Date(Date.now() - 24 * 3600_000), timeZone));
  }, [timeZone, touched]);

  const send = (event: Event) => {
    event.preventDefault();
    const instant = wallTimeInZone(since, timeZone);
    if (!instant) {
      setError(t('console:webhooks.sinceInvalid'));
      return;
    }
    void change(async () => {
      const result = await ctx.api.post<RedeliveryResult>(`/v1/webhook-endpoints/${encodeURIComponent(endpointId)}/redeliver`, { since: instant });
      await onDone(result);
    });
  };

  return (
    <form class="card admin-form redeliver-since" onSubmit={send} aria-labelledby="redeliver-since-heading">
      <h3 id="redeliver-since-heading">{t('console:webhooks.redeliverSinceHeading')}</h3>
      <Field id="redeliver-since" label={t('console:webhooks.since', { timeZone })} error={error}>
        {(describedBy, invalid) => (
          <input
            id="redeliver-since"
            type="datetime-local"
            required
            value={since}
            onInput={(event) => {
              setTouched(true);
              setSince((event.target as HTMLInputElement).value);
            }}
            aria-describedby={describedBy}
            aria-invalid={invalid}
          />
        )}
      </Field>
      <div class="actions">
        <button type="submit" disabled={busy}>
          {t('console:webhooks.redeliverSince')}
        </button>
      </div>
    </form>
  );
}
