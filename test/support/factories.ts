import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { createOrganization, type CreatedOrganization } from '../../src/accounts/create-organization';

export function createTestOrganization(
  dataSource: DataSource,
  overrides: Partial<{ name: string; ownerEmail: string }> = {},
): Promise<CreatedOrganization> {
  const unique = randomUUID().slice(0, 8);
  return createOrganization(dataSource, {
    name: overrides.name ?? `Test organisation ${unique}`,
    ownerEmail: overrides.ownerEmail ?? `owner-${unique}@example.test`,
  });
}
