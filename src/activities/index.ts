/**
 * Every activity the worker registers. Activities are thin: each calls one use case, and each is safe to
 * retry (idempotent, keyed by the ids the workflow passes).
 */
import type { SigningContext } from '../signing/signing-context';
import { archiveActivities } from './archive-activities';
import { backupActivities } from './backup-activities';
import { dsrActivities } from './dsr-activities';
import { kycActivities } from './kyc-activities';
import { organizationExportActivities } from './organization-export-activities';
import { failPermanentErrorsAtOnce } from './permanent-failures';
import { probeActivities } from './probe-activities';
import { retentionActivities } from './retention-activities';
import { signingActivities } from './signing-activities';
import { webhookActivities } from './webhook-activities';

/**
 * Activities need what signing needs: the database, the adapters and the credential deriver. The main
 * task queue's worker registers these; webhook delivery has its own queue and worker (below).
 */
export function createActivities(context: SigningContext) {
  return failPermanentErrorsAtOnce({
    ...probeActivities(context),
    ...signingActivities(context),
    ...archiveActivities(context),
    ...kycActivities(context),
    ...retentionActivities(context),
    ...dsrActivities(context),
    ...organizationExportActivities(context),
    ...backupActivities(context),
  });
}

/** The webhook task queue's activities (src/worker-runtime.ts runs them on a worker with bounded slots). */
export function createWebhookActivities(context: SigningContext) {
  return failPermanentErrorsAtOnce(webhookActivities(context));
}
