/**
 * Erasure for a data-subject request (GDPR Art. 17): every record discovery marks 'erase' is shredded
 * (src/privacy/shred-record.ts: key destroyed, blobs deleted, rows reduced to a tombstone, receipt in the
 * organisation's audit log) under the rule `data-subject-request:<dsrId>`; what a legal basis keeps stays,
 * with that basis, for the answer to the requester.
 *
 * Idempotent: shredRecord returns the first receipt for a record already shredded; a shredded record no
 * longer names the person, so the records this request erased on an earlier attempt are found by their
 * receipts (rule `data-subject-request:<dsrId>`) and a retried activity reports the same records erased. A record a legal hold reaches between discovery and shredding is
 * reported kept under the hold.
 */
import { AppError } from '../../errors';
import { shredRecord } from '../../privacy/shred-record';
import type { SigningContext } from '../../signing/signing-context';
import { requesterCredentials } from '../requester-credentials';
import { discoverSubjectRecordDetails, legalBasis } from './discover-subject-records';
import type { DataSubject, SubjectRecord } from './subject-record';

export const erasureGrounds = (dsrId: string, actor: string) => ({
  rule: `data-subject-request:${dsrId}`,
  reason: 'Erasure requested by the data subject (GDPR Art. 17)',
  actor,
});

export async function eraseSubjectData(
  context: SigningContext,
  dsrId: string,
  subject: DataSubject,
  actor: string,
): Promise<{ erased: SubjectRecord[]; kept: SubjectRecord[] }> {
  const found = await discoverSubjectRecordDetails(context, subject);
  const erased: SubjectRecord[] = [];
  const kept: SubjectRecord[] = [];
  // Declaration rounds before their KYC case: each is shredded as a record of its own.
  const order = (kind: SubjectRecord['kind']) => (kind === 'signing_request' ? 0 : kind === 'kyc_case' ? 1 : 2);
  for (const { record } of [...found].sort((a, b) => order(a.record.kind) - order(b.record.kind))) {
    if (record.erasure.action !== 'erase' || record.kind === 'audit_entry') {
      kept.push(record);
      continue;
    }
    try {
      await shredRecord(context, { kind: record.kind, id: record.id }, erasureGrounds(dsrId, actor));
      erased.push({ ...record, status: 'deleted' });
    } catch (error) {
      if (!(error instanceof AppError) || (error.code as string) !== 'legal_hold') throw error;
      kept.push({
        ...record,
        erasure: { action: 'keep', legalBasis: legalBasis.legalHold, explanation: 'A legal hold applies to this record; it is kept until the hold is lifted.', keepUntil: null },
      });
    }
  }
  // Records this request erased on an earlier attempt no longer name the person: their receipts do.
  const listed = new Set(erased.map((record) => `${record.kind}:${record.id}`));
  for (const record of await erasedEarlier(context, subject.organizationId, dsrId)) {
    if (!listed.has(`${record.kind}:${record.id}`)) erased.push(record);
  }
  await withdrawEarlierAccessPackages(context, dsrId, subject);
  const byDiscovery = (records: SubjectRecord[]) => records.sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id));
  return { erased: byDiscovery(erased), kept: byDiscovery(kept) };
}

/**
 * An access package made earlier for the same person (`orgs/<org>/dsr/<id>/access-package.zip`, under that
 * request's own key) is a copy of the data this erasure shreds: it is deleted (in the backup too) and its
 * download ends now. Found by the contact the earlier requester proved (the email also with eID, begun from
 * the emailed link, as `verifiedSubject` counts it), through the blind indexes.
 */
async function withdrawEarlierAccessPackages(context: SigningContext, dsrId: string, subject: DataSubject): Promise<void> {
  const credentials = await requesterCredentials(context);
  const org = subject.organizationId;
  const emailIndexes = subject.emails.map((email) => credentials.emailIndex(org, email));
  const phoneIndexes = subject.phones.map((phone) => credentials.phoneIndex(org, phone)).filter((index): index is string => index !== null);
  if (emailIndexes.length + phoneIndexes.length === 0) return;
  const packages: Array<{ id: string; access_package_blob_key: string }> = await context.dataSource.query(
    `SELECT id, access_package_blob_key FROM data_subject_requests
      WHERE organization_id = $1 AND id <> $2 AND type = 'access' AND access_package_blob_key IS NOT NULL
        AND ((identity_method IN ('email_code', 'eid') AND email_index = ANY($3::text[])) OR (identity_method = 'sms_code' AND phone_index = ANY($4::text[])))`,
    [org, dsrId, emailIndexes, phoneIndexes],
  );
  for (const found of packages) {
    await context.adapters.blobStore.delete(found.access_package_blob_key);
    await context.dataSource.query(
      `UPDATE data_subject_requests SET access_package_expires_at = least(access_package_expires_at, now()) WHERE id = $1`,
      [found.id],
    );
  }
}

/** The records this data-subject request erased already, from their deletion receipts and tombstones. */
async function erasedEarlier(context: SigningContext, organizationId: string, dsrId: string): Promise<SubjectRecord[]> {
  const rows: Array<{ kind: 'signing_request' | 'kyc_case'; id: string; status: string | null; created_at: Date | null; ended_at: Date | null }> =
    await context.dataSource.query(
      `SELECT d.record_kind AS kind, d.record_id::text AS id, coalesce(r.status, c.status) AS status,
              coalesce(r.created_at, c.created_at) AS created_at, coalesce(r.completed_at, c.ended_at) AS ended_at
         FROM deletion_receipts d
         LEFT JOIN signing_requests r ON d.record_kind = 'signing_request' AND r.id = d.record_id
         LEFT JOIN kyc_cases c ON d.record_kind = 'kyc_case' AND c.id = d.record_id
        WHERE d.organization_id = $1 AND d.rule = $2 AND d.record_kind IN ('signing_request', 'kyc_case')`,
      [organizationId, erasureGrounds(dsrId, '').rule],
    );
  return rows.map((row) => ({
    kind: row.kind,
    id: row.id,
    role: row.kind === 'kyc_case' ? 'customer' : 'signer',
    status: 'deleted',
    createdAt: new Date(row.created_at ?? 0).toISOString(),
    endedAt: row.ended_at ? new Date(row.ended_at).toISOString() : null,
    matchedBy: [],
    erasure: { action: 'erase' },
  }));
}
