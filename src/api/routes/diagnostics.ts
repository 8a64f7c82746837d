import { z } from 'zod';
import type { TemporalTarget } from '../../adapters/temporal-connection';
import { acknowledgeProbe, getProbe, startProbe } from '../../diagnostics/probes';
import { isoDuration } from '../../durations';
import { defineRoute } from '../route';

const probeBody = z.object({
  id: z.uuid(),
  status: z.enum(['waiting', 'acknowledged', 'timed_out']),
  startedAt: z.iso.datetime(),
  expiresAt: z.iso.datetime(),
  acknowledgedAt: z.iso.datetime().optional(),
  recordedAt: z.iso.datetime().optional().describe('When the outcome was stored by the worker'),
});

const probeParams = z.object({ probeId: z.uuid('must be a probe id') });

function present(state: Awaited<ReturnType<typeof getProbe>>): z.infer<typeof probeBody> {
  const { probeId, organizationId: _organizationId, ...rest } = state;
  return { id: probeId, ...rest };
}

export function diagnosticsRoutes(temporal: TemporalTarget) {
  return [
    defineRoute({
      method: 'post',
      path: '/v1/diagnostics/probes',
      summary: 'Start a probe: a round trip through API, Temporal, worker and database',
      tag: 'Diagnostics',
      auth: 'principal',
      body: z
        .strictObject({
          timeout: isoDuration({ minMs: 1000, maxMs: 7 * 86_400_000 })
            .optional()
            .describe('How long the probe waits for an acknowledgement (ISO 8601, default PT5M)'),
        })
        .default({}),
      responses: { 201: { description: 'The probe was started', schema: probeBody } },
      handler: async ({ body, principal }) => {
        const state = await startProbe(temporal, {
          organizationId: principal!.organizationId,
          timeoutMs: body.timeout ?? 5 * 60_000,
        });
        return { status: 201, body: present(state) };
      },
    }),
    defineRoute({
      method: 'get',
      path: '/v1/diagnostics/probes/:probeId',
      summary: "A probe's live state, read from its workflow",
      tag: 'Diagnostics',
      auth: 'principal',
      params: probeParams,
      responses: { 200: { description: 'The probe', schema: probeBody } },
      errors: [404],
      handler: async ({ params, principal }) => ({
        status: 200,
        body: present(await getProbe(temporal, principal!.organizationId, params.probeId)),
      }),
    }),
    defineRoute({
      method: 'post',
      path: '/v1/diagnostics/probes/:probeId/acknowledge',
      summary: 'Acknowledge a waiting probe (a Temporal Update; repeating it is harmless)',
      tag: 'Diagnostics',
      auth: 'principal',
      params: probeParams,
      responses: { 200: { description: 'The probe after acknowledgement', schema: probeBody } },
      errors: [404, 409],
      handler: async ({ params, principal }) => ({
        status: 200,
        body: present(await acknowledgeProbe(temporal, principal!.organizationId, params.probeId)),
      }),
    }),
  ];
}
