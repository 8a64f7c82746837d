/**
 * The key hierarchy that makes deletion provable (R13, issue 14 part 1), against the real PostgreSQL: record
 * keys under organisation keys under the key service; destroying either makes the data unreadable for good,
 * in this process at once and in another that never had the key cached.
 */
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import type { DataSource } from 'typeorm';
import { LocalKeyService } from '../../src/adapters/key-service';
import { encryptField as encryptLegacyField } from '../../src/privacy/encrypted-field';
import {
  DatabaseRecordKeyring,
  RecordKeyDestroyedError,
  recordOfBlobKey,
  recordOfWorkflowId,
  type RecordRef,
} from '../../src/privacy/record-keys';
import { createTestOrganization } from '../support/factories';
import { harness, openTestDataSource } from '../support/harness';

let dataSource: DataSource;
let keyService: LocalKeyService;
let orgId: string;

beforeAll(async () => {
  dataSource = await openTestDataSource();
  keyService = new LocalKeyService(path.join(harness.tempDir('record-keys'), 'master.key'));
  orgId = (await createTestOrganization(dataSource)).orgId;
});

afterAll(async () => {
  await dataSource?.destroy();
});

const newRecord = (kind: RecordRef['kind'] = 'signing_request'): RecordRef => ({ kind, id: randomUUID() });
/** Another process: the same database and key service, nothing cached. */
const freshKeyring = () => new DatabaseRecordKeyring(dataSource, keyService);
const context = { purpose: 'test-field', row: 'r1' };

test('a record key is created once, even by concurrent creators, and seals fields only for its record and context', async () => {
  const keyring = freshKeyring();
  const record = newRecord();
  await Promise.all([1, 2, 3, 4].map(() => freshKeyring().ensureKey(dataSource, orgId, record)));
  await keyring.ensureKey(dataSource, orgId, record);
  const rows: Array<{ key_id: string; wrapped_key: Buffer }> = await dataSource.query(
    `SELECT key_id, wrapped_key FROM record_keys WHERE record_kind = $1 AND record_id = $2`,
    [record.kind, record.id],
  );
  expect(rows).toHaveLength(1);
  const organizationKeys: unknown[] = await dataSource.query(`SELECT 1 FROM organization_keys WHERE organization_id = $1`, [orgId]);
  expect(organizationKeys).toHaveLength(1);

  const sealed = await keyring.encryptField(record, context, '010190-123A');
  expect(sealed.toString('latin1')).not.toContain('010190-123A');
  expect(sealed.subarray(1, 17).toString('hex')).toBe(rows[0]!.key_id.replace(/-/g, ''));
  expect(await freshKeyring().decryptField(record, context, sealed)).toBe('010190-123A');
  // Copied onto another row or another record, it does not open.
  await expect(keyring.decryptField(record, { ...context, row: 'r2' }, sealed)).rejects.toThrow();
  const other = newRecord();
  await keyring.ensureKey(dataSource, orgId, other);
  await expect(keyring.decryptField(other, context, sealed)).rejects.toThrow();
  // The record key itself is stored only wrapped.
  expect(rows[0]!.wrapped_key).toHaveLength(1 + 12 + 16 + 32);
});

test('a key created in a transaction that rolls back is never used', async () => {
  const keyring = freshKeyring();
  const record = newRecord('kyc_case');
  await expect(
    dataSource.transaction(async (tx) => {
      await keyring.ensureKey(tx, orgId, record);
      await keyring.encryptField(record, context, 'inside', tx);
      throw new Error('roll back');
    }),
  ).rejects.toThrow('roll back');
  expect(await keyring.keyOf(record)).toBeUndefined();
  await keyring.ensureKey(dataSource, orgId, record);
  expect(await freshKeyring().decryptField(record, context, await keyring.encryptField(record, context, 'after'))).toBe('after');
});

test('destroying a record key makes its fields unreadable here and in another process, and it stays destroyed', async () => {
  const keyring = freshKeyring();
  const other = freshKeyring();
  const record = newRecord();
  await keyring.ensureKey(dataSource, orgId, record);
  const sealed = await keyring.encryptField(record, context, 'Aino Virtanen');
  expect(await other.decryptField(record, context, sealed)).toBe('Aino Virtanen');
  const [{ key_id: keyId }]: Array<{ key_id: string }> = await dataSource.query(`SELECT key_id FROM record_keys WHERE record_id = $1`, [record.id]);

  expect(await keyring.destroyRecordKey(dataSource, record)).toEqual([keyId]);
  expect(await keyring.destroyRecordKey(dataSource, record)).toEqual([]);
  await expect(keyring.decryptField(record, context, sealed)).rejects.toBeInstanceOf(RecordKeyDestroyedError);
  await expect(keyring.encryptField(record, context, 'again')).rejects.toBeInstanceOf(RecordKeyDestroyedError);
  await expect(freshKeyring().decryptField(record, context, sealed)).rejects.toBeInstanceOf(RecordKeyDestroyedError);
  await expect(freshKeyring().keyById(keyId)).rejects.toBeInstanceOf(RecordKeyDestroyedError);
  expect(await keyring.isDestroyed(record)).toBe(true);
  // A value sealed before record keys does not outlive the shredding either.
  const legacy = await encryptLegacyField(keyService, context, 'old value');
  await expect(freshKeyring().decryptField(record, context, legacy)).rejects.toBeInstanceOf(RecordKeyDestroyedError);
  // No new key replaces it; the row stays as proof.
  await keyring.ensureKey(dataSource, orgId, record);
  const rows: Array<{ wrapped_key: Buffer | null; destroyed_at: Date | null }> = await dataSource.query(
    `SELECT wrapped_key, destroyed_at FROM record_keys WHERE record_id = $1`,
    [record.id],
  );
  expect(rows).toEqual([{ wrapped_key: null, destroyed_at: expect.any(Date) }]);
  const error = new RecordKeyDestroyedError(record);
  expect([error.code, error.status]).toEqual(['record_deleted', 410]);
});

test("destroying an organisation's key makes every record key under it unusable, and no other organisation's", async () => {
  const closing = (await createTestOrganization(dataSource)).orgId;
  const keyring = freshKeyring();
  const records = [newRecord(), newRecord('kyc_case'), newRecord('data_subject_request')];
  const sealed = [];
  for (const record of records) {
    await keyring.ensureKey(dataSource, closing, record);
    sealed.push(await keyring.encryptField(record, context, `secret ${record.id}`));
  }
  const unrelated = newRecord();
  await keyring.ensureKey(dataSource, orgId, unrelated);
  const unrelatedSealed = await keyring.encryptField(unrelated, context, 'still here');

  const [{ key_id: organizationKeyId }]: Array<{ key_id: string }> = await dataSource.query(
    `SELECT key_id FROM organization_keys WHERE organization_id = $1`,
    [closing],
  );
  expect(await keyring.destroyOrganizationKey(dataSource, closing)).toEqual([organizationKeyId]);
  for (const [index, record] of records.entries()) {
    await expect(keyring.decryptField(record, context, sealed[index]!)).rejects.toBeInstanceOf(RecordKeyDestroyedError);
    await expect(freshKeyring().decryptField(record, context, sealed[index]!)).rejects.toBeInstanceOf(RecordKeyDestroyedError);
    expect(await keyring.isDestroyed(record)).toBe(true);
  }
  // Nothing new is encrypted for a closed organisation.
  await expect(keyring.ensureKey(dataSource, closing, newRecord())).rejects.toMatchObject({ code: 'record_deleted' });
  expect(await freshKeyring().decryptField(unrelated, context, unrelatedSealed)).toBe('still here');
});

test('a record without a key (from before record keys) keeps the older format until it is moved', async () => {
  const keyring = freshKeyring();
  const record = newRecord();
  const sealed = await keyring.encryptField(record, context, 'legacy');
  expect(sealed[0]).toBe(1);
  expect(await keyring.decryptField(record, context, sealed)).toBe('legacy');
  expect(await keyring.keyOf(record)).toBeUndefined();
});

test('workflow ids and blob keys name their records', () => {
  const id = randomUUID();
  const org = randomUUID();
  expect(recordOfWorkflowId(`signing-request-${id}`)).toEqual({ kind: 'signing_request', id });
  expect(recordOfWorkflowId(`kyc-case-${id}`)).toEqual({ kind: 'kyc_case', id });
  expect(recordOfWorkflowId(`data-subject-request-${id}`)).toEqual({ kind: 'data_subject_request', id });
  expect(recordOfWorkflowId(`organization-export-${id}`)).toEqual({ kind: 'organization_export', id });
  expect(recordOfWorkflowId(`signing-request-${id}-reminders`)).toBeUndefined();
  expect(recordOfWorkflowId('archive-renewal')).toBeUndefined();
  expect(recordOfBlobKey(`orgs/${org}/requests/${id}/original.pdf`)).toEqual({ kind: 'signing_request', id });
  expect(recordOfBlobKey(`orgs/${org}/requests/${id}/renewals/abc/sealed.pdf`)).toEqual({ kind: 'signing_request', id });
  expect(recordOfBlobKey(`orgs/${org}/kyc/${id}/uploads/${randomUUID()}`)).toEqual({ kind: 'kyc_case', id });
  expect(recordOfBlobKey(`orgs/${org}/dsr/${id}/access-package.zip`)).toEqual({ kind: 'data_subject_request', id });
  expect(recordOfBlobKey(`orgs/${org}/exports/${id}/export.zip`)).toEqual({ kind: 'organization_export', id });
  expect(recordOfBlobKey(`orgs/${org}/seals/${id}/x`)).toBeUndefined();
  expect(recordOfBlobKey(`orgs/${org}/requests/${id}`)).toBeUndefined();
});
