/**
 * The legal hold that applies to a record, as a JSON value in a read model's query: the record's own hold,
 * else the nearest held folder at or above its folder (then with `folderId`), else NULL.
 */
export const legalHoldJsonSql = (alias: string) => `
  CASE WHEN ${alias}.legal_hold_at IS NOT NULL
       THEN json_build_object('placedAt', ${alias}.legal_hold_at, 'reason', ${alias}.legal_hold_reason, 'placedBy', ${alias}.legal_hold_by)
       ELSE (WITH RECURSIVE up AS (
               SELECT f.id, f.parent_id, f.legal_hold_at, f.legal_hold_reason, f.legal_hold_by, 0 AS depth FROM folders f WHERE f.id = ${alias}.folder_id
               UNION ALL
               SELECT f.id, f.parent_id, f.legal_hold_at, f.legal_hold_reason, f.legal_hold_by, up.depth + 1 FROM folders f JOIN up ON f.id = up.parent_id)
             SELECT json_build_object('placedAt', up.legal_hold_at, 'reason', up.legal_hold_reason, 'placedBy', up.legal_hold_by, 'folderId', up.id)
               FROM up WHERE up.legal_hold_at IS NOT NULL ORDER BY up.depth LIMIT 1)
  END`;

export interface LegalHoldJson {
  placedAt: string;
  reason: string | null;
  placedBy: string | null;
  folderId?: string;
}

/** The read models' `legalHold`: times in ISO 8601 UTC. */
export function legalHoldView(hold: LegalHoldJson | null): { legalHold: { placedAt: string; reason: string; placedBy: string; folderId?: string } } | Record<string, never> {
  if (!hold) return {};
  return {
    legalHold: {
      placedAt: new Date(hold.placedAt).toISOString(),
      reason: hold.reason ?? '',
      placedBy: hold.placedBy ?? '',
      ...(hold.folderId ? { folderId: hold.folderId } : {}),
    },
  };
}

/** How many legal holds stand in the organisation: on records not deleted, and on folders. */
export async function countOrganizationLegalHolds(db: { query(sql: string, params?: unknown[]): Promise<any> }, organizationId: string): Promise<number> {
  const [row]: Array<{ held: number }> = await db.query(
    `SELECT (SELECT count(*)::int FROM signing_requests WHERE organization_id = $1 AND legal_hold_at IS NOT NULL AND deleted_at IS NULL)
          + (SELECT count(*)::int FROM kyc_cases WHERE organization_id = $1 AND legal_hold_at IS NOT NULL AND deleted_at IS NULL)
          + (SELECT count(*)::int FROM folders WHERE organization_id = $1 AND legal_hold_at IS NOT NULL) AS held`,
    [organizationId],
  );
  return row?.held ?? 0;
}
