/** Unauthenticated: health, the OpenAPI document. */
import type { FastifyInstance } from 'fastify';
import { ok } from '../context';
import { openApiDocument } from '../openapi';

export function registerPublicRoutes(app: FastifyInstance): void {
  app.get('/health', async () => ok({ status: 'up' }));
  app.get('/openapi.json', async () => openApiDocument);
}
