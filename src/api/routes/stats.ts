/** Counts, provider panels and performance by type, for reports. */
import type { FastifyInstance } from 'fastify';
import { ok, read, type RouteContext } from '../context';
import { providerPanels } from '../stats';

export function registerStatsRoutes(app: FastifyInstance, { opts }: RouteContext): void {
  const { service, database } = opts;
  app.get('/api/stats', read, async () => {
    const [counts, providers, performance] = await Promise.all([
      service.counts(),
      providerPanels(database.pool),
      database.pool.query('SELECT * FROM queue_performance_by_type'),
    ]);
    return ok({ ...counts, providers, performanceByType: performance.rows });
  });
}
