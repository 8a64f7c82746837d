/**
 * Telling failures apart by what they mean, not where they were thrown: an outage of a part Sigill needs
 * (the API answers 503 naming the part, activities retry), or data the database refuses for good (the API
 * answers 422, activities fail without retrying). One place, so the API and the worker judge alike.
 */
import { isGrpcServiceError, WorkflowUpdateRPCTimeoutOrCancelledError } from '@temporalio/client';

export type UnavailablePart = 'database' | 'temporal';

/** gRPC codes the Temporal client ends with when the cluster (or every worker, for an Update) is out of reach. */
const temporalOutageCodes = new Set([
  1, // CANCELLED: a call cut off, e.g. a query whose worker was lost
  4, // DEADLINE_EXCEEDED
  14, // UNAVAILABLE
]);

/** SQLSTATE classes and codes of a database that is down, restarting or out of connections. */
const databaseOutageStates = /^(08|57P0[123]|53300|53400)/;
const networkErrorCodes = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);
/** node-postgres reports a lost or refused connection with these plain messages (no code). */
const pgConnectionMessages = /Connection terminated|timeout exceeded when trying to connect|connection error|Cannot use a pool after calling end/i;
/** TypeORM's errors for a connection that died under a query runner (e.g. its backend was terminated). */
const typeormConnectionErrors = new Set(['QueryRunnerProviderAlreadyReleasedError', 'QueryRunnerAlreadyReleasedError', 'ConnectionIsNotSetError']);

function causes(error: unknown): unknown[] {
  const chain: unknown[] = [];
  for (let current = error; current && chain.length < 8; current = (current as { cause?: unknown; driverError?: unknown }).driverError ?? (current as { cause?: unknown }).cause) {
    chain.push(current);
  }
  return chain;
}

/** The part whose outage this error reports, or undefined when it is not an outage. */
export function unavailablePart(error: unknown): UnavailablePart | undefined {
  const chain = causes(error);
  if (chain.some((cause) => cause instanceof WorkflowUpdateRPCTimeoutOrCancelledError)) return 'temporal';
  if (chain.some((cause) => isGrpcServiceError(cause) && temporalOutageCodes.has(cause.code))) return 'temporal';
  for (const cause of chain) {
    if (typeof cause !== 'object' || cause === null) continue;
    // Errors of other parts that also carry network codes: the AWS SDK (blob store, KMS) has $metadata,
    // nodemailer a `command`, fetch (the SMS relay, identity providers) says "fetch failed".
    if ('$metadata' in cause || 'command' in cause || (cause instanceof TypeError && cause.message === 'fetch failed')) return undefined;
    const code = (cause as { code?: unknown }).code;
    if (typeof code === 'string' && (databaseOutageStates.test(code) || networkErrorCodes.has(code))) return 'database';
    if (cause instanceof Error && (pgConnectionMessages.test(cause.message) || typeormConnectionErrors.has(cause.name))) return 'database';
  }
  return undefined;
}

/**
 * The database refused the data itself: a data exception (SQLSTATE class 22, e.g. a NUL in text) or an
 * integrity violation (class 23) that no caller handled. Trying again gives the same answer.
 */
export function isPermanentDataError(error: unknown): boolean {
  return causes(error).some((cause) => {
    const code = (cause as { code?: unknown } | null)?.code;
    return typeof code === 'string' && /^2[23][0-9A-Z]{3}$/.test(code);
  });
}

/**
 * The mail server refused the message or a recipient for good (an SMTP 5xx reply, e.g. "bad recipient
 * address syntax"): sending the same message again gets the same answer.
 */
export function isPermanentMailRefusal(error: unknown): boolean {
  return causes(error).some((cause) => {
    const { responseCode, command } = (cause ?? {}) as { responseCode?: unknown; command?: unknown };
    return typeof responseCode === 'number' && responseCode >= 500 && responseCode < 600 && typeof command === 'string';
  });
}

/** The SQLSTATE of a database error, for logs and failure messages (never the values involved). */
export function sqlState(error: unknown): string | undefined {
  for (const cause of causes(error)) {
    const code = (cause as { code?: unknown } | null)?.code;
    if (typeof code === 'string' && /^(?=.*\d)[0-9A-Z]{5}$/.test(code)) return code;
  }
  return undefined;
}
