/** Every migration, in order. Forward-only: a released migration is never edited, only followed. */
import { InitialSchema1763820000000 } from './1763820000000-initial-schema';
import { SigningRequests1763830000000 } from './1763830000000-signing-requests';
import { AuditChain1763840000000 } from './1763840000000-audit-chain';
import { SealEvidence1763850000000 } from './1763850000000-seal-evidence';
import { FoldersAndScopedKeys1763860000000 } from './1763860000000-folders-and-scoped-keys';
import { UsersAndSessions1763870000000 } from './1763870000000-users-and-sessions';
import { RoundReadModel1763880000000 } from './1763880000000-round-read-model';
import { RateLimits1763890000000 } from './1763890000000-rate-limits';
import { SupportRole1763900000000 } from './1763900000000-support-role';
import { LanguagesAndTimeZones1763905000000 } from './1763905000000-languages-and-time-zones';
import { KeyedAuditChains1763910000000 } from './1763910000000-keyed-audit-chains';
import { OrganizationSeals1763914000000 } from './1763914000000-organization-seals';
import { ArchiveRenewal1763916000000 } from './1763916000000-archive-renewal';
import { OrganizationSealOwnership1763918000000 } from './1763918000000-organization-seal-ownership';
import { Webhooks1763920000000 } from './1763920000000-webhooks';
import { ActivityFailures1763922000000 } from './1763922000000-activity-failures';
import { EidIdentification1763924000000 } from './1763924000000-eid-identification';
import { KycCases1763926000000 } from './1763926000000-kyc-cases';
import { RecordKeys1763928000000 } from './1763928000000-record-keys';
import { DeletionReceipts1763929000000 } from './1763929000000-deletion-receipts';
import { Retention1763930000000 } from './1763930000000-retention';
import { DataSubjectRequests1763932000000 } from './1763932000000-data-subject-requests';
import { BlobBackup1763934000000 } from './1763934000000-blob-backup';
import { OrganizationExport1763936000000 } from './1763936000000-organization-export';
import { DsrEid1763938000000 } from './1763938000000-dsr-eid';
import { SealedAuditPersonalData1763940000000 } from './1763940000000-sealed-audit-personal-data';
import { SealedEidEvidence1763944000000 } from './1763944000000-sealed-eid-evidence';
import { SealedKycCustomer1763946000000 } from './1763946000000-sealed-kyc-customer';
import { SealedRoundPersonalData1763948000000 } from './1763948000000-sealed-round-personal-data';
import { SealedKycUploadNames1763950000000 } from './1763950000000-sealed-kyc-upload-names';
import { DsrRetention1763942000000 } from './1763942000000-dsr-retention';

export const migrations = [
  InitialSchema1763820000000,
  SigningRequests1763830000000,
  AuditChain1763840000000,
  SealEvidence1763850000000,
  FoldersAndScopedKeys1763860000000,
  UsersAndSessions1763870000000,
  RoundReadModel1763880000000,
  RateLimits1763890000000,
  SupportRole1763900000000,
  LanguagesAndTimeZones1763905000000,
  KeyedAuditChains1763910000000,
  OrganizationSeals1763914000000,
  ArchiveRenewal1763916000000,
  OrganizationSealOwnership1763918000000,
  Webhooks1763920000000,
  ActivityFailures1763922000000,
  EidIdentification1763924000000,
  KycCases1763926000000,
  RecordKeys1763928000000,
  DeletionReceipts1763929000000,
  Retention1763930000000,
  DataSubjectRequests1763932000000,
  BlobBackup1763934000000,
  OrganizationExport1763936000000,
  DsrEid1763938000000,
  SealedAuditPersonalData1763940000000,
  DsrRetention1763942000000,
  SealedEidEvidence1763944000000,
  SealedKycCustomer1763946000000,
  SealedRoundPersonalData1763948000000,
  SealedKycUploadNames1763950000000,
];
