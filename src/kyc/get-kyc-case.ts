/**
 * A KYC case as the console and API callers see it, from the read model (PostgreSQL): a status read never
 * wakes a worker. The answers are decrypted for the reader; the national id never leaves encrypted storage
 * (only whether one was given).
 */
import { withKycCustomerContact } from './kyc-customer-contact';
import { legalHoldJsonSql, legalHoldView, type LegalHoldJson } from '../retention/legal-hold-sql';
import type { DataSource } from 'typeorm';
import { mayInFolder, requireInFolder, type AccessScope, type Permission } from '../accounts/access';
import type { KycCaseStatus, KycCaseView, KycCustomerType, KycIdentification, KycReviewDecisionView } from '../contract/kyc-cases';
import { AppError } from '../errors';
import type { Locale } from '../i18n/locales';
import { readIdentificationEvidence } from '../identity/identification-evidence';
import { auditChainKey } from '../signing/audit-chain-key';
import type { SigningContext } from '../signing/signing-context';
import { readKycAuditTrail, verifyKycAuditEvents } from './kyc-audit-trail';
import { getQuestionnaire } from './questionnaires';
import { recordDeletedError, tombstoneDeletionSql } from '../privacy/tombstones';

export interface KycCaseRow {
  id: string;
  organization_id: string;
  folder_id: string;
  status: KycCaseStatus;
  customer_type: KycCustomerType;
  customer_name: string;
  customer_email: string;
  customer_phone: string | null;
  customer_business_id: string | null;
  customer_locale: Locale;
  customer_national_id: Buffer | null;
  identification: KycIdentification;
  identification_id: string | null;
  questionnaire_id: string;
  questionnaire_version: number;
  reminders_sent: number;
  link_version: number;
  pin_version: number;
  failed_pin_attempts: number;
  locked_at: Date | null;
  draft: Buffer | null;
  draft_saved_at: Date | null;
  answers: Buffer | null;
  submitted_at: Date | null;
  second_review_reasons: string[];
  changes_reason: string | null;
  changes_requested_at: Date | null;
  evidence_blob_key: string | null;
  evidence_sha256: string | null;
  evidence_created_at: Date | null;
  created_by_user_id: string | null;
  created_at: Date;
  expires_at: Date;
  ended_at: Date | null;
  /** Set when the case was shredded (src/privacy/shred-record.ts): the row is a tombstone. */
  deleted_at: Date | null;
  /** The customer's contact under the case's key (src/kyc/kyc-customer-contact.ts); `readKycCaseRow` opens it. */
  customer_sealed: Buffer | null;
}

export const kycCaseNotFound = () => new AppError('not_found', 'No such KYC case.');

/** Answers and drafts are encrypted per case and per purpose: an answer copied to another case does not decrypt. */
export const answersContext = (caseId: string, which: 'draft' | 'answers') => ({ purpose: `kyc-${which}`, kycCase: caseId });

export async function readKycCaseRow(db: DataSource, caseId: string): Promise<KycCaseRow | undefined> {
  if (!/^[0-9a-f-]{36}$/i.test(caseId)) return undefined;
  const [row]: KycCaseRow[] = await db.query(`SELECT * FROM kyc_cases WHERE id = $1`, [caseId]);
  return row && withKycCustomerContact(db, row);
}

/**
 * The case if the scope may do `permission` in its folder: 404 where it cannot see it, 403 where it sees but may
 * not act, 410 when it was shredded (only its status view, `tombstone: true`, still reads it).
 */
export async function loadKycCaseInScope(
  db: DataSource,
  scope: AccessScope,
  caseId: string,
  permission: Permission,
  options: { tombstone?: boolean } = {},
): Promise<KycCaseRow> {
  const row = await readKycCaseRow(db, caseId);
  if (!row || row.organization_id !== scope.organizationId) throw kycCaseNotFound();
  requireInFolder(scope, permission, row.folder_id, kycCaseNotFound);
  if (row.deleted_at && !options.tombstone) throw recordDeletedError('KYC case', row.deleted_at);
  return row;
}

/** A shredded case: ids, statuses, times and hashes; no customer data, answers, reviews' reasons or evidence. */
async function kycTombstoneView(context: SigningContext, row: KycCaseRow, deletedAt: Date): Promise<KycCaseView> {
  const db = context.dataSource;
  const [deletion]: Array<{ deletion: KycCaseView['deletion'] | null }> = await db.query(`SELECT ${tombstoneDeletionSql('c')} AS deletion FROM kyc_cases c WHERE c.id = $1`, [
    row.id,
  ]);
  const questionnaire = await getQuestionnaire(db, row.organization_id, row.questionnaire_id, row.questionnaire_version);
  const reviews: Array<{ decision: KycReviewDecisionView['decision']; reviewer_id: string; round: 1 | 2 | null; at: Date }> = await db.query(
    `SELECT decision, reviewer_id, round, at FROM kyc_reviews WHERE case_id = $1 ORDER BY position`,
    [row.id],
  );
  return {
    id: row.id,
    status: row.status,
    folderId: row.folder_id,
    createdAt: row.created_at.toISOString(),
    expiresAt: row.expires_at.toISOString(),
    ...(row.ended_at ? { endedAt: row.ended_at.toISOString() } : {}),
    customer: { type: row.customer_type, name: '', email: '', phone: null, businessId: null, locale: row.customer_locale, hasNationalId: false },
    identification: row.identification,
    questionnaire: { id: questionnaire.id, version: questionnaire.version, title: questionnaire.definition.title.en },
    secondReviewReasons: [],
    reviews: reviews.map((review) => ({ decision: review.decision, reviewer: { id: review.reviewer_id, name: null }, reason: null, at: review.at.toISOString(), round: review.round })),
    remindersSent: row.reminders_sent,
    ...(row.evidence_sha256 && row.evidence_created_at ? { evidencePackage: { sha256: row.evidence_sha256, createdAt: row.evidence_created_at.toISOString() } } : {}),
    deletedAt: deletedAt.toISOString(),
    ...(deletion?.deletion ? { deletion: deletion.deletion } : {}),
  };
}

export async function decryptAnswers(context: SigningContext, caseId: string, which: 'draft' | 'answers', sealed: Buffer | null): Promise<Record<string, unknown> | undefined> {
  if (!sealed) return undefined;
  return JSON.parse(await context.recordKeys.decryptField({ kind: 'kyc_case', id: caseId }, answersContext(caseId, which), sealed)) as Record<string, unknown>;
}

export async function kycCaseView(context: SigningContext, row: KycCaseRow): Promise<KycCaseView> {
  const db = context.dataSource;
  const questionnaire = await getQuestionnaire(db, row.organization_id, row.questionnaire_id, row.questionnaire_version);
  const reviews: Array<{ decision: KycReviewDecisionView['decision']; reviewer_id: string; reviewer_name: string | null; reason: string | null; round: 1 | 2 | null; at: Date }> =
    await db.query(`SELECT * FROM kyc_reviews WHERE case_id = $1 ORDER BY position`, [row.id]);
  const [declaration]: Array<{ request_id: string; status: string; sealed_at: Date | null; sealed_sha256: string | null }> = await db.query(
    `SELECT d.request_id, r.status, r.sealed_at, r.sealed_sha256 FROM kyc_declarations d JOIN signing_requests r ON r.id = d.request_id
      WHERE d.case_id = $1 ORDER BY d.attempt DESC LIMIT 1`,
    [row.id],
  );
  const evidence = row.identification_id ? await readIdentificationEvidence(db, row.identification_id) : undefined;
  const answers = await decryptAnswers(context, row.id, 'answers', row.answers);
  return {
    id: row.id,
    status: row.status,
    folderId: row.folder_id,
    createdAt: row.created_at.toISOString(),
    expiresAt: row.expires_at.toISOString(),
    ...(row.ended_at ? { endedAt: row.ended_at.toISOString() } : {}),
    customer: {
      type: row.customer_type,
      name: row.customer_name,
      email: row.customer_email,
      phone: row.customer_phone,
      businessId: row.customer_business_id,
      locale: row.customer_locale,
      hasNationalId: row.customer_national_id !== null,
    },
    identification: row.identification,
    questionnaire: { id: questionnaire.id, version: questionnaire.version, title: questionnaire.definition.title.en },
    ...(evidence ? { identificationEvidence: evidence } : {}),
    ...(answers && row.submitted_at ? { answers, submittedAt: row.submitted_at.toISOString() } : {}),
    secondReviewReasons: row.second_review_reasons,
    ...(declaration
      ? {
          declaration: {
            requestId: declaration.request_id,
            status: declaration.status,
            ...(declaration.sealed_at ? { sealedAt: declaration.sealed_at.toISOString() } : {}),
            ...(declaration.sealed_sha256 ? { sha256: declaration.sealed_sha256 } : {}),
          },
        }
      : {}),
    reviews: reviews.map((review) => ({
      decision: review.decision,
      reviewer: { id: review.reviewer_id, name: review.reviewer_name },
      reason: review.reason,
      at: review.at.toISOString(),
      round: review.round,
    })),
    remindersSent: row.reminders_sent,
    ...(row.evidence_sha256 && row.evidence_created_at ? { evidencePackage: { sha256: row.evidence_sha256, createdAt: row.evidence_created_at.toISOString() } } : {}),
  };
}

export async function getKycCase(context: SigningContext, scope: AccessScope, caseId: string): Promise<KycCaseView> {
  const row = await loadKycCaseInScope(context.dataSource, scope, caseId, 'view', { tombstone: true });
  if (row.deleted_at) return kycTombstoneView(context, row, row.deleted_at);
  // The hold is the reader's to know, not part of the case's evidence (kycCaseView also builds that).
  const [hold]: Array<{ legal_hold: LegalHoldJson | null }> = await context.dataSource.query(
    `SELECT ${legalHoldJsonSql('c')} AS legal_hold FROM kyc_cases c WHERE c.id = $1`,
    [row.id],
  );
  return { ...(await kycCaseView(context, row)), ...legalHoldView(hold?.legal_hold ?? null) };
}

/** The case's audit trail with its chain verified; IPs and user agents only for those who may act in its folder (as for requests). */
export async function readKycCaseAuditTrail(context: SigningContext, scope: AccessScope, caseId: string) {
  const row = await loadKycCaseInScope(context.dataSource, scope, caseId, 'view');
  const seesClients = mayInFolder(scope, 'send', row.folder_id);
  const events = await readKycAuditTrail(context.dataSource, row.id);
  const verification = verifyKycAuditEvents(row.id, events, auditChainKey(context.dataSource));
  return {
    events: events.map((event) => ({
      sequence: event.sequence,
      eventKey: event.eventKey,
      type: event.type,
      at: event.occurredAt.toISOString(),
      actor: event.actor,
      ip: seesClients ? (event.ip ?? undefined) : undefined,
      userAgent: seesClients ? (event.userAgent ?? undefined) : undefined,
      detail: event.detail ?? undefined,
      prevHash: event.prevHash ?? undefined,
      hash: event.hash,
    })),
    chainValid: verification.valid,
    chainHead: verification.head,
    firstBrokenEvent: verification.firstBrokenEvent,
  };
}
