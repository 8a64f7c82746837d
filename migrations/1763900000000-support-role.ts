import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The `support` member role (issue 10, R16): support staff follow every request of their organisation
 * without reading its documents (src/accounts/access.ts). The role column's check constraint names the
 * roles, so it is replaced by one that includes it.
 */
export class SupportRole1763900000000 implements MigrationInterface {
  name = 'SupportRole1763900000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      ALTER TABLE memberships
        DROP CONSTRAINT memberships_role_check,
        ADD CONSTRAINT memberships_role_check CHECK (role IN ('owner', 'admin', 'member', 'viewer', 'support'))`);
  }

  async down(): Promise<void> {
    throw new Error('migrations are forward-only');
  }
}
