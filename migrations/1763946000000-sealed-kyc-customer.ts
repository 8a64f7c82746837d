import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A KYC customer's name, email, phone and business id under the case's record key (issue 14 part 1;
 * src/kyc/kyc-customer-contact.ts): `customer_sealed`, the clear columns NULL, and blind indexes of the email and
 * phone (src/privacy/sealed-columns.ts) for finding a data subject's cases. Rows written before are sealed by
 * the move to record keys (src/privacy/move-to-record-keys.ts).
 */
export class SealedKycCustomer1763946000000 implements MigrationInterface {
  name = 'SealedKycCustomer1763946000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`ALTER TABLE kyc_cases ADD COLUMN customer_sealed bytea, ADD COLUMN customer_email_index bytea, ADD COLUMN customer_phone_index bytea`);
    await db.query(`CREATE INDEX kyc_cases_customer_email_index_idx ON kyc_cases (organization_id, customer_email_index) WHERE customer_email_index IS NOT NULL`);
    await db.query(`CREATE INDEX kyc_cases_customer_phone_index_idx ON kyc_cases (organization_id, customer_phone_index) WHERE customer_phone_index IS NOT NULL`);
  }

  async down(): Promise<void> {
    throw new Error('migrations are forward-only');
  }
}
