/**
 * The requester's side of a data-subject request (public: their personal link and confirmation code identify
 * them). Confirming with the code records the identity (the workflow's `identityConfirmed`) and opens a short
 * session (a cookie) for the status page. Wrong codes are counted atomically: after five the link is locked
 * for a quarter of an hour. The access package is handed out only against a fresh code — one sent after the
 * session was opened — and only until it expires.
 */
import type { TemporalTarget } from '../adapters/temporal-connection';
import type { PrivacyOrganizationView, RequesterStatusView } from '../contract/data-subject-requests';
import { queryReturning } from '../database/data-source';
import { Organization } from '../database/entities';
import { AppError } from '../errors';
import type { SigningContext } from '../signing/signing-context';
import { recordDsrEvent } from './dsr-audit-trail';
import { confirmIdentity } from './handle-data-subject-request';
import { decryptDsrField, readDataSubjectRequestRow, type DataSubjectRequestRow } from './read-data-subject-request';
import { codeLifetimeMs, maxCodeAttempts, RequesterCredentials, requesterCredentials, type RequesterSession } from './requester-credentials';
import { sendConfirmationCode } from './send-confirmation-code';

export const requesterCookieName = 'sigill_dsr';
export const lockMs = 15 * 60_000;

interface RequesterActor {
  ip?: string;
  userAgent?: string;
}

const invalidLink = () => new AppError('not_found', 'This link is not valid.');
const lockedError = () =>
  new AppError('locked', `Too many wrong codes: this link is locked for ${lockMs / 60_000} minutes. Then ask for a new code.`, undefined, { attemptsLeft: 0 });
const sessionRequired = () => new AppError('unauthenticated', 'Confirm with your code first (your session is missing or has expired).');

/** The organisation of a privacy page; one that has closed (its work stopped, src/organization-export/) has none. */
export async function organizationBySlug(context: SigningContext, slug: string): Promise<Organization> {
  const [open]: Array<{ id: string }> = await context.dataSource.query(
    `SELECT id FROM organizations WHERE slug = $1 AND closed_at IS NULL AND work_stopped_at IS NULL`,
    [slug],
  );
  const organization = open ? await context.dataSource.getRepository(Organization).findOneBy({ id: open.id }) : null;
  if (!organization) throw new AppError('not_found', 'No organisation has this privacy page.');
  return organization;
}

export async function describePrivacyOrganization(context: SigningContext, slug: string): Promise<PrivacyOrganizationView> {
  const organization = await organizationBySlug(context, slug);
  return { name: organization.name, slug: organization.slug, defaultLocale: organization.defaultLocale, eidAvailable: context.eid.available };
}

export async function requestOfToken(context: SigningContext, token: string): Promise<DataSubjectRequestRow> {
  const dsrId = RequesterCredentials.dsrIdOfToken(token);
  const row = dsrId ? await readDataSubjectRequestRow(context.dataSource, dsrId) : undefined;
  if (!row || !(await requesterCredentials(context)).linkTokenMatches(token, row.id, row.link_version)) throw invalidLink();
  return row;
}

const isLocked = (row: DataSubjectRequestRow, now: Date) => row.locked_at !== null && now.getTime() - row.locked_at.getTime() < lockMs;

/** Checks the code of the current version; a wrong one is counted (locked after five), an expired one refused. */
async function checkCode(context: SigningContext, row: DataSubjectRequestRow, code: string, actor: RequesterActor, now: Date): Promise<'email' | 'sms'> {
  if (isLocked(row, now)) throw lockedError();
  const channel = (await requesterCredentials(context)).codeChannel(code, row.id, row.code_version);
  if (!channel) {
    const [counted] = await queryReturning<{ failed_code_attempts: number; locked_at: Date | null }>(
      context.dataSource,
      `UPDATE data_subject_requests
          SET failed_code_attempts = CASE WHEN locked_at IS NOT NULL THEN 1 ELSE failed_code_attempts + 1 END,
              locked_at = CASE WHEN (CASE WHEN locked_at IS NOT NULL THEN 1 ELSE failed_code_attempts + 1 END) >= $2 THEN $3::timestamptz ELSE NULL END
        WHERE id = $1 AND (locked_at IS NULL OR locked_at <= $3::timestamptz - make_interval(secs => $4::double precision))
        RETURNING failed_code_attempts, locked_at`,
      [row.id, maxCodeAttempts, now, lockMs / 1000],
    );
    if (!counted) throw lockedError();
    const base = { dsrId: row.id, actor: 'requester', ip: actor.ip, userAgent: actor.userAgent, occurredAt: now };
    await recordDsrEvent(context.dataSource, { ...base, eventKey: `code_failed:${now.toISOString()}:${counted.failed_code_attempts}`, type: 'code_failed' });
    if (counted.locked_at) {
      await recordDsrEvent(context.dataSource, { ...base, eventKey: `locked:${counted.locked_at.toISOString()}`, type: 'locked' });
      throw lockedError();
    }
    throw new AppError('unauthenticated', 'Wrong code.', undefined, { attemptsLeft: maxCodeAttempts - counted.failed_code_attempts });
  }
  if (row.code_issued_at && now.getTime() - row.code_issued_at.getTime() > codeLifetimeMs) {
    throw new AppError('conflict', 'This code has expired: ask for a new one.');
  }
  await context.dataSource.query(`UPDATE data_subject_requests SET failed_code_attempts = 0, locked_at = NULL WHERE id = $1`, [row.id]);
  return channel;
}

/** The link and code → identity confirmed (the first time) and a status session. */
export async function confirmRequester(
  context: SigningContext,
  temporal: TemporalTarget,
  input: { token: string; code: string; actor: RequesterActor; now: Date },
): Promise<{ sessionToken: string; status: RequesterStatusView }> {
  const row = await requestOfToken(context, input.token);
  const channel = await checkCode(context, row, input.code, input.actor, input.now);
  if (!row.identity_confirmed_at && row.status === 'awaiting_identity') {
    await context.dataSource.query(`UPDATE data_subject_requests SET confirmed_code_version = $2 WHERE id = $1 AND confirmed_code_version IS NULL`, [row.id, row.code_version]);
    const method = channel === 'sms' ? 'sms_code' : 'email_code';
    const state = await confirmIdentity(temporal, row.id, { method, ip: input.actor.ip, userAgent: input.actor.userAgent }).catch((error: unknown) => {
      // A confirmation racing this one (another tab) got there first: the identity is confirmed all the same.
      if (error instanceof AppError && error.code === 'conflict') return undefined;
      throw error;
    });
    // The same event the workflow records (same key, same time): whichever lands first, the status page answered
    // now already shows the identity confirmed.
    if (state) await recordDsrEvent(context.dataSource, {
      dsrId: row.id,
      eventKey: 'identity_confirmed',
      type: 'identity_confirmed',
      actor: 'requester',
      ip: input.actor.ip,
      userAgent: input.actor.userAgent,
      detail: { method },
      occurredAt: state.identityConfirmedAt ?? input.now,
    });
  }
  const session: RequesterSession = { dsrId: row.id, linkVersion: row.link_version, codeVersion: row.code_version };
  const sessionToken = (await requesterCredentials(context)).openSession(session, input.now.getTime());
  return { sessionToken, status: await requesterStatus(context, sessionToken, input.now) };
}

/** A new code (a new version: the previous one stops working), by the same channels. */
export async function resendRequesterCode(context: SigningContext, input: { token: string; now: Date }): Promise<{ sent: true }> {
  const row = await requestOfToken(context, input.token);
  if (isLocked(row, input.now)) throw lockedError();
  const ended = ['completed', 'rejected', 'withdrawn'].includes(row.status);
  const packageOpen = row.access_package_expires_at !== null && row.access_package_expires_at > input.now;
  if (ended && !packageOpen) throw new AppError('conflict', 'This request has ended; there is nothing left to confirm.');
  await context.dataSource.query(`UPDATE data_subject_requests SET code_version = code_version + 1, code_issued_at = $2 WHERE id = $1`, [row.id, input.now]);
  await sendConfirmationCode(context, row.id);
  return { sent: true };
}

async function sessionRow(context: SigningContext, sessionToken: string | undefined, now: Date): Promise<{ row: DataSubjectRequestRow; session: RequesterSession }> {
  const session = sessionToken ? (await requesterCredentials(context)).readSession(sessionToken, now.getTime()) : undefined;
  const row = session ? await readDataSubjectRequestRow(context.dataSource, session.dsrId) : undefined;
  if (!session || !row || row.link_version !== session.linkVersion) throw sessionRequired();
  return { row, session };
}

export async function requesterStatus(context: SigningContext, sessionToken: string | undefined, now: Date): Promise<RequesterStatusView> {
  const { row } = await sessionRow(context, sessionToken, now);
  const organization = await context.dataSource.getRepository(Organization).findOneByOrFail({ id: row.organization_id });
  const iso = (value: Date | null) => (value ? value.toISOString() : undefined);
  return {
    type: row.type,
    status: row.status,
    organization: { name: organization.name, slug: organization.slug },
    locale: row.requester_locale,
    receivedAt: row.received_at.toISOString(),
    dueAt: row.due_at.toISOString(),
    extendedUntil: iso(row.extended_until),
    extensionReason: (await decryptDsrField(context, row, 'extension_reason', row.extension_reason)) ?? undefined,
    identityConfirmedAt: iso(row.identity_confirmed_at),
    completedAt: iso(row.completed_at),
    answer: await decryptDsrField(context, row, 'answer', row.answer),
    rejectionReason: await decryptDsrField(context, row, 'rejection_reason', row.rejection_reason),
    handledRecords: row.status === 'completed' ? row.handled_records : [],
    accessPackage:
      row.status === 'completed' && row.access_package_expires_at && (row.access_package_blob_key || row.access_package_expires_at <= now)
        ? { expiresAt: row.access_package_expires_at.toISOString(), expired: row.access_package_expires_at <= now, size: Number(row.access_package_size ?? 0) }
        : undefined,
  };
}

/** The access package, against a code sent after this session was opened (re-confirmation), until it expires. */
export async function downloadAccessPackage(
  context: SigningContext,
  input: { sessionToken: string | undefined; code: string; actor: RequesterActor; now: Date },
): Promise<{ bytes: Uint8Array; sha256: string; filename: string }> {
  const { row, session } = await sessionRow(context, input.sessionToken, input.now);
  // First: an expired package's blob is deleted by the retention sweep (its key cleared), and it stays 410.
  if (row.access_package_expires_at && row.access_package_expires_at <= input.now) {
    throw new AppError('export_expired', 'The download link of this access package has expired.');
  }
  if (row.status !== 'completed' || !row.access_package_blob_key || !row.access_package_expires_at) {
    throw new AppError('conflict', 'There is no access package for this request (yet).');
  }
  if (row.code_version <= session.codeVersion) {
    throw new AppError('conflict', 'Confirm again with a new code: ask for one (resend-code), then send it with the download.');
  }
  await checkCode(context, row, input.code, input.actor, input.now);
  const bytes = await context.adapters.blobStore.get(row.access_package_blob_key);
  if (!bytes) throw new AppError('not_found', 'The access package is no longer stored.');
  await recordDsrEvent(context.dataSource, {
    dsrId: row.id,
    eventKey: `package_downloaded:v${row.code_version}:${input.now.toISOString()}`,
    type: 'package_downloaded',
    actor: 'requester',
    ip: input.actor.ip,
    userAgent: input.actor.userAgent,
    detail: { sha256: row.access_package_sha256 },
    occurredAt: input.now,
  });
  return { bytes, sha256: row.access_package_sha256 ?? '', filename: `personal-data-${row.id}.zip` };
}
