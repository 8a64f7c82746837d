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
import { IsNull, LessThan, Not, type DataSource } from 'typeorm';
import { SealedDocumentVersion, SigningRequest } from '../database/entities';
import { addArchiveTimestamp, readDocumentTimestamps } from '../documents/long-term-validation';
import { recordAuditEvent } from '../signing/audit-trail';
import { evidenceBlobKeyFor } from '../signing/read-request-document';
import type { SigningContext } from '../signing/signing-context';

export interface DueArchive {
  requestId: string;
  /** The recorded expiry this renewal answers (ISO 8601): the renewal's identity. */
  expiresAt: string;
}

/** Completed archives whose last document timestamp expires within `horizonMs` of `now`, soonest first. */
export async function findArchivesDue(dataSource: DataSource, options: { now: Date; horizonMs: number; limit: number }): Promise<DueArchive[]> {
  const due = await dataSource.getRepository(SigningRequest).find({
    select: { id: true, archiveTimestampExpiresAt: true },
    where: {
      status: 'completed',
      sealedBlobKey: Not(IsNull()),
      archiveTimestampExpiresAt: LessThan(new Date(options.now.getTime() + options.horizonMs)),
    },
    order: { archiveTimestampExpiresAt: 'ASC' },
    take: options.limit,
  });
  return due.map((request) => ({ requestId: request.id, expiresAt: request.archiveTimestampExpiresAt!.toISOString() }));
}

export type RenewalOutcome =
  | { renewed: true; sha256: string; nextExpiresAt: string }
  | { renewed: false; reason: 'already_renewed' | 'not_an_archive' | 'tsa_certificate_not_newer' };

export async function renewArchive(context: SigningContext, archive: DueArchive): Promise<RenewalOutcome> {
  const { dataSource, adapters } = context;
  if (!context.sealTimestamper) throw new Error('archive renewal needs a timestamp authority (TSA_URL)');
  const request = await dataSource.getRepository(SigningRequest).findOneByOrFail({ id: archive.requestId });
  if (!request.sealedBlobKey || !request.sealedSha256 || !request.archiveTimestampExpiresAt) return { renewed: false, reason: 'not_an_archive' };
  if (request.archiveTimestampExpiresAt.toISOString() !== archive.expiresAt) return { renewed: false, reason: 'already_renewed' };

  const sealed = await adapters.blobStore.get(request.sealedBlobKey);
  if (!sealed || sha256Hex(sealed) !== request.sealedSha256) throw new Error('the sealed archive is missing or differs from its recorded hash');
  const evidence = await adapters.blobStore.get(evidenceBlobKeyFor(request.sealedBlobKey));
  const options = { timestampAuthority: context.sealTimestamper };
  const renewed = await addArchiveTimestamp(sealed, options);
  const newest = (await readDocumentTimestamps(renewed)).at(-1)!;
  // A timestamp whose TSA certificate expires no later than the last one extends nothing: the TSA has not
  // renewed its certificate yet. Nothing is stored; the next run asks again.
  if (newest.certificateExpiresAt <= request.archiveTimestampExpiresAt) return { renewed: false, reason: 'tsa_certificate_not_newer' };
  const renewedEvidence = evidence ? await addArchiveTimestamp(evidence, options) : undefined;

  // Written again by a retry under the same keys; only the database update below makes them current.
  const folder = `orgs/${request.organizationId}/requests/${request.id}/renewals/${Date.parse(archive.expiresAt)}`;
  const renewedKey = `${folder}/sealed.pdf`;
  if (renewedEvidence) await adapters.blobStore.put(evidenceBlobKeyFor(renewedKey), renewedEvidence);
  await adapters.blobStore.put(renewedKey, renewed);

  const evidenceNewest = renewedEvidence ? (await readDocumentTimestamps(renewedEvidence)).at(-1) : undefined;
  const nextExpiresAt = new Date(Math.min(newest.certificateExpiresAt.getTime(), evidenceNewest?.certificateExpiresAt.getTime() ?? Infinity));
  const sha256 = sha256Hex(renewed);
  await dataSource.transaction(async (tx) => {
    const moved = await tx.update(
      SigningRequest,
      { id: request.id, archiveTimestampExpiresAt: request.archiveTimestampExpiresAt!, sealedSha256: request.sealedSha256! },
      { sealedBlobKey: renewedKey, sealedSha256: sha256, archiveTimestampExpiresAt: nextExpiresAt },
    );
    if (moved.affected === 0) return; // another run renewed it meanwhile
    await tx.insert(SealedDocumentVersion, { sha256: request.sealedSha256!, requestId: request.id, replacedAt: new Date() });
    await recordAuditEvent(tx, {
      requestId: request.id,
      eventKey: `archive_renewed:${archive.expiresAt}`,
      type: 'archive_renewed',
      actor: 'system',
      detail: { previousSha256: request.sealedSha256, sha256, timestampAt: newest.at.toISOString(), renewBefore: nextExpiresAt.toISOString() },
      occurredAt: new Date(),
    });
  });
  return { renewed: true, sha256, nextExpiresAt: nextExpiresAt.toISOString() };
}

function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}
