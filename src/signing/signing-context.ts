/**
 * What signing use cases and activities need beyond the database: adapters, the credential deriver, the
 * seal key and the public URL. Built once per process from configuration.
 */
import fs from 'node:fs/promises';
import type { DataSource } from 'typeorm';
import type { PayloadCodec } from '@temporalio/common';
import type { Adapters } from '../adapters';
import { EncryptionPayloadCodec } from '../adapters/payload-codec';
import { EncryptedBlobStore } from '../adapters/encrypted-blob-store';
import type { Config, ExportTargetConfig, SealLevel, WebhookConfig } from '../config';
import { KMS } from '../adapters/aws-sdk';
import { loadKmsSealKey, type SealCertificateStore } from '../documents/kms-seal-key';
import { loadOrCreateLocalSealKey, loadP12SealKey, type SealKey } from '../documents/seal-key';
import { Rfc3161Timestamper } from '../documents/timestamp-authority';
import { loadAuditChainKey } from './audit-chain-key';
import { loadDeploymentSecret } from './deployment-secret';
import { OrganizationSealKeys, type DeploymentKmsKey, type KmsAccess } from './organization-seal-key';
import { SignerCredentials } from './signer-credentials';
import { EidBroker } from '../identity/eid-broker';
import { deriveKey } from '../accounts/accounts-context';
import { DatabaseRecordKeyring, registerRecordKeyring, type RecordKeyring } from '../privacy/record-keys';

export interface SigningContext {
  dataSource: DataSource;
  adapters: Adapters;
  credentials: SignerCredentials;
  /** Decrypts Temporal payloads for the readable history (the same codec workers encrypt with). */
  payloadCodec: PayloadCodec;
  publicUrl: string;
  /** The deployment seal. Loaded on first use: only sealing needs it. */
  sealKey(): Promise<SealKey>;
  /**
   * The seal of one organisation: its own (PUT /v1/organization/seal) or else the deployment's. Cached per
   * organisation and checked against the stored seal before every use, so a change made through any
   * process applies to the next seal (src/signing/organization-seal-key.ts).
   */
  sealKeyFor(organizationId: string): Promise<SealKey>;
  /** Where organisations' own KMS seal keys are reached (the deployment's KMS region and endpoint). */
  organizationSealKms: KmsAccess;
  /** Set when a timestamp authority is configured: seals are then PAdES B-T or higher. */
  sealTimestamper?: Rfc3161Timestamper;
  /** The PAdES level of seals (SEAL_LEVEL); B-LT and B-LTA need `sealTimestamper`. */
  sealLevel: SealLevel;
  maxDocumentBytes: number;
  /** Webhook delivery settings (src/webhooks/): destinations allowed, timeout, retry schedule. */
  webhooks: WebhookConfig;
  /** A customer-owned bucket every organisation export is also written to (EXPORT_S3_*), if any. */
  exportTarget?: ExportTargetConfig;
  /** National eID through the broker (src/identity/); `available` is false when it is not configured. */
  eid: EidBroker;
  /** Per-record keys that can be destroyed (R13, src/privacy/record-keys.ts). */
  recordKeys: RecordKeyring;
}

export async function createSigningContext(config: Config, dataSource: DataSource, adapters: Adapters): Promise<SigningContext> {
  const secret = await loadDeploymentSecret(dataSource, adapters.keyService);
  // Before anything is appended: also re-anchors rows chained before the key (once, at the first start).
  await loadAuditChainKey(dataSource, adapters.keyService);
  let sealKey: Promise<SealKey> | undefined;
  // A failed load is forgotten, so a KMS outage at the first seal does not stick for the process's life.
  const deploymentSealKey = () =>
    (sealKey ??= loadSealKey(config, dataSource).catch((error: unknown) => {
      sealKey = undefined;
      throw error;
    }));
  const organizationSealKms = kmsAccessOf(config);
  const organizationSealKeys = new OrganizationSealKeys({
    dataSource,
    keyService: adapters.keyService,
    kms: organizationSealKms,
    deploymentKey: deploymentSealKey,
  });
  const recordKeys = new DatabaseRecordKeyring(dataSource, adapters.keyService);
  registerRecordKeyring(dataSource, recordKeys);
  // Objects of a record are then stored under its record key (src/adapters/encrypted-blob-store.ts).
  if (adapters.blobStore instanceof EncryptedBlobStore) adapters.blobStore.useRecordKeys(recordKeys);
  return {
    dataSource,
    adapters,
    recordKeys,
    credentials: new SignerCredentials(secret),
    payloadCodec: new EncryptionPayloadCodec(adapters.keyService, Date.now, recordKeys),
    publicUrl: config.http.publicUrl,
    sealKey: deploymentSealKey,
    sealKeyFor: (organizationId) => organizationSealKeys.sealKeyFor(organizationId),
    organizationSealKms,
    sealTimestamper: config.seal.timestampAuthorityUrl ? new Rfc3161Timestamper(config.seal.timestampAuthorityUrl) : undefined,
    sealLevel: config.seal.level,
    maxDocumentBytes: config.maxDocumentBytes,
    webhooks: config.webhooks,
    exportTarget: config.exportTarget,
    eid: new EidBroker(config.eid, { state: deriveKey(secret, 'eid-state'), result: deriveKey(secret, 'eid-result') }, config.http.publicUrl),
  };
}

async function loadSealKey(config: Config, dataSource: DataSource): Promise<SealKey> {
  const key = config.seal.key;
  if (key.kind === 'p12') return loadP12SealKey(await fs.readFile(key.path), key.password);
  if (key.kind === 'self-signed') return loadOrCreateLocalSealKey(key.dir, 'Sigill seal');
  const kms = new KMS.KMSClient({ region: key.region, endpoint: key.endpoint });
  try {
    return await loadKmsSealKey({
      kms,
      keyId: key.keyId,
      certificateChainPem: key.certificatePath ? await fs.readFile(key.certificatePath, 'utf8') : undefined,
      certificateStore: databaseCertificateStore(dataSource),
      subjectName: 'Sigill seal',
    });
  } catch (error) {
    kms.destroy();
    throw error;
  }
}

/**
 * Organisations' KMS keys are reached where the deployment's KMS is (the seal's, else the key service's
 * region and endpoint); without either, the AWS SDK's own region settings apply. A key ARN's own region wins.
 */
function kmsAccessOf(config: Config): KmsAccess {
  // The deployment's own keys, which no organisation may take as its seal (src/signing/organization-seals.ts).
  const deploymentKeys: DeploymentKmsKey[] = [];
  if (config.seal.key.kind === 'kms') {
    deploymentKeys.push({ use: 'seal', keyId: config.seal.key.keyId, region: config.seal.key.region, endpoint: config.seal.key.endpoint });
  }
  if (config.keys.kind === 'kms') {
    deploymentKeys.push({ use: 'key-service', keyId: config.keys.keyId, region: config.keys.region, endpoint: config.keys.endpoint });
  }
  if (config.seal.key.kind === 'kms') return { region: config.seal.key.region, endpoint: config.seal.key.endpoint, deploymentKeys };
  if (config.keys.kind === 'kms') return { region: config.keys.region, endpoint: config.keys.endpoint, deploymentKeys };
  return { deploymentKeys };
}

/** First writer wins: concurrent workers each make a certificate, and all of them keep the stored one. */
export function databaseCertificateStore(dataSource: DataSource): SealCertificateStore {
  const read = async (keyRef: string) => {
    const rows: Array<{ certificate_der: Buffer }> = await dataSource.query(
      `SELECT certificate_der FROM seal_certificates WHERE key_ref = $1`,
      [keyRef],
    );
    return rows[0]?.certificate_der;
  };
  return {
    async getOrCreate(keyRef, create) {
      const stored = await read(keyRef);
      if (stored) return stored;
      await dataSource.query(`INSERT INTO seal_certificates (key_ref, certificate_der) VALUES ($1, $2) ON CONFLICT (key_ref) DO NOTHING`, [
        keyRef,
        await create(),
      ]);
      return (await read(keyRef))!;
    },
  };
}
