import fs from 'node:fs';
import path from 'node:path';
import type { DataSource } from 'typeorm';
import { Organization } from '../database/entities';
import { createOrganization } from './create-organization';

/**
 * On the very first start with embedded defaults (an empty database), creates a development organisation
 * and writes its API key to DATA_DIR/dev-api-key (0600), so a newcomer can call the API at once; its owner
 * gets a link to choose a password (the sign-in code then arrives in the mail outbox, DATA_DIR/outbox/mail).
 * Returns the key and link so the caller can show them once; later starts return undefined.
 */
export async function ensureDevOrganization(
  dataSource: DataSource,
  dataDir: string,
  publicUrl: string,
): Promise<{ apiKey: string; ownerEmail: string; ownerPasswordLink?: string } | undefined> {
  if ((await dataSource.getRepository(Organization).count()) > 0) return undefined;
  const ownerEmail = 'dev@sigill.localhost';
  const created = await createOrganization(dataSource, { name: 'Development', ownerEmail }, { publicUrl });
  const keyFile = path.join(dataDir, 'dev-api-key');
  fs.mkdirSync(dataDir, { recursive: true });
  fs.writeFileSync(keyFile, `${created.apiKey}\n`, { mode: 0o600 });
  return { apiKey: created.apiKey, ownerEmail, ownerPasswordLink: created.ownerPasswordLink };
}
