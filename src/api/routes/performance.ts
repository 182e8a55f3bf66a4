/** How each published video does (`reelflow performance`): post_metrics through the content_performance view. */
import type { FastifyInstance } from 'fastify';
import { DEFAULT_PERFORMANCE_SINCE_MS, readPerformance } from '../../services/post-metrics';
import { parseInput, performanceQuerySchema } from '../../validation';
import { ok, read, type RouteContext } from '../context';

export function registerPerformanceRoutes(app: FastifyInstance, { opts }: RouteContext): void {
  app.get('/api/performance', read, async (req) => {
    const filter = parseInput(performanceQuerySchema, req.query, 'query');
    const since = filter.since ?? new Date(Date.now() - DEFAULT_PERFORMANCE_SINCE_MS);
    const readWaitSeconds = opts.env.REELFLOW_METRICS_READ_WAIT_SECONDS;
    return ok(await readPerformance(opts.database.pool, { ...filter, since }, new Date(), readWaitSeconds && readWaitSeconds * 1_000));
  });
}
