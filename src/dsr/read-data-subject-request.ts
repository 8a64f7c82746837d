/**
 * Reading a data-subject request: its row, and the requester's data decrypted under the request's record
 * key (a shredded request's key is gone: RecordKeyDestroyedError, 410 `record_deleted`).
 */
import type { DataSource } from 'typeorm';
import type { DataSubjectRequestStatus, DataSubjectRequestType, HandledRecordView, IdentityMethod } from '../contract/data-subject-requests';
import type { Locale } from '../i18n/locales';
import type { SigningContext } from '../signing/signing-context';
import { dsrFieldContext, dsrRecord } from './create-data-subject-request';
import type { DataSubject } from './fulfilment';

export interface DataSubjectRequestRow {
  id: string;
  organization_id: string;
  type: DataSubjectRequestType;
  status: DataSubjectRequestStatus;
  channel: 'api' | 'public';
  requester_name: Buffer | null;
  requester_email: Buffer | null;
  requester_phone: Buffer | null;
  requester_locale: Locale;
  details: Buffer | null;
  received_at: Date;
  due_at: Date;
  extended_until: Date | null;
  extension_reason: Buffer | null;
  extension_notified_at: Date | null;
  identity_confirmed_at: Date | null;
  identity_method: IdentityMethod | null;
  /** The eID identification that confirmed the requester (src/dsr/requester-eid.ts). */
  identification_id: string | null;
  /** The national id that eID proved, encrypted under the request's record key. */
  requester_national_id: Buffer | null;
  code_version: number;
  code_issued_at: Date | null;
  confirmed_code_version: number | null;
  failed_code_attempts: number;
  locked_at: Date | null;
  link_version: number;
  assignee_user_id: string | null;
  overdue_at: Date | null;
  completed_at: Date | null;
  answer: Buffer | null;
  rejection_reason: Buffer | null;
  fulfilled_at: Date | null;
  legal_bases: Array<{ recordKind: string; recordId: string; legalBasis: string; explanation: string; keepUntil?: string | null }>;
  handled_records: HandledRecordView[];
  access_package_blob_key: string | null;
  access_package_sha256: string | null;
  access_package_size: string | null;
  access_package_record_count: number | null;
  access_package_expires_at: Date | null;
  /** Why the last fulfilment could not be applied (src/activities/dsr-activities.ts); NULL once one succeeds. */
  fulfilment_refusal: { code: string; message: string; at: string } | null;
  created_by: string;
  created_at: Date;
}

export async function readDataSubjectRequestRow(db: DataSource, dsrId: string, organizationId?: string): Promise<DataSubjectRequestRow | undefined> {
  const [row]: DataSubjectRequestRow[] = await db.query(`SELECT * FROM data_subject_requests WHERE id = $1 AND ($2::uuid IS NULL OR organization_id = $2)`, [
    dsrId,
    organizationId ?? null,
  ]);
  return row;
}

export interface Requester {
  name: string;
  email: string;
  phone: string | null;
  locale: Locale;
}

type SealedField = Parameters<typeof dsrFieldContext>[1];

export async function decryptDsrField(context: SigningContext, row: Pick<DataSubjectRequestRow, 'id'>, field: SealedField, sealed: Buffer | null): Promise<string | null> {
  return sealed ? context.recordKeys.decryptField(dsrRecord(row.id), dsrFieldContext(row.id, field), sealed) : null;
}

export async function encryptDsrField(context: SigningContext, dsrId: string, field: SealedField, value: string): Promise<Buffer> {
  return context.recordKeys.encryptField(dsrRecord(dsrId), dsrFieldContext(dsrId, field), value);
}

export async function readRequester(context: SigningContext, row: DataSubjectRequestRow): Promise<Requester> {
  return {
    name: (await decryptDsrField(context, row, 'name', row.requester_name)) ?? '',
    email: (await decryptDsrField(context, row, 'email', row.requester_email)) ?? '',
    phone: await decryptDsrField(context, row, 'phone', row.requester_phone),
    locale: row.requester_locale,
  };
}

/**
 * The person as far as they proved it: the email the code went to, or the phone when they confirmed with the
 * SMS code; with eID also the national id it carried (the link they opened came to the email).
 */
export async function verifiedSubject(context: SigningContext, row: DataSubjectRequestRow): Promise<DataSubject> {
  const requester = await readRequester(context, row);
  const nationalId = row.identity_method === 'eid' ? await decryptDsrField(context, row, 'national_id', row.requester_national_id) : null;
  return {
    organizationId: row.organization_id,
    emails: row.identity_method === 'sms_code' ? [] : [requester.email],
    phones: requester.phone && row.identity_method === 'sms_code' ? [requester.phone] : [],
    nationalIds: nationalId ? [nationalId] : [],
  };
}
