/**
 * Where an organisation's own seal key is kept and how a worker gets it back (issue 11, part 3): the row
 * of `organization_seals` (migration 1763914000000), its PKCS#12 decrypted in memory only, or its KMS key
 * reached through KMS `Sign`. No row: the deployment seal.
 *
 * A PKCS#12 is stored as uploaded, with its password, encrypted together under a data key of the key
 * service (AES-256-GCM); the wrapped data key is bound to the organisation and to the row's id, so a
 * ciphertext copied to another organisation's row, or kept from an earlier seal, does not unwrap.
 *
 * Keys are cached per organisation for the life of the process, against the row's `id` (new with every
 * change): each seal reads that one column first, so a seal changed or removed through any API process
 * is used by the very next seal in every worker.
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes, X509Certificate } from 'node:crypto';
import type { KMSClient } from '@aws-sdk/client-kms';
import { KMS } from '../adapters/aws-sdk';
import type { DataSource } from 'typeorm';
import type { EncryptionContext, KeyService } from '../adapters/key-service';
import { loadKmsSealKey } from '../documents/kms-seal-key';
import { loadP12SealKey, type SealKey } from '../documents/seal-key';

export type OrganizationSealKind = 'pkcs12' | 'kms';

/** Where organisation KMS keys are reached: the deployment's KMS region and endpoint, unless a key's ARN names a region. */
export interface KmsAccess {
  region?: string;
  endpoint?: string;
  /**
   * The deployment's own KMS keys (SEAL_KMS_KEY_ID, KMS_KEY_ID), each with where it is reached: never an
   * organisation's seal, whatever its tags say. Compared by the ARN KMS resolves them to.
   */
  deploymentKeys?: DeploymentKmsKey[];
}

export interface DeploymentKmsKey {
  use: 'seal' | 'key-service';
  keyId: string;
  region?: string;
  endpoint?: string;
}

/** The tag on a KMS key that assigns it to one organisation: set by whoever administers the AWS account. */
export const organizationTagKey = 'sigill:organization';

export interface StoredOrganizationSeal {
  id: string;
  organizationId: string;
  kind: OrganizationSealKind;
  kmsKeyId: string | null;
  certificateChainPem: string;
  certificateSha256: string;
  setBy: string;
  setAt: Date;
}

interface SealRow {
  id: string;
  organization_id: string;
  kind: OrganizationSealKind;
  wrapped_key: Buffer | null;
  encrypted_pkcs12: Buffer | null;
  kms_key_id: string | null;
  certificate_chain_pem: string;
  certificate_sha256: string;
  set_by: string;
  set_at: Date;
}

const ivLength = 12;
const tagLength = 16;

const encryptionContextFor = (organizationId: string, sealId: string): EncryptionContext => ({
  purpose: 'sigill-organization-seal',
  organizationId,
  sealId,
});

/** The PKCS#12 and its password as one ciphertext, and the data key that opens it, wrapped. */
export async function encryptPkcs12(
  keyService: KeyService,
  ids: { organizationId: string; sealId: string },
  pkcs12: Buffer,
  password: string,
): Promise<{ wrappedKey: Buffer; encryptedPkcs12: Buffer }> {
  const dataKey = await keyService.generateDataKey(encryptionContextFor(ids.organizationId, ids.sealId));
  try {
    const iv = randomBytes(ivLength);
    const cipher = createCipheriv('aes-256-gcm', dataKey.plaintext, iv).setAAD(additionalData(ids));
    const plaintext = Buffer.from(JSON.stringify({ pkcs12: pkcs12.toString('base64'), password }), 'utf8');
    const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
    plaintext.fill(0);
    return { wrappedKey: dataKey.wrapped, encryptedPkcs12: Buffer.concat([iv, cipher.getAuthTag(), ciphertext]) };
  } finally {
    dataKey.plaintext.fill(0);
  }
}

async function decryptPkcs12(
  keyService: KeyService,
  ids: { organizationId: string; sealId: string },
  wrappedKey: Buffer,
  encrypted: Buffer,
): Promise<{ pkcs12: Buffer; password: string }> {
  const dataKey = await keyService.unwrapDataKey(wrappedKey, encryptionContextFor(ids.organizationId, ids.sealId));
  try {
    const decipher = createDecipheriv('aes-256-gcm', dataKey, encrypted.subarray(0, ivLength))
      .setAAD(additionalData(ids))
      .setAuthTag(encrypted.subarray(ivLength, ivLength + tagLength));
    const plaintext = Buffer.concat([decipher.update(encrypted.subarray(ivLength + tagLength)), decipher.final()]);
    const opened = JSON.parse(plaintext.toString('utf8')) as { pkcs12: string; password: string };
    plaintext.fill(0);
    return { pkcs12: Buffer.from(opened.pkcs12, 'base64'), password: opened.password };
  } finally {
    dataKey.fill(0);
  }
}

const additionalData = (ids: { organizationId: string; sealId: string }) => Buffer.from(`organization-seal:${ids.organizationId}:${ids.sealId}`);

/** The region a KMS key ARN names (`arn:aws:kms:<region>:...`); undefined for a bare key id or alias. */
function regionOfKeyArn(keyId: string): string | undefined {
  return /^arn:aws[a-z-]*:kms:([a-z0-9-]+):/.exec(keyId)?.[1];
}

export function kmsClientFor(access: KmsAccess, keyId: string): KMSClient {
  return new KMS.KMSClient({ region: regionOfKeyArn(keyId) ?? access.region, endpoint: access.endpoint });
}

export function pemCertificateChain(chain: Buffer[]): string {
  return chain.map((der) => new X509Certificate(der).toString()).join('');
}

export function certificateSha256(der: Buffer): string {
  return createHash('sha256').update(der).digest('hex');
}

export async function readOrganizationSeal(db: DataSource, organizationId: string): Promise<StoredOrganizationSeal | undefined> {
  // Never the key material: describing a seal needs only its public half.
  const rows: Array<Omit<SealRow, 'wrapped_key' | 'encrypted_pkcs12'>> = await db.query(
    `SELECT id, organization_id, kind, kms_key_id, certificate_chain_pem, certificate_sha256, set_by, set_at
       FROM organization_seals WHERE organization_id = $1`,
    [organizationId],
  );
  const row = rows[0];
  return row && {
    id: row.id,
    organizationId: row.organization_id,
    kind: row.kind,
    kmsKeyId: row.kms_key_id,
    certificateChainPem: row.certificate_chain_pem,
    certificateSha256: row.certificate_sha256,
    setBy: row.set_by,
    setAt: new Date(row.set_at),
  };
}

interface CachedKey {
  sealId: string;
  key: Promise<SealKey>;
  kms?: KMSClient;
}

/** Each organisation's seal key, loaded on first use and reloaded when the stored seal changes. */
export class OrganizationSealKeys {
  private readonly cache = new Map<string, CachedKey>();

  constructor(
    private readonly deps: {
      dataSource: DataSource;
      keyService: KeyService;
      kms: KmsAccess;
      deploymentKey: () => Promise<SealKey>;
    },
  ) {}

  async sealKeyFor(organizationId: string): Promise<SealKey> {
    const [current]: Array<{ id: string }> = await this.deps.dataSource.query(
      `SELECT id FROM organization_seals WHERE organization_id = $1`,
      [organizationId],
    );
    const cached = this.cache.get(organizationId);
    if (cached && cached.sealId === current?.id) return cached.key;
    if (cached) this.forget(organizationId, cached);
    if (!current) return this.deps.deploymentKey();

    const entry = { sealId: current.id } as CachedKey;
    entry.key = this.load(organizationId, current.id, entry).catch((error: unknown) => {
      // A failed load (key service or KMS out) is forgotten, so the retry of the seal tries again.
      if (this.cache.get(organizationId) === entry) this.forget(organizationId, entry);
      throw error;
    });
    this.cache.set(organizationId, entry);
    return entry.key;
  }

  close(): void {
    for (const [organizationId, entry] of this.cache) this.forget(organizationId, entry);
  }

  private forget(organizationId: string, entry: CachedKey): void {
    this.cache.delete(organizationId);
    entry.kms?.destroy();
  }

  private async load(organizationId: string, sealId: string, entry: CachedKey): Promise<SealKey> {
    const rows: SealRow[] = await this.deps.dataSource.query(
      `SELECT id, organization_id, kind, wrapped_key, encrypted_pkcs12, kms_key_id, certificate_chain_pem, certificate_sha256, set_by, set_at
         FROM organization_seals WHERE organization_id = $1 AND id = $2`,
      [organizationId, sealId],
    );
    const row = rows[0];
    if (!row) throw new Error(`the seal of organisation ${organizationId} changed while it was being loaded; the next attempt takes the new one`);
    if (row.kind === 'pkcs12') {
      const { pkcs12, password } = await decryptPkcs12(this.deps.keyService, { organizationId, sealId }, row.wrapped_key!, row.encrypted_pkcs12!);
      return loadP12SealKey(pkcs12, password);
    }
    entry.kms = kmsClientFor(this.deps.kms, row.kms_key_id!);
    return loadKmsSealKey({
      kms: entry.kms,
      keyId: row.kms_key_id!,
      certificateChainPem: row.certificate_chain_pem,
      // The chain is always stored with the seal, so no certificate is ever made here.
      certificateStore: { getOrCreate: () => Promise.reject(new Error('an organisation KMS seal is stored with its certificate')) },
      subjectName: '',
    });
  }
}
