import { z } from 'zod';
import type { DataSource } from 'typeorm';
import type { StuckRoundsConfig } from '../../config';
import type { StuckRoundsPage } from '../../contract/stuck-rounds';
import { listStuckRounds, stuckReasonCodes } from '../../operations/stuck-rounds';
import { defineRoute } from '../route';

const stuckReasonBody = z.object({
  code: z
    .enum(stuckReasonCodes)
    .describe(
      '`past_deadline`: open past its deadline (plus a grace period); `seal_retrying`: sealing failed and is being retried; ' +
        '`activity_failing`: another step keeps failing; `no_progress`: a step the round takes by itself (the seal, an invitation, a scheduled reminder) is overdue',
    ),
  since: z.iso.datetime().describe('Since when the condition holds (the deadline, the first failure, when the step fell due)'),
  activity: z.string().nullable().describe('The failing step (activity name), for `seal_retrying` and `activity_failing`'),
  attempts: z.number().int().nullable().describe('The attempt that failed last, for `seal_retrying` and `activity_failing`'),
  lastError: z.string().nullable().describe("The last failure's kind: an error type or code, never its message"),
});

// Typed against the contract the console reads, so the two cannot drift apart.
const stuckRoundsPageBody: z.ZodType<StuckRoundsPage> = z.object({
  items: z.array(
    z.object({
      requestId: z.uuid(),
      title: z.string(),
      status: z.string(),
      folderId: z.uuid(),
      createdAt: z.iso.datetime(),
      expiresAt: z.iso.datetime().nullable(),
      lastEventAt: z.iso.datetime().nullable().describe("The audit trail's latest event"),
      reasons: z.array(stuckReasonBody),
    }),
  ),
});

/**
 * Rounds that need a person (issue 12 §3, R17), for operators and support staff: `view` is enough, and the
 * answer shows no more of a round than the request list and its audit trail do.
 */
export function stuckRoundRoutes(dataSource: DataSource, rules: StuckRoundsConfig) {
  return [
    defineRoute({
      method: 'get',
      path: '/v1/stuck-rounds',
      permission: 'view',
      summary:
        'Open signing rounds that need a person (in the caller\'s organisation and folders), longest stuck first: past their deadline, ' +
        'sealing or another step failing repeatedly, or a step overdue',
      tag: 'Operations',
      auth: 'principal',
      query: z.object({ limit: z.coerce.number().int().min(1).max(500).default(100) }),
      responses: { 200: { description: 'The stuck rounds, each with every reason it is stuck', schema: stuckRoundsPageBody } },
      handler: async ({ query, principal }) => ({
        status: 200,
        body: await listStuckRounds(dataSource, principal!, rules, { limit: query.limit }),
      }),
    }),
  ];
}
