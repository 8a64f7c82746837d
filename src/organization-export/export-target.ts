/**
 * The optional export target (EXPORT_S3_*): a bucket the customer owns, to which every completed export is
 * also written, at `<prefix>/<organisation id>/<export id>/export.zip`. The ZIP goes there as an S3 multipart
 * upload of the stored parts, one part at a time (each 8 MiB, above S3's 5 MiB minimum; the last may be
 * smaller), decrypted on the way: the customer's copy is theirs to read. A retry uploads the same bytes
 * again under the same key, so it converges; a failed upload is aborted so no half-object stays behind.
 */
import { S3 } from '../adapters/aws-sdk';
import { recordOrganizationEvent } from '../accounts/organization-audit-log';
import type { ExportTargetConfig } from '../config';
import type { SigningContext } from '../signing/signing-context';
import { exportPartKey } from './build-organization-export';

export function exportTargetLocation(target: ExportTargetConfig, organizationId: string, exportId: string): { bucket: string; key: string; url: string } {
  const key = [target.prefix, organizationId, exportId, 'export.zip'].filter((part) => part !== '').join('/');
  return { bucket: target.bucket, key, url: `s3://${target.bucket}/${key}` };
}

export async function copyExportToTarget(context: SigningContext, exportId: string, onPart: () => void = () => undefined): Promise<string | undefined> {
  const target = context.exportTarget;
  if (!target) return undefined;
  const [row]: Array<{ organization_id: string; status: string; blob_key: string | null; part_count: number | null }> = await context.dataSource.query(
    `SELECT organization_id, status, blob_key, part_count FROM organization_exports WHERE id = $1`,
    [exportId],
  );
  if (!row || row.status !== 'completed' || !row.blob_key || row.part_count === null) return undefined;
  const { bucket, key, url } = exportTargetLocation(target, row.organization_id, exportId);
  const s3 = new S3.S3Client({
    region: target.region,
    endpoint: target.endpoint,
    forcePathStyle: target.forcePathStyle,
    credentials: target.credentials,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  try {
    const { UploadId } = await s3.send(new S3.CreateMultipartUploadCommand({ Bucket: bucket, Key: key, ContentType: 'application/zip' }));
    try {
      const parts: Array<{ PartNumber: number; ETag: string | undefined }> = [];
      for (let index = 0; index < row.part_count; index++) {
        const bytes = await context.adapters.blobStore.get(exportPartKey(row.blob_key, index));
        if (!bytes) throw new Error(`part ${index} of export ${exportId} is missing from the blob store`);
        const uploaded = await s3.send(new S3.UploadPartCommand({ Bucket: bucket, Key: key, UploadId, PartNumber: index + 1, Body: bytes }));
        parts.push({ PartNumber: index + 1, ETag: uploaded.ETag });
        onPart();
      }
      await s3.send(new S3.CompleteMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId, MultipartUpload: { Parts: parts } }));
      await recordCopied(context, row.organization_id, exportId, url);
    } catch (error) {
      await s3.send(new S3.AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId })).catch(() => undefined);
      throw error;
    }
    return url;
  } finally {
    s3.destroy();
  }
}

/** Once per export (a retry finds it recorded): GET shows the location from here. */
async function recordCopied(context: SigningContext, organizationId: string, exportId: string, location: string): Promise<void> {
  const recorded: unknown[] = await context.dataSource.query(
    `SELECT 1 FROM organization_audit_events WHERE organization_id = $1 AND type = 'organization.export_copied' AND detail->>'exportId' = $2`,
    [organizationId, exportId],
  );
  if (recorded.length === 0) {
    await recordOrganizationEvent(context.dataSource, { organizationId, type: 'organization.export_copied', actor: 'system', detail: { exportId, location } });
  }
}
