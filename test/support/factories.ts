import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { createOrganization, type CreatedOrganization } from '../../src/accounts/create-organization';

export function createTestOrganization(
  dataSource: DataSource,
  overrides: Partial<{ name: string; ownerEmail: string }> = {},
): Promise<CreatedOrganization> {
  const unique = randomUUID().slice(0, 8);
  return createOrganization(dataSource, {
    name: overrides.name ?? `Test organisation ${unique}`,
    ownerEmail: overrides.ownerEmail ?? `owner-${unique}@example.test`,
  });
}

/** The JSON body of a one-signer request (PIN to the sender), optionally filed in `folderId`. */
export function signingRequestBody(pdfBase64: string, title: string, folderId?: string) {
  return {
    title,
    ...(folderId ? { folderId } : {}),
    document: { filename: 'agreement.pdf', contentBase64: pdfBase64 },
    signers: [{ name: 'Signer', email: `signer-${randomUUID()}@example.test`, pinDelivery: 'sender' }],
  };
}
