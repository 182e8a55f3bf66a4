/**
 * The operators' HTTP API, the dashboard at /automation-calendar and
 * /metrics, in one Fastify server. This file only builds the app: hooks
 * (./hooks: auth, audit, rate limits), routes (./routes, one file per
 * resource) and the one error shape (./errors).
 */
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { createMetrics } from '../metrics/registry';
import { routeContext, type ApiServerOptions, type CallContext } from './context';
import { registerErrorHandlers } from './errors';
import { registerAuditHooks } from './hooks/audit';
import { registerAuth } from './hooks/auth';
import { registerRateLimits } from './hooks/rate-limit';
import { redactUrl } from './redact';
import { registerAuditRoutes } from './routes/audit';
import { registerCapacityRoutes } from './routes/capacity';
import { registerCompetitorRoutes } from './routes/competitors';
import { registerDashboardRoutes } from './routes/dashboard';
import { registerJobRoutes } from './routes/jobs';
import { registerKieHookRoutes } from './routes/kie-hooks';
import { registerMediaRoutes } from './routes/media';
import { registerMetricsRoutes } from './routes/metrics';
import { registerNameRoutes } from './routes/names';
import { registerPerformanceRoutes } from './routes/performance';
import { registerPublicRoutes } from './routes/public';
import { registerRecommendationRoutes } from './routes/recommendations';
import { registerScheduleRoutes } from './routes/schedules';
import { registerStatsRoutes } from './routes/stats';
import { registerWhoamiRoutes } from './routes/whoami';
import { registerWorkerRoutes } from './routes/workers';

export type { ApiServerOptions, ScheduleController } from './context';

export async function buildApiServer(opts: ApiServerOptions): Promise<FastifyInstance> {
  const { database } = opts;
  const metrics = opts.metrics ?? createMetrics({ database, workers: opts.workers });

  // Whatever logs a request logs it through this serializer: the KIE hook's URL carries its secret.
  const log = opts.log.child(
    { component: 'api' },
    { serializers: { req: (req: { method?: string; url?: string }) => ({ method: req.method, url: redactUrl(req.url ?? '') }) } },
  );
  const app = Fastify({
    loggerInstance: log as FastifyBaseLogger,
    // One line per call from the audit hooks' onResponse, with who and what, instead of Fastify's two.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: 256 * 1024,
    // Behind a TLS terminator the socket's peer is the proxy: the throttles need the client it forwards for.
    trustProxy: (_address: string, hop: number) => hop < (opts.trustedProxyHops ?? 0),
  });
  app.decorateRequest('principal', undefined);
  app.decorateRequest('call', null as unknown as CallContext);

  registerErrorHandlers(app);
  const throttle = await registerRateLimits(app, opts.rateLimits);
  registerAuth(app, database.db, throttle);
  registerAuditHooks(app, database.db);

  const ctx = routeContext(opts, metrics);
  registerPublicRoutes(app);
  registerDashboardRoutes(app, ctx);
  registerKieHookRoutes(app, ctx, throttle.hookConfig);
  registerMediaRoutes(app, opts.mediaDir, opts.archive);
  registerMetricsRoutes(app, ctx);
  registerWhoamiRoutes(app, ctx);
  registerWorkerRoutes(app, ctx);
  registerRecommendationRoutes(app, ctx);
  registerJobRoutes(app, ctx);
  registerCapacityRoutes(app, ctx);
  registerNameRoutes(app, ctx);
  registerPerformanceRoutes(app, ctx);
  registerStatsRoutes(app, ctx);
  registerScheduleRoutes(app, ctx);
  registerCompetitorRoutes(app, ctx);
  registerAuditRoutes(app, ctx);
  return app;
}
