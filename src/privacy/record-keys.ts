/**
 * Keys that can be destroyed (R13, issue 14 part 1): the hierarchy that makes deletion provable.
 *
 *   key service (KMS or the local master key)
 *     └─ organisation key-encryption key   `organization_keys` — 32 random bytes wrapped by the key service
 *          └─ record key                   `record_keys` — 32 random bytes, AES-256-GCM-wrapped under the
 *                                           organisation key (AAD: key id, record kind, record id, organisation)
 *               └─ personal fields, blobs (per-object data keys wrapped under it), workflow payloads
 *
 * Destroying a record key deletes its wrapped form (the row stays, `wrapped_key` NULL, as proof); every copy
 * of what was encrypted under it — database, blob store, Temporal history, backups — is then unreadable.
 * Destroying the organisation key does that for all of its records at once.
 *
 * Unwrapped keys are cached in the process for at most `cacheTtlMs` (bounded), so a destroy in one process
 * takes effect in the others within that time; the destroying process drops its own cache at once.
 */
import { createCipheriv, createDecipheriv, createHash, hkdfSync, randomBytes, randomUUID } from 'node:crypto';
import { queryReturning } from '../database/data-source';
import { AppError } from '../errors';
import type { EncryptionContext, KeyService } from '../adapters/key-service';
import { decryptField as decryptLegacyField, encryptField as encryptLegacyField, finalOrUnreadable, UnreadableCiphertextError } from './encrypted-field';

/** What a record key protects. The workflow id / blob key prefix tells which record a payload or object belongs to. */
export type RecordKind = 'signing_request' | 'kyc_case' | 'data_subject_request' | 'organization_export';
export interface RecordRef {
  kind: RecordKind;
  id: string;
}

const sameRecord = (a: RecordRef, b: RecordRef) => a.kind === b.kind && a.id === b.id;

/** Thrown when a record's key was destroyed (shredded): the data is gone for good. Maps to HTTP 410 `record_deleted`. */
export class RecordKeyDestroyedError extends AppError {
  constructor(readonly record?: RecordRef) {
    super('record_deleted', 'This record was deleted: its data can no longer be read.');
    this.name = 'RecordKeyDestroyedError';
  }
}

/** Anything that runs SQL: a DataSource, an EntityManager inside a transaction, a QueryRunner. */
export interface Queryable {
  query(sql: string, params?: unknown[]): Promise<any>;
}

/** A usable record key: `key` is the plaintext (never store or log it). */
export interface UnwrappedRecordKey {
  keyId: string;
  organizationId: string;
  record: RecordRef;
  key: Buffer;
}

export interface RecordKeyring {
  /** Creates the record's key under its organisation's key if it has none (idempotent). Call inside the
   *  transaction that creates the record, passing its EntityManager/QueryRunner-ish `db` (anything with .query). */
  ensureKey(db: Queryable, organizationId: string, record: RecordRef): Promise<void>;
  /** Encrypt/decrypt a personal field under the record's key (AES-256-GCM, context as AAD). Pass `db` when the
   *  key was created in a transaction not yet committed. A record without a key (from before record keys, not
   *  migrated yet) gets the older per-value envelope (src/privacy/encrypted-field.ts); decrypt reads both,
   *  told apart by their format byte. */
  encryptField(record: RecordRef, context: Record<string, string>, plaintext: string, db?: Queryable): Promise<Buffer>;
  decryptField(record: RecordRef, context: Record<string, string>, sealed: Buffer, db?: Queryable): Promise<string>;
  /** Like encryptField, but only under the record's own key: undefined when the record has no key yet (from before
   *  record keys; the move seals its values later). Looks in the cache before the database (`db` as above). */
  encryptFieldUnderRecordKey(record: RecordRef, context: Record<string, string>, plaintext: string, db?: Queryable): Promise<Buffer | undefined>;
  /** The organisation's key for blind indexes (keyed hashes of emails and phones to look records up by),
   *  derived from its key-encryption key, so it is destroyed with it. Creates the organisation's key if it has none. */
  blindIndexKey(db: Queryable, organizationId: string): Promise<Buffer>;
  /** Whether the record's key was destroyed. */
  isDestroyed(record: RecordRef): Promise<boolean>;
  /** Destroys the record's key (wrapped key deleted from the database, in-process caches dropped); returns the
   *  destroyed key ids (empty if it had none or was already destroyed). Runs inside the caller's transaction. */
  destroyRecordKey(db: Queryable, record: RecordRef): Promise<string[]>;
  /** Destroys the organisation's key-encryption key: every record key under it becomes unreadable. */
  destroyOrganizationKey(db: Queryable, organizationId: string): Promise<string[]>;
  /** The record's key, or undefined when it has none (records from before record keys). Throws
   *  RecordKeyDestroyedError when it was destroyed. Used by the payload codec and the blob store. */
  keyOf(record: RecordRef, db?: Queryable): Promise<UnwrappedRecordKey | undefined>;
  /** The key with this id (from a payload's metadata or a blob's header). Throws RecordKeyDestroyedError when it
   *  was destroyed, or an Error when no such key exists. */
  keyById(keyId: string): Promise<UnwrappedRecordKey>;
}

const workflowIdPrefixes: Array<[string, RecordKind]> = [
  ['signing-request-', 'signing_request'],
  ['kyc-case-', 'kyc_case'],
  ['data-subject-request-', 'data_subject_request'],
  ['organization-export-', 'organization_export'],
];
const blobFolders: Record<string, RecordKind> = {
  requests: 'signing_request',
  kyc: 'kyc_case',
  dsr: 'data_subject_request',
  exports: 'organization_export',
};
const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Workflow ids name their record: signing-request-<id>, kyc-case-<id>, data-subject-request-<id>, organization-export-<id>.
 *  Only an exact `<prefix><uuid>`: other workflows (e.g. `signing-request-<id>-reminders`) are not the record's. */
export function recordOfWorkflowId(workflowId: string): RecordRef | undefined {
  for (const [prefix, kind] of workflowIdPrefixes) {
    if (!workflowId.startsWith(prefix)) continue;
    const id = workflowId.slice(prefix.length);
    return uuidPattern.test(id) ? { kind, id: id.toLowerCase() } : undefined;
  }
  return undefined;
}

/** Blob keys name their record: orgs/<org>/requests/<id>/..., orgs/<org>/kyc/<id>/..., orgs/<org>/dsr/<id>/..., orgs/<org>/exports/<id>/... */
export function recordOfBlobKey(blobKey: string): RecordRef | undefined {
  const [orgs, organizationId, folder, id, ...rest] = blobKey.split('/');
  if (orgs !== 'orgs' || !uuidPattern.test(organizationId ?? '') || rest.length === 0) return undefined;
  const kind = blobFolders[folder ?? ''];
  return kind && uuidPattern.test(id ?? '') ? { kind, id: id!.toLowerCase() } : undefined;
}

/** Layout of a field sealed under a record key: version (1) | key id (16) | iv (12) | tag (16) | ciphertext.
 *  Version 1 is the older per-value envelope (src/privacy/encrypted-field.ts). */
export const recordFieldFormat = 2;
const wrapFormat = 1;
const ivLength = 12;
const tagLength = 16;
export const cacheTtlMs = 60_000;
const maxCachedKeys = 1_000;

interface RecordKeyRow {
  key_id: string;
  organization_id: string;
  record_kind: RecordKind;
  record_id: string;
  wrapped_key: Buffer | null;
}

const organizationKeyContext = (organizationId: string, keyId: string): EncryptionContext => ({
  purpose: 'sigill-organization-key',
  organizationId,
  keyId,
});

const recordKeyAad = (row: Pick<RecordKeyRow, 'key_id' | 'organization_id' | 'record_kind' | 'record_id'>) =>
  Buffer.from(JSON.stringify(['sigill-record-key', row.key_id, row.record_kind, row.record_id, row.organization_id]));

const fieldAad = (keyId: string, record: RecordRef, context: Record<string, string>) =>
  Buffer.from(JSON.stringify([keyId, record.kind, record.id, Object.keys(context).sort().map((key) => [key, context[key]])]));

export const uuidToBytes = (uuid: string) => Buffer.from(uuid.replace(/-/g, ''), 'hex');
export const bytesToUuid = (bytes: Buffer) => {
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
};

/** A small time-limited cache; oldest entries go first when full. */
class ExpiringCache<V> {
  private readonly entries = new Map<string, { value: V; expiresAt: number }>();
  constructor(private readonly now: () => number) {}
  get(key: string): V | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (entry.expiresAt <= this.now()) {
      this.entries.delete(key);
      return undefined;
    }
    return entry.value;
  }
  set(key: string, value: V): void {
    this.entries.delete(key);
    if (this.entries.size >= maxCachedKeys) this.entries.delete(this.entries.keys().next().value!);
    this.entries.set(key, { value, expiresAt: this.now() + cacheTtlMs });
  }
  delete(key: string): void {
    this.entries.delete(key);
  }
  deleteWhere(test: (value: V) => boolean): void {
    for (const [key, entry] of this.entries) if (test(entry.value)) this.entries.delete(key);
  }
}

export class DatabaseRecordKeyring implements RecordKeyring {
  /** Unwrapped organisation keys by key id (a key id is never reused, so a rolled-back key is never served). */
  private readonly organizationKeys: ExpiringCache<Promise<Buffer>>;
  /** Unwrapped record keys by key id. */
  private readonly recordKeys: ExpiringCache<UnwrappedRecordKey>;
  /** Record → key id, for committed keys only. */
  private readonly keyIdOfRecord: ExpiringCache<string>;

  constructor(
    private readonly db: Queryable,
    private readonly keyService: KeyService,
    now: () => number = Date.now,
  ) {
    this.organizationKeys = new ExpiringCache(now);
    this.recordKeys = new ExpiringCache(now);
    this.keyIdOfRecord = new ExpiringCache(now);
    keyringOfKeyService.set(keyService, this);
  }

  async ensureKey(db: Queryable, organizationId: string, record: RecordRef): Promise<void> {
    const existing = await this.recordKeyRow(db, record);
    if (existing) {
      if (existing.organization_id !== organizationId) throw new Error('the record already has a key of another organisation');
      return;
    }
    const organizationKey = await this.ensureOrganizationKey(db, organizationId);
    const keyId = randomUUID();
    const row = { key_id: keyId, organization_id: organizationId, record_kind: record.kind, record_id: record.id };
    const key = randomBytes(32);
    const iv = randomBytes(ivLength);
    const cipher = createCipheriv('aes-256-gcm', organizationKey.key, iv).setAAD(recordKeyAad(row));
    const sealed = Buffer.concat([cipher.update(key), cipher.final()]);
    key.fill(0);
    const wrapped = Buffer.concat([Buffer.from([wrapFormat]), iv, cipher.getAuthTag(), sealed]);
    // Concurrent creators: the first insert wins, the others keep its key.
    await db.query(
      `INSERT INTO record_keys (key_id, organization_id, record_kind, record_id, wrapped_key) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (record_kind, record_id) DO NOTHING`,
      [keyId, organizationId, record.kind, record.id, wrapped],
    );
  }

  async encryptField(record: RecordRef, context: Record<string, string>, plaintext: string, db?: Queryable): Promise<Buffer> {
    const key = await this.keyOf(record, db);
    // A record from before record keys, not migrated yet (src/privacy/migrate-to-record-keys.ts re-encrypts it).
    if (!key) return encryptLegacyField(this.keyService, context, plaintext);
    const iv = randomBytes(ivLength);
    const cipher = createCipheriv('aes-256-gcm', key.key, iv).setAAD(fieldAad(key.keyId, record, context));
    const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return Buffer.concat([Buffer.from([recordFieldFormat]), uuidToBytes(key.keyId), iv, cipher.getAuthTag(), ciphertext]);
  }

  async encryptFieldUnderRecordKey(record: RecordRef, context: Record<string, string>, plaintext: string, db?: Queryable): Promise<Buffer | undefined> {
    // The cache (committed keys) first: this runs for every audit event a person causes.
    const key = (await this.keyOf(record)) ?? (db ? await this.keyOf(record, db) : undefined);
    if (!key) return undefined;
    const iv = randomBytes(ivLength);
    const cipher = createCipheriv('aes-256-gcm', key.key, iv).setAAD(fieldAad(key.keyId, record, context));
    const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return Buffer.concat([Buffer.from([recordFieldFormat]), uuidToBytes(key.keyId), iv, cipher.getAuthTag(), ciphertext]);
  }

  async decryptField(record: RecordRef, context: Record<string, string>, sealed: Buffer, db?: Queryable): Promise<string> {
    if (sealed.length > 0 && sealed[0] !== recordFieldFormat) {
      // Sealed before record keys, under the deployment's key service; a shredded record's stays unreadable too.
      if (await this.isDestroyed(record)) throw new RecordKeyDestroyedError(record);
      return decryptLegacyField(this.keyService, context, sealed);
    }
    if (sealed.length < 1 + 16 + ivLength + tagLength) throw new UnreadableCiphertextError('an encrypted field is malformed');
    const keyId = bytesToUuid(sealed.subarray(1, 17));
    const key = db
      ? await this.keyOf(record, db)
      : await this.keyById(keyId).catch((error: unknown) => {
          // An edited key id can name another record's destroyed key: this record's data is not what was deleted.
          if (error instanceof RecordKeyDestroyedError && error.record && !sameRecord(error.record, record)) {
            throw new UnreadableCiphertextError('an encrypted field belongs to another record');
          }
          throw error;
        });
    if (!key || key.keyId !== keyId || !sameRecord(key.record, record)) {
      throw new UnreadableCiphertextError('an encrypted field belongs to another record');
    }
    const iv = sealed.subarray(17, 17 + ivLength);
    const tag = sealed.subarray(17 + ivLength, 17 + ivLength + tagLength);
    const decipher = createDecipheriv('aes-256-gcm', key.key, iv).setAAD(fieldAad(keyId, record, context)).setAuthTag(tag);
    return Buffer.concat([decipher.update(sealed.subarray(17 + ivLength + tagLength)), finalOrUnreadable(decipher)]).toString('utf8');
  }

  async blindIndexKey(db: Queryable, organizationId: string): Promise<Buffer> {
    const organizationKey = await this.ensureOrganizationKey(db, organizationId);
    return Buffer.from(hkdfSync('sha256', organizationKey.key, Buffer.alloc(0), 'sigill-blind-index', 32));
  }

  async isDestroyed(record: RecordRef): Promise<boolean> {
    const row = await this.recordKeyRow(this.db, record);
    if (!row) return false;
    if (!row.wrapped_key) return true;
    const rows: Array<{ wrapped_key: Buffer | null }> = await this.db.query(
      `SELECT wrapped_key FROM organization_keys WHERE organization_id = $1`,
      [row.organization_id],
    );
    return !rows[0]?.wrapped_key;
  }

  async destroyRecordKey(db: Queryable, record: RecordRef): Promise<string[]> {
    const rows = await queryReturning<{ key_id: string }>(
      db,
      `UPDATE record_keys SET wrapped_key = NULL, destroyed_at = now()
       WHERE record_kind = $1 AND record_id = $2 AND wrapped_key IS NOT NULL RETURNING key_id`,
      [record.kind, record.id],
    );
    this.keyIdOfRecord.delete(recordCacheKey(record));
    this.recordKeys.deleteWhere((key) => key.record.kind === record.kind && key.record.id === record.id);
    return rows.map((row) => row.key_id);
  }

  async destroyOrganizationKey(db: Queryable, organizationId: string): Promise<string[]> {
    const rows = await queryReturning<{ key_id: string }>(
      db,
      `UPDATE organization_keys SET wrapped_key = NULL, destroyed_at = now()
       WHERE organization_id = $1 AND wrapped_key IS NOT NULL RETURNING key_id`,
      [organizationId],
    );
    this.recordKeys.deleteWhere((key) => key.organizationId === organizationId);
    this.organizationKeys.deleteWhere(() => true);
    return rows.map((row) => row.key_id);
  }

  async keyOf(record: RecordRef, db?: Queryable): Promise<UnwrappedRecordKey | undefined> {
    if (!db) {
      const keyId = this.keyIdOfRecord.get(recordCacheKey(record));
      const cached = keyId && this.recordKeys.get(keyId);
      if (cached) return cached;
    }
    const row = await this.recordKeyRow(db ?? this.db, record);
    if (!row) return undefined;
    const key = await this.unwrapRecordKey(db ?? this.db, row);
    // Only committed keys are remembered by record: a key created in a transaction that rolls back is never served.
    if (!db) this.keyIdOfRecord.set(recordCacheKey(record), key.keyId);
    return key;
  }

  async keyById(keyId: string): Promise<UnwrappedRecordKey> {
    const cached = this.recordKeys.get(keyId);
    if (cached) return cached;
    const rows: RecordKeyRow[] = uuidPattern.test(keyId)
      ? await this.db.query(
          `SELECT key_id, organization_id, record_kind, record_id, wrapped_key FROM record_keys WHERE key_id = $1`,
          [keyId],
        )
      : [];
    if (!rows[0]) throw new UnreadableCiphertextError('no record key has the id the data names');
    return this.unwrapRecordKey(this.db, rows[0]);
  }

  private async recordKeyRow(db: Queryable, record: RecordRef): Promise<RecordKeyRow | undefined> {
    const rows: RecordKeyRow[] = await db.query(
      `SELECT key_id, organization_id, record_kind, record_id, wrapped_key FROM record_keys WHERE record_kind = $1 AND record_id = $2`,
      [record.kind, record.id],
    );
    return rows[0];
  }

  private async unwrapRecordKey(db: Queryable, row: RecordKeyRow): Promise<UnwrappedRecordKey> {
    const record = { kind: row.record_kind, id: row.record_id };
    if (!row.wrapped_key) throw new RecordKeyDestroyedError(record);
    const cached = this.recordKeys.get(row.key_id);
    if (cached) return cached;
    const organizationKey = await this.organizationKey(db, row.organization_id);
    if (!organizationKey) throw new RecordKeyDestroyedError(record);
    const wrapped = row.wrapped_key;
    if (wrapped[0] !== wrapFormat || wrapped.length !== 1 + ivLength + tagLength + 32) throw new Error('a record key has an unknown format');
    const decipher = createDecipheriv('aes-256-gcm', organizationKey.key, wrapped.subarray(1, 1 + ivLength))
      .setAAD(recordKeyAad(row))
      .setAuthTag(wrapped.subarray(1 + ivLength, 1 + ivLength + tagLength));
    const key = Buffer.concat([decipher.update(wrapped.subarray(1 + ivLength + tagLength)), decipher.final()]);
    const unwrapped = { keyId: row.key_id, organizationId: row.organization_id, record, key };
    this.recordKeys.set(row.key_id, unwrapped);
    return unwrapped;
  }

  /** The organisation's key as stored now (undefined when destroyed or never made). */
  private async organizationKey(db: Queryable, organizationId: string): Promise<{ keyId: string; key: Buffer } | undefined> {
    const rows: Array<{ key_id: string; wrapped_key: Buffer | null }> = await db.query(
      `SELECT key_id, wrapped_key FROM organization_keys WHERE organization_id = $1`,
      [organizationId],
    );
    const row = rows[0];
    if (!row?.wrapped_key) return undefined;
    const cacheKey = `${row.key_id}:${createHash('sha256').update(row.wrapped_key).digest('hex')}`;
    let key = this.organizationKeys.get(cacheKey);
    if (!key) {
      key = this.keyService.unwrapDataKey(row.wrapped_key, organizationKeyContext(organizationId, row.key_id));
      key.catch(() => this.organizationKeys.delete(cacheKey));
      this.organizationKeys.set(cacheKey, key);
    }
    return { keyId: row.key_id, key: await key };
  }

  private async ensureOrganizationKey(db: Queryable, organizationId: string): Promise<{ keyId: string; key: Buffer }> {
    const existing = await this.organizationKey(db, organizationId);
    if (existing) return existing;
    const destroyed: unknown[] = await db.query(`SELECT 1 FROM organization_keys WHERE organization_id = $1 AND wrapped_key IS NULL`, [
      organizationId,
    ]);
    // A closed organisation's key stays destroyed: nothing new is encrypted for it.
    if (destroyed.length > 0) throw new AppError('record_deleted', 'This organisation was closed and its data deleted.');
    const keyId = randomUUID();
    const dataKey = await this.keyService.generateDataKey(organizationKeyContext(organizationId, keyId));
    dataKey.plaintext.fill(0);
    await db.query(
      `INSERT INTO organization_keys (organization_id, key_id, wrapped_key) VALUES ($1, $2, $3) ON CONFLICT (organization_id) DO NOTHING`,
      [organizationId, keyId, dataKey.wrapped],
    );
    const created = await this.organizationKey(db, organizationId);
    if (!created) throw new AppError('record_deleted', 'This organisation was closed and its data deleted.');
    return created;
  }
}

const recordCacheKey = (record: RecordRef) => `${record.kind}:${record.id}`;

/** The keyring serving a key service, for code handed only the key service (src/identity/identification-evidence.ts). */
const keyringOfKeyService = new WeakMap<KeyService, RecordKeyring>();
export const recordKeyringOf = (keyService: KeyService): RecordKeyring | undefined => keyringOfKeyService.get(keyService);

/** The keyring of a database, for code handed only a DataSource or a transaction's EntityManager (the audit trails). */
const keyringOfDatabase = new WeakMap<object, RecordKeyring>();
export function registerRecordKeyring(dataSource: object, keyring: RecordKeyring): void {
  keyringOfDatabase.set(dataSource, keyring);
}
export function recordKeyringOfDatabase(db: { connection?: object } | object): RecordKeyring {
  const dataSource = 'connection' in db && db.connection ? db.connection : db;
  const keyring = keyringOfDatabase.get(dataSource);
  if (!keyring) throw new Error('no record keyring is registered for this database (createSigningContext registers it)');
  return keyring;
}
