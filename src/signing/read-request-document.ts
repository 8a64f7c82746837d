/**
 * A signing request's documents, as the people who sent it read them: the original as uploaded, and the
 * sealed PDF once the round is completed, and the sealed evidence PDF beside a document that could take only
 * a signature (src/documents/seal-document.ts). All ask for the `documents` permission in the request's folder
 * (src/accounts/access.ts): support staff, who follow every request without its content, get 403, and a
 * request the caller cannot see at all is 404 as on every other route. Every route that hands out document
 * content goes through here.
 */
import { createHash } from 'node:crypto';
import type { AccessScope } from '../accounts/access';
import { AppError } from '../errors';
import { findOwnRequest } from './get-signing-request';
import type { SigningContext } from './signing-context';

export interface RequestDocument {
  bytes: Buffer;
  filename: string;
  sha256: string;
}

export async function readOriginalDocument(context: SigningContext, scope: AccessScope, requestId: string): Promise<RequestDocument> {
  const request = await findOwnRequest(context, scope, requestId, 'documents');
  const bytes = await context.adapters.blobStore.get(request.originalBlobKey);
  if (!bytes) throw new AppError('dependency_unavailable', 'The original document is not available right now.');
  return { bytes: Buffer.from(bytes), filename: request.documentFilename, sha256: request.originalSha256 };
}

export async function readSealedDocument(context: SigningContext, scope: AccessScope, requestId: string): Promise<RequestDocument> {
  const request = await findOwnRequest(context, scope, requestId, 'documents');
  if (request.status !== 'completed' || !request.sealedBlobKey || !request.sealedSha256) {
    throw new AppError('conflict', `The sealed document exists once the request is completed (it is ${request.status}).`);
  }
  const bytes = await context.adapters.blobStore.get(request.sealedBlobKey);
  if (!bytes) throw new AppError('dependency_unavailable', 'The sealed document is not available right now.');
  return { bytes: Buffer.from(bytes), filename: `${request.documentCode}.pdf`, sha256: request.sealedSha256 };
}

/**
 * The separately sealed audit trail of a document that could take only a signature (already signed,
 * certified, or restricted by its permissions; see sealTreatment); 404 for a document
 * whose audit trail is inside the sealed PDF itself, 409 before the seal.
 */
export async function readSealedEvidence(context: SigningContext, scope: AccessScope, requestId: string): Promise<RequestDocument> {
  const request = await findOwnRequest(context, scope, requestId, 'documents');
  if (request.status !== 'completed' || !request.sealedBlobKey) {
    throw new AppError('conflict', `The sealed evidence exists once the request is completed (it is ${request.status}).`);
  }
  const bytes = await context.adapters.blobStore.get(evidenceBlobKeyFor(request.sealedBlobKey));
  if (!bytes) throw new AppError('not_found', 'This document carries its audit trail inside the sealed PDF; there is no separate evidence file.');
  return { bytes: Buffer.from(bytes), filename: `${request.documentCode}-audit-trail.pdf`, sha256: createHash('sha256').update(bytes).digest('hex') };
}

/** Where the evidence PDF of a request is stored: beside its sealed PDF. */
export function evidenceBlobKeyFor(sealedBlobKey: string): string {
  return sealedBlobKey.replace(/sealed\.pdf$/, 'evidence.pdf');
}
