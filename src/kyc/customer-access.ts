/**
 * How a KYC customer gets in with their personal link (`PUBLIC_URL/k/<token>`): with the PIN (wrong PINs
 * counted atomically, the link locked after five, as for signers) or, for an eID case, with the
 * identification the broker's callback recorded (src/kyc/complete-kyc-identification.ts). A link Sigill did
 * not issue, or one replaced since, reveals nothing: `unknown`.
 */
import { kycEndStatuses } from '../contract/kyc-cases';
import { queryReturning } from '../database/data-source';
import { AppError } from '../errors';
import type { Locale } from '../i18n/locales';
import type { SigningContext } from '../signing/signing-context';
import { KycCustomerCredentials, kycCredentials } from './customer-credentials';
import { readKycCaseRow, type KycCaseRow } from './get-kyc-case';
import { recordKycEvent } from './kyc-audit-trail';

export const maxCustomerPinAttempts = 5;

export interface CustomerActor {
  ip?: string;
  userAgent?: string;
}

const invalidLink = () => new AppError('not_found', 'This link is not valid. Ask the sender for a new one.');
const sessionRequired = () => new AppError('unauthenticated', 'Open your link first (session missing or expired).');
const lockedError = () =>
  new AppError('locked', `This link is locked after ${maxCustomerPinAttempts} wrong PINs. Ask the sender for a new PIN.`, undefined, { attemptsLeft: 0 });

/** The case a link token stands for, if it is a link Sigill issued and still valid. */
export async function caseOfToken(context: SigningContext, token: string): Promise<KycCaseRow | undefined> {
  const caseId = KycCustomerCredentials.caseIdOfToken(token);
  const row = caseId ? await readKycCaseRow(context.dataSource, caseId) : undefined;
  if (!row) return undefined;
  const credentials = await kycCredentials(context);
  return credentials.linkTokenMatches(token, { caseId: row.id, linkVersion: row.link_version }) ? row : undefined;
}

export async function describeCustomerLink(
  context: SigningContext,
  token: string,
  actor: CustomerActor,
  now: Date,
): Promise<{ state: 'unknown' | 'ended' | 'locked' | 'open'; locale?: Locale; identification?: 'pin' | 'eid' }> {
  const row = await caseOfToken(context, token);
  if (!row) return { state: 'unknown' };
  if (kycEndStatuses.includes(row.status)) return { state: 'ended', locale: row.customer_locale };
  if (row.locked_at) return { state: 'locked', locale: row.customer_locale };
  // Once an hour at most: a page reloaded many times is one opening in the evidence.
  await recordKycEvent(context.dataSource, {
    caseId: row.id,
    eventKey: `link_opened:${now.toISOString().slice(0, 13)}`,
    type: 'link_opened',
    actor: 'customer',
    ip: actor.ip,
    userAgent: actor.userAgent,
    occurredAt: now,
  });
  return { state: 'open', locale: row.customer_locale, identification: row.identification };
}

function requireOpenCase(row: KycCaseRow): void {
  if (kycEndStatuses.includes(row.status)) throw new AppError('conflict', `This case has ended (${row.status}).`);
  if (row.locked_at) throw lockedError();
}

export async function openCustomerSession(
  context: SigningContext,
  input: { token: string; pin: string; actor: CustomerActor; now: Date },
): Promise<{ sessionToken: string }> {
  const row = await caseOfToken(context, input.token);
  if (!row) throw invalidLink();
  requireOpenCase(row);
  if (row.identification === 'eid') throw new AppError('identification_required', 'This case is opened by identifying with eID, not with a PIN.');
  const credentials = await kycCredentials(context);
  if (!credentials.pinMatches(input.pin, { caseId: row.id, pinVersion: row.pin_version })) await recordFailedPin(context, row, input);
  await context.dataSource.query(`UPDATE kyc_cases SET failed_pin_attempts = 0 WHERE id = $1`, [row.id]);
  await recordKycEvent(context.dataSource, {
    caseId: row.id,
    eventKey: `opened:pin:${input.now.toISOString()}`,
    type: 'opened',
    actor: 'customer',
    ip: input.actor.ip,
    userAgent: input.actor.userAgent,
    detail: { via: 'pin' },
    occurredAt: input.now,
  });
  return {
    sessionToken: credentials.openSession({ caseId: row.id, linkVersion: row.link_version, pinVersion: row.pin_version, via: 'pin' }, input.now.getTime()),
  };
}

async function recordFailedPin(context: SigningContext, row: KycCaseRow, input: { actor: CustomerActor; now: Date }): Promise<never> {
  const [counted] = await queryReturning<{ failed_pin_attempts: number; locked_at: Date | null }>(
    context.dataSource,
    `UPDATE kyc_cases
        SET failed_pin_attempts = failed_pin_attempts + 1,
            locked_at = CASE WHEN failed_pin_attempts + 1 >= $2 THEN now() ELSE NULL END
      WHERE id = $1 AND locked_at IS NULL
      RETURNING failed_pin_attempts, locked_at`,
    [row.id, maxCustomerPinAttempts],
  );
  if (!counted) throw lockedError();
  const base = { caseId: row.id, actor: 'customer', ip: input.actor.ip, userAgent: input.actor.userAgent, occurredAt: input.now };
  await recordKycEvent(context.dataSource, { ...base, eventKey: `pin_failed:v${row.pin_version}:${counted.failed_pin_attempts}`, type: 'pin_failed' });
  if (counted.locked_at) {
    await recordKycEvent(context.dataSource, { ...base, eventKey: `locked:v${row.pin_version}`, type: 'locked' });
    throw lockedError();
  }
  throw new AppError('unauthenticated', 'Wrong PIN.', undefined, { attemptsLeft: maxCustomerPinAttempts - counted.failed_pin_attempts });
}

/** eID: where to send the browser; the broker comes back to /v1/eid/callback (src/kyc/complete-kyc-identification.ts). */
export async function startCustomerIdentification(context: SigningContext, input: { token: string }): Promise<{ authorizationUrl: string; cookieValue: string }> {
  const row = await caseOfToken(context, input.token);
  if (!row) throw invalidLink();
  requireOpenCase(row);
  if (row.identification !== 'eid') throw new AppError('conflict', 'This case is opened with the PIN, not with eID.');
  if (!context.eid.available) throw new AppError('dependency_unavailable', 'eID identification is not available right now.');
  return context.eid.begin({ purpose: 'kyc', ref: row.id, version: row.link_version });
}

/** After the callback: a session, if this browser holds the identification the callback recorded for this case. */
export async function openIdentifiedCustomerSession(
  context: SigningContext,
  input: { token: string; result: { identificationId: string } | undefined; now: Date },
): Promise<{ sessionToken: string }> {
  const row = await caseOfToken(context, input.token);
  if (!row) throw invalidLink();
  requireOpenCase(row);
  if (!input.result || row.identification_id !== input.result.identificationId) {
    throw new AppError('identification_required', 'Identify with eID first (no identification for this link in this browser, or it expired).');
  }
  const credentials = await kycCredentials(context);
  return {
    sessionToken: credentials.openSession({ caseId: row.id, linkVersion: row.link_version, pinVersion: row.pin_version, via: 'eid' }, input.now.getTime()),
  };
}

/** The case behind a customer's session token, while the session and its link are valid. */
export async function requireCustomerSession(context: SigningContext, sessionToken: string | undefined, now: Date): Promise<KycCaseRow> {
  const credentials = await kycCredentials(context);
  const claims = sessionToken ? credentials.readSession(sessionToken, now.getTime()) : undefined;
  if (!claims) throw sessionRequired();
  const row = await readKycCaseRow(context.dataSource, claims.caseId);
  if (!row || row.locked_at || row.link_version !== claims.linkVersion || row.pin_version !== claims.pinVersion) throw sessionRequired();
  // An eID case is opened by identification only: a session from a PIN (issued before it became one) is not enough.
  if (row.identification === 'eid' && claims.via !== 'eid') throw sessionRequired();
  return row;
}
