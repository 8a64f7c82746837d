/**
 * An organisation's export (R13, src/organization-export/): one long activity writes the ZIP in parts,
 * heartbeating its progress (a retried attempt starts the archive over under a prefix of its own, so a
 * download never mixes attempts); it is copied to the customer's bucket when EXPORT_S3_* names one; the
 * requester is told it is ready; after the download window the files are
 * deleted. Ids only in this history: the export's payloads are encrypted under its record key anyway.
 */
import { ActivityFailure, proxyActivities, sleep } from '@temporalio/workflow';
import type { OrganizationExportActivities } from '../activities/organization-export-activities';

export interface OrganizationExportInput {
  exportId: string;
  /** Size of the stored parts of the ZIP (default 8 MiB; tests make it small to get several). */
  partBytes?: number;
}

export interface OrganizationExportResult {
  status: 'completed' | 'failed' | 'expired';
}

const write = proxyActivities<OrganizationExportActivities>({
  startToCloseTimeout: '6 hours',
  heartbeatTimeout: '2 minutes',
  retry: { initialInterval: '30 seconds', backoffCoefficient: 2, maximumInterval: '10 minutes', maximumAttempts: 5 },
});

const record = proxyActivities<OrganizationExportActivities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '5 seconds', backoffCoefficient: 2, maximumInterval: '5 minutes' },
});

export async function organizationExportWorkflow(input: OrganizationExportInput): Promise<OrganizationExportResult> {
  let expiresAt: string;
  try {
    ({ expiresAt } = await write.writeOrganizationExport(input));
  } catch (error) {
    if (!(error instanceof ActivityFailure)) throw error;
    await record.markOrganizationExportFailed({ exportId: input.exportId });
    return { status: 'failed' };
  }
  try {
    await write.copyOrganizationExportToTarget({ exportId: input.exportId });
  } catch (error) {
    // The export stands in Sigill; the customer's bucket refused it (GET shows no targetLocation then).
    if (!(error instanceof ActivityFailure)) throw error;
  }
  try {
    await record.emailOrganizationExportReady({ exportId: input.exportId });
  } catch (error) {
    // The export stands without its email (an address refused for good): GET and the console show it.
    if (!(error instanceof ActivityFailure)) throw error;
  }
  // Workflow time: deterministic on replay, and skipped through by the time-skipping test server.
  const keptMs = new Date(expiresAt).getTime() - Date.now();
  if (keptMs > 0) await sleep(keptMs);
  await record.expireOrganizationExport({ exportId: input.exportId });
  return { status: 'expired' };
}
