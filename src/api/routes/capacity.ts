/** Free slots, waiting and planned jobs per provider. */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { parseInput, providerSchema } from '../../validation';
import { ok, read, type RouteContext } from '../context';

const capacityQuery = z.object({ provider: providerSchema.optional() }).strict();

export function registerCapacityRoutes(app: FastifyInstance, { opts }: RouteContext): void {
  app.get('/api/capacity', read, async (req) => {
    const q = parseInput(capacityQuery, req.query, 'query');
    return ok(await opts.service.capacity(q.provider));
  });
}
