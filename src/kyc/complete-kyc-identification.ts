/**
 * The broker's callback (`GET /v1/eid/callback`, src/api/routes/eid.ts) hands a KYC customer's identity
 * here: it is stored as evidence (national id and ID token encrypted), checked against the national id the
 * sender gave (if any), recorded in the case's audit trail, and the browser goes back to the customer's page,
 * `?eid=ok` (the page then opens a session with `POST /v1/kyc/customer/eid/session`) or `?eid=mismatch`.
 * The identity is never in the workflow's history: the case reads it from the database when it needs it.
 */
import type { TemporalTarget } from '../adapters/temporal-connection';
import { kycEndStatuses } from '../contract/kyc-cases';
import type { EidIdentity } from '../identity/eid-broker';
import { auditDetailOf, nationalIdsMatch, storeIdentification } from '../identity/identification-evidence';
import { decryptField } from '../privacy/encrypted-field';
import type { SigningContext } from '../signing/signing-context';
import { kycCredentials } from './customer-credentials';
import { nationalIdContext } from './create-kyc-case';
import { readKycCaseRow } from './get-kyc-case';
import { recordKycEvent } from './kyc-audit-trail';

export async function completeKycIdentification(
  signing: SigningContext,
  _temporal: TemporalTarget,
  input: { caseId: string; linkVersion: number; identity: EidIdentity; actor: { ip?: string; userAgent?: string }; now: Date },
): Promise<{ redirectTo: string; identificationId?: string }> {
  const row = await readKycCaseRow(signing.dataSource, input.caseId);
  // A link replaced since the flow began, or a case that ended meanwhile: the page says the link is not valid.
  if (!row || row.link_version !== input.linkVersion) return { redirectTo: '/k/unknown' };
  const credentials = await kycCredentials(signing);
  const page = `/k/${credentials.linkToken({ caseId: row.id, linkVersion: row.link_version })}`;
  if (kycEndStatuses.includes(row.status)) return { redirectTo: page };

  const expected = row.customer_national_id ? await decryptField(signing.adapters.keyService, nationalIdContext(row.id), row.customer_national_id) : undefined;
  const matches = expected === undefined || nationalIdsMatch(expected, input.identity.nationalId ?? undefined);
  const stored = await storeIdentification(signing.dataSource, signing.adapters.keyService, {
    organizationId: row.organization_id,
    subjectKind: 'kyc_case',
    subjectId: row.id,
    identity: input.identity,
    outcome: matches ? 'identified' : 'mismatch',
  });
  const event = {
    caseId: row.id,
    actor: 'customer',
    ip: input.actor.ip,
    userAgent: input.actor.userAgent,
    detail: { identificationId: stored.id, ...auditDetailOf(stored.evidence) },
    occurredAt: input.now,
  };
  if (!matches) {
    await recordKycEvent(signing.dataSource, { ...event, eventKey: `identification_mismatch:${stored.id}`, type: 'identification_mismatch' });
    return { redirectTo: `${page}?eid=mismatch` };
  }
  // The identification that opens the case from now on: the session route checks the browser holds it.
  await signing.dataSource.query(`UPDATE kyc_cases SET identification_id = $2 WHERE id = $1`, [row.id, stored.id]);
  await recordKycEvent(signing.dataSource, { ...event, eventKey: `identified:${stored.id}`, type: 'identified' });
  return { redirectTo: `${page}?eid=ok`, identificationId: stored.id };
}
