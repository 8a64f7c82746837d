/**
 * A request's audit trail as the caller may read it (R5, R16): every event in chain order with the
 * server's verification of the hash chain. Signers' IP addresses and user agents are personal data the
 * sender needs as evidence; people who may only follow requests (viewers, support staff) get the events
 * without them — the chain is verified here, on the full records, either way.
 */
import { mayInFolder, type AccessScope } from '../accounts/access';
import { auditChainKey } from './audit-chain-key';
import { readAuditTrail, verifyAuditEvents } from './audit-trail';
import { findOwnRequest } from './get-signing-request';
import type { SigningContext } from './signing-context';

export async function readRequestAuditTrail(context: SigningContext, scope: AccessScope, requestId: string) {
  const request = await findOwnRequest(context, scope, requestId);
  const seesClients = mayInFolder(scope, 'send', request.folderId);
  const events = await readAuditTrail(context.dataSource, requestId);
  const verification = verifyAuditEvents(events, auditChainKey(context.dataSource));
  return {
    events: events.map((event) => ({
      sequence: event.sequence,
      eventKey: event.eventKey,
      type: event.type,
      at: event.occurredAt.toISOString(),
      actor: event.actor,
      signerId: event.signerId ?? undefined,
      channel: event.channel ?? undefined,
      ip: seesClients ? (event.ip ?? undefined) : undefined,
      userAgent: seesClients ? (event.userAgent ?? undefined) : undefined,
      detail: event.detail ?? undefined,
      prevHash: event.prevHash ?? undefined,
      hash: event.hash,
      legacyHash: event.legacyHash ?? undefined,
    })),
    chainValid: verification.valid,
    chainHead: verification.head,
    firstBrokenEvent: verification.firstBrokenEvent,
  };
}
