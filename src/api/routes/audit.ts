/** The audit trail, newest first (operator role: it names who did what). */
import type { FastifyInstance } from 'fastify';
import { auditQuerySchema, parseInput } from '../../validation';
import { listAudit } from '../audit';
import { ok, type RouteContext } from '../context';

export function registerAuditRoutes(app: FastifyInstance, { opts }: RouteContext): void {
  app.get('/api/audit', { config: { role: 'operator' } }, async (req) => {
    const q = parseInput(auditQuerySchema, req.query, 'query');
    return ok(await listAudit(opts.database.db, q.limit));
  });
}
