/**
 * Writes the ZIP of everything an organisation holds (R13): per signing request its original, sealed PDF
 * (and separate evidence PDF), audit trail with the chain verification material and metadata; per KYC case
 * its evidence package and metadata; shredded records as tombstones with their deletion receipt; then
 * `manifest.json` (every file's SHA-256 and size) and `README.txt` (how to verify).
 *
 * Streamed: records are read a page at a time and one at a time, each file goes through fflate's streaming
 * `Zip` as it is read, and the archive's bytes are cut into parts of `partBytes` that are stored as they fill
 * (each part an ordinary blob, so encrypted under the export's record key like every object under
 * orgs/<org>/exports/<id>/). Memory holds one record's files and one part, never the organisation.
 *
 * A retried attempt starts the archive over under a prefix of its own (`export.zip.attempt-<n>`): a
 * previous attempt that is still running somewhere cannot write into its parts, and only the attempt that
 * records completion first names the parts downloads read (`blob_key`, `part_count`), so a download never
 * mixes attempts. Every entry is dated with the export's creation time.
 */
import { createHash, type Hash } from 'node:crypto';
import { Zip, ZipPassThrough } from 'fflate';
import { organizationScope } from '../accounts/access';
import { getKycCase } from '../kyc/get-kyc-case';
import { readKycAuditTrail, verifyKycAuditEvents } from '../kyc/kyc-audit-trail';
import { RecordKeyDestroyedError } from '../privacy/record-keys';
import { findDeletionReceipt, type ShreddableRecord } from '../privacy/shred-record';
import { auditChainKey } from '../signing/audit-chain-key';
import { readAuditTrail, verifyAuditEvents } from '../signing/audit-trail';
import { getSigningRequest } from '../signing/get-signing-request';
import { evidenceBlobKeyFor } from '../signing/read-request-document';
import type { SigningContext } from '../signing/signing-context';
import { exportReadme } from './export-readme';

export const defaultPartBytes = 8 * 1024 * 1024;
const pageSize = 100;

export interface ExportProgress {
  itemsDone: number;
  itemsTotal: number;
}

export interface BuiltExport {
  blobKey: string;
  partCount: number;
  sha256: string;
  sizeBytes: number;
}

interface ManifestFile {
  name: string;
  sha256: string;
  size: number;
}

interface Tombstone {
  kind: ShreddableRecord['kind'];
  id: string;
  deletedAt: string | null;
  receipt: unknown;
}

export const exportBlobPrefix = (organizationId: string, exportId: string) => `orgs/${organizationId}/exports/${exportId}/export.zip`;
export const exportPartKey = (blobKey: string, index: number) => `${blobKey}.part-${String(index).padStart(5, '0')}`;

const sha256Hex = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');
const json = (value: unknown) => Buffer.from(`${JSON.stringify(value, null, 2)}\n`, 'utf8');

/** The ZIP's bytes as fflate hands them over, cut into parts that are stored as each one fills. */
class PartWriter {
  private pending: Uint8Array[] = [];
  private pendingBytes = 0;
  private readonly hash: Hash = createHash('sha256');
  partCount = 0;
  sizeBytes = 0;

  constructor(
    private readonly context: SigningContext,
    private readonly blobKey: string,
    private readonly partBytes: number,
  ) {}

  /** fflate's callback: synchronous, so bytes are queued here and stored by `flush`. */
  accept(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    this.hash.update(chunk);
    this.sizeBytes += chunk.length;
    this.pending.push(chunk);
    this.pendingBytes += chunk.length;
  }

  /** Stores every full part (all that is queued when `final`). */
  async flush(final = false): Promise<void> {
    while (this.pendingBytes >= this.partBytes || (final && this.pendingBytes > 0)) {
      const all = Buffer.concat(this.pending, this.pendingBytes);
      const size = Math.min(this.partBytes, all.length);
      await this.context.adapters.blobStore.put(exportPartKey(this.blobKey, this.partCount), all.subarray(0, size));
      this.partCount += 1;
      const rest = all.subarray(size);
      this.pending = rest.length > 0 ? [rest] : [];
      this.pendingBytes = rest.length;
    }
  }

  digest(): string {
    return this.hash.digest('hex');
  }
}

export async function buildOrganizationExport(
  context: SigningContext,
  input: { exportId: string; attempt: number; partBytes?: number },
  reportProgress: (progress: ExportProgress) => Promise<void>,
): Promise<BuiltExport> {
  const db = context.dataSource;
  const [row]: Array<{ organization_id: string; created_at: Date; name: string }> = await db.query(
    `SELECT e.organization_id, e.created_at, o.name FROM organization_exports e JOIN organizations o ON o.id = e.organization_id WHERE e.id = $1`,
    [input.exportId],
  );
  if (!row) throw new Error(`organization export ${input.exportId} does not exist`);
  const organizationId = row.organization_id;
  const scope = organizationScope(organizationId);
  const at = row.created_at;
  const blobKey = `${exportBlobPrefix(organizationId, input.exportId)}.attempt-${input.attempt}`;
  const writer = new PartWriter(context, blobKey, input.partBytes ?? defaultPartBytes);
  let zipError: Error | undefined;
  const zip = new Zip((error, chunk, _final) => {
    if (error) zipError = error;
    else writer.accept(chunk);
  });
  const files: ManifestFile[] = [];
  const tombstones: Tombstone[] = [];
  const addFile = async (name: string, bytes: Uint8Array) => {
    const entry = new ZipPassThrough(name);
    entry.mtime = at;
    zip.add(entry);
    entry.push(bytes, true);
    if (zipError) throw zipError;
    files.push({ name, sha256: sha256Hex(bytes), size: bytes.length });
    await writer.flush();
  };

  const [counts]: Array<{ requests: number; cases: number }> = await db.query(
    `SELECT (SELECT count(*)::int FROM signing_requests WHERE organization_id = $1) AS requests,
            (SELECT count(*)::int FROM kyc_cases WHERE organization_id = $1) AS cases`,
    [organizationId],
  );
  const progress: ExportProgress = { itemsDone: 0, itemsTotal: counts!.requests + counts!.cases };
  await reportProgress(progress);
  const exportedAt = new Date().toISOString();
  await addFile('organization.json', json({ id: organizationId, name: row.name, exportId: input.exportId, requestedAt: at.toISOString(), exportedAt }));

  // Keyset pages in creation order: records created while the export runs may or may not be in it, none twice.
  for await (const request of pages<{ id: string; deleted_at: Date | null }>(context, 'signing_requests', organizationId)) {
    const tombstone = request.deleted_at ? await tombstoneOf(context, { kind: 'signing_request', id: request.id }, request.deleted_at) : undefined;
    if (tombstone) tombstones.push(tombstone);
    else {
      try {
        for (const file of await requestFiles(context, scope, request.id)) await addFile(`requests/${request.id}/${file.name}`, file.bytes);
      } catch (error) {
        // Shredded while the export ran: its key is gone, so is its content; it is listed as deleted.
        if (!(error instanceof RecordKeyDestroyedError)) throw error;
        tombstones.push(await tombstoneOf(context, { kind: 'signing_request', id: request.id }, new Date()));
      }
    }
    progress.itemsDone += 1;
    await reportProgress(progress);
  }
  for await (const kycCase of pages<{ id: string; deleted_at: Date | null }>(context, 'kyc_cases', organizationId)) {
    const tombstone = kycCase.deleted_at ? await tombstoneOf(context, { kind: 'kyc_case', id: kycCase.id }, kycCase.deleted_at) : undefined;
    if (tombstone) tombstones.push(tombstone);
    else {
      try {
        for (const file of await kycCaseFiles(context, scope, kycCase.id)) await addFile(`kyc-cases/${kycCase.id}/${file.name}`, file.bytes);
      } catch (error) {
        if (!(error instanceof RecordKeyDestroyedError)) throw error;
        tombstones.push(await tombstoneOf(context, { kind: 'kyc_case', id: kycCase.id }, new Date()));
      }
    }
    progress.itemsDone += 1;
    await reportProgress(progress);
  }

  const manifest = {
    format: 'sigill-organization-export/1',
    organizationId,
    organizationName: row.name,
    exportId: input.exportId,
    exportedAt,
    files,
    deletedRecords: tombstones,
  };
  await addFile('manifest.json', json(manifest));
  await addFile('README.txt', Buffer.from(exportReadme(), 'utf8'));
  zip.end();
  if (zipError) throw zipError;
  await writer.flush(true);
  return { blobKey, partCount: writer.partCount, sha256: writer.digest(), sizeBytes: writer.sizeBytes };
}

async function* pages<T extends { id: string }>(context: SigningContext, table: 'signing_requests' | 'kyc_cases', organizationId: string): AsyncGenerator<T> {
  let after: { createdAt: Date; id: string } | undefined;
  for (;;) {
    const rows: Array<T & { created_at: Date }> = await context.dataSource.query(
      `SELECT id, created_at, deleted_at FROM ${table}
        WHERE organization_id = $1 AND ($2::timestamptz IS NULL OR (created_at, id) > ($2::timestamptz, $3::uuid))
        ORDER BY created_at, id LIMIT ${pageSize}`,
      [organizationId, after?.createdAt ?? null, after?.id ?? null],
    );
    for (const row of rows) yield row;
    if (rows.length < pageSize) return;
    const last = rows[rows.length - 1]!;
    after = { createdAt: last.created_at, id: last.id };
  }
}

async function tombstoneOf(context: SigningContext, record: ShreddableRecord, deletedAt: Date): Promise<Tombstone> {
  const receipt = await findDeletionReceipt(context, record);
  return { kind: record.kind, id: record.id, deletedAt: receipt?.deletedAt ?? deletedAt.toISOString(), receipt: receipt ?? null };
}

type ExportFile = { name: string; bytes: Uint8Array };

/** One request's files, read with the same use cases the API's routes use (the whole organisation's scope). */
async function requestFiles(context: SigningContext, scope: ReturnType<typeof organizationScope>, requestId: string): Promise<ExportFile[]> {
  const blobs = context.adapters.blobStore;
  const [request]: Array<{ original_blob_key: string; sealed_blob_key: string | null; status: string }> = await context.dataSource.query(
    `SELECT original_blob_key, sealed_blob_key, status FROM signing_requests WHERE id = $1`,
    [requestId],
  );
  const files: ExportFile[] = [];
  const original = await blobs.get(request!.original_blob_key);
  if (!original) throw new Error(`the original document of request ${requestId} is missing from the blob store`);
  files.push({ name: 'original.pdf', bytes: original });
  if (request!.status === 'completed' && request!.sealed_blob_key) {
    const sealed = await blobs.get(request!.sealed_blob_key);
    if (!sealed) throw new Error(`the sealed document of request ${requestId} is missing from the blob store`);
    files.push({ name: 'sealed.pdf', bytes: sealed });
    const evidence = await blobs.get(evidenceBlobKeyFor(request!.sealed_blob_key));
    if (evidence) files.push({ name: 'evidence.pdf', bytes: evidence });
  }
  // The material GET /v1/signing-requests/:id/audit-trail verifies with, every field of every event.
  const events = await readAuditTrail(context.dataSource, requestId);
  const verification = verifyAuditEvents(events, auditChainKey(context.dataSource));
  files.push({
    name: 'audit-trail.json',
    bytes: json({
      events: events.map((event) => ({
        sequence: event.sequence,
        eventKey: event.eventKey,
        type: event.type,
        at: event.occurredAt.toISOString(),
        actor: event.actor,
        signerId: event.signerId ?? undefined,
        channel: event.channel ?? undefined,
        ip: event.ip ?? undefined,
        userAgent: event.userAgent ?? undefined,
        detail: event.detail ?? undefined,
        prevHash: event.prevHash ?? null,
        hash: event.hash,
        chainFormat: event.chainFormat,
        legacyHash: event.legacyHash ?? undefined,
      })),
      chainValid: verification.valid,
      chainHead: verification.head ?? null,
      firstBrokenEvent: verification.firstBrokenEvent,
    }),
  });
  files.push({ name: 'request.json', bytes: json(await getSigningRequest(context, scope, requestId)) });
  return files;
}

async function kycCaseFiles(context: SigningContext, scope: ReturnType<typeof organizationScope>, caseId: string): Promise<ExportFile[]> {
  const view = await getKycCase(context, scope, caseId);
  const files: ExportFile[] = [{ name: 'case.json', bytes: json(view) }];
  const [row]: Array<{ evidence_blob_key: string | null }> = await context.dataSource.query(`SELECT evidence_blob_key FROM kyc_cases WHERE id = $1`, [caseId]);
  if (row?.evidence_blob_key) {
    const evidence = await context.adapters.blobStore.get(row.evidence_blob_key);
    if (!evidence) throw new Error(`the evidence package of KYC case ${caseId} is missing from the blob store`);
    files.push({ name: 'evidence.zip', bytes: evidence });
  }
  const events = await readKycAuditTrail(context.dataSource, caseId);
  const verification = verifyKycAuditEvents(caseId, events, auditChainKey(context.dataSource));
  files.push({ name: 'audit-trail.json', bytes: json({ events, chainValid: verification.valid, chainHead: verification.head ?? null, firstBrokenEvent: verification.firstBrokenEvent }) });
  return files;
}
