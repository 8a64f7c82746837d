import { z } from 'zod';
import type { DataSource } from 'typeorm';
import { documentCodeInput, verifyDocument, verifyDocumentCode } from '../../signing/verify-document';
import { defineRoute } from '../route';
import type { RateLimitPolicy } from '../rate-limit';

/** Generous for a person checking a few files, tight for someone probing codes or hashes. */
export const verifyRateLimit: RateLimitPolicy = { points: 20, windowSeconds: 60 };

export const verificationSchema = z.object({
  verdict: z.enum(['authentic', 'modified', 'unknown']),
  documentCode: z.string().nullable(),
  sealedAt: z.string().nullable().describe('When the document was sealed (ISO 8601)'),
  sha256: z.string().nullable().describe('SHA-256 of the sealed document on record: what an authentic copy hashes to'),
  uploadedSha256: z.string().optional().describe('SHA-256 of the checked file'),
  signatureValid: z.boolean().optional().describe("The file's last signature verifies over the bytes it covers"),
  signers: z.array(z.object({ name: z.string(), signedAt: z.string().nullable() })),
  original: z
    .object({
      sha256: z.string().describe('SHA-256 of the document as it was sent for signing'),
      byteLength: z.number().int().describe('Its length: the sealed file begins with exactly these bytes'),
      isPrefix: z.boolean().optional().describe("Checked on the uploaded file: its first byteLength bytes hash to sha256 (the original, unchanged, with the seal appended)"),
    })
    .optional()
    .describe('Present for documents sealed by appending (since sealing never rewrites): how the original is contained in the sealed file'),
  file: z
    .enum(['document', 'evidence'])
    .optional()
    .describe('For an authentic file: the sealed document, or the separately sealed audit trail of a document that could take only a signature'),
  replacedByRenewal: z
    .boolean()
    .optional()
    .describe('The checked file is an earlier version of this sealed document; its archive timestamp has been renewed since, and `sha256` is the current version'),
  deleted: z
    .object({
      at: z.string().describe('When the record was deleted (ISO 8601)'),
      rule: z.string().describe("The rule it was deleted under: 'retention:<policy>', 'manual', 'data-subject-request:<id>', 'organization-closed'"),
    })
    .optional()
    .describe(
      "The document's record was deleted since it was sealed: it existed and was sealed (sealedAt), and was deleted then under this rule; the signers' names are gone (signers is empty). The deletion's reason is only in its receipt (GET /v1/deletion-receipts/:id)",
    ),
});

/** Public verification (R4): no credentials, rate-limited per client address. */
export function verifyRoutes(dataSource: DataSource, maxDocumentBytes: number) {
  return [
    defineRoute({
      method: 'post',
      path: '/v1/verify',
      summary: 'Check whether a PDF is a document this service sealed, unchanged',
      tag: 'Verification',
      auth: 'public',
      rateLimit: verifyRateLimit,
      binaryBody: { mediaType: 'application/pdf', maxBytes: () => maxDocumentBytes },
      responses: {
        200: {
          description: '"authentic" only for a byte-identical sealed document with a valid seal; "modified" when the file names a sealed document but differs from it',
          schema: verificationSchema,
        },
        422: { description: 'The file is not a PDF' },
      },
      handler: async ({ binaryBody }) => ({ status: 200, body: await verifyDocument(dataSource, binaryBody!) }),
    }),
    defineRoute({
      method: 'get',
      path: '/v1/verify/:documentCode',
      summary: 'Look up a sealed document by the code printed on its pages',
      tag: 'Verification',
      auth: 'public',
      rateLimit: verifyRateLimit,
      params: z.object({ documentCode: documentCodeInput }),
      responses: { 200: { description: 'The sealed document on record; compare its sha256 with your copy', schema: verificationSchema } },
      errors: [404],
      handler: async ({ params }) => ({ status: 200, body: await verifyDocumentCode(dataSource, params.documentCode) }),
    }),
  ];
}
