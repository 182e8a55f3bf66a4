/** Jobs: list, one job's detail and history, cancel and reprioritise (of its recommendation). */
import type { FastifyInstance } from 'fastify';
import { estimateFor, jobWait } from '../../gate/capacity';
import { NotFoundError } from '../../shared/errors';
import { listJobsQuerySchema, parseInput, uuidSchema } from '../../validation';
import { ok, read, type RouteContext } from '../context';
import { jobDetail } from '../stats';
import { idParams, registerWorkflowActions } from './workflow-actions';

export function registerJobRoutes(app: FastifyInstance, ctx: RouteContext): void {
  const { service, database } = ctx.opts;
  app.get('/api/jobs', read, async (req) => {
    const q = parseInput(listJobsQuerySchema, req.query, 'query');
    return ok(await service.listJobs(q));
  });

  app.get('/api/jobs/:id', read, async (req) => {
    const id = parseInput(uuidSchema, idParams.parse(req.params).id, 'id');
    const detail = await jobDetail(database.db, id);
    if (!detail) throw new NotFoundError(`no job with id ${id}`);
    req.call = { jobId: id, workflowId: detail.job.workflowId, provider: detail.job.apiProvider };
    const job = { ...detail.job, ...jobWait(await estimateFor(database.pool, [detail.job]), id) };
    return ok({ ...detail, job, links: { temporal: ctx.workflowUrl(detail.job.workflowId) } });
  });

  registerWorkflowActions(app, ctx, 'job');
}
