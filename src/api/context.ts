/**
 * What the API's hooks and route files share: the server's options, what a
 * handler records about its call, and the small helpers every route uses.
 */
import type { ArchiveServing } from '../media/store';
import type { Env } from '../config/env';
import type { Database } from '../db/client';
import type { Logger } from '../logger';
import type { Metrics } from '../metrics/registry';
import type { CompetitorChannelService } from '../services/competitor-channels';
import type { RecommendationService } from '../services/recommendations';
import type { QueueWorkers } from '../temporal/queue-workers';
import type { Principal, Role } from './auth';
import { temporalWorkflowUrl } from '../shared/temporal-ui';

/** A Temporal Schedule (hourly recommendations, daily bargains), as the API drives it. */
export interface ScheduleController {
  pause(): Promise<void>;
  unpause(): Promise<void>;
  trigger(): Promise<void>;
  describe(): Promise<unknown>;
}

/** Throttles of the API (src/api/hooks/rate-limit.ts); every field has a default. */
export interface ApiRateLimits {
  /** Failed authentications one source IP may make per window before it gets 429s. Default 20. */
  authFailures?: number;
  /** KIE hook calls one source IP may make per window. Default 600 (a callback per finished render, with room). */
  hookCalls?: number;
  /** Length of the window in milliseconds. Default 60 000. */
  windowMs?: number;
}

export interface ApiServerOptions {
  database: Database;
  service: RecommendationService;
  env: Pick<Env, 'TEMPORAL_UI_URL' | 'TEMPORAL_NAMESPACE'> &
    Partial<Pick<Env, 'KIE_CALLBACK_SECRET' | 'REELFLOW_MEDIA_BASE_URL' | 'REELFLOW_S3_ENDPOINT' | 'REELFLOW_METRICS_READ_WAIT_SECONDS'>>;
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
  /** Watched competitor channels (/api/competitors); absent: those routes answer 503. */
  competitors?: CompetitorChannelService;
  /** Default: the defaults of ApiRateLimits. */
  rateLimits?: ApiRateLimits;
  /** Proxies whose X-Forwarded-For gives the client's address (rate limits, audit rows). Default 0: the socket's peer. */
  trustedProxyHops?: number;
  /** REELFLOW_MEDIA_DIR: the finished reels served at /media/ (absent: /media/ answers 404). */
  mediaDir?: string;
  /** The fs store's archive and signing key: signed URLs to our copies served at /media/archive/ (absent: 404). */
  archive?: ArchiveServing;
}

/** What a handler adds to its request for the audit row and the log line. */
export interface CallContext {
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

/** Passed to every route file. */
export interface RouteContext {
  opts: ApiServerOptions;
  metrics: Metrics;
  /** The Temporal Web UI without a trailing slash. */
  uiBase: string;
  workflowUrl(workflowId: string): string;
}

export const ok = <T>(data: T) => ({ ok: true as const, data });
/** Route options of a read-only route. */
export const read = { config: { role: 'read' as const } };
/** Route options of a mutating route: the operator role and its audit action. */
export const operator = (audit: string) => ({ config: { role: 'operator' as const, audit } });

export function routeContext(opts: ApiServerOptions, metrics: Metrics): RouteContext {
  const uiBase = opts.env.TEMPORAL_UI_URL.replace(/\/+$/, '');
  return {
    opts,
    metrics,
    uiBase,
    workflowUrl: (workflowId) => temporalWorkflowUrl({ uiUrl: uiBase, namespace: opts.env.TEMPORAL_NAMESPACE, workflowId }),
  };
}
