/**
 * The one error type that reaches users. Each code is stable (clients match on it) and maps to exactly one
 * HTTP status, here. Messages are written for the API caller and must never carry secrets or personal data.
 */
export const errorStatus = {
  invalid_request: 400,
  unauthenticated: 401,
  forbidden: 403,
  /** A change made with a session cookie did not carry the session's X-CSRF-Token header. */
  csrf_token_invalid: 403,
  /** The signer (or KYC customer) must identify with eID before this: the session has no identification yet. */
  identification_required: 403,
  /** The eID identity is not the person the link was sent to (the expected national id differs). */
  identity_mismatch: 403,
  /** eID identification is not configured on this deployment. */
  eid_unavailable: 422,
  not_found: 404,
  method_not_allowed: 405,
  conflict: 409,
  /** A signer tried to sign before their page reported the document displayed to them (consent follows reading). */
  document_not_displayed: 409,
  /** A legal hold applies to the record (or its folder): it cannot be deleted until the hold is lifted. */
  legal_hold: 409,
  /** The record is still running (a pending round, an open KYC case): only ended records are deleted. */
  record_in_progress: 409,
  /** The record was deleted (its key destroyed, R13): its data is gone for good (src/privacy/record-keys.ts). */
  record_deleted: 410,
  /** An organisation export past its download window (7 days): its files are deleted; request a new one. */
  export_expired: 410,
  /** The organisation is closed, or closing after its grace period: its API keys and sessions no longer work. */
  organization_closed: 403,
  payload_too_large: 413,
  unsupported_media_type: 415,
  unprocessable: 422,
  /** A text field holds characters Sigill never stores: control characters, lone surrogates (src/text-input.ts). */
  invalid_text: 422,
  /** The uploaded file is not a PDF, or a PDF that cannot be parsed. */
  invalid_document: 422,
  /** The uploaded PDF is encrypted or password-protected: it cannot be stamped and sealed. */
  encrypted_document: 422,
  /** The uploaded PDF is certified with no changes permitted (DocMDP P=1): a seal would break its certification. */
  document_certified_no_changes: 422,
  document_permissions_forbid_seal: 422,
  document_damaged_signed: 422,
  /** An organisation seal upload is not a PKCS#12 file Sigill can read (or uses an encryption it does not support). */
  seal_pkcs12_invalid: 422,
  /** The PKCS#12 password is wrong (or the file is damaged: its integrity check fails). */
  seal_password_wrong: 422,
  /** The certificate was not issued for the seal's private key (or the PKCS#12 holds no key with its certificate). */
  seal_key_mismatch: 422,
  /** The seal key is not an RSA signing key (the seal signs RSASSA-PKCS1-v1_5 / SHA-256). */
  seal_key_unsupported: 422,
  /** The seal certificate's validity has ended. */
  seal_certificate_expired: 422,
  /** The seal certificate's validity has not begun yet. */
  seal_certificate_not_yet_valid: 422,
  /** AWS KMS refused the organisation's seal key (unknown key, no access, disabled, pending deletion). */
  seal_kms_key_unusable: 422,
  /** The KMS key is not this organisation's: it lacks the tag `sigill:organization=<id>`, or it is the deployment's key service key. */
  seal_key_not_owned: 422,
  /** The key or certificate is already another organisation's seal, or the deployment's. */
  seal_in_use: 422,
  /** A webhook URL this deployment will not send to: not https (production), or a private, loopback or link-local address. */
  webhook_destination_refused: 422,
  /** The organisation has as many webhook endpoints as one may have. */
  webhook_endpoint_limit_reached: 422,
  /** A signer's link is locked after too many wrong PINs, until the sender issues a new PIN. */
  locked: 423,
  rate_limited: 429,
  internal_error: 500,
  /** The HTTP method is one this server never implements (e.g. TRACE). */
  not_implemented: 501,
  /** A part Sigill depends on (blob store, identity provider) cannot be reached; retry later. */
  dependency_unavailable: 503,
  /** The Temporal cluster cannot be reached; retry later (`Retry-After`). */
  temporal_unavailable: 503,
  /** The database cannot be reached; retry later (`Retry-After`). */
  database_unavailable: 503,
} as const;

export type ErrorCode = keyof typeof errorStatus;

export class AppError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    /** Machine-readable detail safe to show the caller (e.g. which fields failed validation). */
    readonly details?: unknown,
    /** Fields an endpoint's contract puts at the top level of the error body (e.g. `attemptsLeft`). */
    readonly topLevel?: Record<string, unknown>,
  ) {
    super(message);
    this.name = 'AppError';
  }

  get status(): number {
    return errorStatus[this.code];
  }
}

/** 429 with the seconds to wait, which the error handler also sends as `Retry-After`. */
export function rateLimitedError(message: string, retryAfterSeconds: number): AppError {
  return new AppError('rate_limited', message, undefined, { retryAfterSeconds: Math.max(1, Math.ceil(retryAfterSeconds)) });
}

/** Seconds a client should wait before retrying during an outage: long enough for a restart to finish. */
const outageRetryAfterSeconds = 5;

/** 503 naming the part that is out (`database_unavailable`, `temporal_unavailable`), with `Retry-After`. */
export function unavailableError(part: 'database' | 'temporal', message?: string): AppError {
  const defaultMessage = part === 'database' ? 'The database is unavailable right now.' : 'The workflow service is unavailable right now.';
  return new AppError(`${part}_unavailable`, `${message ?? defaultMessage} Try again shortly.`, undefined, { retryAfterSeconds: outageRetryAfterSeconds });
}
