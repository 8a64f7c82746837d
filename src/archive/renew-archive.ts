/**
 * Archive renewal (PAdES B-LTA, ETSI EN 319 142-1 §5.5): a sealed archive stays verifiable only while its
 * last document timestamp does; before that timestamp's TSA certificate expires, a new document timestamp
 * (with the validation data for the previous one) is appended. The archive renewal workflow runs this
 * daily from a Temporal Schedule (src/workflows/archive-renewal.ts).
 *
 * Idempotent per renewal: the expiry being renewed names the renewal (its blob keys and its audit event),
 * and a request whose recorded expiry has already moved on is left alone, so a retried or repeated run
 * adds nothing twice. A renewal that would not move the expiry (the TSA still signs with the certificate
 * that is about to expire) is discarded, so a daily run does not pile up timestamps that gain nothing. The renewed file replaces the sealed one on record; the hash of the file it replaced
 * stays in sealed_document_versions, so copies handed out before still verify.
 */
import { createHash } from 'node:crypto';
import { IsNull, LessThan, Not, Or, type DataSource } from 'typeorm';
import { SealedDocumentVersion, SigningRequest } from '../database/entities';
import { addArchiveTimestamp, readDocumentTimestamps } from '../documents/long-term-validation';
import { recordAuditEvent } from '../signing/audit-trail';
import { evidenceBlobKeyFor } from '../signing/read-request-document';
import type { SigningContext } from '../signing/signing-context';

export interface DueArchive {
  requestId: string;
  /** The recorded expiry this renewal answers (ISO 8601). */
  expiresAt: string;
}

/** An archive is tried at most once in this span, so one that cannot be renewed does not block the rest. */
const retryAfterMs = 20 * 60 * 60 * 1000;

/** Completed archives whose last document timestamp expires within `horizonMs` of `now`, soonest first. */
export async function findArchivesDue(dataSource: DataSource, options: { now: Date; horizonMs: number; limit: number }): Promise<DueArchive[]> {
  const due = await dataSource.getRepository(SigningRequest).find({
    select: { id: true, archiveTimestampExpiresAt: true },
    where: {
      status: 'completed',
      sealedBlobKey: Not(IsNull()),
      // A deleted (shredded) request's tombstone keeps its hashes, not its document: nothing to renew.
      deletedAt: IsNull(),
      archiveTimestampExpiresAt: LessThan(new Date(options.now.getTime() + options.horizonMs)),
      archiveRenewalAttemptedAt: Or(IsNull(), LessThan(new Date(options.now.getTime() - retryAfterMs))),
    },
    order: { archiveTimestampExpiresAt: 'ASC' },
    take: options.limit,
  });
  return due.map((request) => ({ requestId: request.id, expiresAt: request.archiveTimestampExpiresAt!.toISOString() }));
}

export type RenewalOutcome =
  | { renewed: true; sha256: string; nextExpiresAt: string }
  | { renewed: false; reason: 'already_renewed' | 'not_an_archive' | 'tsa_certificate_not_newer' };

export class ArchiveUnreadable extends Error {
  override name = 'ArchiveUnreadable';
}

export async function renewArchive(context: SigningContext, archive: DueArchive): Promise<RenewalOutcome> {
  const { dataSource, adapters } = context;
  if (!context.sealTimestamper) throw new Error('archive renewal needs a timestamp authority (TSA_URL)');
  const requests = dataSource.getRepository(SigningRequest);
  const request = await requests.findOneByOrFail({ id: archive.requestId });
  const expiresAt = request.archiveTimestampExpiresAt;
  if (!request.sealedBlobKey || !request.sealedSha256 || !expiresAt) return { renewed: false, reason: 'not_an_archive' };
  if (expiresAt.toISOString() !== archive.expiresAt) return { renewed: false, reason: 'already_renewed' };
  // Dated before the work: whatever happens next, the next run tries the archives behind this one first.
  await requests.update({ id: request.id }, { archiveRenewalAttemptedAt: new Date() });

  const sealed = await adapters.blobStore.get(request.sealedBlobKey);
  if (!sealed || sha256Hex(sealed) !== request.sealedSha256) throw new ArchiveUnreadable('the sealed archive is missing or differs from its recorded hash');
  const evidence = request.evidenceSha256 ? await adapters.blobStore.get(evidenceBlobKeyFor(request.sealedBlobKey)) : undefined;
  if (request.evidenceSha256 && (!evidence || sha256Hex(evidence) !== request.evidenceSha256)) {
    throw new ArchiveUnreadable('the evidence archive is missing or differs from its recorded hash');
  }

  const timestampAuthority = context.sealTimestamper;
  const originalLength = request.originalByteLength ?? 0;
  const renewed = await addArchiveTimestamp(sealed, { timestampAuthority, originalLength });
  const renewedEvidence = evidence ? await addArchiveTimestamp(evidence, { timestampAuthority, originalLength: 0 }) : undefined;
  const newest = (await readDocumentTimestamps(renewed, { originalLength })).at(-1);
  const newExpiries = [newest, ...(renewedEvidence ? [(await readDocumentTimestamps(renewedEvidence, { originalLength: 0 })).at(-1)] : [])];
  // A timestamp whose TSA certificate expires no later than the last one extends nothing: the TSA has not
  // renewed its certificate yet. Nothing is stored; the next run asks again.
  if (newExpiries.some((stamp) => !stamp || stamp.certificateExpiresAt <= expiresAt)) return { renewed: false, reason: 'tsa_certificate_not_newer' };
  const nextExpiresAt = new Date(Math.min(...newExpiries.map((stamp) => stamp!.certificateExpiresAt.getTime())));

  const sha256 = sha256Hex(renewed);
  const evidenceSha256 = renewedEvidence ? sha256Hex(renewedEvidence) : null;
  // Named by content: a second attempt writes a file of its own, never over the current one.
  const renewedKey = `orgs/${request.organizationId}/requests/${request.id}/renewals/${sha256}/sealed.pdf`;
  if (renewedEvidence) await adapters.blobStore.put(evidenceBlobKeyFor(renewedKey), renewedEvidence);
  await adapters.blobStore.put(renewedKey, renewed);

  const moved = await dataSource.transaction(async (tx) => {
    const update = await tx.update(
      SigningRequest,
      { id: request.id, sealedSha256: request.sealedSha256!, archiveTimestampExpiresAt: expiresAt, deletedAt: IsNull() },
      { sealedBlobKey: renewedKey, sealedSha256: sha256, evidenceSha256, archiveTimestampExpiresAt: nextExpiresAt },
    );
    if (update.affected === 0) return false; // another attempt renewed it meanwhile
    const replacedAt = new Date();
    await tx.insert(SealedDocumentVersion, [
      { sha256: request.sealedSha256!, requestId: request.id, kind: 'sealed' as const, replacedAt },
      ...(request.evidenceSha256 ? [{ sha256: request.evidenceSha256, requestId: request.id, kind: 'evidence' as const, replacedAt }] : []),
    ]);
    await recordAuditEvent(tx, {
      requestId: request.id,
      eventKey: `archive_renewed:${request.sealedSha256}`,
      type: 'archive_renewed',
      actor: 'system',
      detail: {
        previousSha256: request.sealedSha256,
        sha256,
        ...(request.evidenceSha256 ? { previousEvidenceSha256: request.evidenceSha256, evidenceSha256 } : {}),
        timestampAt: newest!.at.toISOString(),
        renewBefore: nextExpiresAt.toISOString(),
      },
      occurredAt: replacedAt,
    });
    return true;
  });
  return moved ? { renewed: true, sha256, nextExpiresAt: nextExpiresAt.toISOString() } : { renewed: false, reason: 'already_renewed' };
}

function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}
