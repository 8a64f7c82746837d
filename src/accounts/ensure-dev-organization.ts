import fs from 'node:fs';
import path from 'node:path';
import type { DataSource } from 'typeorm';
import { Organization } from '../database/entities';
import { createOrganization } from './create-organization';

/**
 * On the very first start with embedded defaults (an empty database), creates a development organisation
 * and writes its API key to DATA_DIR/dev-api-key (0600), so a newcomer can call the API at once.
 * Returns the new key so the caller can show it once; later starts return undefined.
 */
export async function ensureDevOrganization(dataSource: DataSource, dataDir: string): Promise<string | undefined> {
  if ((await dataSource.getRepository(Organization).count()) > 0) return undefined;
  const created = await createOrganization(dataSource, { name: 'Development', ownerEmail: 'dev@sigill.localhost' });
  const keyFile = path.join(dataDir, 'dev-api-key');
  fs.mkdirSync(dataDir, { recursive: true });
  fs.writeFileSync(keyFile, `${created.apiKey}\n`, { mode: 0o600 });
  return created.apiKey;
}
