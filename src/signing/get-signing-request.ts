/**
 * The state of a signing request as the read model holds it (src/signing/round-read-model.ts): one lookup
 * in PostgreSQL, no worker involved, so it answers during a Temporal or worker outage too. The workflow's
 * own view (its Query) is for support: `queryRound`, shown beside the history.
 */
import { requireInFolder, type AccessScope, type Permission } from '../accounts/access';
import { Signer, SigningRequest } from '../database/entities';
import type { TemporalTarget } from '../adapters/temporal-connection';
import { AppError } from '../errors';
import { roundStateQuery, type RoundState, type SignerStatus } from '../workflows/signing-round';
import { workflowIdForRequest } from './create-signing-request';
import type { SigningContext } from './signing-context';

export interface SigningRequestView {
  id: string;
  title: string;
  status: RoundState['status'];
  routing: 'parallel' | 'sequential';
  documentCode: string;
  createdAt: string;
  expiresAt: string;
  remindersSent: number;
  nextReminderAt?: string;
  sealedAt?: string;
  sha256?: string;
  signers: Array<{
    id: string;
    name: string;
    email: string;
    status: SignerStatus | 'locked';
    invitedAt?: string;
    openedAt?: string;
    signedAt?: string;
    declinedAt?: string;
  }>;
}

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
  return request;
}

export async function getSigningRequest(context: SigningContext, scope: AccessScope, requestId: string): Promise<SigningRequestView> {
  const request = await findOwnRequest(context, scope, requestId);
  const signers = await context.dataSource.getRepository(Signer).find({ where: { requestId }, order: { position: 'ASC' } });
  const iso = (date: Date | null | undefined) => date?.toISOString();
  return {
    id: request.id,
    title: request.title,
    status: request.status,
    routing: request.routing,
    documentCode: request.documentCode,
    createdAt: request.createdAt.toISOString(),
    expiresAt: request.expiresAt.toISOString(),
    remindersSent: request.remindersSent,
    nextReminderAt: iso(nextScheduledReminder(request)),
    sealedAt: iso(request.sealedAt),
    sha256: request.sealedSha256 ?? undefined,
    signers: signers.map((signer) => {
      const locked = signer.lockedAt !== null && (signer.status === 'invited' || signer.status === 'opened');
      return {
        id: signer.id,
        name: signer.name,
        email: signer.email,
        status: locked ? 'locked' : signer.status,
        invitedAt: iso(signer.invitedAt),
        openedAt: iso(signer.openedAt),
        signedAt: iso(signer.signedAt),
        declinedAt: iso(signer.declinedAt),
      };
    }),
  };
}

/**
 * When the round's next scheduled reminder falls due: the schedule is fixed at creation (first after,
 * then every), so it follows from the reminders sent so far. The round counts from its start, a moment
 * after the request's creation time used here.
 */
function nextScheduledReminder(request: SigningRequest): Date | undefined {
  if (request.status !== 'pending' || request.remindersSent >= request.reminderMax) return undefined;
  const dueAt = request.createdAt.getTime() + request.reminderFirstAfterMs + request.remindersSent * request.reminderEveryMs;
  return dueAt < request.expiresAt.getTime() ? new Date(dueAt) : undefined;
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
