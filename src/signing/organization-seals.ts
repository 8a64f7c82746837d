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
 *
 * A seal is one organisation's alone. A KMS key is any key the deployment's AWS role can use, so it must
 * prove it was assigned to this organisation: whoever administers the AWS account tags it
 * `sigill:organization=<organisation id>` (read with ListResourceTags; an owner cannot set it through Sigill).
 * It is resolved with DescribeKey and stored by its ARN, so an alias or a bare id cannot hide that it is
 * another's; the deployment's own keys (SEAL_KMS_KEY_ID, KMS_KEY_ID) are refused whatever their tags say,
 * and so is a key or certificate that is the deployment seal's. The database holds each KMS key and each
 * certificate to one organisation (migration 1763918000000), and the self-signed certificate made for a
 * KMS key is kept under the organisation's id, so it is never another organisation's certificate.
 *
 * What AWS says when it refuses a key (its messages name the deployment's account and role) goes to the
 * server log only; the caller gets a fixed message per kind of refusal.
 */
import { constants, randomUUID, verify, X509Certificate } from 'node:crypto';
import type { KMSClient } from '@aws-sdk/client-kms';
import { KMS } from '../adapters/aws-sdk';
import { requireOrganizationAdmin } from '../accounts/access';
import type { AdminCaller } from '../accounts/members';
import { recordOrganizationEvent } from '../accounts/organization-audit-log';
import { queryReturning } from '../database/data-source';
import { Organization } from '../database/entities';
import { loadKmsSealKey, type SealCertificateStore } from '../documents/kms-seal-key';
import { loadP12SealKey, type SealKey } from '../documents/seal-key';
import { AppError, type ErrorCode } from '../errors';
import type { Logger } from '../logger';
import {
  certificateSha256,
  encryptPkcs12,
  kmsClientFor,
  organizationTagKey,
  pemCertificateChain,
  readOrganizationSeal,
  type DeploymentKmsKey,
  type KmsAccess,
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

/**
 * `log` gets what the caller must not: AWS's own words when it refuses a key (they name the deployment's
 * AWS account and role).
 */
export async function setOrganizationSeal(
  ctx: SealContext,
  caller: AdminCaller,
  input: SealInput,
  log?: Pick<Logger, 'warn'>,
): Promise<OrganizationSealView> {
  requireOwner(caller);
  const organizationId = caller.scope.organizationId;
  const organization = await ctx.dataSource.getRepository(Organization).findOneByOrFail({ id: organizationId });
  const sealId = randomUUID();

  const opened =
    input.kind === 'pkcs12'
      ? { key: await openPkcs12(input.pkcs12, input.password), keyArn: null, close() {} }
      : await openKmsKey(ctx, input, organization, log);
  const key = opened.key;
  const leaf = new X509Certificate(key.certificateChain[0]!);
  try {
    checkValidNow(leaf);
    await checkNotDeploymentSeal(ctx, leaf, log);
    await checkSignsForCertificate(key, leaf, log);
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
    ...(opened.keyArn ? { kmsKeyId: opened.keyArn } : {}),
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
        opened.keyArn,
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
        ...(opened.keyArn ? { kmsKeyId: opened.keyArn } : {}),
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
  }).catch((error: unknown) => {
    throw sealInUse(error) ?? error;
  });
}

/** The database's word that the key or the certificate is already another organisation's seal. */
function sealInUse(error: unknown): AppError | undefined {
  const { code, constraint } = error as { code?: string; constraint?: string };
  if (code !== '23505') return undefined;
  if (constraint === 'organization_seals_kms_key_id_key') {
    return new AppError('seal_in_use', "This KMS key is already another organisation's seal.");
  }
  if (constraint === 'organization_seals_certificate_sha256_key') {
    return new AppError('seal_in_use', "This certificate is already another organisation's seal.");
  }
  return undefined;
}

/** The deployment seal's certificate or key is never an organisation's: its documents would pass as the deployment's. */
async function checkNotDeploymentSeal(ctx: SealContext, leaf: X509Certificate, log?: Pick<Logger, 'warn'>): Promise<void> {
  let deployment: X509Certificate;
  try {
    deployment = new X509Certificate((await ctx.sealKey()).certificateChain[0]!);
  } catch (error) {
    log?.warn({ err: error }, 'the deployment seal could not be loaded to compare an organisation seal with');
    throw new AppError('dependency_unavailable', 'The deployment seal could not be loaded to compare the new seal with; try again shortly.');
  }
  if (deployment.raw.equals(leaf.raw) || deployment.publicKey.equals(leaf.publicKey)) {
    throw new AppError('seal_in_use', "This is the deployment's seal (its certificate or its key): an organisation's seal must be its own.");
  }
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

/**
 * What the caller is told when AWS KMS refuses: fixed, per kind of refusal. AWS's own message (which names
 * the deployment's account, role and key ARNs) is logged, never answered.
 */
const kmsRefusals: Record<string, string> = {
  NotFoundException: 'AWS KMS has no such key where Sigill looks: check the key id, ARN or alias and its region.',
  AccessDeniedException:
    "Sigill's AWS role may not use the key: its key policy must allow kms:DescribeKey, kms:ListResourceTags, kms:GetPublicKey and kms:Sign.",
  DisabledException: 'The KMS key is disabled.',
  KMSInvalidStateException: 'The KMS key is not in a state that can sign (for example pending deletion or pending import).',
  InvalidKeyUsageException: 'The KMS key cannot sign with RSASSA-PKCS1-v1_5 and SHA-256.',
  UnsupportedOperationException: 'AWS KMS does not support signing with this key.',
  ValidationException: 'AWS KMS did not accept the key id: give a key id, a key ARN or alias/<name>.',
  InvalidArnException: 'AWS KMS did not accept the key id: give a key id, a key ARN or alias/<name>.',
};

interface OpenedKmsKey {
  key: SealKey;
  /** The key's ARN, as KMS resolved the id, ARN or alias given: what is stored and compared. */
  keyArn: string;
  close(): void;
}

/**
 * The KMS key, once it is shown to be this organisation's, with its certificate (given, or self-signed
 * through KMS naming the organisation); `close` ends the client.
 */
async function openKmsKey(
  ctx: SealContext,
  input: Extract<SealInput, { kind: 'kms' }>,
  organization: { id: string; name: string },
  log?: Pick<Logger, 'warn'>,
): Promise<OpenedKmsKey> {
  const kms = kmsClientFor(ctx.organizationSealKms, input.kmsKeyId);
  try {
    const keyArn = await resolveKeyArn(kms, input.kmsKeyId);
    await refuseDeploymentKey(ctx.organizationSealKms, keyArn, log);
    await requireOrganizationTag(kms, keyArn, organization.id, log);
    const key = await loadKmsSealKey({
      kms,
      keyId: keyArn,
      certificateChainPem: input.certificateChainPem,
      certificateStore: organizationCertificateStore(ctx, organization.id),
      subjectName: organization.name,
    });
    return { key, keyArn, close: () => kms.destroy() };
  } catch (error) {
    kms.destroy();
    throw kmsRefusal(error, log);
  }
}

async function resolveKeyArn(kms: KMSClient, keyId: string): Promise<string> {
  const described = await kms.send(new KMS.DescribeKeyCommand({ KeyId: keyId }));
  const arn = described.KeyMetadata?.Arn;
  if (!arn) throw new Error('AWS KMS described the key without its ARN');
  return arn;
}

/** The ARN each deployment key resolves to, once per process (a failed look-up is tried again next time). */
const deploymentKeyArns = new WeakMap<DeploymentKmsKey, Promise<string>>();

function deploymentKeyArn(access: KmsAccess, key: DeploymentKmsKey): Promise<string> {
  let arn = deploymentKeyArns.get(key);
  if (!arn) {
    const kms = kmsClientFor({ region: key.region ?? access.region, endpoint: key.endpoint ?? access.endpoint }, key.keyId);
    arn = resolveKeyArn(kms, key.keyId).finally(() => kms.destroy());
    arn.catch(() => deploymentKeyArns.delete(key));
    deploymentKeyArns.set(key, arn);
  }
  return arn;
}

/**
 * SEAL_KMS_KEY_ID and KMS_KEY_ID are the deployment's, whatever their tags say. Compared by resolved ARN;
 * when the deployment's role may not describe its own key, by the id as configured (an alias then cannot
 * be compared, which the tag check and the comparison with the deployment seal's public key still cover).
 */
async function refuseDeploymentKey(access: KmsAccess, keyArn: string, log?: Pick<Logger, 'warn'>): Promise<void> {
  for (const key of access.deploymentKeys ?? []) {
    let same: boolean;
    try {
      same = (await deploymentKeyArn(access, key)) === keyArn;
    } catch (error) {
      log?.warn({ err: error, use: key.use }, "the deployment's KMS key could not be described; comparing an organisation seal key by its configured id");
      same = key.keyId === keyArn || keyArn.endsWith(`:key/${key.keyId}`);
    }
    if (!same) continue;
    throw key.use === 'seal'
      ? new AppError('seal_in_use', "This KMS key is the deployment's seal: an organisation's seal must be its own.")
      : new AppError('seal_key_not_owned', "This KMS key is the deployment's own (its key service): it cannot be an organisation's seal.");
  }
}

/** The proof a key is this organisation's: the tag `sigill:organization=<id>`, which only the AWS account's administrators set. */
async function requireOrganizationTag(kms: KMSClient, keyArn: string, organizationId: string, log?: Pick<Logger, 'warn'>): Promise<void> {
  const notOwned = () =>
    new AppError(
      'seal_key_not_owned',
      `The KMS key is not assigned to this organisation: it must carry the tag ${organizationTagKey}=${organizationId}, ` +
        "set by whoever administers the deployment's AWS account, and Sigill's role must be allowed kms:ListResourceTags on it.",
    );
  const values: string[] = [];
  let marker: string | undefined;
  try {
    do {
      const page = await kms.send(new KMS.ListResourceTagsCommand({ KeyId: keyArn, Marker: marker }));
      for (const tag of page.Tags ?? []) if (tag.TagKey === organizationTagKey && tag.TagValue !== undefined) values.push(tag.TagValue);
      marker = page.Truncated ? page.NextMarker : undefined;
    } while (marker);
  } catch (error) {
    // A key of another AWS account (KMS never lists its tags) or a role without kms:ListResourceTags.
    if (!isKmsServiceError(error)) throw error;
    log?.warn({ err: error }, "AWS KMS refused to list an organisation seal key's tags");
    throw notOwned();
  }
  if (!values.includes(organizationId)) throw notOwned();
}

/** An answer from AWS (not a network failure): the SDK marks those with the service's HTTP status. */
function isKmsServiceError(error: unknown): boolean {
  const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
  return status !== undefined && status >= 400 && status < 500;
}

/** The self-signed certificate of an organisation's KMS key is kept under the organisation: never another's, never the deployment's. */
function organizationCertificateStore(ctx: SealContext, organizationId: string): SealCertificateStore {
  const store = databaseCertificateStore(ctx.dataSource);
  return { getOrCreate: (keyRef, create) => store.getOrCreate(`organization:${organizationId}:${keyRef}`, create) };
}

function kmsRefusal(error: unknown, log?: Pick<Logger, 'warn'>): Error {
  if (error instanceof AppError) return error;
  const name = (error as { name?: string }).name ?? '';
  const message = error instanceof Error ? error.message : String(error);
  // Our own loader's words (src/documents/kms-seal-key.ts): they name the key's spec, never AWS's account.
  if (/must be an RSA signing key/.test(message)) return new AppError('seal_key_unsupported', `The KMS key is not usable for the seal: ${message}.`);
  if (/not issued for the KMS key/.test(message)) {
    return new AppError('seal_key_mismatch', 'The certificate was not issued for the KMS key (their public keys differ).');
  }
  if (/holds no PEM certificate/.test(message)) return new AppError('invalid_request', 'body.certificateChainPem holds no PEM certificate.');
  log?.warn({ err: error }, 'AWS KMS refused an organisation seal key');
  const answer = Object.hasOwn(kmsRefusals, name) ? kmsRefusals[name] : undefined;
  if (answer) return new AppError('seal_kms_key_unusable', `AWS KMS refused the key (${name}): ${answer}`);
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
async function checkSignsForCertificate(key: SealKey, leaf: X509Certificate, log?: Pick<Logger, 'warn'>): Promise<void> {
  if (leaf.publicKey.asymmetricKeyType !== 'rsa') {
    throw new AppError('seal_key_unsupported', `The seal key must be an RSA key, not ${leaf.publicKey.asymmetricKeyType ?? 'unknown'}.`);
  }
  const probe = Buffer.from(`sigill organisation seal check ${randomUUID()}`);
  let signature: Buffer;
  try {
    signature = await key.sign(probe);
  } catch (error) {
    throw kmsRefusal(error, log);
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
