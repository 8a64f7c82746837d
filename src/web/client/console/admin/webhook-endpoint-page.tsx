/**
 * One webhook endpoint at `/admin/webhooks/:id` (issue 12 §1): whether it receives and why not; turn it off
 * and on; a new signing secret (shown once, with until when the previous one still signs, so receivers can
 * switch over); its URL, description and events edited; its deletion after a confirmation; and its
 * delivery log (webhook-deliveries.tsx).
 */
import { useRef, useState } from 'preact/hooks';
import { formatDateTime } from '../../../../i18n';
import { ApiError } from '../../shared/http';
import { describeError, type ConsoleContext } from '../context';
import { Link } from '../main';
import { AdminFrame, Announcement, AskFirst, FailureAlert, NotReady, useLoaded, useRowChange } from './admin-frame';
import { FormEnd, SelectField, TextField, useSubmission } from './admin-form';
import { useOrganizationTimeZone } from './admin-api';
import { usePolling } from '../requests/request-model';
import { DeliveryLog } from './webhook-deliveries';
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
import { announceOnWebhooksList } from './webhooks-page';

/** How long the previous secret keeps signing after a rotation (ISO 8601 durations, as the API takes them). */
const overlaps = ['PT1H', 'PT24H', 'P3D'] as const;
type Overlap = (typeof overlaps)[number];
const refreshEveryMs = 4000;

export function WebhookEndpointPage({ ctx, id }: { ctx: ConsoleContext; id: string }) {
  const { t } = ctx;
  const path = `/v1/webhook-endpoints/${encodeURIComponent(id)}`;
  const [loaded, reload] = useLoaded(ctx, () =>
    ctx.api.get<WebhookEndpointView>(path).catch((failure) => {
      if (failure instanceof ApiError && (failure.status === 404 || failure.status === 400)) return null;
      throw failure;
    }),
  );
  const timeZone = useOrganizationTimeZone(ctx);
  const eventTypes = useEventTypes(ctx);
  const [rotated, setRotated] = useState<WebhookEndpointWithSecret | undefined>();
  const [announcement, setAnnouncement] = useState<string | undefined>();
  // Its state changes by itself (failing since, turned off after a 410): read again while the page is visible,
  // quietly (a missed read is retried by the next), beside the loads after each change made here.
  const [polled, setPolled] = useState<WebhookEndpointView | undefined>();
  const shown = loaded.kind === 'ready' && loaded.data !== null;
  // A read begun before a change made here would show the state before it: such answers are dropped.
  const changes = useRef(0);
  usePolling(
    () => {
      const begun = changes.current;
      ctx.api.get<WebhookEndpointView>(path).then(
        (endpoint) => begun === changes.current && setPolled(endpoint),
        () => undefined,
      );
    },
    refreshEveryMs,
    shown,
  );
  const backLink = (
    <p class="breadcrumb">
      <Link ctx={ctx} href="/admin/webhooks">
        {t('console:webhooks.back')}
      </Link>
    </p>
  );

  if (loaded.kind !== 'ready' || loaded.data === null) {
    return (
      <AdminFrame ctx={ctx} page="webhooks" heading={loaded.kind === 'ready' ? t('console:webhooks.notFound') : undefined}>
        {backLink}
        {loaded.kind !== 'ready' && <NotReady ctx={ctx} state={loaded} retry={reload} />}
      </AdminFrame>
    );
  }
  const endpoint = polled ?? loaded.data;
  const state = endpointState(endpoint, t, ctx.locale, timeZone);
  const when = (at: string) => formatDateTime(at, ctx.locale, timeZone);
  const reloadNow = async () => {
    changes.current++;
    setPolled(undefined);
    await reload();
  };
  const changed = async (message: string) => {
    setAnnouncement(message);
    await reloadNow();
  };

  return (
    <AdminFrame ctx={ctx} page="webhooks" heading={t('console:webhooks.endpointHeading', { url: endpoint.url })}>
      {backLink}
      <Announcement message={announcement} />
      {rotated && (
        <SecretShownOnce
          ctx={ctx}
          heading={t('console:webhooks.rotatedHeading')}
          secret={rotated.secret}
          previousUntil={rotated.previousSecretExpiresAt ? t('console:webhooks.previousSignsUntil', { at: when(rotated.previousSecretExpiresAt) }) : undefined}
          onDone={() => setRotated(undefined)}
        />
      )}
      <dl class="facts">
        <div>
          <dt>{t('console:webhooks.stateHeading')}</dt>
          <dd>
            <EndpointStateBadge state={state} />
            {state.detail && <p class="muted state-detail">{state.detail}</p>}
          </dd>
        </div>
        <div>
          <dt>{t('console:webhooks.url')}</dt>
          <dd class="webhook-url">{endpoint.url}</dd>
        </div>
        {endpoint.description && (
          <div>
            <dt>{t('console:webhooks.description')}</dt>
            <dd>{endpoint.description}</dd>
          </div>
        )}
        <div>
          <dt>{t('console:webhooks.events')}</dt>
          <dd>{receivesAll(endpoint, eventTypes) ? t('console:webhooks.allEvents') : endpoint.events.map((type) => eventTypeName(type, t)).join(', ')}</dd>
        </div>
        {endpoint.previousSecretExpiresAt && (
          <div>
            <dt>{t('console:webhooks.previousSecret')}</dt>
            <dd>{t('console:webhooks.previousSignsUntil', { at: when(endpoint.previousSecretExpiresAt) })}</dd>
          </div>
        )}
        <div>
          <dt>{t('console:webhooks.createdAt')}</dt>
          <dd>{when(endpoint.createdAt)}</dd>
        </div>
      </dl>
      <EndpointActions
        ctx={ctx}
        endpoint={endpoint}
        path={path}
        onChanged={changed}
        onRotated={async (answer) => {
          setAnnouncement(undefined);
          setRotated(answer);
          await reloadNow();
        }}
      />
      <EditEndpointForm ctx={ctx} endpoint={endpoint} eventTypes={eventTypes} path={path} onSaved={() => changed(t('console:webhooks.saved'))} />
      <DeliveryLog ctx={ctx} endpointId={endpoint.id} enabled={endpoint.enabled} timeZone={timeZone} />
    </AdminFrame>
  );
}

/** Off and on, a new secret, deletion: each says what it does before it does what cannot be undone. */
function EndpointActions({
  ctx,
  endpoint,
  path,
  onChanged,
  onRotated,
}: {
  ctx: ConsoleContext;
  endpoint: WebhookEndpointView;
  path: string;
  onChanged(message: string): Promise<void>;
  onRotated(answer: WebhookEndpointWithSecret): Promise<void>;
}) {
  const { t } = ctx;
  const [asking, setAsking] = useState<'rotate' | 'delete' | undefined>();
  const [overlap, setOverlap] = useState<Overlap>('PT24H');
  const { busy, error, setError, change } = useRowChange((failure) => describeError(failure, t));

  const toggle = () =>
    change(async () => {
      await ctx.api.patch<WebhookEndpointView>(path, { enabled: !endpoint.enabled });
      await onChanged(endpoint.enabled ? t('console:webhooks.disabledNow') : t('console:webhooks.enabledNow'));
    });
  const rotate = () =>
    change(async () => {
      const answer = await ctx.api.post<WebhookEndpointWithSecret>(`${path}/rotate-secret`, { overlap });
      setAsking(undefined);
      await onRotated(answer);
    });
  const remove = () =>
    change(async () => {
      await ctx.api.delete(path);
      setAsking(undefined);
      announceOnWebhooksList(t('console:webhooks.deleted', { url: endpoint.url }));
      ctx.navigate('/admin/webhooks');
    });
  const cancel = () => {
    setAsking(undefined);
    setError(undefined);
  };

  return (
    <section class="card admin-form endpoint-actions" aria-labelledby="endpoint-actions-heading">
      <h2 id="endpoint-actions-heading">{t('console:webhooks.actionsHeading')}</h2>
      <div class="actions">
        <button type="button" class="secondary" disabled={busy} onClick={() => void toggle()}>
          {endpoint.enabled ? t('console:webhooks.disable') : t('console:webhooks.enable')}
        </button>
      </div>
      <p class="hint">{endpoint.enabled ? t('console:webhooks.disableHint') : t('console:webhooks.enableHint')}</p>

      <h3>{t('console:webhooks.rotateHeading')}</h3>
      <SelectField
        id="rotate-overlap"
        label={t('console:webhooks.overlap')}
        hint={t('console:webhooks.overlapHint')}
        value={overlap}
        choices={overlaps.map((value) => ({ value, label: t(`console:webhooks.overlaps.${value}`) }))}
        onChange={setOverlap}
      />
      <div class="actions">
        <AskFirst
          ctx={ctx}
          open={asking === 'rotate'}
          action={t('console:webhooks.rotate')}
          actionLabel={t('console:webhooks.rotate')}
          question={t('console:webhooks.rotateQuestion')}
          consequence={t('console:webhooks.rotateConsequence', { overlap: t(`console:webhooks.overlaps.${overlap}`) })}
          confirmLabel={t('console:webhooks.rotateConfirm')}
          busy={busy}
          error={error}
          disabled={busy || asking !== undefined}
          onOpen={() => setAsking('rotate')}
          onConfirm={() => void rotate()}
          onCancel={cancel}
        />
      </div>

      <h3>{t('console:webhooks.deleteHeading')}</h3>
      <div class="actions">
        <AskFirst
          ctx={ctx}
          open={asking === 'delete'}
          action={t('console:webhooks.delete')}
          actionLabel={t('console:webhooks.deleteWhich', { url: endpoint.url })}
          question={t('console:webhooks.deleteQuestion', { url: endpoint.url })}
          consequence={t('console:webhooks.deleteConsequence')}
          confirmLabel={t('console:webhooks.deleteConfirm')}
          busy={busy}
          error={error}
          disabled={busy || asking !== undefined}
          onOpen={() => setAsking('delete')}
          onConfirm={() => void remove()}
          onCancel={cancel}
        />
      </div>
      {asking === undefined && <FailureAlert failure={error} />}
    </section>
  );
}

function EditEndpointForm({
  ctx,
  endpoint,
  eventTypes,
  path,
  onSaved,
}: {
  ctx: ConsoleContext;
  endpoint: WebhookEndpointView;
  eventTypes: WebhookEventType[];
  path: string;
  onSaved(): Promise<void>;
}) {
  const { t } = ctx;
  const [url, setUrl] = useState(endpoint.url);
  const [description, setDescription] = useState(endpoint.description ?? '');
  const [events, setEvents] = useState<WebhookEventType[]>(endpoint.events);
  const { busy, errors, setErrors, failure, submit } = useSubmission(t);
  const unchanged =
    url.trim() === endpoint.url && description.trim() === (endpoint.description ?? '') && events.length === endpoint.events.length && events.every((type) => endpoint.events.includes(type));

  const save = (event: Event) => {
    event.preventDefault();
    if (events.length === 0) {
      setErrors({ events: t('console:webhooks.chooseEvent') });
      return;
    }
    void submit(async () => {
      await ctx.api.patch<WebhookEndpointView>(path, { url: url.trim(), description: description.trim() || null, events });
      await onSaved();
    });
  };

  return (
    <form class="card admin-form" onSubmit={save} aria-labelledby="edit-endpoint-heading">
      <h2 id="edit-endpoint-heading">{t('console:webhooks.editHeading')}</h2>
      <div class="form-row">
        <TextField id="edit-endpoint-url" label={t('console:webhooks.url')} hint={t('console:webhooks.urlHint')} error={errors.url} required value={url} onInput={setUrl} />
        <TextField id="edit-endpoint-description" label={t('console:webhooks.descriptionOptional')} error={errors.description} value={description} onInput={setDescription} />
      </div>
      <EventChoices ctx={ctx} idPrefix="edit-endpoint" types={eventTypes} chosen={events} error={errors.events} onChange={setEvents} />
      <FormEnd failure={failure} disabled={busy || unchanged} submit={t('console:webhooks.save')} />
    </form>
  );
}
