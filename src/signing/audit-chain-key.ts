/**
 * The key of the audit chains (src/signing/audit-chain.ts): a data key of the key service (local master key
 * or KMS), generated once and stored only wrapped (`deployment_secrets`, name `audit-chain`), unwrapped at
 * start into this process's memory. It never leaves the process: hashes are computed here, not in SQL (a
 * key, or HMAC pads, sent as query parameters would reach the database's statement logs); it is never
 * logged and never passes through workflow history.
 *
 * The process that creates the key re-anchors, in the same transaction, the rows chained before it
 * (migration 1763910000000): once, so a plain row written into the database later is never keyed. A missing
 * key while keyed rows exist stops the start instead of making a new key, which would leave every chain
 * unverifiable (and would invite re-keying rows rewritten in the meantime).
 */
import type { DataSource, EntityManager } from 'typeorm';
import type { KeyService } from '../adapters/key-service';
import { queryReturning } from '../database/data-source';
import {
  canonicalAuditRecord,
  canonicalOrganizationAuditRecord,
  chainFormat,
  keyedChainHash,
  plainChainHash,
} from './audit-chain';

const encryptionContext = { purpose: 'sigill-deployment-secret', name: 'audit-chain' };

const loaded = new WeakMap<DataSource, Buffer>();
const loading = new WeakMap<DataSource, Promise<Buffer>>();

/** Unwraps (or, at the first start, creates) the chain key of this database; once per data source. */
export async function loadAuditChainKey(dataSource: DataSource, keyService: KeyService): Promise<void> {
  let pending = loading.get(dataSource);
  if (!pending) {
    pending = loadOrCreate(dataSource, keyService).then((key) => {
      loaded.set(dataSource, key);
      return key;
    });
    loading.set(dataSource, pending);
    // A failed load (key service out) is forgotten, so the next signing context tries again.
    pending.catch(() => loading.delete(dataSource));
  }
  await pending;
}

/** The chain key of the database `db` works on; loaded at start by `createSigningContext`. */
export function auditChainKey(db: DataSource | EntityManager): Buffer {
  const dataSource = 'connection' in db ? db.connection : db;
  const key = loaded.get(dataSource);
  if (!key) throw new Error('the audit chain key is not loaded for this database (loadAuditChainKey runs when a signing context is created)');
  return key;
}

async function loadOrCreate(dataSource: DataSource, keyService: KeyService): Promise<Buffer> {
  const existing = await readWrapped(dataSource);
  if (existing) return keyService.unwrapDataKey(existing, encryptionContext);
  const { wrapped } = await keyService.generateDataKey(encryptionContext);
  const created = await keyService.unwrapDataKey(wrapped, encryptionContext);
  await dataSource.transaction(async (tx) => {
    // Appends wait meanwhile; two processes starting together take turns, and only the first inserts.
    await tx.query(`LOCK TABLE audit_events, organization_audit_events IN SHARE ROW EXCLUSIVE MODE`);
    const [keyed] = await tx.query(
      `SELECT EXISTS (SELECT 1 FROM audit_events WHERE chain_format = 2) OR EXISTS (SELECT 1 FROM organization_audit_events WHERE chain_format = 2) AS any`,
    );
    const inserted = await queryReturning(
      tx,
      `INSERT INTO deployment_secrets (name, wrapped_key) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING RETURNING name`,
      [encryptionContext.name, wrapped],
    );
    if (inserted.length === 0) return;
    if (keyed.any) {
      throw new Error(
        "the audit chain key (deployment_secrets 'audit-chain') is missing but audit events were keyed with it: restore it " +
          'from a backup; a new key would leave every audit chain unverifiable',
      );
    }
    await reanchorPlainChainsIn(tx, created);
  });
  return keyService.unwrapDataKey((await readWrapped(dataSource))!, encryptionContext);
}

async function readWrapped(dataSource: DataSource): Promise<Buffer | undefined> {
  const rows: Array<{ wrapped_key: Buffer }> = await dataSource.query(`SELECT wrapped_key FROM deployment_secrets WHERE name = $1`, [
    encryptionContext.name,
  ]);
  return rows[0]?.wrapped_key;
}

interface PlainRow {
  sequence: number;
  prev_hash: string | null;
  hash: string;
  chain_format: number;
  type: string;
  actor: string;
  ip: string | null;
  user_agent: string | null;
  detail: unknown;
  occurred_at: Date;
}

interface PlainRequestRow extends PlainRow {
  id: string;
  request_id: string;
  event_key: string;
  signer_id: string | null;
  channel: string | null;
}

interface PlainOrganizationRow extends PlainRow {
  organization_id: string;
}

/**
 * Inside the caller's transaction, which holds both tables against appends (so no event links to a hash
 * about to change): for every chain with plain (format 1) rows, the prefix that verifies under format 1
 * gets keyed hashes along the chain, each row's plain hash kept as its `legacy_hash`. Rows from a legacy
 * break on stay plain, so verification still reports that break; keying them would launder it.
 */
export async function reanchorPlainChainsIn(tx: EntityManager, key: Buffer): Promise<{ requestEvents: number; organizationEvents: number }> {
  await tx.query(`SELECT set_config('sigill.allow_audit_rechain', 'on', true)`);
  let requestEvents = 0;
  let organizationEvents = 0;

  const requests: Array<{ request_id: string }> = await tx.query(`SELECT DISTINCT request_id FROM audit_events WHERE chain_format = 1`);
  for (const { request_id: requestId } of requests) {
    const rows: PlainRequestRow[] = await tx.query(
      `SELECT id, request_id, event_key, type, signer_id, actor, channel, ip, user_agent, detail, occurred_at, sequence, prev_hash, hash, chain_format
         FROM audit_events WHERE request_id = $1 ORDER BY sequence`,
      [requestId],
    );
    requestEvents += await reanchorPrefix(rows, key, (row) => canonicalAuditRecord({
      requestId: row.request_id,
      sequence: row.sequence,
      eventKey: row.event_key,
      type: row.type,
      signerId: row.signer_id,
      actor: row.actor,
      channel: row.channel,
      ip: row.ip,
      userAgent: row.user_agent,
      detail: row.detail,
      occurredAt: row.occurred_at,
    }), (row, prevHash, hash) =>
      tx.query(`UPDATE audit_events SET chain_format = 2, legacy_hash = hash, prev_hash = $2, hash = $3 WHERE id = $1`, [row.id, prevHash, hash]),
    );
  }

  const organizations: Array<{ organization_id: string }> = await tx.query(
    `SELECT DISTINCT organization_id FROM organization_audit_events WHERE chain_format = 1`,
  );
  for (const { organization_id: organizationId } of organizations) {
    const rows: PlainOrganizationRow[] = await tx.query(
      `SELECT organization_id, type, actor, ip, user_agent, detail, occurred_at, sequence, prev_hash, hash, chain_format
         FROM organization_audit_events WHERE organization_id = $1 ORDER BY sequence`,
      [organizationId],
    );
    organizationEvents += await reanchorPrefix(rows, key, (row) => canonicalOrganizationAuditRecord({
      organizationId: row.organization_id,
      sequence: row.sequence,
      type: row.type,
      actor: row.actor,
      ip: row.ip,
      userAgent: row.user_agent,
      detail: row.detail,
      occurredAt: row.occurred_at,
    }), (row, prevHash, hash) =>
      tx.query(
        `UPDATE organization_audit_events SET chain_format = 2, legacy_hash = hash, prev_hash = $3, hash = $4 WHERE organization_id = $1 AND sequence = $2`,
        [row.organization_id, row.sequence, prevHash, hash],
      ),
    );
  }
  return { requestEvents, organizationEvents };
}

/** Keys the leading run of plain rows that still verifies under format 1; answers how many it keyed. */
async function reanchorPrefix<Row extends PlainRow>(
  rows: Row[],
  key: Buffer,
  recordOf: (row: Row) => string,
  rewrite: (row: Row, prevHash: string | null, hash: string) => Promise<unknown>,
): Promise<number> {
  let plainPrev: string | null = null;
  let keyedPrev: string | null = null;
  let keyed = 0;
  for (const [index, row] of rows.entries()) {
    if (row.chain_format !== chainFormat.plainSha256 || row.sequence !== index + 1 || row.prev_hash !== plainPrev) break;
    const record = recordOf(row);
    if (plainChainHash(plainPrev, record) !== row.hash) break;
    const hash = keyedChainHash(key, keyedPrev, record);
    await rewrite(row, keyedPrev, hash);
    plainPrev = row.hash;
    keyedPrev = hash;
    keyed += 1;
  }
  return keyed;
}
