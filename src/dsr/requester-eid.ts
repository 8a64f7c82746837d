/**
 * A data-subject requester confirms who they are with eID (when a broker is configured, EID_*), through the
 * one broker and callback every process uses (src/identity/eid-broker.ts, src/api/eid-callback.ts; process
 * `dsr` in src/api/eid-processes.ts). From their link the page starts the flow; the callback stores the
 * identification under the request's record key (subject kind `data_subject_request`), keeps the national id
 * it proved only encrypted on the request (for discovery), and confirms the identity exactly as a correct
 * code does — the workflow's `identityConfirmed` Update with method `eid`, nothing personal in its history.
 * Back on the page, the browser's result cookie is traded for the status session.
 */
import type { TemporalTarget } from '../adapters/temporal-connection';
import { AppError } from '../errors';
import type { EidIdentity } from '../identity/eid-broker';
import { readIdentificationEvidence, storeIdentification } from '../identity/identification-evidence';
import type { DataSource, EntityManager } from 'typeorm';
import type { SigningContext } from '../signing/signing-context';
import { Organization } from '../database/entities';
import { recordDsrEvent } from './dsr-audit-trail';
import { confirmIdentity } from './handle-data-subject-request';
import { encryptDsrField, readDataSubjectRequestRow } from './read-data-subject-request';
import { requestOfToken, requesterStatus } from './requester-access';
import { requesterCredentials } from './requester-credentials';
import type { RequesterStatusView } from '../contract/data-subject-requests';

interface RequesterActor {
  ip?: string;
  userAgent?: string;
}

/** `POST /v1/privacy/requests/eid/start`: where to send the browser, while the request waits for the identity. */
export async function startRequesterIdentification(context: SigningContext, input: { token: string }): Promise<{ authorizationUrl: string; cookieValue: string }> {
  // Without a broker: 422 `eid_unavailable`, before the link is judged (the page does not offer it then).
  if (!context.eid.available) throw new AppError('eid_unavailable', 'eID identification is not configured on this deployment.');
  const row = await requestOfToken(context, input.token);
  if (row.identity_confirmed_at || row.status !== 'awaiting_identity') throw new AppError('conflict', 'Your identity is already confirmed (or the request has ended).');
  return context.eid.begin({ purpose: 'dsr', ref: row.id, version: row.link_version });
}

/** The requester's page (relative, like the other processes' pages). */
async function requesterPage(context: SigningContext, row: { id: string; organization_id: string; link_version: number }): Promise<string> {
  const organization = await context.dataSource.getRepository(Organization).findOneByOrFail({ id: row.organization_id });
  return `/privacy/${organization.slug}/r/${(await requesterCredentials(context)).linkToken(row.id, row.link_version)}`;
}

async function replacedLinkPage(context: SigningContext, row: { organization_id: string }): Promise<string> {
  const organization = await context.dataSource.getRepository(Organization).findOneByOrFail({ id: row.organization_id });
  return `/privacy/${organization.slug}/r/unknown`;
}

export async function requesterFailurePage(context: SigningContext, dsrId: string, linkVersion: number, reason: string): Promise<string> {
  const row = await readDataSubjectRequestRow(context.dataSource, dsrId);
  if (!row) return '/privacy/unknown';
  // A replaced link: its page says the link is not valid.
  if (row.link_version !== linkVersion) return replacedLinkPage(context, row);
  return `${await requesterPage(context, row)}?eid=${reason === 'expired' ? 'failed' : reason}`;
}

/**
 * The `identity_confirmed` event's detail: the method, and for eID the identification's scheme and masked
 * national id (never the number). Both writers of the event — this callback and the workflow's activity —
 * build it here, so whichever lands first records the same thing.
 */
export async function identityConfirmedDetail(db: DataSource | EntityManager, dsrId: string, method: string): Promise<Record<string, unknown>> {
  if (method !== 'eid') return { method };
  const [row]: Array<{ identification_id: string | null }> = await db.query(`SELECT identification_id FROM data_subject_requests WHERE id = $1`, [dsrId]);
  const evidence = row?.identification_id ? await readIdentificationEvidence(db, row.identification_id) : undefined;
  return evidence ? { method, identificationId: row!.identification_id, scheme: evidence.scheme, nationalIdMasked: evidence.nationalIdMasked } : { method };
}

/** The broker answered for a requester: record the identification, confirm the identity, back to their page. */
export async function completeRequesterIdentification(
  context: SigningContext,
  temporal: TemporalTarget,
  input: { dsrId: string; linkVersion: number; identity: EidIdentity; actor: RequesterActor; now: Date },
): Promise<{ redirectTo: string; identificationId?: string }> {
  const row = await readDataSubjectRequestRow(context.dataSource, input.dsrId);
  // A link replaced since the flow began: the page says the link is not valid.
  if (!row) return { redirectTo: '/privacy/unknown' };
  if (row.link_version !== input.linkVersion) return { redirectTo: await replacedLinkPage(context, row) };
  const page = await requesterPage(context, row);
  // Confirmed meanwhile (by code, in another tab) or ended: nothing to record.
  if (row.identity_confirmed_at || row.status !== 'awaiting_identity') return { redirectTo: page };

  const stored = await storeIdentification(context.dataSource, context.adapters.keyService, {
    organizationId: row.organization_id,
    subjectKind: 'data_subject_request',
    subjectId: row.id,
    identity: input.identity,
    outcome: 'identified',
  });
  const nationalId = input.identity.nationalId ? await encryptDsrField(context, row.id, 'national_id', input.identity.nationalId) : null;
  await context.dataSource.query(
    `UPDATE data_subject_requests SET identification_id = $2, requester_national_id = $3 WHERE id = $1 AND identity_confirmed_at IS NULL`,
    [row.id, stored.id, nationalId],
  );
  const state = await confirmIdentity(temporal, row.id, { method: 'eid', ip: input.actor.ip, userAgent: input.actor.userAgent }).catch((error: unknown) => {
    // A code confirmed in another tab got there first: the identity is confirmed all the same.
    if (error instanceof AppError && error.code === 'conflict') return undefined;
    throw error;
  });
  if (!state) return { redirectTo: page };
  await recordDsrEvent(context.dataSource, {
    dsrId: row.id,
    eventKey: 'identity_confirmed',
    type: 'identity_confirmed',
    actor: 'requester',
    ip: input.actor.ip,
    userAgent: input.actor.userAgent,
    detail: await identityConfirmedDetail(context.dataSource, row.id, 'eid'),
    occurredAt: state.identityConfirmedAt ?? input.now,
  });
  return { redirectTo: `${page}?eid=ok`, identificationId: stored.id };
}

/** `POST /v1/privacy/requests/eid/session`: the status session, if this browser holds the identification for this link. */
export async function openIdentifiedRequesterSession(
  context: SigningContext,
  input: { token: string; result: { identificationId: string } | undefined; now: Date },
): Promise<{ sessionToken: string; status: RequesterStatusView }> {
  const row = await requestOfToken(context, input.token);
  if (!input.result || !row.identification_id || row.identification_id !== input.result.identificationId) {
    throw new AppError('identification_required', 'Identify with eID first (no identification for this link in this browser, or it expired).');
  }
  const credentials = await requesterCredentials(context);
  const sessionToken = credentials.openSession({ dsrId: row.id, linkVersion: row.link_version, codeVersion: row.code_version }, input.now.getTime());
  return { sessionToken, status: await requesterStatus(context, sessionToken, input.now) };
}
