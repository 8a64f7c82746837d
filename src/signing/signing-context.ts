/**
 * What signing use cases and activities need beyond the database: adapters, the credential deriver, the
 * seal key and the public URL. Built once per process from configuration.
 */
import fs from 'node:fs/promises';
import type { DataSource } from 'typeorm';
import type { PayloadCodec } from '@temporalio/common';
import type { Adapters } from '../adapters';
import { EncryptionPayloadCodec } from '../adapters/payload-codec';
import type { Config } from '../config';
import { loadOrCreateLocalSealKey, loadP12SealKey, type SealKey } from '../documents/seal-key';
import { loadDeploymentSecret } from './deployment-secret';
import { SignerCredentials } from './signer-credentials';

export interface SigningContext {
  dataSource: DataSource;
  adapters: Adapters;
  credentials: SignerCredentials;
  /** Decrypts Temporal payloads for the readable history (the same codec workers encrypt with). */
  payloadCodec: PayloadCodec;
  publicUrl: string;
  /** Loaded on first use: only sealing needs it. */
  sealKey(): Promise<SealKey>;
  maxDocumentBytes: number;
}

export async function createSigningContext(config: Config, dataSource: DataSource, adapters: Adapters): Promise<SigningContext> {
  const secret = await loadDeploymentSecret(dataSource, adapters.keyService);
  let sealKey: Promise<SealKey> | undefined;
  return {
    dataSource,
    adapters,
    credentials: new SignerCredentials(secret),
    payloadCodec: new EncryptionPayloadCodec(adapters.keyService),
    publicUrl: config.http.publicUrl,
    sealKey: () => (sealKey ??= loadSealKey(config)),
    maxDocumentBytes: config.maxDocumentBytes,
  };
}

async function loadSealKey(config: Config): Promise<SealKey> {
  if (config.seal.kind === 'p12') return loadP12SealKey(await fs.readFile(config.seal.path), config.seal.password);
  return loadOrCreateLocalSealKey(config.seal.dir, 'Sigill seal');
}
