/**
 * Know-your-customer cases (R15): the shapes /v1 answers about them, written once for the server
 * (src/kyc/) and the pages (src/web/client). Types only, no imports beyond other contract files: the
 * browser code type-checks this file too. Times are ISO 8601 UTC strings.
 */
import type { Locale } from '../i18n/locales';
import type { IdentificationEvidenceView } from './identification';

export type KycCaseStatus =
  | 'invited'
  | 'in_progress'
  | 'signing'
  | 'in_review'
  | 'changes_requested'
  | 'approved'
  | 'rejected'
  | 'expired'
  | 'cancelled'
  /** A step the case cannot do (e.g. the customer's email address refused for good): ended, staff told. */
  | 'failed';

export const kycEndStatuses: readonly KycCaseStatus[] = ['approved', 'rejected', 'expired', 'cancelled', 'failed'];

export type KycCustomerType = 'person' | 'company';
export type KycIdentification = 'pin' | 'eid';

/** `POST /v1/kyc-cases` body (the contract). */
export interface CreateKycCaseBody {
  customer: { type: KycCustomerType; name: string; email: string; phone?: string; nationalId?: string; businessId?: string; locale?: Locale };
  /** A questionnaire of the organisation (its latest version); default: the built-in AML questionnaire. */
  questionnaireId?: string;
  identification?: KycIdentification;
  /** ISO 8601 duration, default P30D. */
  expiresIn?: string;
  reminders?: { firstAfter: string; every: string; max: number };
  folderId?: string;
}

/** `POST /v1/kyc-cases` → 201. `customer.pin` only when the PIN is for the sender to deliver. */
export interface CreatedKycCase {
  id: string;
  status: KycCaseStatus;
  createdAt: string;
  expiresAt: string;
  customer: { pin?: string };
}

/** A review decision, in order. A PEP answer or a risk rule needs a second approval by another member. */
export interface KycReviewDecisionView {
  decision: 'approved' | 'rejected' | 'changes_requested';
  reviewer: { id: string; name: string | null };
  reason: string | null;
  at: string;
  /** 1 for the first approval, 2 for the four-eyes approval. */
  round: 1 | 2 | null;
}

/** `GET /v1/kyc-cases/:id`. */
export interface KycCaseView {
  id: string;
  status: KycCaseStatus;
  folderId: string;
  createdAt: string;
  expiresAt: string;
  endedAt?: string;
  customer: { type: KycCustomerType; name: string; email: string; phone: string | null; businessId: string | null; locale: Locale; hasNationalId: boolean };
  identification: KycIdentification;
  questionnaire: { id: string; version: number; title: string };
  /** The customer's identification, once they identified with eID. */
  identificationEvidence?: IdentificationEvidenceView;
  /** The submitted answers (the last submission), with the questionnaire's question keys. */
  answers?: Record<string, unknown>;
  submittedAt?: string;
  /** Why a second reviewer is needed (`pep`, or a risk rule's id); empty when one approval suffices. */
  secondReviewReasons: string[];
  /** The signing round of the declaration (a child workflow), once it started. */
  declaration?: { requestId: string; status: string; sealedAt?: string; sha256?: string };
  reviews: KycReviewDecisionView[];
  remindersSent: number;
  /** Present once the case is approved: the encrypted evidence package can be downloaded. */
  evidencePackage?: { sha256: string; createdAt: string };
  /** Set while a legal hold keeps it from deletion: its own, or (with `folderId`) its folder's or one above. */
  legalHold?: { placedAt: string; reason: string; placedBy: string; folderId?: string };
  /** Set when the case was deleted (shredded): this is its tombstone; the customer's name and email read empty. */
  deletedAt?: string;
  /** The deletion's receipt, rule and reason (GET /v1/deletion-receipts/:id has the whole receipt). */
  deletion?: { receiptId: string; rule: string; reason: string };
}

/** One item of `GET /v1/kyc-cases` (cursor-paginated like signing requests). */
export interface ListedKycCase {
  id: string;
  status: KycCaseStatus;
  customer: { type: KycCustomerType; name: string; email: string };
  folderId: string;
  createdAt: string;
  expiresAt: string;
  needsSecondReview: boolean;
  /** Set when the case was deleted (shredded): the customer's name and email read empty. */
  deletedAt?: string;
}

/**
 * A questionnaire definition: versioned, per organisation, texts in every language. Question types are few
 * and validated server-side; `showIf` makes a question conditional on another's answer.
 */
export type LocalizedText = Record<Locale, string>;

export type QuestionDefinition =
  | { key: string; type: 'text'; label: LocalizedText; required: boolean; maxLength?: number; multiline?: boolean; showIf?: ShowIf }
  | { key: string; type: 'choice'; label: LocalizedText; required: boolean; options: Array<{ value: string; label: LocalizedText }>; multiple?: boolean; showIf?: ShowIf }
  | { key: string; type: 'yes_no'; label: LocalizedText; required: boolean; showIf?: ShowIf }
  | { key: string; type: 'beneficial_owners'; label: LocalizedText; required: boolean; showIf?: ShowIf }
  | { key: string; type: 'upload'; label: LocalizedText; required: boolean; accept: string[]; maxBytes: number; showIf?: ShowIf };

export interface ShowIf {
  question: string;
  equals: string | boolean;
  /** Only for this customer type. */
  customerType?: KycCustomerType;
}

/** A beneficial owner over 25 % (companies). */
export interface BeneficialOwnerAnswer {
  name: string;
  birthdate: string;
  ownershipPercent: number;
  pep: boolean;
}

export interface QuestionnaireDefinition {
  title: LocalizedText;
  questions: QuestionDefinition[];
  /** Answers that need a second reviewer: question key and the answer that triggers it. */
  secondReviewRules: Array<{ id: string; question: string; equals: string | boolean }>;
}

export interface QuestionnaireView {
  id: string;
  version: number;
  builtIn: boolean;
  definition: QuestionnaireDefinition;
  createdAt: string;
}

/** What the customer's page reads once the customer is in (`GET /v1/kyc/customer/case`). */
export interface CustomerCaseView {
  status: KycCaseStatus;
  organization: { name: string };
  customer: { type: KycCustomerType; name: string };
  locale: Locale;
  expiresAt: string;
  questionnaire: { id: string; version: number; definition: QuestionnaireDefinition };
  /** The saved draft, or the answers sent back for changes. */
  draft: Record<string, unknown>;
  /** Why the case was sent back, when it was. */
  changesRequested?: { reason: string; at: string };
  /** Uploaded files (ids and names only). */
  uploads: Array<{ id: string; questionKey: string; filename: string; bytes: number }>;
  /** While `signing`: where the declaration is signed (a signer link with an open session). */
  declaration?: { status: string };
}
