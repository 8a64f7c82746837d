/**
 * An organisation's own seal (issue 11, part 3): set from a PKCS#12 or an AWS KMS key, described, or
 * removed (back to the deployment seal). Owners alone change it — a seal decides whose name every sealed
 * document carries — and each change commits together with its entry in the organisation's audit log,
 * which names the certificate (subject, serial, fingerprint), never the key or the password.
 *
 * A seal is checked before it is stored, by the same loaders the worker uses: the PKCS#12 opens with the
 * password, its key is RSA and belongs to its certificate, the certificate is valid today, and the key
 * signs something the certificate verifies (for KMS, a real `Sign` call, so a key policy without
 * `kms:Sign` is found now, not at the first seal).
 *
 * A certificate whose subject does not name the organisation is accepted with a warning: a CA-issued
 * certificate names the legal entity the CA verified ("Acme Oy"), which need not match the name the
 * organisation chose here ("Acme"), and refusing would force a rename. The answer and the audit entry
 * say whether the subject names it (`subjectNamesOrganization`).
 */
import { constants, randomUUID, verify, X509Certificate } from 'node:crypto';
import { requireOrganizationAdmin } from '../accounts/access';
import type { AdminCaller } from '../accounts/members';
import { recordOrganizationEvent } from '../accounts/organization-audit-log';
import { queryReturning } from '../database/data-source';
import { Organization } from '../database/entities';
import { loadKmsSealKey } from '../documents/kms-seal-key';
import { loadP12SealKey, type SealKey } from '../documents/seal-key';
import { AppError, type ErrorCode } from '../errors';
import {
  certificateSha256,
  encryptPkcs12,
  kmsClientFor,
  pemCertificateChain,
  readOrganizationSeal,
  type OrganizationSealKind,
} from './organization-seal-key';
import { databaseCertificateStore, type SigningContext } from './signing-context';

export interface CertificateView {
  subject: string;
  issuer: string;
  serialNumber: string;
  notBefore: string;
  notAfter: string;
  /** SHA-256 of the certificate's DER, lowercase hex: what a verifier pins. */
  sha256Fingerprint: string;
}

export interface OrganizationSealView {
  source: 'organization' | 'deployment';
  kind?: OrganizationSealKind;
  kmsKeyId?: string;
  certificate: CertificateView;
  /** Certificates stored with the seal: the signing certificate, then its issuers. */
  chainLength: number;
  subjectNamesOrganization: boolean;
  setBy?: string;
  setAt?: string;
  warnings: Array<{ code: 'subject_does_not_name_organization'; message: string }>;
}

export type SealInput =
  | { kind: 'pkcs12'; pkcs12: Buffer; password: string }
  | { kind: 'kms'; kmsKeyId: string; certificateChainPem?: string };

type SealContext = Pick<SigningContext, 'dataSource' | 'adapters' | 'sealKey' | 'organizationSealKms'>;

export async function getOrganizationSeal(ctx: SealContext, caller: AdminCaller): Promise<OrganizationSealView> {
  requireOrganizationAdmin(caller.scope);
  const organization = await ctx.dataSource.getRepository(Organization).findOneByOrFail({ id: caller.scope.organizationId });
  const stored = await readOrganizationSeal(ctx.dataSource, organization.id);
  if (!stored) {
    const chain = (await ctx.sealKey()).certificateChain;
    return describe(organization.name, chain, { source: 'deployment' });
  }
  return describe(organization.name, pemChain(stored.certificateChainPem), {
    source: 'organization',
    kind: stored.kind,
    ...(stored.kmsKeyId ? { kmsKeyId: stored.kmsKeyId } : {}),
    setBy: stored.setBy,
    setAt: stored.setAt.toISOString(),
  });
}

export async function setOrganizationSeal(ctx: SealContext, caller: AdminCaller, input: SealInput): Promise<OrganizationSealView> {
  requireOwner(caller);
  const organizationId = caller.scope.organizationId;
  const organization = await ctx.dataSource.getRepository(Organization).findOneByOrFail({ id: organizationId });
  const sealId = randomUUID();

  const opened = input.kind === 'pkcs12' ? { key: await openPkcs12(input.pkcs12, input.password), close() {} } : await openKmsKey(ctx, input, organization.name);
  const key = opened.key;
  const leaf = new X509Certificate(key.certificateChain[0]!);
  try {
    checkValidNow(leaf);
    await checkSignsForCertificate(key, leaf);
  } finally {
    opened.close();
  }

  const chainPem = pemCertificateChain(key.certificateChain);
  const fingerprint = certificateSha256(leaf.raw);
  const stored =
    input.kind === 'pkcs12'
      ? await encryptPkcs12(ctx.adapters.keyService, { organizationId, sealId }, input.pkcs12, input.password)
      : { wrappedKey: null, encryptedPkcs12: null };
  const view = describe(organization.name, key.certificateChain, {
    source: 'organization',
    kind: input.kind,
    ...(input.kind === 'kms' ? { kmsKeyId: input.kmsKeyId } : {}),
    setBy: caller.actor.actor,
  });

  return ctx.dataSource.transaction(async (tx) => {
    const [previous]: Array<{ certificate_sha256: string }> = await tx.query(
      `SELECT certificate_sha256 FROM organization_seals WHERE organization_id = $1 FOR UPDATE`,
      [organizationId],
    );
    const [row]: Array<{ set_at: Date }> = await tx.query(
      `INSERT INTO organization_seals (organization_id, id, kind, wrapped_key, encrypted_pkcs12, kms_key_id, certificate_chain_pem, certificate_sha256, set_by, set_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, now())
       ON CONFLICT (organization_id) DO UPDATE SET
         id = EXCLUDED.id, kind = EXCLUDED.kind, wrapped_key = EXCLUDED.wrapped_key, encrypted_pkcs12 = EXCLUDED.encrypted_pkcs12,
         kms_key_id = EXCLUDED.kms_key_id, certificate_chain_pem = EXCLUDED.certificate_chain_pem,
         certificate_sha256 = EXCLUDED.certificate_sha256, set_by = EXCLUDED.set_by, set_at = EXCLUDED.set_at
       RETURNING set_at`,
      [
        organizationId,
        sealId,
        input.kind,
        stored.wrappedKey,
        stored.encryptedPkcs12,
        input.kind === 'kms' ? input.kmsKeyId : null,
        chainPem,
        fingerprint,
        caller.actor.actor,
      ],
    );
    await recordOrganizationEvent(tx, {
      organizationId,
      type: 'organization.seal_set',
      ...caller.actor,
      detail: {
        kind: input.kind,
        ...(input.kind === 'kms' ? { kmsKeyId: input.kmsKeyId } : {}),
        subject: view.certificate.subject,
        issuer: view.certificate.issuer,
        serialNumber: view.certificate.serialNumber,
        notAfter: view.certificate.notAfter,
        sha256Fingerprint: fingerprint,
        subjectNamesOrganization: view.subjectNamesOrganization,
        ...(previous ? { replacedSha256Fingerprint: previous.certificate_sha256 } : {}),
      },
    });
    return { ...view, setAt: new Date(row!.set_at).toISOString() };
  });
}

/** Back to the deployment seal; `false` when the organisation had no seal of its own. */
export async function removeOrganizationSeal(ctx: SealContext, caller: AdminCaller): Promise<boolean> {
  requireOwner(caller);
  const organizationId = caller.scope.organizationId;
  return ctx.dataSource.transaction(async (tx) => {
    const [gone] = await queryReturning<{ kind: string; certificate_sha256: string; kms_key_id: string | null }>(
      tx,
      `DELETE FROM organization_seals WHERE organization_id = $1 RETURNING kind, certificate_sha256, kms_key_id`,
      [organizationId],
    );
    if (!gone) return false;
    await recordOrganizationEvent(tx, {
      organizationId,
      type: 'organization.seal_removed',
      ...caller.actor,
      detail: { kind: gone.kind, sha256Fingerprint: gone.certificate_sha256, ...(gone.kms_key_id ? { kmsKeyId: gone.kms_key_id } : {}) },
    });
    return true;
  });
}

function requireOwner(caller: AdminCaller): void {
  requireOrganizationAdmin(caller.scope);
  if (!caller.isOwner) {
    throw new AppError(
      'forbidden',
      "Only an organisation owner, signed in, can change the organisation's seal (it decides whose name every sealed document carries).",
    );
  }
}

/** The loader's refusals, in the caller's terms; its messages carry no secret (never the password). */
const pkcs12Refusals: Array<[RegExp, ErrorCode, string]> = [
  [/password is wrong/, 'seal_password_wrong', 'The PKCS#12 password is wrong (or the file is damaged).'],
  [/must be an RSA key/, 'seal_key_unsupported', 'The seal key must be an RSA key: the seal signs with RSASSA-PKCS1-v1_5 and SHA-256.'],
  [/holds no private key together with its certificate|does not belong to the seal private key/, 'seal_key_mismatch', 'The PKCS#12 holds no private key together with the certificate issued for it.'],
];

async function openPkcs12(pkcs12: Buffer, password: string): Promise<SealKey> {
  try {
    return await loadP12SealKey(pkcs12, password);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    for (const [pattern, code, answer] of pkcs12Refusals) if (pattern.test(message)) throw new AppError(code, answer);
    throw new AppError('seal_pkcs12_invalid', `The upload is not a PKCS#12 file Sigill can read: ${message}.`);
  }
}

const kmsRefusals = new Set([
  'NotFoundException',
  'AccessDeniedException',
  'DisabledException',
  'KMSInvalidStateException',
  'InvalidKeyUsageException',
  'UnsupportedOperationException',
  'ValidationException',
  'InvalidArnException',
]);

/** The KMS key with its certificate (given, or self-signed through KMS naming the organisation); `close` ends the client. */
async function openKmsKey(
  ctx: SealContext,
  input: Extract<SealInput, { kind: 'kms' }>,
  organizationName: string,
): Promise<{ key: SealKey; close(): void }> {
  const kms = kmsClientFor(ctx.organizationSealKms, input.kmsKeyId);
  try {
    const key = await loadKmsSealKey({
      kms,
      keyId: input.kmsKeyId,
      certificateChainPem: input.certificateChainPem,
      certificateStore: databaseCertificateStore(ctx.dataSource),
      subjectName: organizationName,
    });
    return { key, close: () => kms.destroy() };
  } catch (error) {
    kms.destroy();
    throw kmsRefusal(error);
  }
}

function kmsRefusal(error: unknown): Error {
  const name = (error as { name?: string }).name ?? '';
  const message = error instanceof Error ? error.message : String(error);
  if (/must be an RSA signing key/.test(message)) return new AppError('seal_key_unsupported', `The KMS key is not usable for the seal: ${message}.`);
  if (/not issued for the KMS key/.test(message)) {
    return new AppError('seal_key_mismatch', 'The certificate was not issued for the KMS key (their public keys differ).');
  }
  if (/holds no PEM certificate/.test(message)) return new AppError('invalid_request', 'body.certificateChainPem holds no PEM certificate.');
  if (kmsRefusals.has(name)) return new AppError('seal_kms_key_unusable', `AWS KMS refused the key: ${name}: ${message}`);
  if (error instanceof AppError) return error;
  return new AppError('dependency_unavailable', 'AWS KMS could not be reached to check the seal key; try again shortly.');
}

function checkValidNow(certificate: X509Certificate): void {
  const now = Date.now();
  if (new Date(certificate.validTo).getTime() <= now) {
    throw new AppError('seal_certificate_expired', `The seal certificate expired on ${new Date(certificate.validTo).toISOString()}.`);
  }
  if (new Date(certificate.validFrom).getTime() > now) {
    throw new AppError('seal_certificate_not_yet_valid', `The seal certificate is valid only from ${new Date(certificate.validFrom).toISOString()}.`);
  }
}

/** One real signature, checked against the certificate: the key works and the certificate is its own. */
async function checkSignsForCertificate(key: SealKey, leaf: X509Certificate): Promise<void> {
  if (leaf.publicKey.asymmetricKeyType !== 'rsa') {
    throw new AppError('seal_key_unsupported', `The seal key must be an RSA key, not ${leaf.publicKey.asymmetricKeyType ?? 'unknown'}.`);
  }
  const probe = Buffer.from(`sigill organisation seal check ${randomUUID()}`);
  let signature: Buffer;
  try {
    signature = await key.sign(probe);
  } catch (error) {
    throw kmsRefusal(error);
  }
  if (!verify('sha256', probe, { key: leaf.publicKey, padding: constants.RSA_PKCS1_PADDING }, signature)) {
    throw new AppError('seal_key_mismatch', 'A signature made with the seal key does not verify with its certificate.');
  }
}

function pemChain(pem: string): Buffer[] {
  return (pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? []).map((block) => new X509Certificate(block).raw);
}

/** Node writes a distinguished name one attribute per line; one line reads better in JSON and logs. */
const oneLine = (name: string) => name.split('\n').filter(Boolean).join(', ');

function subjectValues(certificate: X509Certificate): string[] {
  return certificate.subject
    .split('\n')
    .map((line) => /^(?:CN|O)=(.*)$/.exec(line)?.[1])
    .filter((value): value is string => value !== undefined);
}

const normalizedName = (name: string) => name.normalize('NFKC').toLocaleLowerCase('en').replace(/\s+/g, ' ').trim();

/** True when the subject's common name or organisation holds the organisation's name (case and spacing aside). */
export function subjectNamesOrganization(certificate: X509Certificate, organizationName: string): boolean {
  const wanted = normalizedName(organizationName);
  return subjectValues(certificate).some((value) => normalizedName(value).includes(wanted));
}

function describe(
  organizationName: string,
  chain: Buffer[],
  base: Pick<OrganizationSealView, 'source' | 'kind' | 'kmsKeyId' | 'setBy' | 'setAt'>,
): OrganizationSealView {
  const leaf = new X509Certificate(chain[0]!);
  const names = subjectNamesOrganization(leaf, organizationName);
  return {
    ...base,
    certificate: {
      subject: oneLine(leaf.subject),
      issuer: oneLine(leaf.issuer),
      serialNumber: leaf.serialNumber.toLowerCase(),
      notBefore: new Date(leaf.validFrom).toISOString(),
      notAfter: new Date(leaf.validTo).toISOString(),
      sha256Fingerprint: certificateSha256(leaf.raw),
    },
    chainLength: chain.length,
    subjectNamesOrganization: names,
    warnings:
      names || base.source === 'deployment'
        ? []
        : [
            {
              code: 'subject_does_not_name_organization',
              message: `The certificate subject (${oneLine(leaf.subject)}) does not name the organisation "${organizationName}"; sealed documents will carry that subject.`,
            },
          ],
  };
}
