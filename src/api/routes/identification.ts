import { z } from 'zod';
import type { IdentificationMethodsView } from '../../contract/identification';
import type { EidBroker } from '../../identity/eid-broker';
import { defineRoute } from '../route';

/** IdentificationEvidenceView (src/contract/identification.ts) as the API documents it. */
export const identificationEvidenceBody = z.object({
  scheme: z.string().nullable(),
  name: z.string().nullable(),
  birthdate: z.string().nullable(),
  country: z.string().nullable(),
  nationalIdMasked: z.string().nullable().describe('The national identifier masked except its birth-date part, e.g. 19800101-****'),
  transactionId: z.string().nullable().describe("The broker's transaction id"),
  acr: z.string().nullable(),
  identifiedAt: z.iso.datetime(),
});

export const signerIdentificationBody = z.object({
  method: z.enum(['pin', 'eid', 'pin+eid']),
  acr: z.string().nullable(),
  expectsNationalId: z.boolean(),
  evidence: identificationEvidenceBody.optional(),
});

/** What the senders may ask for: eID only where a broker is configured (EID_ISSUER). */
export function identificationRoutes(eid: EidBroker) {
  return [
    defineRoute({
      method: 'get',
      path: '/v1/identification-methods',
      summary: 'How signers and customers can identify here: PIN always, eID when a broker is configured',
      tag: 'Signing requests',
      auth: 'principal',
      responses: {
        200: {
          description: 'The methods offered and the eIDs (`acr_values`) the broker is configured for',
          schema: z.object({
            methods: z.array(z.enum(['pin', 'eid', 'pin+eid'])),
            eid: z.object({ available: z.boolean(), acrValues: z.array(z.string()) }),
          }),
        },
      },
      handler: async () => {
        const view: IdentificationMethodsView = {
          methods: eid.available ? ['pin', 'eid', 'pin+eid'] : ['pin'],
          eid: { available: eid.available, acrValues: [...eid.acrValues] },
        };
        return { status: 200, body: view };
      },
    }),
  ];
}
