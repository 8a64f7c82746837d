/**
 * Retention policies (R13): how long ended records are kept before the daily sweep shreds them, and how long
 * before that the organisation's owners and administrators are told. A policy is set per organisation and may
 * be overridden per folder; each period resolves on its own: folder override > organisation > default.
 *
 * The defaults (documented in docs/ARCHITECTURE.md "Retention"):
 * - completed (sealed) requests 10 years: contract claims can surface for up to 10 years (the general
 *   limitation periods in Sweden and Finland; the long stop in Finland is 10 years);
 * - declined, expired or cancelled requests 90 days, failed requests 90 days: nothing was agreed, and a
 *   quarter is long enough for a sender to ask what happened;
 * - KYC cases 5 years after the case ends (approved, rejected, expired, cancelled or failed): the AML
 *   directive's record keeping (Art. 40 of (EU) 2015/849) runs 5 years from the end of the relationship;
 * - data-subject requests 3 years after they end (completed, rejected or withdrawn): to prove the organisation
 *   answered (Art. 5(2) GDPR accountability) for as long as a complaint or claim about the answer is likely
 *   (3 years is Finland's general limitation period and well past a supervisory complaint's usual course);
 * - notice 14 days, as DocuSign gives before a purge.
 */
import type { DataSource, EntityManager } from 'typeorm';
import { queryReturning } from '../database/data-source';

export const retentionPeriods = ['completedDays', 'unfinishedDays', 'failedDays', 'kycDays', 'dsrDays'] as const;
export type RetentionPeriod = (typeof retentionPeriods)[number];
export type RetentionSetting = RetentionPeriod | 'noticeDays';
export const retentionSettings: readonly RetentionSetting[] = [...retentionPeriods, 'noticeDays'];

export type RetentionValues = Record<RetentionSetting, number>;
/** What one scope (organisation or folder) sets; null: not set there, so the next scope's value applies. */
export type RetentionOverrides = Record<RetentionSetting, number | null>;

export const defaultRetention: RetentionValues = {
  completedDays: 3653,
  unfinishedDays: 90,
  failedDays: 90,
  kycDays: 1826,
  dsrDays: 1096,
  noticeDays: 14,
};

/** Bounds (whole days), also checked by the migration. 100 years is as good as forever, and keeps dates sane. */
export const retentionBounds: Record<RetentionSetting, { min: number; max: number }> = {
  completedDays: { min: 1, max: 36500 },
  unfinishedDays: { min: 1, max: 36500 },
  failedDays: { min: 1, max: 36500 },
  kycDays: { min: 1, max: 36500 },
  dsrDays: { min: 1, max: 36500 },
  noticeDays: { min: 1, max: 365 },
};

export type PolicySource = 'default' | 'organization' | 'folder';

export interface ResolvedRetention {
  values: RetentionValues;
  /** Where each value came from. */
  sources: Record<RetentionSetting, PolicySource>;
}

const columns: Record<RetentionSetting, string> = {
  completedDays: 'completed_days',
  unfinishedDays: 'unfinished_days',
  failedDays: 'failed_days',
  kycDays: 'kyc_days',
  dsrDays: 'dsr_days',
  noticeDays: 'notice_days',
};

export const emptyOverrides = (): RetentionOverrides => ({ completedDays: null, unfinishedDays: null, failedDays: null, kycDays: null, dsrDays: null, noticeDays: null });

type Db = Pick<DataSource | EntityManager, 'query'>;

export function overridesOfRow(row: Record<string, unknown> | undefined): RetentionOverrides {
  const overrides = emptyOverrides();
  if (!row) return overrides;
  for (const setting of retentionSettings) {
    const value = row[columns[setting]];
    overrides[setting] = value === null || value === undefined ? null : Number(value);
  }
  return overrides;
}

export async function readOverrides(db: Db, organizationId: string, folderId: string | null): Promise<RetentionOverrides & { updatedAt: Date | null }> {
  const [row]: Array<Record<string, unknown>> = await db.query(
    `SELECT * FROM retention_policies WHERE organization_id = $1 AND folder_id IS NOT DISTINCT FROM $2`,
    [organizationId, folderId],
  );
  return { ...overridesOfRow(row), updatedAt: row ? (row.updated_at as Date) : null };
}

/** Folder override > organisation > default, per setting. */
export function resolveRetention(organization: RetentionOverrides, folder?: RetentionOverrides): ResolvedRetention {
  const values = { ...defaultRetention };
  const sources = Object.fromEntries(retentionSettings.map((setting) => [setting, 'default'])) as Record<RetentionSetting, PolicySource>;
  for (const setting of retentionSettings) {
    if (folder?.[setting] != null) {
      values[setting] = folder[setting]!;
      sources[setting] = 'folder';
    } else if (organization[setting] != null) {
      values[setting] = organization[setting]!;
      sources[setting] = 'organization';
    }
  }
  return { values, sources };
}

export async function resolveRetentionFor(db: Db, organizationId: string, folderId: string | null): Promise<ResolvedRetention> {
  const organization = await readOverrides(db, organizationId, null);
  const folder = folderId ? await readOverrides(db, organizationId, folderId) : undefined;
  return resolveRetention(organization, folder);
}

/** Saves a scope's overrides (all of them: an omitted one is not set there). */
export async function writeOverrides(db: Db, organizationId: string, folderId: string | null, overrides: RetentionOverrides, actor: string): Promise<void> {
  const params = [organizationId, folderId, ...retentionSettings.map((setting) => overrides[setting]), actor];
  await db.query(
    `INSERT INTO retention_policies (organization_id, folder_id, completed_days, unfinished_days, failed_days, kyc_days, dsr_days, notice_days, updated_by, updated_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, now())
     ON CONFLICT (organization_id, folder_id) DO UPDATE SET
       completed_days = EXCLUDED.completed_days, unfinished_days = EXCLUDED.unfinished_days, failed_days = EXCLUDED.failed_days,
       kyc_days = EXCLUDED.kyc_days, dsr_days = EXCLUDED.dsr_days, notice_days = EXCLUDED.notice_days, updated_by = EXCLUDED.updated_by, updated_at = now()`,
    params,
  );
}

export async function deleteOverrides(db: Db, organizationId: string, folderId: string): Promise<boolean> {
  const rows = await queryReturning(db, `DELETE FROM retention_policies WHERE organization_id = $1 AND folder_id = $2 RETURNING id`, [organizationId, folderId]);
  return rows.length > 0;
}

/** Which period applies to an ended record, by its kind and final status. */
export function periodFor(kind: 'signing_request' | 'kyc_case' | 'data_subject_request', status: string): RetentionPeriod | undefined {
  if (kind === 'data_subject_request') return ['completed', 'rejected', 'withdrawn'].includes(status) ? 'dsrDays' : undefined;
  if (kind === 'kyc_case') return ['approved', 'rejected', 'expired', 'cancelled', 'failed'].includes(status) ? 'kycDays' : undefined;
  switch (status) {
    case 'completed':
      return 'completedDays';
    case 'declined':
    case 'expired':
    case 'cancelled':
      return 'unfinishedDays';
    case 'failed':
      return 'failedDays';
    default:
      return undefined;
  }
}

const periodWords: Record<RetentionPeriod, string> = {
  completedDays: 'Completed requests',
  unfinishedDays: 'Declined, expired and cancelled requests',
  failedDays: 'Failed requests',
  kycDays: 'KYC cases',
  dsrDays: 'Data-subject requests',
};

const sourceWords: Record<PolicySource, string> = { default: 'default', organization: 'organisation policy', folder: 'folder policy' };

/**
 * The grounds recorded in a deletion receipt: the rule names the policy that set the period
 * (`retention:default`, `retention:organization:<id>`, `retention:folder:<id>`), the reason says it in words.
 */
export function retentionGrounds(
  period: RetentionPeriod,
  days: number,
  source: PolicySource,
  scope: { organizationId: string; folderId: string | null },
): { rule: string; reason: string } {
  const rule = source === 'default' ? 'retention:default' : source === 'organization' ? `retention:organization:${scope.organizationId}` : `retention:folder:${scope.folderId}`;
  const after = period === 'kycDays' ? ' after the case ends' : period === 'dsrDays' ? ' after they end' : '';
  return { rule, reason: `${periodWords[period]} are kept ${days} days${after} (${sourceWords[source]})` };
}

/** The SQL column of each setting in retention_policies. */
export const retentionColumn = columns;
