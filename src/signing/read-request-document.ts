/**
 * A signing request's documents, as the people who sent it read them: the original as uploaded, and the
 * sealed PDF once the round is completed. Both ask for the `documents` permission in the request's folder
 * (src/accounts/access.ts): support staff, who follow every request without its content, get 403, and a
 * request the caller cannot see at all is 404 as on every other route. Every route that hands out document
 * content goes through here.
 */
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
