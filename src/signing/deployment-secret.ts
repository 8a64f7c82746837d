/**
 * A deployment-wide secret for HMAC-derived credentials (signer links, PINs, signer sessions). It is
 * created once, stored only wrapped by the key service (local master key or KMS), and unwrapped in memory
 * by each process that needs it.
 */
import { randomBytes } from 'node:crypto';
import type { DataSource } from 'typeorm';
import type { KeyService } from '../adapters/key-service';

const encryptionContext = { purpose: 'sigill-deployment-secret', name: 'signer-credentials' };

export async function loadDeploymentSecret(dataSource: DataSource, keyService: KeyService): Promise<Buffer> {
  const existing = await readWrapped(dataSource);
  if (existing) return keyService.unwrapDataKey(existing, encryptionContext);
  const { wrapped } = await keyService.generateDataKey(encryptionContext);
  // Two processes starting together may both generate one: the first insert wins, both use it.
  await dataSource.query(
    `INSERT INTO deployment_secrets (name, wrapped_key) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING`,
    [encryptionContext.name, wrapped],
  );
  return keyService.unwrapDataKey((await readWrapped(dataSource))!, encryptionContext);
}

async function readWrapped(dataSource: DataSource): Promise<Buffer | undefined> {
  const rows: Array<{ wrapped_key: Buffer }> = await dataSource.query(
    `SELECT wrapped_key FROM deployment_secrets WHERE name = $1`,
    [encryptionContext.name],
  );
  return rows[0]?.wrapped_key;
}

/** Only for tests that need a secret without a database. */
export const randomDeploymentSecret = () => randomBytes(32);
