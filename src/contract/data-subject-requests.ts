/**
 * Data-subject requests (R14, GDPR Art. 12-21): the shapes /v1 answers about them, written once for the
 * server (src/dsr/, src/api/routes/data-subject-requests.ts, whose zod schemas are checked against these
 * types at compile time) and the pages (src/web/client). Types only: the browser code type-checks this file
 * too. Times are ISO 8601 UTC strings.
 */
import type { Locale } from '../i18n/locales';

export const dataSubjectRequestTypes = ['access', 'erasure', 'rectification', 'restriction', 'objection'] as const;
export type DataSubjectRequestType = (typeof dataSubjectRequestTypes)[number];

export const dataSubjectRequestStatuses = ['awaiting_identity', 'in_progress', 'completed', 'rejected', 'withdrawn'] as const;
export type DataSubjectRequestStatus = (typeof dataSubjectRequestStatuses)[number];
export const dataSubjectRequestEndStatuses: readonly DataSubjectRequestStatus[] = ['completed', 'rejected', 'withdrawn'];

/** How the requester proved who they are. */
export type IdentityMethod = 'email_code' | 'sms_code' | 'eid';

/** `POST /v1/data-subject-requests` body (the contract). The public intake takes the same minus `receivedAt`. */
export interface CreateDataSubjectRequestBody {
  type: DataSubjectRequestType;
  requester: { name: string; email: string; phone?: string; locale?: Locale };
  details?: string;
  /** When the organisation received the request (the legal clock starts here); default now, never in the future. */
  receivedAt?: string;
}

/** `POST /v1/data-subject-requests` → 201. */
export interface CreatedDataSubjectRequest {
  id: string;
  type: DataSubjectRequestType;
  status: DataSubjectRequestStatus;
  receivedAt: string;
  /** One month from receipt (Art. 12(3)); see `extendedUntil` for an extension. */
  dueAt: string;
}

/** A record a fulfilment handled, and what was done with it (erasure: erased or kept under `legalBasis`). */
export interface HandledRecordView {
  kind: 'signing_request' | 'kyc_case' | 'audit_entry';
  id: string;
  action: 'exported' | 'erased' | 'kept' | 'rectified' | 'restricted';
  legalBasis?: string;
  explanation?: string;
  keepUntil?: string | null;
}

/** `GET /v1/data-subject-requests/:id`. `requester` and `details` only for members who may read documents (not support staff). */
export interface DataSubjectRequestView extends CreatedDataSubjectRequest {
  identityConfirmedAt?: string;
  identityMethod?: IdentityMethod;
  extendedUntil?: string;
  extensionReason?: string;
  extensionNotifiedAt?: string;
  /** The deadline that applies: `extendedUntil` when extended, else `dueAt`. */
  deadline: string;
  /** Open past its deadline (marked by the request's workflow when the deadline passed). */
  overdue: boolean;
  overdueAt?: string;
  channel: 'api' | 'public';
  requester?: { name: string; email: string; phone: string | null; locale: Locale };
  details?: string | null;
  assignee: { id: string; name: string | null; email: string } | null;
  /** Whether the type's fulfilment ran (access package built, erasure done, …). */
  fulfilledAt?: string;
  /** Why the last fulfilment could not be applied (a stable code, words without personal data); absent once one succeeds. */
  fulfilmentRefusal?: { code: 'rectification_invalid' | 'rectification_conflict' | 'rectification_nothing_open'; message: string; at: string };
  handledRecords: HandledRecordView[];
  /** The legal bases under which records were kept (erasure), as told to the requester. */
  legalBases: Array<{ recordKind: string; recordId: string; legalBasis: string; explanation: string; keepUntil?: string | null }>;
  accessPackage?: { sha256: string; size: number; recordCount: number; expiresAt: string };
  completedAt?: string;
  answer?: string | null;
  rejectionReason?: string | null;
  createdAt: string;
}

/** One item of `GET /v1/data-subject-requests` (cursor-paged, newest receipt first; `overdue=true` filters). */
export interface ListedDataSubjectRequest {
  id: string;
  type: DataSubjectRequestType;
  status: DataSubjectRequestStatus;
  receivedAt: string;
  dueAt: string;
  extendedUntil?: string;
  deadline: string;
  overdue: boolean;
  identityConfirmedAt?: string;
  assignee: { id: string; name: string | null } | null;
  /** Only for members who may read documents (not support staff). */
  requesterName?: string;
}

/** `GET /v1/data-subject-requests/:id/records`: discovery (every record of the organisation about the verified person). */
export interface SubjectRecordView {
  kind: 'signing_request' | 'kyc_case' | 'audit_entry';
  id: string;
  role: string;
  status: string;
  title?: string;
  createdAt: string;
  endedAt?: string | null;
  matchedBy: Array<'email' | 'phone' | 'national_id'>;
  erasure: { action: 'erase' } | { action: 'keep'; legalBasis: string; explanation: string; keepUntil?: string | null };
}

/** `GET /v1/privacy/:orgSlug`: what the public intake page shows. */
export interface PrivacyOrganizationView {
  name: string;
  slug: string;
  defaultLocale: Locale;
  /** Whether requesters can confirm their identity with eID here (an eID broker is configured). */
  eidAvailable: boolean;
}

/** `POST /v1/privacy/:orgSlug/requests` → 201: the requester finds their code and link in their email. */
export interface PublicDataSubjectRequestReceipt {
  type: DataSubjectRequestType;
  status: DataSubjectRequestStatus;
  receivedAt: string;
  dueAt: string;
}

/** `GET /v1/privacy/requests/status` (the requester's session cookie; also the answer to confirm). */
export interface RequesterStatusView {
  type: DataSubjectRequestType;
  status: DataSubjectRequestStatus;
  organization: { name: string; slug: string };
  locale: Locale;
  receivedAt: string;
  dueAt: string;
  extendedUntil?: string;
  extensionReason?: string;
  identityConfirmedAt?: string;
  completedAt?: string;
  answer?: string | null;
  rejectionReason?: string | null;
  /** What was done with the requester's records (erasure: what was kept and why). */
  handledRecords: HandledRecordView[];
  /** An access request's package, downloadable after re-confirming with a fresh code until `expiresAt`. */
  accessPackage?: { expiresAt: string; expired: boolean; size: number };
}
