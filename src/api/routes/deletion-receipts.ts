/**
 * Deleting an ended record by hand and reading deletion receipts (R13, src/privacy/). The retention sweep and
 * data-subject erasures delete through the same shredRecord; their receipts read here too.
 */
import { z } from 'zod';
import type { TemporalTarget } from '../../adapters/temporal-connection';
import { deleteRecordByHand, readDeletionReceipt } from '../../privacy/delete-records';
import type { DeletionReceipt } from '../../privacy/shred-record';
import type { SigningContext } from '../../signing/signing-context';
import { multilineText } from '../../text-input';
import { actorOf } from '../principal';
import { defineRoute } from '../route';

export const deletionReceiptBody = z.object({
  id: z.uuid(),
  record: z.object({
    kind: z.enum(['signing_request', 'kyc_case', 'data_subject_request', 'organization']),
    id: z.uuid().describe('The record; for `organization`, the organisation whose key was destroyed'),
  }),
  rule: z.string().describe("Which rule deleted it: 'manual', 'retention:<policy>', 'data-subject-request:<id>', 'organization-closed'"),
  reason: z.string(),
  actor: z.string().describe("Who: 'user:<id>', 'api-key:<id>', 'system:retention', …"),
  deletedAt: z.iso.datetime(),
  keyIdsDestroyed: z.array(z.string()).describe('The ids of the keys destroyed: everything encrypted under them is unreadable for good'),
  sealedSha256: z.string().nullable().describe("A sealed request's document SHA-256: /v1/verify still recognises the file"),
  sealedAt: z.iso.datetime().nullable(),
});

const receiptView = (receipt: DeletionReceipt) => {
  const { organizationId: _organizationId, ...view } = receipt;
  return view;
};

const deletionBody = z.strictObject({ reason: multilineText({ max: 2000 }).describe('Why it is deleted; kept in the receipt') });

export function deletionRoutes(context: SigningContext, temporal: TemporalTarget) {
  const deleteRoute = (kind: 'signing_request' | 'kyc_case') => {
    const noun = kind === 'signing_request' ? 'signing request' : 'KYC case';
    return defineRoute({
      method: 'delete',
      path: kind === 'signing_request' ? '/v1/signing-requests/:id' : '/v1/kyc-cases/:id',
      permission: 'admin',
      summary:
        `Delete an ended ${noun} for good (owners and admins): its key is destroyed, its documents and personal data are gone, ` +
        'a tombstone (ids, statuses, times, hashes) and a deletion receipt stay. A second call answers the same receipt',
      tag: kind === 'signing_request' ? 'Signing requests' : 'KYC cases',
      auth: 'principal',
      params: z.object({ id: z.uuid(`must be a ${noun} id`) }),
      body: deletionBody,
      responses: { 200: { description: 'The deletion receipt', schema: deletionReceiptBody } },
      errors: [403, 404, 409],
      handler: async ({ params, body, principal }) => {
        const receipt = await deleteRecordByHand(context, temporal, { kind, id: params.id }, {
          scope: principal!,
          role: principal!.kind === 'user' ? principal!.role : undefined,
          actor: actorOf(principal!),
          reason: body.reason,
        });
        return { status: 200, body: receiptView(receipt) };
      },
    });
  };
  return [
    deleteRoute('signing_request'),
    deleteRoute('kyc_case'),
    defineRoute({
      method: 'get',
      path: '/v1/deletion-receipts/:id',
      permission: 'view',
      summary:
        'A deletion receipt of the organisation: what was deleted, when, under which rule, by whom, and the keys destroyed ' +
        "(a folder-scoped key or member reads those of its folders' requests and cases)",
      tag: 'Deletion',
      auth: 'principal',
      params: z.object({ id: z.uuid('must be a deletion receipt id') }),
      responses: { 200: { description: 'The receipt', schema: deletionReceiptBody } },
      errors: [404],
      handler: async ({ params, principal }) => {
        return { status: 200, body: receiptView(await readDeletionReceipt(context, principal!, params.id)) };
      },
    }),
  ];
}
