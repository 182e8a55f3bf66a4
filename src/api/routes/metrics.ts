/** Prometheus' scrape target (read role: the figures say how busy the studio is). */
import type { FastifyInstance } from 'fastify';
import { read, type RouteContext } from '../context';

export function registerMetricsRoutes(app: FastifyInstance, { metrics }: RouteContext): void {
  app.get('/metrics', read, async (_req, reply) => {
    const text = await metrics.scrape();
    return reply.header('Content-Type', metrics.contentType).send(text);
  });
}
