/**
 * TypeORM entities. Every column names its type explicitly: the dev runner (tsx/esbuild) emits no decorator
 * type metadata. The schema itself is owned by the SQL migrations in /migrations, never synchronised.
 */
import type { IdentificationMethod } from '../contract/identification';
import 'reflect-metadata';
import { Column, Entity, PrimaryColumn } from 'typeorm';
import type { Permission } from '../accounts/access';
import type { Locale } from '../i18n/locales';
import type { MemberRole } from '../contract/members';

export type { MemberRole };

@Entity({ name: 'organizations' })
export class Organization {
  @PrimaryColumn({ type: 'uuid' }) id!: string;
  @Column({ type: 'text' }) name!: string;
  @Column({ name: 'created_at', type: 'timestamptz' }) createdAt!: Date;
  /** The language of signers who were given none, and of what members receive (en | sv | fi). */
  @Column({ name: 'default_locale', type: 'text' }) defaultLocale!: Locale;
  /** IANA name (e.g. Europe/Helsinki): the zone of every date in emails and on the sealed audit page. */
  @Column({ name: 'time_zone', type: 'text' }) timeZone!: string;
  /** The name of its public privacy page (`/privacy/<slug>`); made from the name at creation by the database. */
  @Column({ type: 'text', insert: false, update: false }) slug!: string;
}

/** A node of an organisation's folder tree; each organisation has one default folder ('Shared'). */
@Entity({ name: 'folders' })
export class Folder {
  @PrimaryColumn({ type: 'uuid' }) id!: string;
  @Column({ name: 'organization_id', type: 'uuid' }) organizationId!: string;
  @Column({ name: 'parent_id', type: 'uuid', nullable: true }) parentId!: string | null;
  @Column({ type: 'text' }) name!: string;
  @Column({ name: 'is_default', type: 'boolean' }) isDefault!: boolean;
  @Column({ name: 'created_at', type: 'timestamptz' }) createdAt!: Date;
}

@Entity({ name: 'users' })
export class User {
  @PrimaryColumn({ type: 'uuid' }) id!: string;
  @Column({ type: 'text' }) email!: string;
  @Column({ type: 'text', nullable: true }) name!: string | null;
  /** E.164; where new-device codes go (email when absent). */
  @Column({ type: 'text', nullable: true }) phone!: string | null;
  /** argon2id PHC string; null for users who have not set a password (invited, or Google/Microsoft only). */
  @Column({ name: 'password_hash', type: 'text', nullable: true }) passwordHash!: string | null;
  @Column({ name: 'password_changed_at', type: 'timestamptz', nullable: true }) passwordChangedAt!: Date | null;
  @Column({ name: 'created_at', type: 'timestamptz' }) createdAt!: Date;
}

@Entity({ name: 'memberships' })
export class Membership {
  @PrimaryColumn({ name: 'organization_id', type: 'uuid' }) organizationId!: string;
  @PrimaryColumn({ name: 'user_id', type: 'uuid' }) userId!: string;
  @Column({ type: 'text' }) role!: MemberRole;
  @Column({ name: 'created_at', type: 'timestamptz' }) createdAt!: Date;
}

export type GrantPermission = 'view' | 'send' | 'manage';

@Entity({ name: 'folder_grants' })
export class FolderGrant {
  @PrimaryColumn({ name: 'folder_id', type: 'uuid' }) folderId!: string;
  @PrimaryColumn({ name: 'user_id', type: 'uuid' }) userId!: string;
  @Column({ name: 'organization_id', type: 'uuid' }) organizationId!: string;
  @Column({ type: 'text' }) permission!: GrantPermission;
  @Column({ name: 'created_at', type: 'timestamptz' }) createdAt!: Date;
}

@Entity({ name: 'user_sessions' })
export class UserSession {
  @PrimaryColumn({ type: 'uuid' }) id!: string;
  @Column({ name: 'token_hash', type: 'bytea' }) tokenHash!: Buffer;
  @Column({ name: 'user_id', type: 'uuid' }) userId!: string;
  @Column({ name: 'organization_id', type: 'uuid' }) organizationId!: string;
  @Column({ name: 'csrf_token', type: 'text' }) csrfToken!: string;
  /** How the user proved who they are: `password`, `oidc:google`, `oidc:microsoft`. */
  @Column({ type: 'text' }) method!: string;
  @Column({ name: 'created_at', type: 'timestamptz' }) createdAt!: Date;
  @Column({ name: 'last_seen_at', type: 'timestamptz' }) lastSeenAt!: Date;
  @Column({ name: 'expires_at', type: 'timestamptz' }) expiresAt!: Date;
  @Column({ name: 'revoked_at', type: 'timestamptz', nullable: true }) revokedAt!: Date | null;
}

@Entity({ name: 'login_challenges' })
export class LoginChallenge {
  @PrimaryColumn({ type: 'uuid' }) id!: string;
  @Column({ name: 'user_id', type: 'uuid' }) userId!: string;
  @Column({ name: 'organization_id', type: 'uuid' }) organizationId!: string;
  @Column({ name: 'code_hash', type: 'bytea' }) codeHash!: Buffer;
  @Column({ type: 'text' }) channel!: 'sms' | 'email';
  @Column({ type: 'text' }) method!: string;
  @Column({ name: 'created_at', type: 'timestamptz' }) createdAt!: Date;
  @Column({ name: 'expires_at', type: 'timestamptz' }) expiresAt!: Date;
  @Column({ name: 'used_at', type: 'timestamptz', nullable: true }) usedAt!: Date | null;
  @Column({ name: 'failed_attempts', type: 'integer' }) failedAttempts!: number;
}

@Entity({ name: 'password_tokens' })
export class PasswordToken {
  @PrimaryColumn({ type: 'uuid' }) id!: string;
  @Column({ name: 'token_hash', type: 'bytea' }) tokenHash!: Buffer;
  @Column({ name: 'user_id', type: 'uuid' }) userId!: string;
  @Column({ name: 'organization_id', type: 'uuid' }) organizationId!: string;
  @Column({ type: 'text' }) purpose!: 'invitation' | 'reset';
  @Column({ name: 'created_at', type: 'timestamptz' }) createdAt!: Date;
  @Column({ name: 'expires_at', type: 'timestamptz' }) expiresAt!: Date;
  @Column({ name: 'used_at', type: 'timestamptz', nullable: true }) usedAt!: Date | null;
}

@Entity({ name: 'user_identities' })
export class UserIdentity {
  @PrimaryColumn({ type: 'text' }) provider!: string;
  @PrimaryColumn({ type: 'text' }) subject!: string;
  @Column({ name: 'user_id', type: 'uuid' }) userId!: string;
  @Column({ name: 'created_at', type: 'timestamptz' }) createdAt!: Date;
}

@Entity({ name: 'organization_audit_events' })
export class OrganizationAuditEvent {
  @PrimaryColumn({ name: 'organization_id', type: 'uuid' }) organizationId!: string;
  @PrimaryColumn({ type: 'integer' }) sequence!: number;
  @Column({ type: 'text' }) type!: string;
  @Column({ type: 'text' }) actor!: string;
  @Column({ type: 'text', nullable: true }) ip!: string | null;
  @Column({ name: 'user_agent', type: 'text', nullable: true }) userAgent!: string | null;
  @Column({ type: 'jsonb', nullable: true }) detail!: Record<string, unknown> | null;
  @Column({ name: 'occurred_at', type: 'timestamptz' }) occurredAt!: Date;
  @Column({ name: 'prev_hash', type: 'text', nullable: true }) prevHash!: string | null;
  @Column({ type: 'text' }) hash!: string;
  /** 1: plain SHA-256 (only rows left from before the key), 2: keyed (src/signing/audit-chain.ts). */
  @Column({ name: 'chain_format', type: 'smallint' }) chainFormat!: number;
  /** The plain hash a re-anchored row had before the key. */
  @Column({ name: 'legacy_hash', type: 'text', nullable: true }) legacyHash!: string | null;
}

@Entity({ name: 'api_keys' })
export class ApiKey {
  @PrimaryColumn({ type: 'uuid' }) id!: string;
  @Column({ name: 'organization_id', type: 'uuid' }) organizationId!: string;
  @Column({ type: 'text' }) name!: string;
  /** The public part of the key, shown in listings and used to find the row. */
  @Column({ type: 'text' }) prefix!: string;
  /** SHA-256 of the whole key; the key itself is never stored. */
  @Column({ name: 'secret_hash', type: 'bytea' }) secretHash!: Buffer;
  @Column({ name: 'created_at', type: 'timestamptz' }) createdAt!: Date;
  @Column({ name: 'last_used_at', type: 'timestamptz', nullable: true }) lastUsedAt!: Date | null;
  @Column({ name: 'revoked_at', type: 'timestamptz', nullable: true }) revokedAt!: Date | null;
  /** Null: the whole organisation; else this folder and its subfolders. */
  @Column({ name: 'folder_id', type: 'uuid', nullable: true }) folderId!: string | null;
  @Column({ type: 'text', array: true }) permissions!: Permission[];
}

@Entity({ name: 'probe_results' })
export class ProbeResult {
  @PrimaryColumn({ name: 'probe_id', type: 'uuid' }) probeId!: string;
  @Column({ name: 'organization_id', type: 'uuid' }) organizationId!: string;
  @Column({ type: 'text' }) outcome!: 'acknowledged' | 'timed_out';
  @Column({ name: 'completed_at', type: 'timestamptz' }) completedAt!: Date;
}

export type RequestStatus = 'pending' | 'completed' | 'declined' | 'expired' | 'cancelled' | 'failed';
export type Routing = 'parallel' | 'sequential';
export type PinDelivery = 'sms' | 'sender';

/** bigint columns come back from pg as strings; these hold millisecond spans well inside 2^53. */
const bigintAsNumber = { to: (value: number) => value, from: (value: string | null) => (value === null ? null : Number(value)) };

@Entity({ name: 'signing_requests' })
export class SigningRequest {
  @PrimaryColumn({ type: 'uuid' }) id!: string;
  @Column({ name: 'organization_id', type: 'uuid' }) organizationId!: string;
  @Column({ name: 'folder_id', type: 'uuid' }) folderId!: string;
  @Column({ type: 'text' }) title!: string;
  @Column({ type: 'text', nullable: true }) message!: string | null;
  @Column({ name: 'document_filename', type: 'text' }) documentFilename!: string;
  /** Public, printed on every sealed page; used to verify a document. */
  @Column({ name: 'document_code', type: 'text' }) documentCode!: string;
  @Column({ name: 'original_blob_key', type: 'text' }) originalBlobKey!: string;
  @Column({ name: 'original_sha256', type: 'text' }) originalSha256!: string;
  @Column({ name: 'page_count', type: 'integer' }) pageCount!: number;
  @Column({ type: 'text' }) routing!: Routing;
  @Column({ name: 'reminder_first_after_ms', type: 'bigint', transformer: bigintAsNumber }) reminderFirstAfterMs!: number;
  @Column({ name: 'reminder_every_ms', type: 'bigint', transformer: bigintAsNumber }) reminderEveryMs!: number;
  @Column({ name: 'reminder_max', type: 'integer' }) reminderMax!: number;
  @Column({ type: 'text' }) status!: RequestStatus;
  @Column({ name: 'created_at', type: 'timestamptz' }) createdAt!: Date;
  @Column({ name: 'expires_at', type: 'timestamptz' }) expiresAt!: Date;
  @Column({ name: 'completed_at', type: 'timestamptz', nullable: true }) completedAt!: Date | null;
  @Column({ name: 'sealed_at', type: 'timestamptz', nullable: true }) sealedAt!: Date | null;
  @Column({ name: 'sealed_blob_key', type: 'text', nullable: true }) sealedBlobKey!: string | null;
  @Column({ name: 'sealed_sha256', type: 'text', nullable: true }) sealedSha256!: string | null;
  /** The original's length: a file sealed by appending begins with exactly these bytes of it. Null before issue 11. */
  @Column({ name: 'original_byte_length', type: 'integer', nullable: true }) originalByteLength!: number | null;
  /** True when the seal was appended to the original (so the original is the sealed file's prefix). */
  @Column({ name: 'sealed_by_appending', type: 'boolean', default: false }) sealedByAppending!: boolean;
  /** The separately sealed audit trail of a document that could take only a signature. */
  @Column({ name: 'evidence_sha256', type: 'text', nullable: true }) evidenceSha256!: string | null;
  /** PAdES B-LTA: when the certificate of the archive's last document timestamp expires (renew before then). */
  @Column({ name: 'archive_timestamp_expires_at', type: 'timestamptz', nullable: true }) archiveTimestampExpiresAt!: Date | null;
  /** The last archive renewal attempt, successful or not: one a day per archive. */
  @Column({ name: 'archive_renewal_attempted_at', type: 'timestamptz', nullable: true }) archiveRenewalAttemptedAt!: Date | null;
  /** The audit chain head printed on the sealed document's audit page (the last event's hash at sealing). */
  @Column({ name: 'audit_chain_head', type: 'text', nullable: true }) auditChainHead!: string | null;
  /** Scheduled reminder rounds sent so far (read model, src/signing/round-read-model.ts). */
  @Column({ name: 'reminders_sent', type: 'integer' }) remindersSent!: number;
  /** The member who created the request (its emails name them); null when an API key created it. */
  @Column({ name: 'created_by_user_id', type: 'uuid', nullable: true }) createdByUserId!: string | null;
  /** Set when the request was shredded (src/privacy/shred-record.ts): the row is a tombstone, its personal columns empty. */
  @Column({ name: 'deleted_at', type: 'timestamptz', nullable: true }) deletedAt!: Date | null;
  @Column({ name: 'deletion_receipt_id', type: 'uuid', nullable: true }) deletionReceiptId!: string | null;
  /** Title, message and file name under the request's key (src/signing/round-personal-data.ts opens them on load). */
  @Column({ name: 'text_sealed', type: 'bytea', nullable: true }) textSealed!: Buffer | null;
}

export type SignerStatus = 'waiting' | 'invited' | 'opened' | 'signed' | 'declined';

@Entity({ name: 'signers' })
export class Signer {
  @PrimaryColumn({ type: 'uuid' }) id!: string;
  @Column({ name: 'request_id', type: 'uuid' }) requestId!: string;
  @Column({ type: 'integer' }) position!: number;
  @Column({ type: 'text' }) name!: string;
  @Column({ type: 'text' }) email!: string;
  @Column({ type: 'text', nullable: true }) phone!: string | null;
  @Column({ name: 'pin_delivery', type: 'text' }) pinDelivery!: PinDelivery;
  /** The language of this signer's emails, SMS and signing page. */
  @Column({ type: 'text' }) locale!: Locale;
  @Column({ name: 'link_version', type: 'integer' }) linkVersion!: number;
  @Column({ name: 'pin_version', type: 'integer' }) pinVersion!: number;
  @Column({ name: 'failed_pin_attempts', type: 'integer' }) failedPinAttempts!: number;
  @Column({ name: 'locked_at', type: 'timestamptz', nullable: true }) lockedAt!: Date | null;
  // Progress, the read model kept current as each event is recorded (src/signing/round-read-model.ts).
  @Column({ type: 'text' }) status!: SignerStatus;
  @Column({ name: 'invited_at', type: 'timestamptz', nullable: true }) invitedAt!: Date | null;
  @Column({ name: 'opened_at', type: 'timestamptz', nullable: true }) openedAt!: Date | null;
  @Column({ name: 'signed_at', type: 'timestamptz', nullable: true }) signedAt!: Date | null;
  @Column({ name: 'declined_at', type: 'timestamptz', nullable: true }) declinedAt!: Date | null;
  @Column({ name: 'reminders_sent', type: 'integer' }) remindersSent!: number;
  /** How the signer proves who they are (src/contract/identification.ts). */
  @Column({ name: 'identification_method', type: 'text' }) identificationMethod!: IdentificationMethod;
  /** The eID asked for (`acr_values`), if one was. */
  @Column({ name: 'eid_acr', type: 'text', nullable: true }) eidAcr!: string | null;
  /** Encrypted (src/privacy/encrypted-field.ts); read only to compare with an eID's. */
  @Column({ name: 'expected_national_id', type: 'bytea', nullable: true }) expectedNationalId!: Buffer | null;
  /** The eID identification accepted for this signer (eid_identifications). */
  @Column({ name: 'identification_id', type: 'uuid', nullable: true }) identificationId!: string | null;
  /** Name, email and phone under the request's key (src/signing/round-personal-data.ts opens them on load). */
  @Column({ name: 'contact_sealed', type: 'bytea', nullable: true }) contactSealed!: Buffer | null;
}

/** Append-only: the database refuses UPDATE, DELETE and TRUNCATE of these rows. */
@Entity({ name: 'audit_events' })
export class AuditEvent {
  @PrimaryColumn({ type: 'bigint', transformer: bigintAsNumber }) id!: number;
  @Column({ name: 'request_id', type: 'uuid' }) requestId!: string;
  /** Unique per request: recording the same event twice (an activity retry) keeps one row. */
  @Column({ name: 'event_key', type: 'text' }) eventKey!: string;
  @Column({ type: 'text' }) type!: string;
  @Column({ name: 'signer_id', type: 'uuid', nullable: true }) signerId!: string | null;
  @Column({ type: 'text' }) actor!: string;
  @Column({ type: 'text', nullable: true }) channel!: string | null;
  @Column({ type: 'text', nullable: true }) ip!: string | null;
  @Column({ name: 'user_agent', type: 'text', nullable: true }) userAgent!: string | null;
  @Column({ type: 'jsonb', nullable: true }) detail!: Record<string, unknown> | null;
  @Column({ name: 'occurred_at', type: 'timestamptz' }) occurredAt!: Date;
  /** Position in the request's hash chain, from 1 (src/signing/audit-chain.ts). */
  @Column({ type: 'integer' }) sequence!: number;
  /** The previous event's hash; null for the first event. */
  @Column({ name: 'prev_hash', type: 'text', nullable: true }) prevHash!: string | null;
  /** Hex HMAC-SHA-256 under the chain key over prevHash and this event's recorded fields. */
  @Column({ type: 'text' }) hash!: string;
  /** 1: plain SHA-256 (only rows left from before the key), 2: keyed (src/signing/audit-chain.ts). */
  @Column({ name: 'chain_format', type: 'smallint' }) chainFormat!: number;
  /** The plain SHA-256 hash a re-anchored row had before the key (a seal made before then printed one of these). */
  @Column({ name: 'legacy_hash', type: 'text', nullable: true }) legacyHash!: string | null;
  /**
   * When the row's personal columns were erased (its request shredded): its hash can no longer be recomputed.
   * Not a mapped column: `readAuditTrail` fills it, so the entity also reads a schema from before the erase.
   */
  erasedAt?: Date | null;
}

/** The hash of a sealed file that an archive renewal replaced: a copy of it still verifies as authentic. */
@Entity({ name: 'sealed_document_versions' })
export class SealedDocumentVersion {
  @PrimaryColumn({ type: 'text' }) sha256!: string;
  @Column({ name: 'request_id', type: 'uuid' }) requestId!: string;
  /** Which file it was: the sealed document, or its separately sealed evidence. */
  @Column({ type: 'text' }) kind!: 'sealed' | 'evidence';
  @Column({ name: 'replaced_at', type: 'timestamptz' }) replacedAt!: Date;
}

export const entities = [
  Organization,
  Folder,
  User,
  Membership,
  FolderGrant,
  UserSession,
  LoginChallenge,
  PasswordToken,
  UserIdentity,
  OrganizationAuditEvent,
  ApiKey,
  ProbeResult,
  SigningRequest,
  Signer,
  AuditEvent,
  SealedDocumentVersion,
];
