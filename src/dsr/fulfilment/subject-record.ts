/**
 * The verified person of a data-subject request and the records found about them (GDPR Art. 15-21).
 * Shared by the fulfilment functions (discovery, access, erasure, rectification, restriction).
 */

/** The identifiers the requester proved (verified), within one organisation. */
export interface DataSubject {
  organizationId: string;
  emails: string[];
  phones: string[];
  nationalIds: string[];
}

export type SubjectRecordKind = 'signing_request' | 'kyc_case' | 'audit_entry';
export type SubjectMatch = 'email' | 'phone' | 'national_id';

/** What erasure would do with a record and why. */
export type ErasureDecision =
  | { action: 'erase' }
  | { action: 'keep'; legalBasis: string; explanation: string; keepUntil?: string | null };

export interface SubjectRecord {
  kind: SubjectRecordKind;
  id: string;
  role: string;
  status: string;
  title?: string;
  createdAt: string;
  endedAt?: string | null;
  matchedBy: SubjectMatch[];
  /** What erasure would do and why: 'erase' or 'keep' with the legal basis. */
  erasure: ErasureDecision;
}
