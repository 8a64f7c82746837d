/**
 * Each identification a broker answered, kept as evidence (R6): in clear what evidence may show (scheme,
 * name, birth date, country, the national id masked to its birth-date part, the broker's transaction id,
 * acr, time); encrypted the national id (to compare) and the whole ID token (the broker's signed statement,
 * for whoever must check the evidence later) — under the key of the record the identification belongs to
 * (the signer's signing request, the KYC case, or the data-subject request; src/privacy/record-keys.ts), so shredding the record makes
 * them unreadable. Values sealed before record keys (under the key service alone) still read.
 */
import { createHash, randomUUID } from 'node:crypto';
import type { DataSource, EntityManager } from 'typeorm';
import type { KeyService } from '../adapters/key-service';
import type { IdentificationEvidenceView } from '../contract/identification';
import { decryptField, encryptField } from '../privacy/encrypted-field';
import { recordKeyringOf, recordKeyringOfDatabase, type Queryable, type RecordRef } from '../privacy/record-keys';
import type { EidIdentity } from './eid-broker';
import { maskNationalId } from './national-id';

import { nationalIdsMatch } from './national-id';

export { nationalIdsMatch };

export type IdentificationSubjectKind = 'signer' | 'kyc_case' | 'data_subject_request';

export const tokenContext = (id: string) => ({ purpose: 'eid-id-token', identification: id });
export const evidenceContext = (id: string) => ({ purpose: 'eid-evidence', identification: id });
export const nationalIdContext = (id: string) => ({ purpose: 'eid-national-id', identification: id });

/** The record an identification belongs to: a signer's is their signing request's. */
async function recordOfSubject(db: Queryable, subjectKind: IdentificationSubjectKind, subjectId: string): Promise<RecordRef | undefined> {
  if (subjectKind === 'kyc_case') return { kind: 'kyc_case', id: subjectId };
  if (subjectKind === 'data_subject_request') return { kind: 'data_subject_request', id: subjectId };
  const rows: Array<{ request_id: string }> = await db.query(`SELECT request_id FROM signers WHERE id = $1`, [subjectId]);
  return rows[0] ? { kind: 'signing_request', id: rows[0].request_id } : undefined;
}

/** Under the record's key when this process has the keyring (every service and worker); else as before. */
async function seal(db: Queryable, keyService: KeyService, record: RecordRef | undefined, context: Record<string, string>, plaintext: string) {
  const recordKeys = recordKeyringOf(keyService);
  return recordKeys && record ? recordKeys.encryptField(record, context, plaintext, db) : encryptField(keyService, context, plaintext);
}

async function unseal(db: Queryable, keyService: KeyService, id: string, context: Record<string, string>, sealed: Buffer): Promise<string> {
  const recordKeys = recordKeyringOf(keyService);
  if (!recordKeys) return decryptField(keyService, context, sealed);
  const rows: Array<{ subject_kind: IdentificationSubjectKind; subject_id: string }> = await db.query(
    `SELECT subject_kind, subject_id FROM eid_identifications WHERE id = $1`,
    [id],
  );
  const record = rows[0] && (await recordOfSubject(db, rows[0].subject_kind, rows[0].subject_id));
  return record ? recordKeys.decryptField(record, context, sealed) : decryptField(keyService, context, sealed);
}

/** What of the evidence names the person: under the record key (`evidence_sealed`), the clear columns NULL. */
interface PersonalEvidence {
  name: string | null;
  birthdate: string | null;
  national_id_masked: string | null;
}

/** Seals the personal part when the record has its key; else (a record from before record keys) it stays in clear until the move. */
async function sealPersonalEvidence(db: Queryable, record: RecordRef | undefined, id: string, personal: PersonalEvidence): Promise<Buffer | null> {
  if (!record || (personal.name === null && personal.birthdate === null && personal.national_id_masked === null)) return null;
  const sealed = await recordKeyringOfDatabase(db).encryptFieldUnderRecordKey(record, evidenceContext(id), JSON.stringify(personal), db);
  return sealed ?? null;
}

/**
 * Seals the evidence of a row written in clear (before migration 1763944000000, or before its record had a
 * key); used by the move to record keys. Returns whether it sealed it.
 */
export async function sealClearEvidence(db: Queryable, row: { id: string; subject_kind: IdentificationSubjectKind; subject_id: string } & PersonalEvidence): Promise<boolean> {
  const record = await recordOfSubject(db, row.subject_kind, row.subject_id);
  const sealed = await sealPersonalEvidence(db, record, row.id, row);
  if (!sealed) return false;
  await db.query(
    `UPDATE eid_identifications SET evidence_sealed = $2, name = NULL, birthdate = NULL, national_id_masked = NULL WHERE id = $1 AND evidence_sealed IS NULL`,
    [row.id, sealed],
  );
  return true;
}

/** The evidence's personal part, from `evidence_sealed` when it is sealed. */
export async function openPersonalEvidence(
  db: Queryable,
  row: { id: string; subject_kind: IdentificationSubjectKind; subject_id: string; evidence_sealed: Buffer | null } & PersonalEvidence,
): Promise<PersonalEvidence> {
  if (!row.evidence_sealed) return { name: row.name, birthdate: row.birthdate, national_id_masked: row.national_id_masked };
  const record = await recordOfSubject(db, row.subject_kind, row.subject_id);
  if (!record) throw new Error('an identification\'s subject is gone');
  const opened = JSON.parse(await recordKeyringOfDatabase(db).decryptField(record, evidenceContext(row.id), row.evidence_sealed)) as PersonalEvidence;
  return { name: opened.name, birthdate: opened.birthdate, national_id_masked: opened.national_id_masked };
}

interface IdentificationRow {
  id: string;
  scheme: string | null;
  name: string | null;
  birthdate: string | null;
  country: string | null;
  national_id_masked: string | null;
  transaction_id: string | null;
  acr: string | null;
  identified_at: Date;
}

const evidenceOf = (row: IdentificationRow): IdentificationEvidenceView => ({
  scheme: row.scheme,
  name: row.name,
  birthdate: row.birthdate,
  country: row.country,
  nationalIdMasked: row.national_id_masked,
  transactionId: row.transaction_id,
  acr: row.acr,
  identifiedAt: new Date(row.identified_at).toISOString(),
});

/** What the audit trail records of an identification: the evidence view, nothing encrypted. */
export const auditDetailOf = (evidence: IdentificationEvidenceView): Record<string, string | null> => ({
  scheme: evidence.scheme,
  name: evidence.name,
  birthdate: evidence.birthdate,
  country: evidence.country,
  nationalIdMasked: evidence.nationalIdMasked,
  transactionId: evidence.transactionId,
  acr: evidence.acr,
  identifiedAt: evidence.identifiedAt,
});

export async function storeIdentification(
  db: DataSource | EntityManager,
  keyService: KeyService,
  input: { organizationId: string; subjectKind: IdentificationSubjectKind; subjectId: string; identity: EidIdentity; outcome: 'identified' | 'mismatch' },
): Promise<{ id: string; evidence: IdentificationEvidenceView }> {
  const id = randomUUID();
  const { identity } = input;
  const record = await recordOfSubject(db, input.subjectKind, input.subjectId);
  const idToken = await seal(db, keyService, record, tokenContext(id), identity.idToken);
  const nationalId = identity.nationalId ? await seal(db, keyService, record, nationalIdContext(id), identity.nationalId) : null;
  const row: IdentificationRow = {
    id,
    scheme: identity.scheme,
    name: identity.name,
    birthdate: identity.birthdate,
    country: identity.country,
    national_id_masked: identity.nationalId ? maskNationalId(identity.nationalId) : null,
    transaction_id: identity.transactionId,
    acr: identity.acr,
    identified_at: identity.identifiedAt,
  };
  const evidenceSealed = await sealPersonalEvidence(db, record, id, row);
  await db.query(
    `INSERT INTO eid_identifications (id, organization_id, subject_kind, subject_id, outcome, issuer, scheme, name, birthdate, country,
       national_id_masked, national_id_encrypted, transaction_id, acr, id_token_encrypted, identified_at, subject_sha256, evidence_sealed)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)`,
    [
      id,
      input.organizationId,
      input.subjectKind,
      input.subjectId,
      input.outcome,
      identity.issuer,
      row.scheme,
      evidenceSealed ? null : row.name,
      evidenceSealed ? null : row.birthdate,
      row.country,
      evidenceSealed ? null : row.national_id_masked,
      nationalId,
      row.transaction_id,
      row.acr,
      idToken,
      row.identified_at,
      subjectDigest(identity),
      evidenceSealed,
    ],
  );
  return { id, evidence: evidenceOf(row) };
}

export async function readIdentificationEvidence(db: DataSource | EntityManager, id: string): Promise<IdentificationEvidenceView | undefined> {
  const rows: Array<IdentificationRow & { subject_kind: IdentificationSubjectKind; subject_id: string; evidence_sealed: Buffer | null }> = await db.query(
    `SELECT id, subject_kind, subject_id, scheme, name, birthdate, country, national_id_masked, transaction_id, acr, identified_at,
            to_jsonb(i) ->> 'evidence_sealed' AS evidence_sealed
       FROM eid_identifications i WHERE id = $1`,
    [id],
  );
  const row = rows[0];
  if (!row) return undefined;
  // Read through to_jsonb (hex text) so a schema from before migration 1763944000000 reads too.
  const sealed = row.evidence_sealed ? Buffer.from(String(row.evidence_sealed).replace(/^\\x/, ''), 'hex') : null;
  return evidenceOf({ ...row, ...(await openPersonalEvidence(db, { ...row, evidence_sealed: sealed })) });
}

/** The broker's ID token as it was received (JWS compact form), decrypted for an evidence package. */
export async function readIdTokenEvidence(db: DataSource | EntityManager, keyService: KeyService, id: string): Promise<string> {
  const rows: Array<{ id_token_encrypted: Buffer }> = await db.query(`SELECT id_token_encrypted FROM eid_identifications WHERE id = $1`, [id]);
  if (!rows[0]) throw new Error(`no identification ${id}`);
  return unseal(db, keyService, id, tokenContext(id), rows[0].id_token_encrypted);
}

/** The national id an identification carried, decrypted to compare with another (never to show). */
export async function readNationalIdEvidence(db: DataSource | EntityManager, keyService: KeyService, id: string): Promise<string | undefined> {
  const rows: Array<{ national_id_encrypted: Buffer | null }> = await db.query(`SELECT national_id_encrypted FROM eid_identifications WHERE id = $1`, [id]);
  const sealed = rows[0]?.national_id_encrypted;
  return sealed ? unseal(db, keyService, id, nationalIdContext(id), sealed) : undefined;
}

/** The broker account behind an identity, as a digest (the broker's `sub` itself is not kept). */
export const subjectDigest = (identity: Pick<EidIdentity, 'issuer' | 'subject'>) =>
  createHash('sha256').update(`${identity.issuer}\n${identity.subject}`).digest('hex');

/**
 * Whether `identity` is the person an earlier accepted identification was: by national id when the earlier
 * one had one (then this one must have it too), else the same broker account, else the same name and birth
 * date (both known). Unknown on every count is not the same person.
 */
export async function isSamePerson(
  db: DataSource | EntityManager,
  keyService: KeyService,
  earlierId: string,
  identity: EidIdentity,
): Promise<boolean> {
  const rows: Array<{ subject_sha256: string; name: string | null; birthdate: string | null; country: string | null }> = await db.query(
    `SELECT subject_sha256, name, birthdate, country FROM eid_identifications WHERE id = $1`,
    [earlierId],
  );
  const earlier = rows[0];
  if (!earlier) return false;
  const earlierNationalId = await readNationalIdEvidence(db, keyService, earlierId);
  if (earlierNationalId) return nationalIdsMatch(earlierNationalId, identity.nationalId, identity.country);
  if (earlier.subject_sha256 === subjectDigest(identity)) return true;
  return earlier.name !== null && earlier.birthdate !== null && earlier.name === identity.name && earlier.birthdate === identity.birthdate;
}
