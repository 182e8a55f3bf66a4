/** How each published video does (`reelflow performance`): post_metrics through the content_performance view. */
import type { FastifyInstance } from 'fastify';
import { readPerformance } from '../../services/post-metrics';
import { parseInput, performanceQuerySchema } from '../../validation';
import { ok, read, type RouteContext } from '../context';

/** What the dashboard's panel and the CLI show when no --since is given. */
const DEFAULT_SINCE_MS = 30 * 86_400_000;

export function registerPerformanceRoutes(app: FastifyInstance, { opts }: RouteContext): void {
  app.get('/api/performance', read, async (req) => {
    const filter = parseInput(performanceQuerySchema, req.query, 'query');
    return ok(await readPerformance(opts.database.pool, { ...filter, since: filter.since ?? new Date(Date.now() - DEFAULT_SINCE_MS) }));
  });
}
