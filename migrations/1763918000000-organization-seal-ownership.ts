import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A seal is one organisation's alone (src/signing/organization-seals.ts): no KMS key and no certificate may
 * be the seal of two organisations. KMS seals are stored by the key's ARN as KMS resolves it from then on,
 * so an alias or a bare key id cannot hide a key another organisation already has.
 *
 * Refuses to run, naming the organisations, when rows set before this check already share a key id or a
 * certificate: which of them keeps it is for an operator to decide (DELETE the other row; that
 * organisation then seals with the deployment seal until its owner sets one of its own).
 */
export class OrganizationSealOwnership1763918000000 implements MigrationInterface {
  name = 'OrganizationSealOwnership1763918000000';

  async up(db: QueryRunner): Promise<void> {
    const shared: Array<{ what: string; organizations: string[] }> = await db.query(`
      SELECT 'kms_key_id' AS what, array_agg(organization_id::text ORDER BY set_at) AS organizations
        FROM organization_seals WHERE kms_key_id IS NOT NULL GROUP BY kms_key_id HAVING count(*) > 1
      UNION ALL
      SELECT 'certificate_sha256', array_agg(organization_id::text ORDER BY set_at)
        FROM organization_seals GROUP BY certificate_sha256 HAVING count(*) > 1`);
    if (shared.length > 0) {
      const list = shared.map((row) => `${row.what} shared by organisations ${row.organizations.join(', ')}`).join('; ');
      throw new Error(`organization_seals: a seal must be one organisation's, but ${list}. Delete all but the rightful owner's row, then migrate again.`);
    }
    await db.query(`ALTER TABLE organization_seals ADD CONSTRAINT organization_seals_kms_key_id_key UNIQUE (kms_key_id)`);
    await db.query(`ALTER TABLE organization_seals ADD CONSTRAINT organization_seals_certificate_sha256_key UNIQUE (certificate_sha256)`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`ALTER TABLE organization_seals DROP CONSTRAINT organization_seals_certificate_sha256_key`);
    await db.query(`ALTER TABLE organization_seals DROP CONSTRAINT organization_seals_kms_key_id_key`);
  }
}
