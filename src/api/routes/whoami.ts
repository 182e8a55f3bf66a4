/** Who the token is, and where the Temporal Web UI lives (the dashboard's links). */
import type { FastifyInstance } from 'fastify';
import { ok, read, type RouteContext } from '../context';
import { temporalWorkflowUrlTemplate } from '../../shared/temporal-ui';

export function registerWhoamiRoutes(app: FastifyInstance, ctx: RouteContext): void {
  app.get('/api/whoami', read, async (req) =>
    ok({
      ...req.principal!,
      temporalUiUrl: ctx.uiBase,
      namespace: ctx.opts.env.TEMPORAL_NAMESPACE,
      workflowUrlTemplate: temporalWorkflowUrlTemplate({ uiUrl: ctx.uiBase, namespace: ctx.opts.env.TEMPORAL_NAMESPACE }),
    }),
  );
}
