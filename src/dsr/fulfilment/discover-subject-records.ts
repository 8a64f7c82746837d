/**
 * Discovery for a data-subject request (GDPR Art. 15-21): every record of the organisation that concerns the
 * verified person, and what erasure would do with each.
 *
 * - Signing requests where they are a signer: the signer's email (case-insensitive), phone (international
 *   digits), or national id (the one the sender expected, or the one their eID carried).
 * - KYC cases where they are the customer: email, phone, national id (the sender's, or the eID's).
 * - Organisation audit log entries that name one of those records by id (the log names no contact details).
 *
 * National ids are stored only encrypted (src/privacy/record-keys.ts, encrypted-field.ts before it), so
 * there is nothing to look them up by: discovery decrypts the organisation's stored national ids and compares
 * each by its country's rules (src/identity/national-id.ts), only when the person gave one. That is one key
 * unwrap per stored number, acceptable for the thousands an organisation holds; a keyed blind index
 * (HMAC of the normalised number in a column of its own) is the way to scale it, and needs a migration.
 *
 * Erasure decisions (what `eraseSubjectData` does):
 * - declined, expired, cancelled or failed rounds: erase (no legal basis keeps them);
 * - sealed (completed) rounds, and failed ones every signer had signed (sealing failed): keep, the signed
 *   agreement is evidence of a contract (Art. 17(3)(b)/(e));
 * - pending rounds and open KYC cases: keep while in progress; the sender cancels first, then erasure erases
 *   the ended record (shredding a running record is refused, and erasure cannot cancel: a cancellation tells
 *   every signer and is the sender's decision);
 * - KYC cases: kept under anti-money-laundering law; a rejected, cancelled, expired or failed case only until
 *   its retention ends, then erased; the signing rounds that carried a case's declaration follow the case;
 * - anything under a legal hold: keep;
 * - records already deleted (tombstones, src/privacy/shred-record.ts) hold nothing of the person any more and
 *   are not listed; `eraseSubjectData` reports the ones its own request deleted from their receipts.
 */
import { nationalIdsMatch } from '../../identity/national-id';
import { readNationalIdEvidence } from '../../identity/identification-evidence';
import { nationalIdContext } from '../../kyc/create-kyc-case';
import { expectedNationalIdContext } from '../../signing/create-signing-request';
import type { SigningContext } from '../../signing/signing-context';
import { blindIndexes } from '../../privacy/sealed-columns';
import { withKycCustomerContact } from '../../kyc/kyc-customer-contact';
import { openRequestText, openSignerContact } from '../../signing/round-personal-data';
import { normalizedEmail, normalizedPhone, phoneSql, subjectKeys, type SubjectKeys } from './subject-identifiers';
import type { DataSubject, ErasureDecision, SubjectMatch, SubjectRecord } from './subject-record';

/** EU AMLD (2015/849) Art. 40, Swedish penningtvättslag (2017:630) 5 kap. 3 §, Finnish AML Act 3:3: five years. */
export const amlRetentionYears = 5;
/** The general limitation period for claims under a contract (Swedish preskriptionslag 2 §, Finnish 10 years at the longest). */
export const contractRetentionYears = 10;

export const legalBasis = {
  signedContract:
    'GDPR Art. 17(3)(b) and (e): the signed agreement is kept as evidence of a contract for the limitation period (contract law, accounting retention).',
  aml: 'GDPR Art. 17(3)(b): customer due diligence records are kept under anti-money-laundering law (EU Directive 2015/849 Art. 40; Swedish penningtvättslag 5 kap. 3 §; Finnish AML Act 3:3), five years after the business relationship ends.',
  inProgress: 'GDPR Art. 6(1)(b): the item is still in progress (processing needed for the contract being made).',
  legalHold: 'GDPR Art. 17(3)(e): a legal hold applies (the data is needed for the establishment, exercise or defence of legal claims).',
  auditLog: 'GDPR Art. 17(3)(b) and (e), Art. 5(2): the append-only audit log records what was done with your records, by id only.',
} as const;

const endedRoundStatuses = new Set(['declined', 'expired', 'cancelled', 'failed']);
const endedKycStatuses = new Set(['approved', 'rejected', 'expired', 'cancelled', 'failed']);

/** When a legal hold was placed on the folder or a folder above it (a folder's hold covers its subfolders), else null. */
const folderHoldSql = (folderId: string) =>
  `(WITH RECURSIVE up AS (SELECT id, parent_id, legal_hold_at FROM folders WHERE id = ${folderId}
                          UNION ALL SELECT p.id, p.parent_id, p.legal_hold_at FROM folders p JOIN up ON p.id = up.parent_id)
    SELECT min(legal_hold_at)::text FROM up)`;

/** A discovered record with what the other fulfilment functions need to act on it (never leaves the server). */
export interface DiscoveredRecord {
  record: SubjectRecord;
  /** Signing requests: the person's signer rows in it. */
  signerIds: string[];
  /** Signing requests carrying a KYC case's declaration: that case. */
  kycCaseId?: string;
}

export async function discoverSubjectRecords(context: SigningContext, subject: DataSubject): Promise<SubjectRecord[]> {
  return (await discoverSubjectRecordDetails(context, subject)).map((found) => found.record);
}

const iso = (value: Date | string | null | undefined) => (value ? new Date(value).toISOString() : null);
const yearsAfter = (value: Date | string, years: number) => {
  const date = new Date(value);
  date.setUTCFullYear(date.getUTCFullYear() + years);
  return date;
};

export interface SignerCandidate {
  request_id: string;
  title: string | null;
  request_status: string;
  created_at: Date;
  completed_at: Date | null;
  sealed_at: Date | null;
  legal_hold_at: string | null;
  folder_legal_hold_at: string | null;
  signer_id: string;
  email: string | null;
  phone: string | null;
  contact_sealed: Buffer | null;
  text_sealed: Buffer | null;
  expected_national_id: Buffer | null;
  kyc_case_id: string | null;
  /** Every signer of the round signed (a round that then failed to seal still holds a concluded agreement). */
  all_signed: boolean;
}

interface KycCandidate {
  id: string;
  status: string;
  created_at: Date;
  ended_at: Date | null;
  legal_hold_at: string | null;
  folder_legal_hold_at: string | null;
  customer_email: string | null;
  customer_phone: string | null;
  customer_sealed: Buffer | null;
  customer_national_id: Buffer | null;
}

export async function discoverSubjectRecordDetails(context: SigningContext, subject: DataSubject): Promise<DiscoveredRecord[]> {
  const keys = subjectKeys(subject);
  if (keys.emails.length + keys.phones.length + keys.nationalIds.length === 0) return [];
  const now = new Date();
  const rounds = await matchedSigners(context, subject.organizationId, keys);
  const cases = await matchedKycCases(context, subject.organizationId, keys);

  const found: DiscoveredRecord[] = [];
  const kycDecisions = new Map<string, ErasureDecision>();
  for (const { row, matchedBy } of cases.values()) {
    const erasure = kycErasure(row, now);
    kycDecisions.set(row.id, erasure);
    found.push({
      record: {
        kind: 'kyc_case',
        id: row.id,
        role: 'customer',
        status: row.status,
        createdAt: iso(row.created_at)!,
        endedAt: iso(row.ended_at),
        matchedBy: [...matchedBy].sort(),
        erasure,
      },
      signerIds: [],
    });
  }
  for (const { rows, matchedBy } of rounds.values()) {
    const first = rows[0]!;
    const caseDecision = first.kyc_case_id ? kycDecisions.get(first.kyc_case_id) : undefined;
    found.push({
      record: {
        kind: 'signing_request',
        id: first.request_id,
        role: first.kyc_case_id ? 'signer (KYC declaration)' : 'signer',
        status: first.request_status,
        ...(first.title ? { title: first.title } : {}),
        createdAt: iso(first.created_at)!,
        endedAt: iso(first.completed_at),
        matchedBy: [...matchedBy].sort(),
        erasure: first.kyc_case_id ? (caseDecision ?? (await declarationErasure(context, first.kyc_case_id, now))) : roundErasure(first),
      },
      signerIds: rows.map((row) => row.signer_id),
      ...(first.kyc_case_id ? { kycCaseId: first.kyc_case_id } : {}),
    });
  }

  found.push(...(await auditEntriesNaming(context, subject.organizationId, found)));
  return found.sort((a, b) => a.record.createdAt.localeCompare(b.record.createdAt) || a.record.id.localeCompare(b.record.id));
}

export function roundErasure(row: Pick<SignerCandidate, 'request_status' | 'sealed_at' | 'completed_at' | 'legal_hold_at' | 'folder_legal_hold_at' | 'all_signed'>): ErasureDecision {
  if (row.legal_hold_at || row.folder_legal_hold_at) {
    return { action: 'keep', legalBasis: legalBasis.legalHold, explanation: 'A legal hold applies to this signing request; it is kept until the hold is lifted.' };
  }
  // Everyone signed, sealed or not (a round whose sealing failed ends 'failed' with every signature given): the
  // agreement was concluded, and its signatures are the evidence.
  if (row.request_status === 'completed' || row.sealed_at || (row.request_status === 'failed' && row.all_signed)) {
    const endedAt = row.sealed_at ?? row.completed_at;
    return {
      action: 'keep',
      legalBasis: legalBasis.signedContract,
      explanation: row.sealed_at
        ? 'You signed this agreement: the sealed document and its audit trail are kept as evidence of the contract.'
        : 'Every signer signed this agreement: the signed document and its audit trail are kept as evidence of the contract.',
      keepUntil: endedAt ? yearsAfter(endedAt, contractRetentionYears).toISOString() : null,
    };
  }
  if (row.request_status === 'pending') {
    return {
      action: 'keep',
      legalBasis: legalBasis.inProgress,
      explanation: 'Still in progress: the signing request must be cancelled first; once it has ended it can be erased.',
      keepUntil: null,
    };
  }
  if (endedRoundStatuses.has(row.request_status)) return { action: 'erase' };
  return { action: 'keep', legalBasis: legalBasis.inProgress, explanation: `Status ${row.request_status}: not erasable yet.`, keepUntil: null };
}

function kycErasure(row: Pick<KycCandidate, 'status' | 'ended_at' | 'legal_hold_at' | 'folder_legal_hold_at'>, now: Date): ErasureDecision {
  if (row.legal_hold_at || row.folder_legal_hold_at) {
    return { action: 'keep', legalBasis: legalBasis.legalHold, explanation: 'A legal hold applies to this KYC case; it is kept until the hold is lifted.' };
  }
  if (!endedKycStatuses.has(row.status) || !row.ended_at) {
    return {
      action: 'keep',
      legalBasis: legalBasis.inProgress,
      explanation: 'Still in progress: the KYC case must be cancelled or decided first; what anti-money-laundering law keeps is then kept.',
      keepUntil: null,
    };
  }
  if (row.status === 'approved') {
    return {
      action: 'keep',
      legalBasis: legalBasis.aml,
      explanation:
        'Customer due diligence for a business relationship: kept for five years after the relationship ends (the organisation knows when it ends; until then, at least the date shown).',
      keepUntil: yearsAfter(row.ended_at, amlRetentionYears).toISOString(),
    };
  }
  const keepUntil = yearsAfter(row.ended_at, amlRetentionYears);
  if (keepUntil <= now) return { action: 'erase' };
  return {
    action: 'keep',
    legalBasis: legalBasis.aml,
    explanation: `The KYC case ended ${row.status}; anti-money-laundering law keeps its records for five years after it ended, then it is erased.`,
    keepUntil: keepUntil.toISOString(),
  };
}

/** A declaration round whose case was not itself matched (the person signed under other contact data): follows the case. */
async function declarationErasure(context: SigningContext, caseId: string, now: Date): Promise<ErasureDecision> {
  const [row]: Array<Pick<KycCandidate, 'status' | 'ended_at' | 'legal_hold_at' | 'folder_legal_hold_at'>> = await context.dataSource.query(
    `SELECT c.status, c.ended_at, to_jsonb(c) ->> 'legal_hold_at' AS legal_hold_at, ${folderHoldSql('f.id')} AS folder_legal_hold_at
       FROM kyc_cases c JOIN folders f ON f.id = c.folder_id WHERE c.id = $1`,
    [caseId],
  );
  return row ? kycErasure(row, now) : { action: 'erase' };
}

async function matchedSigners(context: SigningContext, organizationId: string, keys: SubjectKeys) {
  const eidMatches = keys.nationalIds.length > 0 ? await eidIdentifiedSubjects(context, organizationId, 'signer', keys.nationalIds) : new Set<string>();
  // to_jsonb(...) ->> 'legal_hold_at' reads the hold columns where the retention migration added them, null before.
  // Signers' contacts are under each request's key: found by their blind indexes, or in clear for a request from
  // before record keys not moved yet (src/signing/round-personal-data.ts).
  const db = context.dataSource;
  const emailIndexes = await blindIndexes(db, organizationId, 'email', keys.emails);
  const phoneIndexes = await blindIndexes(db, organizationId, 'phone', keys.phones.map((digits) => `+${digits}`));
  const candidates: SignerCandidate[] = await db.query(
    `SELECT r.id AS request_id, r.title, r.text_sealed, r.status AS request_status, r.created_at, r.completed_at, r.sealed_at,
            to_jsonb(r) ->> 'legal_hold_at' AS legal_hold_at, ${folderHoldSql('f.id')} AS folder_legal_hold_at,
            s.id AS signer_id, s.email, s.phone, s.contact_sealed, s.expected_national_id, d.case_id AS kyc_case_id,
            NOT EXISTS (SELECT 1 FROM signers o WHERE o.request_id = r.id AND o.status <> 'signed') AS all_signed
       FROM signers s
       JOIN signing_requests r ON r.id = s.request_id
       JOIN folders f ON f.id = r.folder_id
       LEFT JOIN kyc_declarations d ON d.request_id = r.id
      WHERE r.organization_id = $1 AND r.deleted_at IS NULL
        AND (lower(s.email) = ANY($2::text[])
             OR ${phoneSql('s.phone')} = ANY($3::text[])
             OR s.email_index = ANY($6::bytea[])
             OR s.phone_index = ANY($7::bytea[])
             OR ($4::boolean AND s.expected_national_id IS NOT NULL)
             OR s.id = ANY($5::uuid[]))
      ORDER BY r.created_at, s.position`,
    [organizationId, keys.emails, keys.phones, keys.nationalIds.length > 0, [...eidMatches], emailIndexes, phoneIndexes],
  );
  const rows = await Promise.all(
    candidates.map(async (row) => ({
      ...row,
      ...(await openSignerContact(db, row.request_id, { name: null, email: row.email, phone: row.phone, contact_sealed: row.contact_sealed })),
      title: (await openRequestText(db, row.request_id, { title: row.title, message: null, document_filename: null, text_sealed: row.text_sealed })).title,
    })),
  );
  const byRequest = new Map<string, { rows: SignerCandidate[]; matchedBy: Set<SubjectMatch> }>();
  for (const row of rows) {
    const matchedBy = new Set<SubjectMatch>();
    const phone = row.phone ? normalizedPhone(row.phone) : undefined;
    if (row.email && keys.emails.includes(normalizedEmail(row.email))) matchedBy.add('email');
    if (phone && keys.phones.includes(phone)) matchedBy.add('phone');
    if (eidMatches.has(row.signer_id)) matchedBy.add('national_id');
    else if (row.expected_national_id && keys.nationalIds.length > 0) {
      const expected = await decryptOrUndefined(() =>
        context.recordKeys.decryptField({ kind: 'signing_request', id: row.request_id }, expectedNationalIdContext(row.signer_id), row.expected_national_id!),
      );
      if (expected && keys.nationalIds.some((id) => nationalIdsMatch(id, expected))) matchedBy.add('national_id');
    }
    if (matchedBy.size === 0) continue;
    const entry = byRequest.get(row.request_id) ?? { rows: [], matchedBy: new Set<SubjectMatch>() };
    entry.rows.push(row);
    for (const match of matchedBy) entry.matchedBy.add(match);
    byRequest.set(row.request_id, entry);
  }
  return byRequest;
}

async function matchedKycCases(context: SigningContext, organizationId: string, keys: SubjectKeys) {
  const eidMatches = keys.nationalIds.length > 0 ? await eidIdentifiedSubjects(context, organizationId, 'kyc_case', keys.nationalIds) : new Set<string>();
  // Customers' contacts are under each case's key: found by their blind indexes (src/kyc/kyc-customer-contact.ts),
  // or in clear for a case from before record keys not moved yet.
  const db = context.dataSource;
  const emailIndexes = await blindIndexes(db, organizationId, 'email', keys.emails);
  const phoneIndexes = await blindIndexes(db, organizationId, 'phone', keys.phones.map((digits) => `+${digits}`));
  const candidates: KycCandidate[] = await db.query(
    `SELECT c.id, c.status, c.created_at, c.ended_at, c.customer_email, c.customer_phone, c.customer_sealed, c.customer_national_id,
            to_jsonb(c) ->> 'legal_hold_at' AS legal_hold_at, ${folderHoldSql('f.id')} AS folder_legal_hold_at
       FROM kyc_cases c JOIN folders f ON f.id = c.folder_id
      WHERE c.organization_id = $1 AND c.deleted_at IS NULL
        AND (lower(c.customer_email) = ANY($2::text[])
             OR ${phoneSql('c.customer_phone')} = ANY($3::text[])
             OR c.customer_email_index = ANY($6::bytea[])
             OR c.customer_phone_index = ANY($7::bytea[])
             OR ($4::boolean AND c.customer_national_id IS NOT NULL)
             OR c.id = ANY($5::uuid[]))
      ORDER BY c.created_at`,
    [organizationId, keys.emails, keys.phones, keys.nationalIds.length > 0, [...eidMatches], emailIndexes, phoneIndexes],
  );
  const rows = await Promise.all(candidates.map((row) => withKycCustomerContact(db, { ...row, customer_name: null, customer_business_id: null })));
  const matched = new Map<string, { row: KycCandidate; matchedBy: Set<SubjectMatch> }>();
  for (const row of rows) {
    const matchedBy = new Set<SubjectMatch>();
    const phone = row.customer_phone ? normalizedPhone(row.customer_phone) : undefined;
    if (row.customer_email && keys.emails.includes(normalizedEmail(row.customer_email))) matchedBy.add('email');
    if (phone && keys.phones.includes(phone)) matchedBy.add('phone');
    if (eidMatches.has(row.id)) matchedBy.add('national_id');
    else if (row.customer_national_id && keys.nationalIds.length > 0) {
      const stored = await decryptOrUndefined(() => context.recordKeys.decryptField({ kind: 'kyc_case', id: row.id }, nationalIdContext(row.id), row.customer_national_id!));
      if (stored && keys.nationalIds.some((id) => nationalIdsMatch(id, stored))) matchedBy.add('national_id');
    }
    if (matchedBy.size > 0) matched.set(row.id, { row, matchedBy });
  }
  return matched;
}

/** The signers or KYC cases whose accepted eID identification carried one of the national ids. */
async function eidIdentifiedSubjects(context: SigningContext, organizationId: string, kind: 'signer' | 'kyc_case', nationalIds: string[]): Promise<Set<string>> {
  const rows: Array<{ id: string; subject_id: string; country: string | null }> = await context.dataSource.query(
    `SELECT id, subject_id, country FROM eid_identifications
      WHERE organization_id = $1 AND subject_kind = $2 AND outcome = 'identified' AND national_id_encrypted IS NOT NULL`,
    [organizationId, kind],
  );
  const matched = new Set<string>();
  for (const row of rows) {
    if (matched.has(row.subject_id)) continue;
    const carried = await decryptOrUndefined(() => readNationalIdEvidence(context.dataSource, context.adapters.keyService, row.id));
    if (carried && nationalIds.some((id) => nationalIdsMatch(id, carried, row.country))) matched.add(row.subject_id);
  }
  return matched;
}

/** A value whose key is gone (a shredded record) matches nothing. */
async function decryptOrUndefined(decrypt: () => Promise<string | undefined>): Promise<string | undefined> {
  try {
    return await decrypt();
  } catch {
    return undefined;
  }
}

/** Organisation audit log entries naming one of the person's records (the log names records and people by id only). */
async function auditEntriesNaming(context: SigningContext, organizationId: string, records: DiscoveredRecord[]): Promise<DiscoveredRecord[]> {
  if (records.length === 0) return [];
  const ids = records.map((found) => found.record.id);
  const rows: Array<{ sequence: number; type: string; occurred_at: Date; detail_text: string }> = await context.dataSource.query(
    `SELECT e.sequence, e.type, e.occurred_at, e.detail::text AS detail_text FROM organization_audit_events e
      WHERE e.organization_id = $1 AND e.detail IS NOT NULL
        AND EXISTS (SELECT 1 FROM unnest($2::text[]) AS named(id) WHERE strpos(e.detail::text, named.id) > 0)
      ORDER BY e.sequence`,
    [organizationId, ids],
  );
  return rows.map((row) => {
    const named = records.filter((found) => row.detail_text.includes(found.record.id));
    return {
      record: {
        kind: 'audit_entry',
        id: String(row.sequence),
        role: 'named record',
        status: row.type,
        title: `${row.type} (${named.map((found) => `${found.record.kind} ${found.record.id}`).join(', ')})`,
        createdAt: iso(row.occurred_at)!,
        endedAt: null,
        matchedBy: [...new Set(named.flatMap((found) => found.record.matchedBy))].sort(),
        erasure: {
          action: 'keep',
          legalBasis: legalBasis.auditLog,
          explanation: "An entry of the organisation's audit log: it names your record by id only and proves how it was handled.",
          keepUntil: null,
        },
      },
      signerIds: [],
    };
  });
}
