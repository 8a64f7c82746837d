import { z } from 'zod';
import { getOrganizationSeal, removeOrganizationSeal, setOrganizationSeal, type SealInput } from '../../signing/organization-seals';
import type { SigningContext } from '../../signing/signing-context';
import { AppError } from '../../errors';
import { adminCaller } from '../principal';
import { defineRoute } from '../route';

const certificateBody = z.object({
  subject: z.string().describe('Distinguished name, one line: "CN=Acme Oy seal, O=Acme Oy, C=FI"'),
  issuer: z.string(),
  serialNumber: z.string().describe('Lowercase hex'),
  notBefore: z.iso.datetime(),
  notAfter: z.iso.datetime(),
  sha256Fingerprint: z.string().describe("SHA-256 of the certificate's DER, lowercase hex (what a verifier pins)"),
});

const sealBody = z.object({
  source: z.enum(['organization', 'deployment']).describe("Which seal this organisation's documents are sealed with"),
  kind: z.enum(['pkcs12', 'kms']).optional().describe("The organisation's own seal: an uploaded PKCS#12 or an AWS KMS key"),
  kmsKeyId: z.string().optional().describe("The KMS key's ARN, as KMS resolved the id, ARN or alias given"),
  certificate: certificateBody.describe('The signing certificate: sealed PDFs carry it'),
  chainLength: z.number().int().describe('Certificates stored with the seal: the signing one, then its issuers'),
  subjectNamesOrganization: z.boolean().describe("Whether the certificate's CN or O holds the organisation's name"),
  setBy: z.string().optional().describe('`user:<id>` of the owner who set it'),
  setAt: z.iso.datetime().optional(),
  warnings: z.array(z.object({ code: z.literal('subject_does_not_name_organization'), message: z.string() })),
});

// A PKCS#12 is a few kilobytes; a chain a few more. Base64 adds a third.
const maxPkcs12Base64 = 256 * 1024;

/**
 * The organisation's own seal (issue 11, part 3): owners set and remove it; owners and administrators
 * read which seal is in use. JSON only, the PKCS#12 in base64 like a signing request's document: the
 * file is small, and a back-office script or the console sends one body either way.
 */
export function organizationSealRoutes(signing: SigningContext) {
  return [
    defineRoute({
      method: 'get',
      path: '/v1/organization/seal',
      summary: "Which seal the organisation's documents get: its own or the deployment's, and its certificate (never key material)",
      tag: 'Administration',
      auth: 'principal',
      permission: 'admin',
      responses: { 200: { description: 'The seal in use', schema: sealBody } },
      handler: async ({ principal, ctx }) => ({ status: 200, body: await getOrganizationSeal(signing, adminCaller(principal!, ctx)) }),
    }),
    defineRoute({
      method: 'put',
      path: '/v1/organization/seal',
      summary: "Set the organisation's own seal: a PKCS#12 with its password, or an AWS KMS key (owners only; audited)",
      tag: 'Administration',
      auth: 'principal',
      permission: 'admin',
      bodyLimit: '512kb',
      body: z.strictObject({
        pkcs12: z
          .base64('must be base64')
          .max(maxPkcs12Base64)
          .optional()
          .describe('The .p12/.pfx file in base64: one RSA private key and its certificate (with any intermediates)'),
        password: z.string().max(1024).optional().describe('The PKCS#12 password; never stored in the clear, never echoed'),
        kmsKeyId: z
          .string()
          .min(1)
          .max(2048)
          .regex(/^\S+$/, 'must be a key id, ARN or alias')
          .optional()
          .describe(
            'An asymmetric RSA SIGN_VERIFY key (id, ARN or alias/...) tagged sigill:organization=<organisation id>; stored by its ARN; the private key never leaves KMS',
          ),
        certificateChainPem: z
          .string()
          .max(maxPkcs12Base64)
          .optional()
          .describe('With kmsKeyId: PEM certificates issued for the KMS key, signing certificate first; without it a certificate naming the organisation is self-signed through KMS'),
      }),
      responses: { 200: { description: 'The seal now in use', schema: sealBody } },
      errors: [422, 503],
      handler: async ({ body, principal, ctx }) => {
        let input: SealInput;
        if (body.pkcs12 !== undefined && body.kmsKeyId === undefined && body.certificateChainPem === undefined) {
          input = { kind: 'pkcs12', pkcs12: Buffer.from(body.pkcs12, 'base64'), password: body.password ?? '' };
        } else if (body.kmsKeyId !== undefined && body.pkcs12 === undefined && body.password === undefined) {
          input = { kind: 'kms', kmsKeyId: body.kmsKeyId, certificateChainPem: body.certificateChainPem };
        } else {
          throw new AppError('invalid_request', 'Send either { pkcs12, password } or { kmsKeyId, certificateChainPem? }.');
        }
        return { status: 200, body: await setOrganizationSeal(signing, adminCaller(principal!, ctx), input, ctx.state.log) };
      },
    }),
    defineRoute({
      method: 'delete',
      path: '/v1/organization/seal',
      summary: "Remove the organisation's own seal: documents are sealed with the deployment seal again (owners only; audited)",
      tag: 'Administration',
      auth: 'principal',
      permission: 'admin',
      responses: { 204: { description: 'Removed (also when there was none)' } },
      handler: async ({ principal, ctx }) => {
        await removeOrganizationSeal(signing, adminCaller(principal!, ctx));
        return { status: 204, body: undefined };
      },
    }),
  ];
}
