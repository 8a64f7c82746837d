/**
 * A KYC customer's contact (name, email, phone, business id) stored under the case's record key, with blind
 * indexes of the email and phone (issue 14 part 1; src/privacy/sealed-columns.ts). Every reader of a case row
 * opens it here; a row of a case without a key yet (from before record keys) still holds it in clear.
 */
import type { RecordRef } from '../privacy/record-keys';
import { blindIndex, openColumns, sealColumns } from '../privacy/sealed-columns';
import type { Queryable } from '../privacy/record-keys';

export interface KycCustomerContact {
  customer_name: string | null;
  customer_email: string | null;
  customer_phone: string | null;
  customer_business_id: string | null;
}

/** The columns a case row stores for its customer's contact. */
export interface StoredKycCustomerContact extends KycCustomerContact {
  customer_sealed: Buffer | null;
  customer_email_index: Buffer | null;
  customer_phone_index: Buffer | null;
}

const recordOf = (caseId: string): RecordRef => ({ kind: 'kyc_case', id: caseId });

/** What to store: sealed with clear columns NULL, or (no key yet) in clear; indexes either way. */
export async function storedKycCustomerContact(db: Queryable, organizationId: string, caseId: string, contact: KycCustomerContact): Promise<StoredKycCustomerContact> {
  const indexes = {
    customer_email_index: (await blindIndex(db, organizationId, 'email', contact.customer_email)) ?? null,
    customer_phone_index: (await blindIndex(db, organizationId, 'phone', contact.customer_phone)) ?? null,
  };
  const sealed = await sealColumns(db, recordOf(caseId), 'kyc_cases', { ...contact });
  if (!sealed) return { ...contact, customer_sealed: null, ...indexes };
  return { customer_name: null, customer_email: null, customer_phone: null, customer_business_id: null, customer_sealed: sealed, ...indexes };
}

/** The row with its customer's contact readable (a tombstone's stays empty). */
export async function withKycCustomerContact<T extends { id: string; customer_sealed?: Buffer | null } & KycCustomerContact>(db: Queryable, row: T): Promise<T> {
  if (!row.customer_sealed) return row;
  const opened = await openColumns<KycCustomerContact & Record<string, string | null>>(db, recordOf(row.id), 'kyc_cases', row.customer_sealed);
  return {
    ...row,
    customer_name: opened.customer_name,
    customer_email: opened.customer_email,
    customer_phone: opened.customer_phone,
    customer_business_id: opened.customer_business_id,
  };
}

/** Sets a case's stored contact (inside the caller's transaction). */
export async function writeKycCustomerContact(db: Queryable, organizationId: string, caseId: string, contact: KycCustomerContact): Promise<void> {
  const stored = await storedKycCustomerContact(db, organizationId, caseId, contact);
  await db.query(
    `UPDATE kyc_cases SET customer_name = $2, customer_email = $3, customer_phone = $4, customer_business_id = $5,
            customer_sealed = $6, customer_email_index = $7, customer_phone_index = $8
      WHERE id = $1`,
    [caseId, stored.customer_name, stored.customer_email, stored.customer_phone, stored.customer_business_id, stored.customer_sealed, stored.customer_email_index, stored.customer_phone_index],
  );
}
