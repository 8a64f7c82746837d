/**
 * How a signer (or a KYC customer) proves who they are, written once for the server and the pages (types
 * only). `pin`: the personal link and a 6-digit PIN; `eid`: a national eID through the OpenID Connect broker
 * (src/identity/), no PIN; `pin+eid`: both, PIN first.
 */
export type IdentificationMethod = 'pin' | 'eid' | 'pin+eid';

export const identificationMethods: readonly IdentificationMethod[] = ['pin', 'eid', 'pin+eid'];

export const requiresEid = (method: IdentificationMethod | undefined): boolean => method === 'eid' || method === 'pin+eid';

/** `GET /v1/identification-methods`: what this deployment offers (eID only when a broker is configured). */
export interface IdentificationMethodsView {
  methods: IdentificationMethod[];
  eid: { available: boolean; acrValues: string[] };
}

/**
 * An eID identification as evidence shows it: never the national identifier in clear, only masked with the
 * birth-date part kept (e.g. `19800101-****`, `010180-****`).
 */
export interface IdentificationEvidenceView {
  /** The eID scheme the broker named (`se-bankid`, `fi-ftn`, `urn:grn:authn:se:bankid`, …). */
  scheme: string | null;
  name: string | null;
  birthdate: string | null;
  country: string | null;
  nationalIdMasked: string | null;
  /** The broker's transaction id (its `txn`/`sid`/`jti`), to trace the identification at the broker. */
  transactionId: string | null;
  acr: string | null;
  identifiedAt: string;
}

/** A signer's identification as the sender sees it on the request. */
export interface SignerIdentificationView {
  method: IdentificationMethod;
  /** The eID the sender asked for (`acr_values`), when one was. */
  acr: string | null;
  /** Whether the sender named the national id the eID must match (the id itself is never shown back). */
  expectsNationalId: boolean;
  /** Present once the signer identified with eID. */
  evidence?: IdentificationEvidenceView;
}
