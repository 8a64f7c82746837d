/**
 * The live state of a signing request: progress from its workflow (Query), people from the database.
 * When the workflow is gone (past Temporal's retention), the database's record answers alone.
 */
import { isGrpcDeadlineError, isGrpcServiceError, WorkflowNotFoundError } from '@temporalio/client';
import { requireInFolder, type AccessScope, type Permission } from '../accounts/access';
import { Signer, SigningRequest } from '../database/entities';
import type { TemporalTarget } from '../adapters/temporal-connection';
import { AppError } from '../errors';
import { roundStateQuery, type RoundState, type SignerStatus } from '../workflows/signing-round';
import { readAuditTrail } from './audit-trail';
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

export async function getSigningRequest(
  context: SigningContext,
  temporal: TemporalTarget,
  scope: AccessScope,
  requestId: string,
): Promise<SigningRequestView> {
  const request = await findOwnRequest(context, scope, requestId);
  const signers = await context.dataSource.getRepository(Signer).find({ where: { requestId }, order: { position: 'ASC' } });
  const round = (await queryRound(temporal, requestId)) ?? (await roundFromRecords(context, request, signers));
  const progress = new Map(round.signers.map((signer) => [signer.id, signer]));
  return {
    id: request.id,
    title: request.title,
    status: round.status,
    routing: request.routing,
    documentCode: request.documentCode,
    createdAt: request.createdAt.toISOString(),
    expiresAt: request.expiresAt.toISOString(),
    remindersSent: round.remindersSent,
    nextReminderAt: round.nextReminderAt,
    sealedAt: request.sealedAt?.toISOString() ?? round.sealedAt,
    sha256: request.sealedSha256 ?? round.sha256,
    signers: signers.map((signer) => {
      const { id: _id, remindersSent: _reminders, ...rest } = progress.get(signer.id) ?? { id: signer.id, status: 'waiting' as const, remindersSent: 0 };
      const locked = signer.lockedAt !== null && (rest.status === 'invited' || rest.status === 'opened');
      return { id: signer.id, name: signer.name, email: signer.email, ...rest, status: locked ? 'locked' : rest.status };
    }),
  };
}

const grpcFailedPrecondition = 9;

/** A query needs a live worker; the status page must not wait long for one. */
const queryDeadlineMs = 5000;

/**
 * The round's live state, or undefined when only the database can answer: the workflow is past
 * retention, or no worker answered in time (all workers down, or the round's first task not yet run).
 * Status reads keep working through a worker outage (R19), with the database's coarser view.
 */
export async function queryRound(temporal: TemporalTarget, requestId: string): Promise<RoundState | undefined> {
  try {
    return await temporal.client.withDeadline(Date.now() + queryDeadlineMs, () =>
      temporal.client.workflow.getHandle(workflowIdForRequest(requestId)).query(roundStateQuery),
    );
  } catch (error) {
    if (error instanceof WorkflowNotFoundError || isGrpcDeadlineError(error)) return undefined;
    // FAILED_PRECONDITION: a query before the round's first workflow task has run.
    const cause = (error as { cause?: unknown }).cause;
    if ([error, cause].some((candidate) => isGrpcServiceError(candidate) && candidate.code === grpcFailedPrecondition)) {
      return undefined;
    }
    throw error;
  }
}

async function roundFromRecords(context: SigningContext, request: SigningRequest, signers: Signer[]): Promise<RoundState> {
  const events = await readAuditTrail(context.dataSource, request.id);
  const at = (type: string, signerId: string) => events.find((event) => event.type === type && event.signerId === signerId)?.occurredAt.toISOString();
  return {
    requestId: request.id,
    status: request.status,
    remindersSent: new Set(events.filter((event) => event.type === 'reminded').map((event) => event.eventKey.split(':')[1])).size,
    expiresAt: request.expiresAt.toISOString(),
    signers: signers.map((signer) => {
      const signedAt = at('signed', signer.id);
      const declinedAt = at('declined', signer.id);
      const openedAt = at('opened', signer.id);
      const invitedAt = at('invited', signer.id);
      const status: SignerStatus = signedAt ? 'signed' : declinedAt ? 'declined' : openedAt ? 'opened' : invitedAt ? 'invited' : 'waiting';
      return { id: signer.id, status, invitedAt, openedAt, signedAt, declinedAt, remindersSent: 0 };
    }),
  };
}
