/**
 * The state of a signing request as the read model holds it (src/signing/round-read-model.ts): one lookup
 * in PostgreSQL, no worker involved, so it answers during a Temporal or worker outage too. The workflow's
 * own view (its Query) is for support: `queryRound`, shown beside the history.
 */
import { openRequestText, openSignerContact } from './round-personal-data';
import { legalHoldJsonSql, legalHoldView, type LegalHoldJson } from '../retention/legal-hold-sql';
import type { IdentificationEvidenceView, IdentificationMethod } from '../contract/identification';
import { openPersonalEvidence, type IdentificationSubjectKind } from '../identity/identification-evidence';
import { requireInFolder, type AccessScope, type Permission } from '../accounts/access';
import { SigningRequest } from '../database/entities';
import type { TemporalTarget } from '../adapters/temporal-connection';
import { AppError } from '../errors';
import type { SigningRequestView } from '../contract/signing-requests';
import type { Locale } from '../i18n/locales';
import { roundStateQuery, type RoundState, type SignerStatus } from '../workflows/signing-round';
import { workflowIdForRequest } from './create-signing-request';
import type { SigningContext } from './signing-context';
import { refuseIfKycDeclaration } from '../kyc/declaration-requests';
import { recordDeletedError, tombstoneDeletionSql, type TombstoneDeletion } from '../privacy/tombstones';

export type { SigningRequestView };

export const signingRequestNotFound = () => new AppError('not_found', 'No such signing request.');

/**
 * The request if the scope may see it (another organisation's, or one outside the scope's folders, is 404)
 * and may do `permission` in its folder (else 403).
 */
export async function findOwnRequest(
  context: SigningContext,
  scope: AccessScope,
  requestId: string,
  permission: Permission = 'view',
): Promise<SigningRequest> {
  const request = await context.dataSource.getRepository(SigningRequest).findOneBy({ id: requestId, organizationId: scope.organizationId });
  if (!request) throw signingRequestNotFound();
  requireInFolder(scope, permission, request.folderId, signingRequestNotFound);
  // A shredded request keeps only its tombstone (getSigningRequest): nothing else is read or done on it.
  if (request.deletedAt) throw recordDeletedError('signing request', request.deletedAt);
  // A sender's action (remind, cancel, reset a PIN or identification) is the KYC case's own on its declaration.
  if (permission === 'send') await refuseIfKycDeclaration(context.dataSource, request.id);
  return request;
}

/** One status read is one statement: the request and its signers together (it is the API's hottest path). */
interface StatusRow {
  id: string;
  folder_id: string;
  title: string | null;
  text_sealed: Buffer | null;
  status: RoundState['status'];
  routing: 'parallel' | 'sequential';
  document_code: string;
  created_at: Date;
  expires_at: Date;
  reminders_sent: number;
  reminder_first_after_ms: string;
  reminder_every_ms: string;
  reminder_max: number;
  sealed_at: Date | null;
  sealed_sha256: string | null;
  deleted_at: Date | null;
  deletion: TombstoneDeletion | null;
  legal_hold: LegalHoldJson | null;
  signers: Array<{
    id: string;
    name: string | null;
    email: string | null;
    sealed: string | null;
    locale: Locale;
    status: SignerStatus;
    locked: boolean;
    invitedAt: string | null;
    openedAt: string | null;
    signedAt: string | null;
    declinedAt: string | null;
    identificationMethod: IdentificationMethod;
    eidAcr: string | null;
    expectsNationalId: boolean;
    evidence:
      | (Omit<IdentificationEvidenceView, 'identifiedAt'> & {
          identifiedAt: string;
          id?: string;
          subjectKind?: IdentificationSubjectKind;
          subjectId?: string;
          sealed?: string | null;
        })
      | null;
  }>;
}

export async function getSigningRequest(context: SigningContext, scope: AccessScope, requestId: string): Promise<SigningRequestView> {
  const rows: StatusRow[] = await context.dataSource.query(
    `SELECT r.id, r.folder_id, r.title, r.text_sealed, r.status, r.routing, r.document_code, r.created_at, r.expires_at, r.reminders_sent,
            r.reminder_first_after_ms, r.reminder_every_ms, r.reminder_max, r.sealed_at, r.sealed_sha256,
            r.deleted_at, ${tombstoneDeletionSql('r')} AS deletion, ${legalHoldJsonSql('r')} AS legal_hold,
            coalesce((SELECT json_agg(json_build_object(
                        'id', s.id, 'name', s.name, 'email', s.email, 'sealed', encode(s.contact_sealed, 'base64'), 'locale', s.locale, 'status', s.status, 'locked', s.locked_at IS NOT NULL,
                        'invitedAt', s.invited_at, 'openedAt', s.opened_at, 'signedAt', s.signed_at, 'declinedAt', s.declined_at,
                        'identificationMethod', s.identification_method, 'eidAcr', s.eid_acr,
                        'expectsNationalId', s.expected_national_id IS NOT NULL,
                        'evidence', (SELECT json_build_object('scheme', i.scheme, 'name', i.name, 'birthdate', i.birthdate, 'country', i.country,
                                       'nationalIdMasked', i.national_id_masked, 'transactionId', i.transaction_id, 'acr', i.acr,
                                       'identifiedAt', i.identified_at, 'id', i.id, 'subjectKind', i.subject_kind, 'subjectId', i.subject_id,
                                       'sealed', encode(i.evidence_sealed, 'hex'))
                                       FROM eid_identifications i WHERE i.id = s.identification_id))
                        ORDER BY s.position)
                        FROM signers s WHERE s.request_id = r.id), '[]'::json) AS signers
       FROM signing_requests r
      WHERE r.id = $1 AND r.organization_id = $2`,
    [requestId, scope.organizationId],
  );
  const row = rows[0];
  if (!row) throw signingRequestNotFound();
  requireInFolder(scope, 'view', row.folder_id, signingRequestNotFound);
  // The person's name, birth date and masked id are under the record key (src/identity/identification-evidence.ts).
  const evidenceOf = async (evidence: StatusRow['signers'][number]['evidence']) => {
    if (!evidence) return null;
    const { id, subjectKind, subjectId, sealed, ...shown } = evidence;
    if (!sealed) return shown;
    const opened = await openPersonalEvidence(context.dataSource, {
      id: id!,
      subject_kind: subjectKind!,
      subject_id: subjectId!,
      evidence_sealed: Buffer.from(sealed, 'hex'),
      name: shown.name,
      birthdate: shown.birthdate,
      national_id_masked: shown.nationalIdMasked,
    });
    return { ...shown, name: opened.name, birthdate: opened.birthdate, nationalIdMasked: opened.national_id_masked };
  };
  const evidence = await Promise.all(row.signers.map((signer) => evidenceOf(signer.evidence)));
  // Title, names and addresses are under the request's key (src/signing/round-personal-data.ts).
  const text = await openRequestText(context.dataSource, row.id, { title: row.title, message: null, document_filename: null, text_sealed: row.text_sealed });
  const contacts = await Promise.all(
    row.signers.map((signer) =>
      openSignerContact(context.dataSource, row.id, { name: signer.name, email: signer.email, phone: null, contact_sealed: signer.sealed ? Buffer.from(signer.sealed, 'base64') : null }),
    ),
  );
  // JSON carries times as PostgreSQL prints them; the API speaks ISO 8601 in UTC.
  const iso = (time: Date | string | null) => (time === null ? undefined : new Date(time).toISOString());
  return {
    id: row.id,
    // A tombstone (a shredded request) has no title, names or addresses left: they read empty.
    title: text.title ?? '',
    status: row.status,
    routing: row.routing,
    documentCode: row.document_code,
    createdAt: iso(row.created_at)!,
    expiresAt: iso(row.expires_at)!,
    remindersSent: row.reminders_sent,
    nextReminderAt: iso(nextScheduledReminder(row) ?? null),
    sealedAt: iso(row.sealed_at),
    sha256: row.sealed_sha256 ?? undefined,
    signers: row.signers.map((signer, index) => ({
      id: signer.id,
      name: contacts[index]!.name ?? '',
      email: contacts[index]!.email ?? '',
      locale: signer.locale,
      status: signer.locked && (signer.status === 'invited' || signer.status === 'opened') ? 'locked' : signer.status,
      invitedAt: iso(signer.invitedAt),
      openedAt: iso(signer.openedAt),
      signedAt: iso(signer.signedAt),
      declinedAt: iso(signer.declinedAt),
      identification: {
        method: signer.identificationMethod,
        acr: signer.eidAcr,
        expectsNationalId: signer.expectsNationalId,
        ...(evidence[index] ? { evidence: { ...evidence[index]!, identifiedAt: iso(evidence[index]!.identifiedAt)! } } : {}),
      },
    })),
    ...(row.deleted_at ? { deletedAt: iso(row.deleted_at), ...(row.deletion ? { deletion: row.deletion } : {}) } : {}),
    ...legalHoldView(row.legal_hold),
  };
}

/**
 * When the round's next scheduled reminder falls due: the schedule is fixed at creation (first after,
 * then every), so it follows from the reminders sent so far. The round counts from its start, a moment
 * after the request's creation time used here.
 */
function nextScheduledReminder(row: StatusRow): Date | undefined {
  if (row.status !== 'pending' || row.reminders_sent >= row.reminder_max) return undefined;
  const createdAt = new Date(row.created_at).getTime();
  const dueAt = createdAt + Number(row.reminder_first_after_ms) + row.reminders_sent * Number(row.reminder_every_ms);
  return dueAt < new Date(row.expires_at).getTime() ? new Date(dueAt) : undefined;
}

/** A query needs a live worker; support tools must not wait long for one. */
const queryDeadlineMs = 5000;

/**
 * The workflow's own view of the round, for support, or undefined whenever it cannot answer: the workflow
 * is past retention, Temporal is out of reach, no worker answered in time (all workers down, or the round's
 * first task not yet run), or the query failed in any other way. It is a second opinion beside the
 * history, never something a caller depends on, so no failure of it fails the request.
 */
export async function queryRound(temporal: TemporalTarget, requestId: string): Promise<RoundState | undefined> {
  try {
    return await temporal.client.withDeadline(Date.now() + queryDeadlineMs, () =>
      temporal.client.workflow.getHandle(workflowIdForRequest(requestId)).query(roundStateQuery),
    );
  } catch {
    return undefined;
  }
}
