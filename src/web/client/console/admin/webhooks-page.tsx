/**
 * Webhook endpoints (issue 12 §1) at `/admin/webhooks`: the organisation's endpoints with the events they
 * receive and whether they still do (turned off by a person, answered 410 Gone, or failing for too long);
 * a new endpoint with its URL, description and events — its signing secret is shown once, with a copy
 * button, and never again. Each endpoint's own page (webhook-endpoint-page.tsx) edits, rotates, deletes and
 * shows its delivery log.
 */
import { useState } from 'preact/hooks';
import type { ConsoleContext } from '../context';
import { Link } from '../main';
import { AdminFrame, AdminTable, Announcement, NotReady, useLoaded } from './admin-frame';
import { FormEnd, TextField, useSubmission } from './admin-form';
import { useOrganizationTimeZone } from './admin-api';
import {
  EndpointStateBadge,
  EventChoices,
  SecretShownOnce,
  endpointState,
  eventTypeName,
  receivesAll,
  useEventTypes,
  type WebhookEndpointView,
  type WebhookEndpointWithSecret,
  type WebhookEventType,
} from './webhook-parts';

/**
 * Said once on the list after an endpoint's page deleted it: the deletion navigates here, and a page's own
 * state does not survive that.
 */
let announcedOnArrival: string | undefined;
export const announceOnWebhooksList = (message: string) => {
  announcedOnArrival = message;
};

export function WebhooksPage({ ctx }: { ctx: ConsoleContext }) {
  const { t } = ctx;
  const [loaded, reload] = useLoaded(ctx, () => ctx.api.get<{ items: WebhookEndpointView[] }>('/v1/webhook-endpoints').then((answer) => answer.items));
  const timeZone = useOrganizationTimeZone(ctx);
  const eventTypes = useEventTypes(ctx);
  const [created, setCreated] = useState<WebhookEndpointWithSecret | undefined>();
  const [announcement, setAnnouncement] = useState<string | undefined>(() => {
    const message = announcedOnArrival;
    announcedOnArrival = undefined;
    return message;
  });

  return (
    <AdminFrame ctx={ctx} page="webhooks">
      <p class="hint">{t('console:webhooks.intro')}</p>
      <Announcement message={announcement} />
      {loaded.kind !== 'ready' ? (
        <NotReady ctx={ctx} state={loaded} retry={reload} />
      ) : (
        <>
          {created ? (
            <SecretShownOnce
              ctx={ctx}
              heading={t('console:webhooks.createdHeading', { url: created.url })}
              secret={created.secret}
              onDone={() => {
                setAnnouncement(undefined);
                setCreated(undefined);
              }}
            />
          ) : (
            <CreateEndpointForm
              ctx={ctx}
              eventTypes={eventTypes}
              onCreated={async (endpoint) => {
                setCreated(endpoint);
                await reload();
              }}
            />
          )}
          <h2 id="endpoints-heading">{t('console:webhooks.listHeading', { count: loaded.data.length })}</h2>
          {loaded.data.length === 0 ? (
            <p class="empty">{t('console:webhooks.none')}</p>
          ) : (
            <AdminTable labelledBy="endpoints-heading" columns={[t('console:webhooks.endpoint'), t('console:webhooks.events'), t('console:webhooks.stateHeading')]}>
              {loaded.data.map((endpoint) => {
                const state = endpointState(endpoint, t, ctx.locale, timeZone);
                return (
                  <tr key={endpoint.id}>
                    <th scope="row" data-label={t('console:webhooks.endpoint')}>
                      <Link ctx={ctx} href={`/admin/webhooks/${endpoint.id}`} class="webhook-url">
                        {endpoint.url}
                      </Link>
                      {endpoint.description && <span class="muted person-email">{endpoint.description}</span>}
                    </th>
                    <td data-label={t('console:webhooks.events')}>
                      {receivesAll(endpoint, eventTypes)
                        ? t('console:webhooks.allEvents')
                        : endpoint.events.map((type) => eventTypeName(type, t)).join(', ')}
                    </td>
                    <td data-label={t('console:webhooks.stateHeading')}>
                      <EndpointStateBadge state={state} />
                      {state.detail && <p class="muted state-detail">{state.detail}</p>}
                    </td>
                  </tr>
                );
              })}
            </AdminTable>
          )}
        </>
      )}
    </AdminFrame>
  );
}

function CreateEndpointForm({ ctx, eventTypes, onCreated }: { ctx: ConsoleContext; eventTypes: WebhookEventType[]; onCreated(endpoint: WebhookEndpointWithSecret): Promise<void> }) {
  const { t } = ctx;
  const [url, setUrl] = useState('');
  const [description, setDescription] = useState('');
  const [events, setEvents] = useState<WebhookEventType[]>([]);
  const { busy, errors, setErrors, failure, submit } = useSubmission(t);

  const create = (event: Event) => {
    event.preventDefault();
    if (events.length === 0) {
      setErrors({ events: t('console:webhooks.chooseEvent') });
      return;
    }
    void submit(async () => {
      const created = await ctx.api.post<WebhookEndpointWithSecret>('/v1/webhook-endpoints', {
        url: url.trim(),
        events,
        ...(description.trim() ? { description: description.trim() } : {}),
      });
      setUrl('');
      setDescription('');
      setEvents([]);
      await onCreated(created);
    });
  };

  return (
    <form class="card admin-form" onSubmit={create} aria-labelledby="new-endpoint-heading">
      <h2 id="new-endpoint-heading">{t('console:webhooks.newHeading')}</h2>
      <div class="form-row">
        <TextField id="endpoint-url" label={t('console:webhooks.url')} hint={t('console:webhooks.urlHint')} error={errors.url} required value={url} onInput={setUrl} />
        <TextField id="endpoint-description" label={t('console:webhooks.descriptionOptional')} error={errors.description} value={description} onInput={setDescription} />
      </div>
      <EventChoices ctx={ctx} idPrefix="new-endpoint" types={eventTypes} chosen={events} error={errors.events} onChange={setEvents} />
      <FormEnd failure={failure} disabled={busy} submit={t('console:webhooks.create')} />
    </form>
  );
}
