/** Live workers per task queue, from Temporal's pollers. */
import type { FastifyInstance } from 'fastify';
import { ok, read, type RouteContext } from '../context';
import { ApiError } from '../../shared/errors';

export function registerWorkerRoutes(app: FastifyInstance, { opts }: RouteContext): void {
  app.get('/api/workers', read, async () => {
    if (!opts.workers) throw new ApiError(503, 'this server does not know the Temporal server; start it with `npm run api`');
    return ok(await opts.workers());
  });
}
