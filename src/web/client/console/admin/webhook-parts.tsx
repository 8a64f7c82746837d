/**
 * What the webhook pages share (issue 12 §1): the event types a subscriber may choose (from
 * /v1/webhook-event-types, named in words with the type beside), the choice of them with an "all events"
 * shortcut, an endpoint's state in words, and the signing secret shown once after a creation or a rotation.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import { formatDateTime, type Locale, type Translate } from '../../../../i18n';
import type { WebhookEndpointView, WebhookEventType } from '../../../../contract/webhooks';
import type { ConsoleContext } from '../context';

export type { RedeliveryResult, WebhookDeliveryPage, WebhookDeliveryView, WebhookEndpointView, WebhookEndpointWithSecret, WebhookEventType } from '../../../../contract/webhooks';

/** An event type in words ("A signer signed"); a type this console does not know yet is shown as it is. */
export const eventTypeName = (type: string, t: Translate) => t(`console:webhooks.eventNames.${type}`, { defaultValue: type });

/** The event types the API offers, in its order; empty until it has answered. */
export function useEventTypes(ctx: ConsoleContext): WebhookEventType[] {
  const [types, setTypes] = useState<WebhookEventType[]>([]);
  useEffect(() => {
    ctx.api.get<{ items: WebhookEventType[] }>('/v1/webhook-event-types').then(
      (answer) => setTypes(answer.items),
      () => undefined,
    );
  }, [ctx.api]);
  return types;
}

/** Whether an endpoint receives every event type there is (said as "All events" rather than a list of eleven). */
export const receivesAll = (endpoint: Pick<WebhookEndpointView, 'events'>, types: WebhookEventType[]) => types.length > 0 && types.every((type) => endpoint.events.includes(type));

/** The events an endpoint receives: a box each, and "All events" that ticks or clears them all at once. */
export function EventChoices({
  ctx,
  idPrefix,
  types,
  chosen,
  error,
  onChange,
}: {
  ctx: ConsoleContext;
  idPrefix: string;
  types: WebhookEventType[];
  chosen: WebhookEventType[];
  error?: string;
  onChange(chosen: WebhookEventType[]): void;
}) {
  const { t } = ctx;
  const all = types.length > 0 && types.every((type) => chosen.includes(type));
  const errorId = `${idPrefix}-events-error`;
  return (
    <fieldset class="choices event-choices" aria-describedby={error ? errorId : undefined}>
      <legend>{t('console:webhooks.eventsLegend')}</legend>
      <div class="checkbox all-events">
        <input type="checkbox" id={`${idPrefix}-all-events`} checked={all} onChange={(event) => onChange((event.target as HTMLInputElement).checked ? [...types] : [])} />
        <label for={`${idPrefix}-all-events`}>{t('console:webhooks.allEvents')}</label>
      </div>
      {types.map((type) => {
        const id = `${idPrefix}-event-${type.replace(/\W/g, '-')}`;
        return (
          <div class="checkbox" key={type}>
            <input
              type="checkbox"
              id={id}
              checked={chosen.includes(type)}
              onChange={(event) => {
                const on = (event.target as HTMLInputElement).checked;
                // Kept in the API's order, so the list reads the same wherever it is shown.
                onChange(types.filter((known) => (known === type ? on : chosen.includes(known))));
              }}
            />
            <label for={id}>
              {eventTypeName(type, t)} <code class="event-code">{type}</code>
            </label>
          </div>
        );
      })}
      {error && (
        <p id={errorId} class="error">
          {error}
        </p>
      )}
    </fieldset>
  );
}

/** "Receiving" or why not and since when; and since when deliveries fail, if they do. */
export function endpointState(endpoint: WebhookEndpointView, t: Translate, locale: Locale, timeZone: string): { label: string; tone: 'ok' | 'off' | 'failing'; detail?: string } {
  const when = (at: string) => formatDateTime(at, locale, timeZone);
  const failing = endpoint.failingSince ? t('console:webhooks.failingSince', { at: when(endpoint.failingSince) }) : undefined;
  if (endpoint.enabled) return failing ? { label: t('console:webhooks.state.enabled'), tone: 'failing', detail: failing } : { label: t('console:webhooks.state.enabled'), tone: 'ok' };
  const reason = t(`console:webhooks.disabledReason.${endpoint.disabledReason ?? 'manual'}`);
  const detail = endpoint.disabledAt ? t('console:webhooks.disabledAt', { reason, at: when(endpoint.disabledAt) }) : reason;
  return { label: t('console:webhooks.state.disabled'), tone: 'off', detail };
}

export function EndpointStateBadge({ state }: { state: ReturnType<typeof endpointState> }) {
  const badge = state.tone === 'ok' ? 'badge-completed' : state.tone === 'failing' ? 'badge-pending' : 'badge-failed';
  return <span class={`badge ${badge}`}>{state.label}</span>;
}

/**
 * The one time anyone sees a signing secret: a read-only field, a copy button and a plain warning. After a
 * rotation it also says until when the previous secret still signs, so receivers can switch over in time.
 */
export function SecretShownOnce({
  ctx,
  heading,
  secret,
  previousUntil,
  onDone,
}: {
  ctx: ConsoleContext;
  heading: string;
  secret: string;
  previousUntil?: string;
  onDone(): void;
}) {
  const { t } = ctx;
  const [copied, setCopied] = useState<'copied' | 'failed' | undefined>();
  const headingRef = useRef<HTMLHeadingElement>(null);
  useEffect(() => headingRef.current?.focus(), []);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(secret);
      setCopied('copied');
    } catch {
      setCopied('failed');
    }
  };
  return (
    <section class="card secret-once" aria-labelledby="webhook-secret-heading">
      <h2 id="webhook-secret-heading" ref={headingRef} tabIndex={-1}>
        {heading}
      </h2>
      <p class="warning">
        <strong>{t('console:webhooks.secretOnceWarning')}</strong>
      </p>
      {previousUntil && <p>{previousUntil}</p>}
      <label for="webhook-secret">{t('console:webhooks.secretLabel')}</label>
      <input id="webhook-secret" class="secret" readOnly value={secret} onFocus={(event) => (event.target as HTMLInputElement).select()} />
      <p role="status" class={copied === 'failed' ? 'error' : 'notice'}>
        {copied === 'copied' ? t('console:webhooks.copied') : copied === 'failed' ? t('console:webhooks.copyFailed') : ''}
      </p>
      <div class="actions">
        <button type="button" onClick={copy}>
          {t('console:webhooks.copySecret')}
        </button>
        <button type="button" class="secondary" onClick={onDone}>
          {t('console:webhooks.secretStored')}
        </button>
      </div>
    </section>
  );
}
