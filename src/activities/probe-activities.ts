import type { DataSource } from 'typeorm';

export interface RecordProbeOutcomeInput {
  probeId: string;
  organizationId: string;
  outcome: 'acknowledged' | 'timed_out';
}

/**
 * Keyed by probe id: a retry after a crash (or a replayed activity) finds the row already there and
 * returns the first recorded time, so the outcome is stored exactly once.
 */
export function probeActivities(deps: { dataSource: DataSource }) {
  return {
    async recordProbeOutcome(input: RecordProbeOutcomeInput): Promise<{ recordedAt: string }> {
      const rows: Array<{ completed_at: Date }> = await deps.dataSource.query(
        `INSERT INTO probe_results (probe_id, organization_id, outcome, completed_at)
         VALUES ($1, $2, $3, now())
         ON CONFLICT (probe_id) DO UPDATE SET probe_id = EXCLUDED.probe_id
         RETURNING completed_at`,
        [input.probeId, input.organizationId, input.outcome],
      );
      return { recordedAt: new Date(rows[0]!.completed_at).toISOString() };
    },
  };
}

export type ProbeActivities = ReturnType<typeof probeActivities>;
