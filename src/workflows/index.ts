/** Every workflow the worker runs. This file is the bundle's entry: it must import workflow code only. */
export { probeWorkflow } from './probe';
export { archiveRenewalWorkflow } from './archive-renewal';
export { signingRoundWorkflow } from './signing-round';
export { webhookDeliveryWorkflow } from './webhook-delivery';
export { kycCaseWorkflow } from './kyc-case';
export { retentionSweepWorkflow } from './retention-sweep';
export { dataSubjectRequestWorkflow } from './data-subject-request';
export { blobBackupWorkflow } from './blob-backup';
export { organizationExportWorkflow } from './organization-export';
export { organizationClosingWorkflow } from './organization-closing';
