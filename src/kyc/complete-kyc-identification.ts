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
import { auditDetailOf, isSamePerson, nationalIdsMatch, storeIdentification } from '../identity/identification-evidence';
import type { SigningContext } from '../signing/signing-context';
import { kycCredentials } from './customer-credentials';
import { nationalIdContext } from './create-kyc-case';
import { readKycCaseRow, type KycCaseRow } from './get-kyc-case';
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

  const mismatch = await mismatchOf(signing, row, input.identity);
  const matches = mismatch === undefined;
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
    detail: { identificationId: stored.id, ...auditDetailOf(stored.evidence), ...(mismatch ? { reason: mismatch } : {}) },
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

/**
 * Why this identity is not the case's customer, if it is not: not the national id the sender named, or
 * not the person who identified before (a forwarded link must not replace the evidence of a case under way).
 */
async function mismatchOf(signing: SigningContext, row: KycCaseRow, identity: EidIdentity): Promise<'expected_national_id' | 'earlier_identity' | undefined> {
  const { keyService } = signing.adapters;
  if (row.customer_national_id) {
    const expected = await signing.recordKeys.decryptField({ kind: 'kyc_case', id: row.id }, nationalIdContext(row.id), row.customer_national_id);
    if (!nationalIdsMatch(expected, identity.nationalId, identity.country)) return 'expected_national_id';
  }
  // The same person as before: by national id, else the same broker account, else name and birth date.
  if (row.identification_id && !(await isSamePerson(signing.dataSource, keyService, row.identification_id, identity))) return 'earlier_identity';
  return undefined;
}
