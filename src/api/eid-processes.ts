/**
 * The processes that identify people with eID, each with what happens when the broker answers: the one
 * place a new process (a KYC case, a data-subject request) registers with the eID callback.
 */
import type { TemporalTarget } from '../adapters/temporal-connection';
import type { EidPurpose } from '../identity/eid-broker';
import { completeRequesterIdentification, requesterFailurePage } from '../dsr/requester-eid';
import { completeKycIdentification } from '../kyc/complete-kyc-identification';
import { kycCredentials } from '../kyc/customer-credentials';
import { completeSignerIdentification } from '../signing/identify-signer';
import type { SigningContext } from '../signing/signing-context';
import type { EidCompletion, EidFailurePage } from './eid-callback';

export function eidProcesses(deps: { signing: SigningContext; temporal: TemporalTarget }): Partial<
  Record<EidPurpose, { complete: EidCompletion; failurePage: EidFailurePage }>
> {
  const { signing, temporal } = deps;
  const signerPage = (signerId: string, linkVersion: number) => `/s/${signing.credentials.linkToken({ signerId, linkVersion })}`;
  return {
    signer: {
      complete: (input) => completeSignerIdentification(signing, temporal, input),
      failurePage: async (flow, reason) => `${signerPage(flow.ref, flow.version)}?eid=${reason === 'expired' ? 'failed' : reason}`,
    },
    kyc: {
      complete: ({ flow, identity, actor, now }) =>
        completeKycIdentification(signing, temporal, { caseId: flow.ref, linkVersion: flow.version, identity, actor, now }),
      failurePage: async (flow, reason) => {
        const token = (await kycCredentials(signing)).linkToken({ caseId: flow.ref, linkVersion: flow.version });
        return `/k/${token}?eid=${reason === 'expired' ? 'failed' : reason}`;
      },
    },
    dsr: {
      complete: ({ flow, identity, actor, now }) =>
        completeRequesterIdentification(signing, temporal, { dsrId: flow.ref, linkVersion: flow.version, identity, actor, now }),
      failurePage: (flow, reason) => requesterFailurePage(signing, flow.ref, flow.version, reason),
    },
  };
}
