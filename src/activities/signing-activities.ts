/**
 * Activities of the signing round. Each loads what it needs by id (so no personal data or secret travels
 * through workflow history), does one thing, and is safe to retry: messages carry stable ids, audit events
 * stable keys, blobs stable object keys.
 */
import { isKycDeclaration } from '../kyc/declaration-requests';
import { isSignerContactRestricted } from '../dsr/fulfilment/restrict-subject';
import { createHash } from 'node:crypto';
import { ApplicationFailure, heartbeat } from '@temporalio/activity';
import { Organization, Signer, SigningRequest, User, type RequestStatus } from '../database/entities';
import { BlobDecryptionError } from '../adapters/encrypted-blob-store';
import type { MailMessage } from '../adapters/mailer';
import type { SealLevel } from '../config';
import { archiveExpiry, sealDocument } from '../documents/seal-document';
import { isPermanentMailRefusal } from '../failure-kinds';
import { whileHeartbeating } from './heartbeats';
import { sendOnce as sendMessageOnce, type MessageChannel } from '../messaging/send-once';
import { countRoundEnded, measureSeal } from '../observability/round-metrics';
import { queryReturning } from '../database/data-source';
import { readAuditTrail, recordAuditEvent, type NewAuditEvent } from '../signing/audit-trail';
import { evidenceBlobKeyFor } from '../signing/read-request-document';
import { identityMismatchEmail, invitationEmail, lockedEmail, outcomeEmail, pinSms, reminderEmail, type DeclineFacts, type RequestFacts } from '../signing/messages';
import { maxPinAttempts } from '../signing/signer-access';
import type { SigningContext } from '../signing/signing-context';
import type { RoundFailureReason } from '../workflows/signing-round';
import { completedMessage, enqueueForRequestSql } from '../webhooks/events';

/** An `identified` event's detail as the audit page prints it (already masked when it was recorded). */
function identificationOf(detail: Record<string, unknown> | null | undefined) {
  if (!detail) return {};
  const text = (key: string) => (typeof detail[key] === 'string' ? (detail[key] as string) : null);
  const identifiedAt = text('identifiedAt');
  if (!identifiedAt) return {};
  return {
    identification: { scheme: text('scheme') ?? text('acr'), name: text('name'), nationalIdMasked: text('nationalIdMasked'), transactionId: text('transactionId'), identifiedAt },
  };
}

export function signingActivities(context: SigningContext) {
  const { dataSource, adapters, credentials } = context;

  /** Each message once (an earlier attempt of this activity may have sent it): src/messaging/send-once.ts. */
  const sendOnce = (channel: MessageChannel, messageId: string, send: () => Promise<void>) => sendMessageOnce(dataSource, channel, messageId, send);
  const email = (message: MailMessage) => sendOnce('email', message.messageId, () => adapters.mailer.send(message));

  async function load(requestId: string) {
    const request = await dataSource.getRepository(SigningRequest).findOneBy({ id: requestId });
    if (!request) throw ApplicationFailure.nonRetryable(`signing request ${requestId} does not exist`, 'MissingRequest');
    // Independent of each other: one round trip's wait instead of three (every step of a round loads these).
    const [organization, signers, creator] = await Promise.all([
      dataSource.getRepository(Organization).findOneByOrFail({ id: request.organizationId }),
      dataSource.getRepository(Signer).find({ where: { requestId }, order: { position: 'ASC' } }),
      request.createdByUserId ? dataSource.getRepository(User).findOneBy({ id: request.createdByUserId }) : null,
    ]);
    const facts: RequestFacts = {
      title: request.title,
      organizationName: organization.name,
      senderName: creator ? (creator.name ?? creator.email) : null,
      message: request.message,
      expiresAt: request.expiresAt,
      timeZone: organization.timeZone,
    };
    return { request, organization, signers, facts };
  }

  /**
   * Who sent the request, as far as messages go: the member who created it (while still a member), and
   * the organisation's owners and admins, who answer for every request. They read the organisation's
   * default language.
   */
  async function sendersOf(request: SigningRequest, organization: Organization) {
    const rows: Array<{ id: string; email: string; name: string | null }> = await dataSource.query(
      `SELECT u.id, u.email, u.name FROM memberships m JOIN users u ON u.id = m.user_id
        WHERE m.organization_id = $1 AND (m.role IN ('owner', 'admin') OR u.id = $2)
        ORDER BY m.created_at, u.id`,
      [request.organizationId, request.createdByUserId],
    );
    return rows.map((row) => ({ id: row.id, email: row.email, name: row.name ?? row.email, locale: organization.defaultLocale }));
  }

  const consoleLinkFor = (requestId: string) => `${context.publicUrl}/requests/${requestId}`;

  function signerOf(signers: Signer[], signerId: string): Signer {
    const found = signers.find((candidate) => candidate.id === signerId);
    if (!found) throw ApplicationFailure.nonRetryable(`signer ${signerId} does not exist`, 'MissingSigner');
    return found;
  }

  /**
   * Who declined and why, from the audit trail's `declined` event (the round records it before it ends), so
   * the reason never travels through workflow history. Undefined if the event is missing: the mail then
   * says only that a signer declined.
   */
  async function declineOf(requestId: string, signers: Signer[]): Promise<(DeclineFacts & { signerId: string }) | undefined> {
    const event = (await readAuditTrail(dataSource, requestId)).find((candidate) => candidate.type === 'declined');
    const signer = event?.signerId ? signers.find((candidate) => candidate.id === event.signerId) : undefined;
    const reason = event?.detail?.reason;
    if (!signer || typeof reason !== 'string') return undefined;
    return { signerId: signer.id, signerName: signer.name, reason };
  }

  const linkFor = (signer: Signer) => `${context.publicUrl}/s/${credentials.linkToken({ signerId: signer.id, linkVersion: signer.linkVersion })}`;

  async function smsPin(request: SigningRequest, organization: Organization, signer: Signer, pinVersion: number) {
    // An eID-only signer has no PIN to send.
    if (signer.pinDelivery !== 'sms' || !signer.phone || signer.identificationMethod === 'eid') return;
    const messageId = `pin-${signer.id}-v${pinVersion}`;
    const pin = credentials.pin({ signerId: signer.id, pinVersion });
    await sendOnce('sms', messageId, () =>
      adapters.smsSender.send({ messageId, to: signer.phone!, text: pinSms({ title: request.title, organizationName: organization.name }, pin, signer.locale) }),
    );
    await recordAuditEvent(dataSource, {
      requestId: request.id,
      eventKey: `pin_sent:${signer.id}:v${pinVersion}`,
      type: 'pin_sent',
      signerId: signer.id,
      actor: 'system',
      channel: 'sms',
      occurredAt: new Date(),
    });
  }

  /**
   * Counts the round's ending when this call is the one that records it (completed_at still empty); a
   * retried activity finds it set and counts nothing. The status goes with it, as the write below repeats.
   */
  async function countOutcomeOnce(input: { requestId: string; status: RequestStatus; at: string }): Promise<void> {
    const [first] = await queryReturning<{ created_at: Date; last_signed_at: Date | null }>(
      dataSource,
      `UPDATE signing_requests SET status = $2, completed_at = $3 WHERE id = $1 AND completed_at IS NULL
        RETURNING created_at, (SELECT max(signed_at) FROM signers WHERE request_id = $1) AS last_signed_at`,
      [input.requestId, input.status, new Date(input.at)],
    );
    if (first) countRoundEnded(input.status, { createdAt: first.created_at, lastSignedAt: first.last_signed_at, endedAt: new Date(input.at) });
  }

  return {
    async sendInvitation(input: { requestId: string; signerId: string }): Promise<void> {
      const { request, organization, signers, facts } = await load(input.requestId);
      const signer = signerOf(signers, input.signerId);
      await email({
        messageId: `invitation-${signer.id}`,
        to: signer.email,
        ...invitationEmail(facts, signer, linkFor(signer)),
      });
      await recordAuditEvent(dataSource, {
        requestId: request.id,
        eventKey: `invited:${signer.id}`,
        type: 'invited',
        signerId: signer.id,
        actor: 'system',
        channel: 'email',
        occurredAt: new Date(),
      });
      await smsPin(request, organization, signer, signer.pinVersion);
    },

    async sendReminder(input: { requestId: string; signerId: string; reminderKey: string }): Promise<void> {
      const { request, signers, facts } = await load(input.requestId);
      const signer = signerOf(signers, input.signerId);
      // A signer who restricted or objected (data-subject request) gets no further reminders; decided here, not
      // in the workflow, so recorded histories replay unchanged.
      if (await isSignerContactRestricted(context, request.id, signer.id)) {
        await recordAuditEvent(dataSource, {
          requestId: request.id,
          eventKey: `reminder_skipped:${input.reminderKey}:${signer.id}`,
          type: 'reminder_skipped',
          signerId: signer.id,
          actor: 'system',
          detail: { reason: 'contact_restricted' },
          occurredAt: new Date(),
        });
        return;
      }
      await email({
        messageId: `reminder-${input.reminderKey}-${signer.id}`,
        to: signer.email,
        ...reminderEmail(facts, signer, linkFor(signer)),
      });
      await recordAuditEvent(dataSource, {
        requestId: request.id,
        eventKey: `reminded:${input.reminderKey}:${signer.id}`,
        type: 'reminded',
        signerId: signer.id,
        actor: 'system',
        channel: 'email',
        occurredAt: new Date(),
      });
    },

    async sendPin(input: { requestId: string; signerId: string; pinVersion: number }): Promise<void> {
      const { request, organization, signers } = await load(input.requestId);
      await smsPin(request, organization, signerOf(signers, input.signerId), input.pinVersion);
    },

    /**
     * Tells the request's sender(s) that a signer's link locked after too many wrong PINs, and what to do.
     * Keyed by the lock (`lockId`, the outbox row that carried it): a repeated delivery or a retry sends
     * nothing twice. A link unlocked since (a new PIN issued already) needs nobody's action: nothing is sent.
     */
    async notifySignerLocked(input: { requestId: string; signerId: string; lockId: string }): Promise<void> {
      const { request, organization, signers, facts } = await load(input.requestId);
      const signer = signerOf(signers, input.signerId);
      if (!signer.lockedAt) return;
      for (const sender of await sendersOf(request, organization)) {
        await email({
          messageId: `locked-${input.lockId}-${sender.id}`,
          to: sender.email,
          ...lockedEmail(facts, sender, { name: signer.name, email: signer.email, at: signer.lockedAt, attempts: maxPinAttempts }, consoleLinkFor(request.id)),
        }).catch((error: unknown) => {
          // An address the mail server refuses for good must not keep the other senders from hearing.
          if (!isPermanentMailRefusal(error)) throw error;
        });
      }
    },

    /** `attemptId` names the refused identification's outbox row: one email per attempt and sender. */
    async notifyIdentityMismatch(input: { requestId: string; signerId: string; attemptId: string }): Promise<void> {
      const { request, organization, signers, facts } = await load(input.requestId);
      const signer = signerOf(signers, input.signerId);
      // The attempt is the refused identification (its id names the outbox row and the audit event).
      const rows: Array<{ occurred_at: Date }> = await dataSource.query(
        `SELECT occurred_at FROM audit_events WHERE request_id = $1 AND event_key = $2`,
        [request.id, `identification_mismatch:${signer.id}:${input.attemptId}`],
      );
      const at = rows[0] ? new Date(rows[0].occurred_at) : new Date();
      for (const sender of await sendersOf(request, organization)) {
        await email({
          messageId: `identity-mismatch-${input.attemptId}-${sender.id}`,
          to: sender.email,
          ...identityMismatchEmail(facts, sender, { name: signer.name, email: signer.email, at }, consoleLinkFor(request.id)),
        }).catch((error: unknown) => {
          if (!isPermanentMailRefusal(error)) throw error;
        });
      }
    },

    async recordAuditEvent(event: NewAuditEvent): Promise<void> {
      await recordAuditEvent(dataSource, event);
    },

    /**
     * Stamps, appends the audit-trail page and signs. If a sealed document is already stored (an earlier
     * attempt got that far before a crash), it is returned as it is: a request is sealed once.
     *
     * The audit chain head printed on the audit page (the hash of the last event in the trail read here) is
     * stored in `signing_requests.audit_chain_head` before the sealed blob: a crash in between leaves no
     * blob, so the retry seals again and stores its own head; once the blob exists, neither changes.
     */
    async sealSignedDocument(
      input: { requestId: string; sealedAt: string },
    ): Promise<{
      sealedBlobKey: string;
      sha256: string;
      auditChainHead?: string;
      evidenceSha256?: string;
      archiveTimestampExpiresAt?: string;
      /** Set by workers whose seal only appends (an older worker's seal rewrote the original). */
      sealedByAppending?: boolean;
    }> {
      return whileHeartbeating(async () => {
        const { request, organization, signers } = await load(input.requestId);
        const sealedBlobKey = `orgs/${request.organizationId}/requests/${request.id}/sealed.pdf`;
        const existing = await adapters.blobStore.get(sealedBlobKey);
        if (existing) {
          const evidence = await adapters.blobStore.get(evidenceBlobKeyFor(sealedBlobKey));
          return {
            sealedBlobKey,
            sha256: sha256Hex(existing),
            auditChainHead: request.auditChainHead ?? undefined,
            ...(evidence ? { evidenceSha256: sha256Hex(evidence) } : {}),
            ...isoExpiry(await archiveExpiry([[existing, request.originalByteLength ?? 0], ...(evidence ? [[evidence, 0] as [Uint8Array, number]] : [])])),
            sealedByAppending: true,
          };
        }

        heartbeat('loading');
        const original = await adapters.blobStore.get(request.originalBlobKey).catch((error: unknown) => {
          // A stored object that fails authentication stays broken: retrying for hours would only hide it.
          if (error instanceof BlobDecryptionError && error.permanent) {
            throw ApplicationFailure.nonRetryable(error.message, 'UnreadableDocument');
          }
          throw error;
        });
        if (!original) throw ApplicationFailure.nonRetryable('the original document is missing from the blob store', 'MissingDocument');
        const events = await readAuditTrail(dataSource, request.id);
        const auditChainHead = events.at(-1)?.hash;
        const signedEvents = new Map(events.filter((event) => event.type === 'signed').map((event) => [event.signerId, event]));
        // The identification behind each signature (named by the `signed` event), else the signer's last one.
        const identifiedEvents = new Map(events.filter((event) => event.type === 'identified').map((event) => [event.signerId, event]));
        const identifiedByKey = new Map(events.filter((event) => event.type === 'identified').map((event) => [event.eventKey, event]));
        const identificationBehind = (signerId: string) => {
          const used = signedEvents.get(signerId)?.detail?.identificationId;
          return (typeof used === 'string' ? identifiedByKey.get(`identified:${signerId}:${used}`) : undefined) ?? identifiedEvents.get(signerId);
        };
        heartbeat('sealing');
        const sealed = await measureSeal(async () => sealDocument({
          pdf: original,
          documentCode: request.documentCode,
          title: request.title,
          originalSha256: request.originalSha256,
          auditChainHead,
          signers: signers.map((signer) => {
            const signed = signedEvents.get(signer.id);
            return {
              name: signer.name,
              email: signer.email,
              channel: signer.pinDelivery,
              ip: signed?.ip ?? undefined,
              userAgent: signed?.userAgent ?? undefined,
              signedAt: signed ? signed.occurredAt.toISOString() : '',
              ...identificationOf(identificationBehind(signer.id)?.detail),
            };
          }),
          // Labelled by type on the page, in the organisation's language (src/i18n/locales/*/audit.json).
          events: events.map((event) => ({
            at: event.occurredAt.toISOString(),
            // A `viewed` recorded before the page reported what it displayed (when the PDF was fetched, key
            // `viewed:<signer>:<uuid>`) said only that the file was fetched: labelled as such, never as displayed.
            type:
              event.type === 'viewed' && event.eventKey !== `viewed:${event.signerId}`
                ? 'fetched'
                : // An eID-only signer's opening is the identification, not a PIN.
                  event.type === 'opened' && event.channel === 'eid'
                  ? 'opened_eid'
                  : event.type,
            actor: event.actor,
            actorName: event.signerId ? signers.find((s) => s.id === event.signerId)?.name : undefined,
            channel: event.channel ?? undefined,
            ip: event.ip ?? undefined,
          })),
          locale: organization.defaultLocale,
          timeZone: organization.timeZone,
          sealedAt: new Date(input.sealedAt),
          key: await context.sealKeyFor(request.organizationId),
          timestamper: context.sealTimestamper,
          ...(longTermLevel(context.sealLevel) && context.sealTimestamper
            ? { longTerm: { level: longTermLevel(context.sealLevel)!, timestampAuthority: context.sealTimestamper } }
            : {}),
          verifyUrl: `${context.publicUrl}/verify`,
          signerName: `Sigill seal - ${organization.name}`,
        }));
        heartbeat('storing');
        await dataSource.getRepository(SigningRequest).update({ id: request.id }, { auditChainHead: auditChainHead ?? null });
        // The evidence first: the sealed blob is what a retry takes as "done".
        if (sealed.evidencePdf) await adapters.blobStore.put(evidenceBlobKeyFor(sealedBlobKey), sealed.evidencePdf);
        await adapters.blobStore.put(sealedBlobKey, sealed.pdf);
        return {
          sealedBlobKey,
          sha256: sha256Hex(sealed.pdf),
          auditChainHead,
          ...(sealed.evidencePdf ? { evidenceSha256: sha256Hex(sealed.evidencePdf) } : {}),
          ...isoExpiry(sealed),
          sealedByAppending: true,
        };
      });
    },

    /** Records the seal; the 'sealed' event names the audit chain head printed on the document (if any). */
    async archiveSealedDocument(input: {
      requestId: string;
      sealedAt: string;
      sealedBlobKey: string;
      sha256: string;
      evidenceSha256?: string;
      archiveTimestampExpiresAt?: string;
      sealedByAppending?: boolean;
    }): Promise<void> {
      await dataSource.transaction(async (tx) => {
        await tx.update(SigningRequest, { id: input.requestId }, {
          sealedAt: new Date(input.sealedAt),
          sealedBlobKey: input.sealedBlobKey,
          sealedSha256: input.sha256,
          sealedByAppending: input.sealedByAppending === true,
          evidenceSha256: input.evidenceSha256 ?? null,
          archiveTimestampExpiresAt: input.archiveTimestampExpiresAt ? new Date(input.archiveTimestampExpiresAt) : null,
        });
        const sealedRequest = await tx.findOneBy(SigningRequest, { id: input.requestId });
        const auditChainHead = sealedRequest?.auditChainHead ?? undefined;
        await recordAuditEvent(tx, {
          requestId: input.requestId,
          eventKey: 'sealed',
          type: 'sealed',
          actor: 'system',
          detail: {
            sha256: input.sha256,
            ...(auditChainHead ? { auditChainHead } : {}),
            ...(input.evidenceSha256 ? { evidenceSha256: input.evidenceSha256 } : {}),
          },
          occurredAt: input.sealedAt,
        });
        await recordAuditEvent(tx, {
          requestId: input.requestId,
          eventKey: 'archived',
          type: 'archived',
          actor: 'system',
          detail: { blobStore: adapters.blobStore.kind },
          occurredAt: new Date(),
        });
      });
    },

    async recordOutcome(input: { requestId: string; status: RequestStatus; at: string; failureReason?: RoundFailureReason }): Promise<void> {
      await countOutcomeOnce(input);
      await dataSource.transaction(async (tx) => {
        await tx.update(SigningRequest, { id: input.requestId }, { status: input.status, completedAt: new Date(input.at) });
        // Completion has no audit event of its own (sealed and archived come before it): its webhook
        // message commits with the outcome instead; the source key makes a retried activity add none.
        if (input.status === 'completed') {
          const request = await tx.findOneBy(SigningRequest, { id: input.requestId });
          const draft = completedMessage(input.requestId, new Date(input.at), request?.sealedSha256 ?? null);
          await tx.query(enqueueForRequestSql('$1', '$2::uuid'), [JSON.stringify([draft]), input.requestId]);
        }
      });
      if (input.status === 'failed') {
        await recordAuditEvent(dataSource, {
          requestId: input.requestId,
          eventKey: 'failed',
          type: 'failed',
          actor: 'system',
          ...(input.failureReason ? { detail: { reason: input.failureReason } } : {}),
          occurredAt: input.at,
        });
      }
    },

    /** Everyone concerned: every signer, and the organisation's owners and admins (the senders). */
    async notifyOutcome(input: { requestId: string; status: RequestStatus }): Promise<void> {
      const { request, organization, signers, facts } = await load(input.requestId);
      const senders = await sendersOf(request, organization);
      const decline = input.status === 'declined' ? await declineOf(request.id, signers) : undefined;
      const common = { decline, signerCount: signers.length, endedAt: request.completedAt ?? undefined };
      // A KYC declaration's signer is the case's customer: they hear from their case (its page and emails),
      // and the declaration's signer link has no PIN of its own to open it with.
      const signersToTell = (await isKycDeclaration(dataSource, request.id)) ? [] : signers;
      const messages: MailMessage[] = [
        // Signers reach the sealed PDF through their own signing page, while their link lives.
        ...signersToTell.map((signer) => ({
          messageId: `outcome-${signer.id}`,
          to: signer.email,
          ...outcomeEmail(facts, signer, input.status, {
            ...common,
            link: { url: linkFor(signer), audience: 'signer' },
            recipientIsDecliner: signer.id === decline?.signerId,
          }),
        })),
        // Senders to the request's page in the console (the document itself needs their sign-in).
        ...senders.map((sender) => ({
          messageId: `outcome-${request.id}-${sender.id}`,
          to: sender.email,
          ...outcomeEmail(facts, sender, input.status, { ...common, link: { url: consoleLinkFor(request.id), audience: 'sender' } }),
        })),
      ];
      // One address the mail server refuses for good (it may be why the round failed) must not keep the
      // others from hearing how it ended: it is counted in the audit event instead.
      // Sent side by side, so a round with many people ends no slower. All settle before a failure is
      // thrown: a retry must not start while a send of this attempt is still under way (it could send twice).
      let refused = 0;
      const sends = await Promise.allSettled(
        messages.map((message) =>
          email(message).catch((error: unknown) => {
            if (!isPermanentMailRefusal(error)) throw error;
            refused += 1;
          }),
        ),
      );
      const failed = sends.find((send) => send.status === 'rejected');
      if (failed) throw failed.reason;
      await recordAuditEvent(dataSource, {
        requestId: request.id,
        eventKey: 'notified',
        type: 'notified',
        actor: 'system',
        channel: 'email',
        detail: { status: input.status, recipients: messages.length - refused, ...(refused > 0 ? { refused } : {}) },
        occurredAt: new Date(),
      });
    },
  };
}

function isoExpiry(facts: { archiveTimestampExpiresAt?: Date }): { archiveTimestampExpiresAt?: string } {
  return facts.archiveTimestampExpiresAt ? { archiveTimestampExpiresAt: facts.archiveTimestampExpiresAt.toISOString() } : {};
}

/** B-LT and B-LTA are what sealDocument adds after the signature; B-B and B-T are the signature itself. */
function longTermLevel(level: SealLevel): 'B-LT' | 'B-LTA' | undefined {
  return level === 'B-LT' || level === 'B-LTA' ? level : undefined;
}

function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

export type SigningActivities = ReturnType<typeof signingActivities>;
