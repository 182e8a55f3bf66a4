/** Recommendations: list, status, enqueue, start, approve, reject, republish, retry, cancel, reprioritise. */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { PUBLISH_PLATFORMS } from '../../config/providers';
import { recommendationWorkflowId } from '../../shared/workflow-ids';
import { listRecommendationsQuerySchema, parseInput } from '../../validation';
import { ok, operator, read, type RouteContext } from '../context';
import { idParams, registerWorkflowActions } from './workflow-actions';

// An empty POST (no body at all) means "no note".
const decisionBody = z
  .object({
    note: z.string().trim().min(1, 'must not be empty').max(2_000).optional(),
    stage: z.enum(['render', 'publish'], { errorMap: () => ({ message: 'must be one of render, publish' }) }).optional(),
    // The review the editor saw (waiting.id): a decision on one that another replaced is refused.
    reviewId: z.string().trim().min(1, 'must not be empty').max(100).optional(),
  })
  .strict()
  .default({});

// An empty POST retries the platforms whose posts failed; `post` records the post a failed one made on `platform`;
// `again` posts a second copy on a platform the idea is posted on.
const republishBody = z
  .object({
    platform: z.enum(PUBLISH_PLATFORMS, { errorMap: () => ({ message: `must be one of ${PUBLISH_PLATFORMS.join(', ')}` }) }).optional(),
    post: z.string().optional(),
    again: z.boolean().optional(),
  })
  .strict()
  .default({});

// An empty POST retries as it is; `task` adopts what a submit that died made at KIE, `resubmit` pays for a new one.
const retryBody = z.object({ task: z.string().optional(), resubmit: z.boolean().optional() }).strict().default({});

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

  // An editor's decision on what waits for approval; recorded by the workflow too (database and audit log).
  for (const decision of ['approve', 'reject'] as const) {
    app.post(`/api/recommendations/:id/${decision}`, operator(`recommendation.${decision}.request`), async (req) => {
      const { id } = idParams.parse(req.params);
      const body = parseInput(decisionBody, req.body, 'body');
      // What was asked, also on the row of a refused decision (a click on a review another replaced).
      const detail = { stage: body.stage, note: body.note, reviewId: body.reviewId };
      req.call = { detail };
      const state = await service.decide(id, decision, { by: req.principal!.name, ...body });
      // The workflow that took it: a republish's, when one waited (not the idea's own).
      req.call = { target: state.recommendationId, workflowId: state.workflowId, detail };
      return ok(state);
    });
  }

  // The archived video posted again, no new render: on one platform, or (no body) on those whose posts failed.
  app.post('/api/recommendations/:id/republish', operator('recommendation.republish'), async (req, reply) => {
    const { id } = idParams.parse(req.params);
    const body = parseInput(republishBody, req.body, 'body');
    const started = await service.republish(id, { by: req.principal!.name, ...body });
    const detail = {
      platforms: started.platforms,
      ...(started.adopted ? { adopted: started.adopted } : {}),
      ...(started.unchecked ? { unchecked: started.unchecked } : {}),
      ...(body.again ? { again: true } : {}),
    };
    req.call = { target: started.recommendationId, workflowId: started.workflowId, detail };
    return reply.status(202).send(ok({ ...started, links: { temporal: ctx.workflowUrl(started.workflowId) } }));
  });

  // A failed or expired idea made again by a new run of its workflow: what is done is kept, nothing is paid twice.
  app.post('/api/recommendations/:id/retry', operator('recommendation.retry'), async (req, reply) => {
    const { id } = idParams.parse(req.params);
    const body = parseInput(retryBody, req.body, 'body');
    const started = await service.retry(id, { by: req.principal!.name, ...body });
    req.call = {
      target: started.recommendationId,
      workflowId: started.workflowId,
      // How an adopted task matched its job: an 'unchecked' one was taken on this operator's word.
      detail: {
        runId: started.runId,
        task: body.task,
        resubmit: body.resubmit,
        matchedBy: started.steps.find((s) => s.matchedBy)?.matchedBy,
      },
    };
    return reply.status(202).send(ok({ ...started, links: { temporal: ctx.workflowUrl(started.workflowId) } }));
  });

  registerWorkflowActions(app, ctx, 'recommendation');
}
