/**
 * An organisation's webhook endpoints: create (the secret shown once), list, read, change, delete, rotate
 * the secret. Organisation-wide administration: owners, admins and organisation-wide admin keys (a
 * folder-scoped key must not see events from folders outside its reach). Each change commits together with
 * its entry in the organisation's audit log, which names the endpoint, its host and events, never its
 * secret or its full URL (receivers sometimes put a token in the query).
 */
import { randomUUID } from 'node:crypto';
import type { DataSource, EntityManager } from 'typeorm';
import { requireOrganizationAdmin } from '../accounts/access';
import type { AdminCaller } from '../accounts/members';
import { recordOrganizationEvent, type OrganizationEventType } from '../accounts/organization-audit-log';
import type { KeyService } from '../adapters/key-service';
import type { WebhookConfig } from '../config';
import {
  webhookEventTypes,
  type WebhookDisabledReason,
  type WebhookEndpointView,
  type WebhookEndpointWithSecret,
  type WebhookEventType,
} from '../contract/webhooks';
import { AppError } from '../errors';
import { checkEndpointUrl } from './outbound-request';
import { storeNewSecret } from './secrets';

export interface EndpointsContext {
  dataSource: DataSource;
  keyService: KeyService;
  webhooks: WebhookConfig;
}

/** Enough for every back-office system of one organisation; a bound keeps fan-out per event small. */
export const maxEndpointsPerOrganization = 20;
const defaultOverlapMs = 24 * 3600_000;
export const maxOverlapMs = 7 * 86_400_000;

interface EndpointRow {
  id: string;
  organization_id: string;
  url: string;
  description: string | null;
  events: string[];
  enabled: boolean;
  disabled_reason: WebhookDisabledReason | null;
  disabled_at: Date | null;
  failing_since: Date | null;
  created_at: Date;
  updated_at: Date;
  previous_secret_expires_at: Date | null;
}

const endpointColumns = `e.id, e.organization_id, e.url, e.description, e.events, e.enabled, e.disabled_reason, e.disabled_at, e.failing_since,
  e.created_at, e.updated_at,
  (SELECT max(s.expires_at) FROM webhook_endpoint_secrets s WHERE s.endpoint_id = e.id AND s.expires_at > now()) AS previous_secret_expires_at`;

const iso = (value: Date | null) => (value ? new Date(value).toISOString() : null);

function viewOf(row: EndpointRow): WebhookEndpointView {
  return {
    id: row.id,
    url: row.url,
    description: row.description,
    events: row.events as WebhookEventType[],
    enabled: row.enabled,
    disabledReason: row.disabled_reason,
    disabledAt: iso(row.disabled_at),
    failingSince: iso(row.failing_since),
    previousSecretExpiresAt: iso(row.previous_secret_expires_at),
    createdAt: new Date(row.created_at).toISOString(),
    updatedAt: new Date(row.updated_at).toISOString(),
  };
}

const notFound = () => new AppError('not_found', 'No such webhook endpoint.');

/** Event types as given, checked and deduplicated, in the contract's order. */
function checkedEvents(events: string[]): WebhookEventType[] {
  if (events.length === 0) throw new AppError('unprocessable', 'events: subscribe to at least one event type.', { field: 'events' });
  const unknown = events.filter((type) => !(webhookEventTypes as readonly string[]).includes(type));
  if (unknown.length > 0) {
    throw new AppError('unprocessable', `events: unknown event type ${JSON.stringify(unknown[0])}; see GET /v1/webhook-event-types.`, {
      field: 'events',
      unknown,
    });
  }
  return webhookEventTypes.filter((type) => events.includes(type));
}

/** What the audit log says about an endpoint: never the secret, never the path or query (tokens live there). */
function auditDetail(endpointId: string, url: string, extra: Record<string, unknown> = {}) {
  return { endpointId, host: new URL(url).host, ...extra };
}

async function readEndpoint(db: DataSource | EntityManager, organizationId: string, id: string, lock = false): Promise<EndpointRow> {
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id)) throw notFound();
  const [row]: EndpointRow[] = await db.query(
    `SELECT ${endpointColumns} FROM webhook_endpoints e
      WHERE e.id = $1 AND e.organization_id = $2 AND e.deleted_at IS NULL ${lock ? 'FOR UPDATE' : ''}`,
    [id, organizationId],
  );
  if (!row) throw notFound();
  return row;
}

async function audit(tx: EntityManager, caller: AdminCaller, type: OrganizationEventType, detail: Record<string, unknown>) {
  await recordOrganizationEvent(tx, { organizationId: caller.scope.organizationId, type, ...caller.actor, detail });
}

export async function createWebhookEndpoint(
  ctx: EndpointsContext,
  caller: AdminCaller,
  input: { url: string; events: string[]; description?: string | null },
): Promise<WebhookEndpointWithSecret> {
  requireOrganizationAdmin(caller.scope);
  const organizationId = caller.scope.organizationId;
  const url = checkEndpointUrl(input.url, ctx.webhooks);
  const events = checkedEvents(input.events);
  const id = randomUUID();
  return ctx.dataSource.transaction(async (tx) => {
    // Counted under the organisation's row lock, so two concurrent creates cannot both take the last place.
    // NO KEY UPDATE: it is held across the key service's call, and must not stop the organisation's other
    // writes meanwhile (rows referencing the organisation take KEY SHARE, which FOR UPDATE would block).
    await tx.query(`SELECT 1 FROM organizations WHERE id = $1 FOR NO KEY UPDATE`, [organizationId]);
    const [{ count }]: Array<{ count: number }> = await tx.query(
      `SELECT count(*)::int AS count FROM webhook_endpoints WHERE organization_id = $1 AND deleted_at IS NULL`,
      [organizationId],
    );
    if (count >= maxEndpointsPerOrganization) {
      throw new AppError('webhook_endpoint_limit_reached', `An organisation can have at most ${maxEndpointsPerOrganization} webhook endpoints; delete one first.`);
    }
    await tx.query(
      `INSERT INTO webhook_endpoints (id, organization_id, url, description, events) VALUES ($1, $2, $3, $4, $5)`,
      [id, organizationId, url, input.description ?? null, events],
    );
    const secret = await storeNewSecret(tx, ctx.keyService, { organizationId, endpointId: id });
    await audit(tx, caller, 'webhook_endpoint.created', auditDetail(id, url, { events }));
    return { ...viewOf(await readEndpoint(tx, organizationId, id)), secret };
  });
}

export async function listWebhookEndpoints(ctx: EndpointsContext, caller: AdminCaller): Promise<WebhookEndpointView[]> {
  requireOrganizationAdmin(caller.scope);
  const rows: EndpointRow[] = await ctx.dataSource.query(
    `SELECT ${endpointColumns} FROM webhook_endpoints e WHERE e.organization_id = $1 AND e.deleted_at IS NULL ORDER BY e.created_at, e.id`,
    [caller.scope.organizationId],
  );
  return rows.map(viewOf);
}

export async function getWebhookEndpoint(ctx: EndpointsContext, caller: AdminCaller, id: string): Promise<WebhookEndpointView> {
  requireOrganizationAdmin(caller.scope);
  return viewOf(await readEndpoint(ctx.dataSource, caller.scope.organizationId, id));
}

export async function updateWebhookEndpoint(
  ctx: EndpointsContext,
  caller: AdminCaller,
  id: string,
  input: { url?: string; events?: string[]; description?: string | null; enabled?: boolean },
): Promise<WebhookEndpointView> {
  requireOrganizationAdmin(caller.scope);
  const organizationId = caller.scope.organizationId;
  const url = input.url === undefined ? undefined : checkEndpointUrl(input.url, ctx.webhooks);
  const events = input.events === undefined ? undefined : checkedEvents(input.events);
  return ctx.dataSource.transaction(async (tx) => {
    const before = await readEndpoint(tx, organizationId, id, true);
    const changed: string[] = [];
    if (url !== undefined && url !== before.url) changed.push('url');
    if (events !== undefined && events.join() !== before.events.join()) changed.push('events');
    if (input.description !== undefined && input.description !== before.description) changed.push('description');
    if (input.enabled !== undefined && input.enabled !== before.enabled) changed.push('enabled');
    if (changed.length === 0) return viewOf(before);
    await tx.query(
      `UPDATE webhook_endpoints SET
         url = coalesce($2, url),
         events = coalesce($3, events),
         description = CASE WHEN $4::boolean THEN $5 ELSE description END,
         -- Enabling starts afresh (no disabled reason, no failing clock); disabling by hand says so.
         enabled = coalesce($6, enabled),
         disabled_reason = CASE WHEN $6 IS NULL THEN disabled_reason WHEN $6 THEN NULL ELSE 'manual' END,
         disabled_at = CASE WHEN $6 IS NULL THEN disabled_at WHEN $6 THEN NULL ELSE now() END,
         failing_since = CASE WHEN $6 THEN NULL ELSE failing_since END,
         updated_at = now()
       WHERE id = $1`,
      [
        id,
        url ?? null,
        events ?? null,
        input.description !== undefined,
        input.description ?? null,
        changed.includes('enabled') ? input.enabled : null,
      ],
    );
    await audit(tx, caller, 'webhook_endpoint.updated', auditDetail(id, url ?? before.url, {
      changed,
      ...(events ? { events } : {}),
      ...(changed.includes('enabled') ? { enabled: input.enabled } : {}),
    }));
    return viewOf(await readEndpoint(tx, organizationId, id));
  });
}

/** Marks it deleted (its delivery log stays for support); deliveries still waiting stop at their next attempt. */
export async function deleteWebhookEndpoint(ctx: EndpointsContext, caller: AdminCaller, id: string): Promise<void> {
  requireOrganizationAdmin(caller.scope);
  await ctx.dataSource.transaction(async (tx) => {
    const before = await readEndpoint(tx, caller.scope.organizationId, id, true);
    await tx.query(`UPDATE webhook_endpoints SET deleted_at = now(), enabled = false, updated_at = now() WHERE id = $1`, [id]);
    await tx.query(`UPDATE webhook_deliveries SET status = 'cancelled', next_attempt_at = NULL WHERE endpoint_id = $1 AND status = 'pending'`, [id]);
    await audit(tx, caller, 'webhook_endpoint.deleted', auditDetail(id, before.url));
  });
}

/**
 * A new secret signs from now on; the previous one keeps signing for `overlapMs` (default 24 h, at most
 * 7 days), so receivers can switch without losing a delivery: during the overlap every delivery carries a
 * signature by each. A secret already on its way out leaves no later than the new overlap ends.
 */
export async function rotateWebhookEndpointSecret(
  ctx: EndpointsContext,
  caller: AdminCaller,
  id: string,
  overlapMs = defaultOverlapMs,
): Promise<WebhookEndpointWithSecret> {
  requireOrganizationAdmin(caller.scope);
  const organizationId = caller.scope.organizationId;
  return ctx.dataSource.transaction(async (tx) => {
    const endpoint = await readEndpoint(tx, organizationId, id, true);
    await tx.query(
      `UPDATE webhook_endpoint_secrets SET expires_at = least(coalesce(expires_at, 'infinity'), now() + make_interval(secs => $2))
        WHERE endpoint_id = $1 AND (expires_at IS NULL OR expires_at > now())`,
      [id, overlapMs / 1000],
    );
    const secret = await storeNewSecret(tx, ctx.keyService, { organizationId, endpointId: id });
    await tx.query(`UPDATE webhook_endpoints SET updated_at = now() WHERE id = $1`, [id]);
    await audit(tx, caller, 'webhook_endpoint.secret_rotated', auditDetail(id, endpoint.url, { overlapSeconds: overlapMs / 1000 }));
    return { ...viewOf(await readEndpoint(tx, organizationId, id)), secret };
  });
}
