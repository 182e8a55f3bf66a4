/**
 * The operators' HTTP API, the dashboard at /automation-calendar and
 * /metrics, in one Fastify server. Every /api route states the role it needs
 * (no token -> 401, too weak a role -> 403); every mutating route names its
 * audit action and gets an audit row before its answer leaves. One error
 * shape: `{ ok: false, error: { message } }`; a 500 never carries internals.
 */
import { timingSafeEqual } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { ScheduleNotFoundError, ServiceError, WorkflowUpdateFailedError } from '@temporalio/client';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyReply } from 'fastify';
import { z } from 'zod';
import type { Env } from '../config/env';
import type { Database } from '../db/client';
import type { Logger } from '../logger';
import { createMetrics, type Metrics } from '../metrics/registry';
import { ConflictError, NotFoundError, type RecommendationService } from '../services/recommendations';
import {
  auditQuerySchema,
  BadInputError,
  listJobsQuerySchema,
  listRecommendationsQuerySchema,
  parseInput,
  prioritySchema,
  providerSchema,
  uuidSchema,
} from '../validation';
import type { QueueWorkers } from '../temporal/queue-workers';
import { recommendationWorkflowId } from '../shared/messages';
import { notifyProviderEvent } from '../gate/provider-events';
import { callbackSchema } from '../providers/veo3/schemas';
import { recordAudit, listAudit } from './audit';
import { bearerToken, lookupToken, roleAllows, type Principal, type Role } from './auth';
import { openApiDocument } from './openapi';
import { dashboardSnapshot, jobDetail, providerPanels } from './stats';

/** A Temporal Schedule (hourly recommendations, daily bargains), as the API drives it. */
export interface ScheduleController {
  pause(): Promise<void>;
  unpause(): Promise<void>;
  trigger(): Promise<void>;
  describe(): Promise<unknown>;
}

export interface ApiServerOptions {
  database: Database;
  service: RecommendationService;
  env: Pick<Env, 'TEMPORAL_UI_URL' | 'TEMPORAL_NAMESPACE'> & Partial<Pick<Env, 'KIE_CALLBACK_SECRET'>>;
  log: Logger;
  /**
   * By short name (`hourly`, `bargains`); /api/schedule acts on `hourly`,
   * /api/schedules/:name on any. Absent: those routes answer 503.
   */
  schedules?: Record<string, ScheduleController>;
  /** Live workers per task queue (src/temporal/queue-workers.ts); absent: /api/workers answers 503 and the dashboard leaves them out. */
  workers?: () => Promise<QueueWorkers[]>;
  /** Default: createMetrics({ database }). */
  metrics?: Metrics;
}

/** What a handler adds to its request for the audit row and the log line. */
interface CallContext {
  target?: string;
  workflowId?: string;
  jobId?: string;
  provider?: string;
  detail?: Record<string, unknown>;
}

declare module 'fastify' {
  interface FastifyRequest {
    principal?: Principal;
    call: CallContext;
  }
  interface FastifyContextConfig {
    /** Minimum role; routes without one are public (health, OpenAPI, the dashboard's static shell). */
    role?: Role;
    /** Audit action of a mutating route, e.g. 'recommendation.cancel'. */
    audit?: string;
  }
}

export class ApiError extends Error {
  override name = 'ApiError';
  constructor(
    readonly statusCode: number,
    message: string,
  ) {
    super(message);
  }
}

const DASHBOARD_DIR = path.resolve(__dirname, '../dashboard');
const DASHBOARD_FILES: Record<string, string> = {
  'index.html': 'text/html; charset=utf-8',
  'app.js': 'text/javascript; charset=utf-8',
  'style.css': 'text/css; charset=utf-8',
};

const capacityQuery = z.object({ provider: providerSchema.optional() }).strict();
// An empty POST (no body at all) means "no options".
const cancelBody = z.object({ reason: z.string().trim().min(1, 'must not be empty').max(500).optional() }).strict().default({});
const priorityBody = z.object({ priority: prioritySchema }).strict();
const idParams = z.object({ id: z.string().min(1) });

export async function buildApiServer(opts: ApiServerOptions): Promise<FastifyInstance> {
  const { database, service, env } = opts;
  const { db, pool } = database;
  const metrics = opts.metrics ?? createMetrics({ database, workers: opts.workers });
  const uiBase = env.TEMPORAL_UI_URL.replace(/\/+$/, '');
  const workflowUrl = (workflowId: string) => `${uiBase}/namespaces/${env.TEMPORAL_NAMESPACE}/workflows/${encodeURIComponent(workflowId)}`;
  const dashboardFiles = loadDashboard();

  const app = Fastify({
    loggerInstance: opts.log.child({ component: 'api' }) as FastifyBaseLogger,
    // One line per call from onResponse below, with who and what, instead of Fastify's two.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: 256 * 1024,
  });
  app.decorateRequest('principal', undefined);
  app.decorateRequest('call', null as unknown as CallContext);

  app.addHook('onRequest', async (req, reply) => {
    req.call = {};
    if (req.url.startsWith('/api/')) void reply.header('Cache-Control', 'no-store');
    const need = req.routeOptions.config.role;
    if (!need) return;
    const token = bearerToken(req.headers.authorization);
    if (!token) {
      void reply.header('WWW-Authenticate', 'Bearer realm="reelflow"');
      throw new ApiError(401, 'authentication required: send "Authorization: Bearer <token>" (create one with `reelflow token:create`)');
    }
    const principal = await lookupToken(db, token);
    if (!principal) {
      void reply.header('WWW-Authenticate', 'Bearer realm="reelflow", error="invalid_token"');
      throw new ApiError(401, 'invalid or revoked token');
    }
    req.principal = principal;
    if (!roleAllows(principal.role, need)) {
      throw new ApiError(403, `this call needs the ${need} role; token "${principal.name}" has the ${principal.role} role`);
    }
  });

  // Before the answer leaves, so a client that saw the answer can rely on the audit row.
  app.addHook('onSend', async (req, reply, payload) => {
    const action = req.routeOptions.config?.audit;
    if (!action || !req.principal) return payload;
    const { target, detail, ...ids } = req.call;
    try {
      await recordAudit(db, {
        principal: req.principal,
        action,
        target: target ?? (req.params as { id?: string } | undefined)?.id ?? null,
        detail: { method: req.method, url: req.url, status: reply.statusCode, ...ids, ...detail },
      });
    } catch (err) {
      // The action already happened; losing its audit row is bad, failing the answer would be worse.
      req.log.error({ err, action }, 'audit row not written');
    }
    return payload;
  });

  app.addHook('onResponse', async (req, reply) => {
    const mutating = req.method !== 'GET' && req.method !== 'HEAD';
    const level = reply.statusCode >= 500 ? 'error' : mutating ? 'info' : 'debug';
    const { detail: _detail, target: _target, ...ids } = req.call ?? {};
    req.log[level](
      { method: req.method, url: req.url, status: reply.statusCode, ms: Math.round(reply.elapsedTime), actor: req.principal?.name, ...ids },
      'api call',
    );
  });

  app.setErrorHandler(async (err: unknown, req, reply) => {
    const { status, message } = describeError(err);
    // An ApiError is a deliberate answer; anything else at 5xx is a bug or an outage worth its stack.
    if (status >= 500 && !(err instanceof ApiError)) req.log.error({ err }, 'api call failed');
    return reply.status(status).send({ ok: false, error: { message } });
  });
  app.setNotFoundHandler(async (req, reply) =>
    reply.status(404).send({ ok: false, error: { message: `no route ${req.method} ${req.url.split('?')[0]}` } }),
  );

  const ok = <T>(data: T) => ({ ok: true as const, data });
  const read = { config: { role: 'read' as const } };
  const operator = (audit: string) => ({ config: { role: 'operator' as const, audit } });

  // --- public -------------------------------------------------------------------------------
  app.get('/health', async () => ok({ status: 'up' }));
  app.get('/openapi.json', async () => openApiDocument);
  app.get('/', async (_req, reply) => reply.redirect('/automation-calendar'));
  app.get('/automation-calendar', async (_req, reply) => sendDashboardFile(reply, 'index.html'));
  app.get('/automation-calendar/:file', async (req, reply) => sendDashboardFile(reply, (req.params as { file: string }).file));

  // KIE cannot send our tokens, so its callbacks are authenticated by a secret path segment.
  // A callback only wakes the task's poller; record-info stays the authority (a forged one costs a poll).
  app.post('/hooks/kie/:secret', async (req) => {
    const expected = opts.env.KIE_CALLBACK_SECRET;
    if (!expected || !sameSecret(expected, (req.params as { secret: string }).secret)) throw new ApiError(404, 'no route POST /hooks/kie');
    const callback = parseInput(callbackSchema, req.body, 'callback');
    const jobs = await notifyProviderEvent(pool, 'veo3', callback.data.taskId, { code: callback.code, msg: callback.msg ?? null });
    req.call = { detail: { taskId: callback.data.taskId, code: callback.code } };
    return ok({ taskId: callback.data.taskId, jobs });
  });

  function sendDashboardFile(reply: FastifyReply, file: string) {
    const body = dashboardFiles.get(file);
    if (body === undefined) throw new ApiError(404, `no dashboard file ${file}`);
    return reply
      .header('Content-Type', DASHBOARD_FILES[file]!)
      .header('X-Content-Type-Options', 'nosniff')
      .header('Content-Security-Policy', "default-src 'self'; style-src 'self'; script-src 'self'; img-src 'self' data:; frame-ancestors 'none'")
      .send(body);
  }

  // --- read ---------------------------------------------------------------------------------
  app.get('/metrics', read, async (_req, reply) => {
    const text = await metrics.scrape();
    return reply.header('Content-Type', metrics.contentType).send(text);
  });

  app.get('/api/whoami', read, async (req) =>
    ok({ ...req.principal!, temporalUiUrl: uiBase, namespace: env.TEMPORAL_NAMESPACE }),
  );

  // The dashboard still loads when Temporal does not answer; its workers panel then says so.
  const workersOrNull = () => (opts.workers ? opts.workers().catch(() => null) : Promise.resolve(undefined));
  app.get('/api/dashboard', read, async () => {
    const [snapshot, workers] = await Promise.all([dashboardSnapshot(pool), workersOrNull()]);
    return ok({ ...snapshot, workers });
  });

  app.get('/api/workers', read, async () => {
    if (!opts.workers) throw new ApiError(503, 'this server does not know the Temporal server; start it with `npm run api`');
    return ok(await opts.workers());
  });

  app.get('/api/recommendations', read, async (req) => {
    const q = parseInput(listRecommendationsQuerySchema, req.query, 'query');
    return ok(await service.listRecommendations(q));
  });

  app.get('/api/recommendations/:id', read, async (req) => {
    const { id } = idParams.parse(req.params);
    const status = await service.status(id);
    return ok({ ...status, links: { temporal: workflowUrl(recommendationWorkflowId(status.recommendation.id)) } });
  });

  app.get('/api/jobs', read, async (req) => {
    const q = parseInput(listJobsQuerySchema, req.query, 'query');
    return ok(await service.listJobs(q));
  });

  app.get('/api/jobs/:id', read, async (req) => {
    const id = parseInput(uuidSchema, idParams.parse(req.params).id, 'id');
    const detail = await jobDetail(db, id);
    if (!detail) throw new NotFoundError(`no job with id ${id}`);
    req.call = { jobId: id, workflowId: detail.job.workflowId, provider: detail.job.apiProvider };
    return ok({ ...detail, links: { temporal: workflowUrl(detail.job.workflowId) } });
  });

  app.get('/api/capacity', read, async (req) => {
    const q = parseInput(capacityQuery, req.query, 'query');
    return ok(await service.capacity(q.provider));
  });

  app.get('/api/stats', read, async () => {
    const [counts, providers, performance] = await Promise.all([
      service.counts(),
      providerPanels(pool),
      pool.query('SELECT * FROM queue_performance_by_type'),
    ]);
    return ok({ ...counts, providers, performanceByType: performance.rows });
  });

  app.get('/api/schedule', read, async () => ok(await requireSchedule('hourly').describe()));
  app.get('/api/schedules/:name', read, async (req) => ok(await requireSchedule((req.params as { name: string }).name).describe()));

  // --- operator -----------------------------------------------------------------------------
  app.get('/api/audit', { config: { role: 'operator' } }, async (req) => {
    const q = parseInput(auditQuerySchema, req.query, 'query');
    return ok(await listAudit(db, q.limit));
  });

  app.post('/api/recommendations', operator('recommendation.enqueue'), async (req, reply) => {
    const result = await service.enqueue(req.body);
    req.call = { target: result.recommendation.id, workflowId: result.workflowId, detail: { started: result.started, priority: result.recommendation.priority } };
    return reply.status(result.started ? 201 : 200).send(ok({ ...result, links: { temporal: workflowUrl(result.workflowId) } }));
  });

  app.post('/api/recommendations/:id/start', operator('recommendation.start'), async (req) => {
    const { id } = idParams.parse(req.params);
    const result = await service.start(id);
    req.call = { target: result.recommendation.id, workflowId: result.workflowId, detail: { started: result.started } };
    return ok({ ...result, links: { temporal: workflowUrl(result.workflowId) } });
  });

  // Cancel and reprioritise act on the recommendation's workflow; the service accepts a
  // recommendation, job or workflow id, so both URL families share one handler.
  for (const kind of ['recommendation', 'job'] as const) {
    app.post(`/api/${kind}s/:id/cancel`, operator(`${kind}.cancel`), async (req, reply) => {
      const { id } = idParams.parse(req.params);
      const body = parseInput(cancelBody, req.body, 'body');
      const rec = await service.cancel(id, body.reason);
      req.call = {
        target: id,
        workflowId: rec.workflowId ?? undefined,
        ...(kind === 'job' ? { jobId: id } : {}),
        detail: { recommendationId: rec.id, reason: body.reason },
      };
      return reply.status(202).send(ok({ recommendationId: rec.id, workflowId: rec.workflowId, status: 'cancellation requested' }));
    });

    app.post(`/api/${kind}s/:id/priority`, operator(`${kind}.reprioritise`), async (req) => {
      const { id } = idParams.parse(req.params);
      const body = parseInput(priorityBody, req.body, 'body');
      const state = await service.reprioritise(id, body.priority);
      req.call = {
        target: id,
        workflowId: recommendationWorkflowId(state.recommendationId),
        ...(kind === 'job' ? { jobId: id } : {}),
        detail: { recommendationId: state.recommendationId, priority: body.priority },
      };
      return ok(state);
    });
  }

  for (const action of ['pause', 'unpause', 'trigger'] as const) {
    const done = { schedule: action === 'trigger' ? 'triggered' : `${action}d` };
    app.post(`/api/schedule/${action}`, operator(`schedule.${action}`), async (req) => {
      await requireSchedule('hourly')[action]();
      req.call = { target: 'hourly' };
      return ok(done);
    });
    app.post(`/api/schedules/:name/${action}`, operator(`schedule.${action}`), async (req) => {
      const { name } = req.params as { name: string };
      await requireSchedule(name)[action]();
      req.call = { target: name };
      return ok(done);
    });
  }

  function requireSchedule(name: string): ScheduleController {
    const schedules = opts.schedules;
    if (!schedules) throw new ApiError(503, 'schedules are not available on this server');
    const schedule = schedules[name];
    if (!schedule) throw new ApiError(404, `no schedule "${name}"; one of ${Object.keys(schedules).join(', ')}`);
    return schedule;
  }

  return app;
}

/** Status and public message of any error; internals stay in the log. */
function describeError(err: unknown): { status: number; message: string } {
  if (err instanceof ApiError) return { status: err.statusCode, message: err.message };
  if (err instanceof BadInputError) return { status: 400, message: err.message };
  if (err instanceof NotFoundError) return { status: 404, message: err.message };
  if (err instanceof ConflictError) return { status: 409, message: err.message };
  if (err instanceof ScheduleNotFoundError) return { status: 404, message: 'the schedule does not exist; create it with `reelflow schedule create`' };
  if (err instanceof z.ZodError) {
    const issue = err.issues[0];
    return { status: 400, message: `${issue?.path.join('.') || 'input'} ${issue?.message ?? 'is invalid'}` };
  }
  // Our workflow's validators reject with messages written for operators (e.g. "already publishing").
  if (err instanceof WorkflowUpdateFailedError) return { status: 409, message: err.cause?.message ?? err.message };
  const code = rootCode(err);
  if (err instanceof ServiceError && (code === GRPC_UNAVAILABLE || code === GRPC_DEADLINE_EXCEEDED)) {
    return { status: 503, message: 'the Temporal server is unavailable; try again shortly' };
  }
  const e = err as { statusCode?: number; message?: string };
  // Fastify's own client errors: bad JSON, wrong content type, body too large.
  if (typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) {
    return { status: e.statusCode, message: e.message ?? 'bad request' };
  }
  if (typeof code === 'string' && DATABASE_DOWN_CODES.has(code)) {
    return { status: 503, message: 'the database is unavailable; try again shortly' };
  }
  return { status: 500, message: 'internal error' };
}

const GRPC_DEADLINE_EXCEEDED = 4;
const GRPC_UNAVAILABLE = 14;
/** Connection refused/reset, pool timeout, and PostgreSQL's admin-shutdown / connection-failure SQLSTATEs. */
const DATABASE_DOWN_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', '57P01', '57P03', '08000', '08001', '08006']);

/** The first `code` along the cause chain (drizzle and the Temporal client wrap the original error). */
function rootCode(err: unknown): string | number | undefined {
  for (let e = err as { code?: unknown; cause?: unknown } | undefined, depth = 0; e && depth < 5; e = e.cause as typeof e, depth++) {
    if (typeof e.code === 'string' || typeof e.code === 'number') return e.code;
  }
  return undefined;
}

function loadDashboard(): Map<string, string> {
  const files = new Map<string, string>();
  for (const name of Object.keys(DASHBOARD_FILES)) files.set(name, fs.readFileSync(path.join(DASHBOARD_DIR, name), 'utf8'));
  return files;
}


function sameSecret(expected: string, given: string): boolean {
  const a = Buffer.from(expected);
  const b = Buffer.from(given);
  return a.length === b.length && timingSafeEqual(a, b);
}
