/**
 * Cancel and reprioritise act on the recommendation's workflow; the service
 * accepts a recommendation, job or workflow id, so both URL families
 * (/api/recommendations/:id/…, /api/jobs/:id/…) share these handlers.
 */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { recommendationWorkflowId } from '../../shared/workflow-ids';
import { parseInput, prioritySchema } from '../../validation';
import { ok, operator, type RouteContext } from '../context';

export const idParams = z.object({ id: z.string().min(1) });
// An empty POST (no body at all) means "no options".
const cancelBody = z
  .object({ reason: z.string().trim().min(1, 'must not be empty').max(500).optional() })
  .strict()
  .default({});
const priorityBody = z.object({ priority: prioritySchema }).strict();

export function registerWorkflowActions(app: FastifyInstance, { opts }: RouteContext, kind: 'recommendation' | 'job'): void {
  const { service } = opts;
  app.post(`/api/${kind}s/:id/cancel`, operator(`${kind}.cancel`), async (req, reply) => {
    const { id } = idParams.parse(req.params);
    const body = parseInput(cancelBody, req.body, 'body');
    const rec = await service.cancel(id, body.reason);
    req.call = {
      target: id,
      workflowId: rec.workflowId ?? undefined,
      ...(kind === 'job' ? { jobId: id } : {}),
      detail: { recommendationId: rec.id, reason: body.reason },
    };
    return reply.status(202).send(ok({ recommendationId: rec.id, workflowId: rec.workflowId, status: 'cancellation requested' }));
  });

  app.post(`/api/${kind}s/:id/priority`, operator(`${kind}.reprioritise`), async (req) => {
    const { id } = idParams.parse(req.params);
    const body = parseInput(priorityBody, req.body, 'body');
    const state = await service.reprioritise(id, body.priority);
    req.call = {
      target: id,
      workflowId: recommendationWorkflowId(state.recommendationId),
      ...(kind === 'job' ? { jobId: id } : {}),
      detail: { recommendationId: state.recommendationId, priority: body.priority },
    };
    return ok(state);
  });
}
