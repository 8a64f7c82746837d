/**
 * Passwords (R7): argon2id through the maintained `argon2` binding, at OWASP's baseline cost (19 MiB, two
 * passes, one lane). Hashes carry their parameters (PHC strings), so raising the cost later re-hashes each
 * password at its owner's next login (`needsRehash`) without a migration.
 */
import argon2 from 'argon2';
import { AppError } from '../errors';

const hashOptions = { type: argon2.argon2id, memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;

export const minPasswordLength = 12;
/** Long enough for any passphrase, short enough that hashing cannot be turned into a denial of service. */
export const maxPasswordLength = 256;

export async function hashPassword(password: string): Promise<string> {
  return argon2.hash(password, hashOptions);
}

export function needsRehash(hash: string): boolean {
  return argon2.needsRehash(hash, hashOptions);
}

/** A hash of nothing anyone knows, checked against when there is no user, so both answers take as long. */
let decoyHash: Promise<string> | undefined;

/** Whether `password` matches `hash`; with no hash it still spends the time a real check would. */
export async function verifyPassword(hash: string | null | undefined, password: string): Promise<boolean> {
  if (!hash) {
    await argon2.verify(await (decoyHash ??= hashPassword(`decoy-${Math.random()}`)), password).catch(() => false);
    return false;
  }
  return argon2.verify(hash, password).catch(() => false);
}

/**
 * The rules a new password must meet: at least 12 characters (NIST SP 800-63B counts length, not
 * character classes), not the account's email or its local part, and not one character repeated.
 */
export function checkPasswordPolicy(password: string, email: string): void {
  const problem = passwordProblem(password, email);
  if (problem) throw new AppError('invalid_request', `password: ${problem}`, { issues: [{ path: 'body.password', message: problem }] });
}

function passwordProblem(password: string, email: string): string | undefined {
  if ([...password].length < minPasswordLength) return `must be at least ${minPasswordLength} characters`;
  if (password.length > maxPasswordLength) return `must be at most ${maxPasswordLength} characters`;
  const normalised = password.trim().toLowerCase();
  const localPart = email.split('@')[0]!.toLowerCase();
  if (normalised === email.toLowerCase() || normalised === localPart || normalised.includes(email.toLowerCase())) {
    return 'must not be your email address';
  }
  if (new Set(password).size === 1) return 'must not be one character repeated';
  return undefined;
}
