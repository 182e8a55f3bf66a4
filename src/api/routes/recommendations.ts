/** Recommendations: list, status, enqueue, start, cancel, reprioritise. */
import type { FastifyInstance } from 'fastify';
import { recommendationWorkflowId } from '../../shared/workflow-ids';
import { listRecommendationsQuerySchema, parseInput } from '../../validation';
import { ok, operator, read, type RouteContext } from '../context';
import { idParams, registerWorkflowActions } from './workflow-actions';

export function registerRecommendationRoutes(app: FastifyInstance, ctx: RouteContext): void {
  const { service } = ctx.opts;
  app.get('/api/recommendations', read, async (req) => {
    const q = parseInput(listRecommendationsQuerySchema, req.query, 'query');
    return ok(await service.listRecommendations(q));
  });

  app.get('/api/recommendations/:id', read, async (req) => {
    const { id } = idParams.parse(req.params);
    const status = await service.status(id);
    return ok({ ...status, links: { temporal: ctx.workflowUrl(recommendationWorkflowId(status.recommendation.id)) } });
  });

  app.post('/api/recommendations', operator('recommendation.enqueue'), async (req, reply) => {
    const result = await service.enqueue(req.body);
    req.call = {
      target: result.recommendation.id,
      workflowId: result.workflowId,
      detail: { started: result.started, priority: result.recommendation.priority },
    };
    return reply.status(result.started ? 201 : 200).send(ok({ ...result, links: { temporal: ctx.workflowUrl(result.workflowId) } }));
  });

  app.post('/api/recommendations/:id/start', operator('recommendation.start'), async (req) => {
    const { id } = idParams.parse(req.params);
    const result = await service.start(id);
    req.call = { target: result.recommendation.id, workflowId: result.workflowId, detail: { started: result.started } };
    return ok({ ...result, links: { temporal: ctx.workflowUrl(result.workflowId) } });
  });

  registerWorkflowActions(app, ctx, 'recommendation');
}
