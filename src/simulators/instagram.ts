/**
 * Local Instagram Graph API for Reels: containers that stay IN_PROGRESS for
 * taskDurationMs then FINISHED, publish once (then PUBLISHED), expire after
 * 24 h, and Graph-style error envelopes. The version path (/v24.0) is optional,
 * as on graph.instagram.com.
 *
 * The publishing limit is a moving window per IG user id: publishQuota posts per publishWindowMs, a post leaving
 * the window publishWindowMs after it was published; past it media_publish answers 9 / 2207042, and
 * content_publishing_limit reports the figures. Knobs: GET/POST /__sim/quotas {publishQuota, publishWindowMs}.
 */
import { randomInt } from 'node:crypto';
import { z } from 'zod';
import {
  SimHttpError,
  SimulatorServer,
  type SimErrorKind,
  type SimReply,
  type SimRequest,
  type SimTask,
  type SimTaskJson,
  type SimulatorOptions,
} from './server';
import { InstagramDiscoverySim } from './instagram-discovery';
import { PostMetricsSim } from './post-metrics';

export interface InstagramSimulatorOptions extends SimulatorOptions {
  /**
   * Publishes allowed per IG user id per moving window (Meta documents 50 per 24 h). Default unlimited, so the demo
   * (whose posts outlive restarts in the state file) and long benches are not throttled by surprise.
   */
  publishQuota?: number;
  /** The moving window's length; tests compress it. Default 24 h (quota_duration 86400). */
  publishWindowMs?: number;
  /** How long an unpublished container lives. Default 24 h. */
  containerTtlMs?: number;
}

interface Container {
  id: string;
  userId: string;
  videoUrl: string;
  coverUrl?: string;
  caption: string;
  createdAt: number;
  task: SimTask;
  mediaId?: string;
}

interface Media {
  id: string;
  permalink: string;
  timestamp: string;
  publishedAt: number;
}

interface SavedInstagram {
  containers: Array<Omit<Container, 'task'> & { task: SimTaskJson }>;
  media: Record<string, Media[]>;
}

const DAY_MS = 86_400_000;

/** Reels insights Graph still answers (providers-2.md §5.1); plays, impressions, video_views and the like are retired. */
const INSIGHT_METRICS = new Set(['views', 'reach', 'likes', 'comments', 'shares', 'saved', 'total_interactions']);

const quotaPatch = z
  .object({ publishQuota: z.number().int().min(0).nullable(), publishWindowMs: z.number().int().min(1) })
  .partial()
  .strict();
const V = '(?:/v\\d+\\.\\d+)?';

export class InstagramSimulator extends SimulatorServer {
  /** Business Discovery of competitor accounts (instagram-discovery.ts); mounted first, it narrows GET /<id>. */
  readonly discovery = this.extend(new InstagramDiscoverySim(() => this.url));
  /** Published reels' insights as they grow (post-metrics.ts): GET /<ig-media-id>/insights. */
  readonly metrics = this.extend(new PostMetricsSim());
  /** Number.POSITIVE_INFINITY: unlimited (null over HTTP). */
  publishQuota: number;
  publishWindowMs: number;
  containerTtlMs: number;
  /** What reset() returns the quota knobs to. */
  private readonly initialQuota: { publishQuota: number; publishWindowMs: number };
  private containers = new Map<string, Container>();
  private media = new Map<string, Media[]>();

  constructor(options: InstagramSimulatorOptions = {}) {
    super('instagram', options);
    this.initialQuota = {
      publishQuota: options.publishQuota ?? Number.POSITIVE_INFINITY,
      publishWindowMs: options.publishWindowMs ?? DAY_MS,
    };
    this.publishQuota = this.initialQuota.publishQuota;
    this.publishWindowMs = this.initialQuota.publishWindowMs;
    this.containerTtlMs = options.containerTtlMs ?? DAY_MS;
    this.route('GET', new RegExp(`^${V}/(\\w+)/content_publishing_limit$`), (req) => this.publishingLimit(req));
    this.route('POST', new RegExp(`^${V}/(\\w+)/media$`), (req) => this.createContainer(req));
    this.route('POST', new RegExp(`^${V}/(\\w+)/media_publish$`), (req) => this.publish(req));
    this.route('GET', new RegExp(`^${V}/(\\w+)/media$`), (req) => this.listMedia(req));
    this.route('GET', new RegExp(`^${V}/(\\w+)/insights$`), (req) => this.insights(req));
    this.route('GET', new RegExp(`^${V}/(\\w+)$`), (req) => this.readContainer(req));
  }

  protected override onReset(): void {
    this.containers = new Map();
    this.media = new Map();
    Object.assign(this, this.initialQuota);
  }

  protected override quotaKnobs(): { publishQuota: number | null; publishWindowMs: number } {
    return { publishQuota: Number.isFinite(this.publishQuota) ? this.publishQuota : null, publishWindowMs: this.publishWindowMs };
  }

  protected override setQuotaKnobs(patch: unknown): ReturnType<InstagramSimulator['quotaKnobs']> {
    const p = quotaPatch.parse(patch);
    if (p.publishQuota !== undefined) this.publishQuota = p.publishQuota ?? Number.POSITIVE_INFINITY;
    if (p.publishWindowMs !== undefined) this.publishWindowMs = p.publishWindowMs;
    return this.quotaKnobs();
  }

  /** What each container was created with (video and cover URLs), oldest first: what a test checks was sent. */
  createdContainers(): Array<{ id: string; videoUrl: string; coverUrl?: string }> {
    return [...this.containers.values()].map((c) => ({ id: c.id, videoUrl: c.videoUrl, ...(c.coverUrl ? { coverUrl: c.coverUrl } : {}) }));
  }

  /** Posts of `userId` still inside the moving window. */
  publishedInWindow(userId: string, now = Date.now()): number {
    return (this.media.get(userId) ?? []).filter((m) => now - m.publishedAt < this.publishWindowMs).length;
  }

  protected override saveState(): SavedInstagram {
    return {
      containers: [...this.containers.values()].map((c) => ({ ...c, task: c.task.toJSON() })),
      media: Object.fromEntries(this.media),
    };
  }

  protected override loadState(state: SavedInstagram): void {
    for (const c of state.containers) this.containers.set(c.id, { ...c, task: this.restoreTask(c.task) });
    for (const [userId, list] of Object.entries(state.media)) this.media.set(userId, list);
  }

  /** The documented access_token parameter, or a Bearer header. */
  protected override isAuthorized(req: SimRequest): boolean {
    return Boolean(params(req).get('access_token')) || super.isAuthorized(req);
  }

  protected errorReply(kind: SimErrorKind, message: string, extra: Record<string, unknown>): SimReply {
    const defaults: Record<SimErrorKind, { status: number; code: number; subcode?: number; transient: boolean; message?: string }> = {
      unauthorized: { status: 401, code: 190, transient: false, message: 'Invalid OAuth access token - Cannot parse access token' },
      rate_limited: { status: 429, code: 4, transient: true, message: 'Application request limit reached' },
      server_error: { status: 500, code: 1, transient: true, message: 'An unknown error has occurred.' },
      unavailable: { status: 503, code: 2, transient: true, message: 'An unexpected error has occurred. Please retry your request later.' },
      invalid: { status: 400, code: 100, transient: false },
      // Graph answers unknown objects and paths with 400 / code 100 / subcode 33, not 404.
      not_found: { status: 400, code: 100, subcode: 33, transient: false },
    };
    const d = defaults[kind];
    const code = typeof extra.code === 'number' ? extra.code : d.code;
    const subcode = typeof extra.subcode === 'number' ? extra.subcode : d.subcode;
    return {
      status: d.status,
      body: {
        error: {
          message: d.message ?? message,
          type: 'OAuthException',
          code,
          ...(subcode !== undefined ? { error_subcode: subcode } : {}),
          is_transient: typeof extra.isTransient === 'boolean' ? extra.isTransient : d.transient,
          fbtrace_id: this.newId('A', 6),
        },
      },
    };
  }

  private createContainer(req: SimRequest): SimReply {
    const p = params(req);
    const mediaType = p.get('media_type');
    if (!mediaType) throw invalid('The parameter media_type is required');
    if (mediaType !== 'REELS') throw invalid(`media_type ${mediaType} is not supported here; video is published as REELS`);
    const videoUrl = p.get('video_url');
    if (!videoUrl) throw invalid('The parameter video_url is required');
    if (!/^https?:\/\/\S+$/i.test(videoUrl)) throw invalid('Param video_url must be a valid URL');
    const coverUrl = p.get('cover_url') ?? undefined;
    if (coverUrl !== undefined && !/^https?:\/\/\S+$/i.test(coverUrl)) throw invalid('Param cover_url must be a valid URL');
    const id = graphId();
    this.recordSubmission(req);
    this.containers.set(id, {
      id,
      userId: req.params[0] ?? '',
      videoUrl,
      ...(coverUrl ? { coverUrl } : {}),
      caption: p.get('caption') ?? '',
      createdAt: Date.now(),
      task: this.startTask(),
    });
    return { status: 200, body: { id } };
  }

  private readContainer(req: SimRequest): SimReply {
    const container = this.findContainer(req.params[0] ?? '');
    const { status_code, status } = this.statusOf(container);
    const fields = (params(req).get('fields') ?? '').split(',').map((f) => f.trim());
    return {
      status: 200,
      body: {
        ...(fields.includes('status_code') ? { status_code } : {}),
        ...(fields.includes('status') ? { status } : {}),
        id: container.id,
      },
    };
  }

  private publish(req: SimRequest): SimReply {
    const userId = req.params[0] ?? '';
    const creationId = params(req).get('creation_id');
    if (!creationId) throw invalid('The parameter creation_id is required');
    const container = this.findContainer(creationId);
    const { status_code } = this.statusOf(container);
    switch (status_code) {
      case 'PUBLISHED':
        // A container publishes once.
        throw invalid('The media has already been published');
      case 'IN_PROGRESS':
        throw new SimHttpError('invalid', 'The media is not ready for publishing, please wait for a moment', undefined, {
          code: 9007,
          subcode: 2207027,
        });
      case 'EXPIRED':
        throw new SimHttpError('invalid', 'The media has expired', undefined, { code: -2, subcode: 2207020, isTransient: true });
      case 'ERROR':
        throw new SimHttpError('invalid', 'The media could not be processed', undefined, { code: -1, subcode: 2207053, isTransient: true });
      case 'FINISHED':
        break;
    }
    const now = Date.now();
    const list = this.media.get(userId) ?? [];
    if (this.publishedInWindow(userId, now) >= this.publishQuota) {
      this.recordQuotaRefusal();
      throw new SimHttpError('invalid', 'The maximum number of posts allowed in 24 hours has been reached', undefined, {
        code: 9,
        subcode: 2207042,
      });
    }
    const media: Media = {
      id: graphId(),
      permalink: `https://www.instagram.com/reel/${this.newId('', 5)}/`,
      timestamp: new Date(now).toISOString().replace(/\.\d{3}Z$/, '+0000'),
      publishedAt: now,
    };
    container.mediaId = media.id;
    this.metrics.published(media.id, now);
    this.media.set(userId, [media, ...list]);
    return { status: 200, body: { id: media.id } };
  }

  /**
   * content_publishing_limit: one row, config and quota_usage as asked in fields. An unlimited quota reads as
   * Number.MAX_SAFE_INTEGER (Graph always sends a number); a compressed window as fractional seconds.
   */
  private publishingLimit(req: SimRequest): SimReply {
    const fields = (params(req).get('fields') ?? 'quota_usage').split(',').map((f) => f.trim());
    const total = Number.isFinite(this.publishQuota) ? this.publishQuota : Number.MAX_SAFE_INTEGER;
    return {
      status: 200,
      body: {
        data: [
          {
            ...(fields.includes('config') ? { config: { quota_total: total, quota_duration: this.publishWindowMs / 1000 } } : {}),
            ...(fields.includes('quota_usage') ? { quota_usage: this.publishedInWindow(req.params[0] ?? '') } : {}),
          },
        ],
      },
    };
  }

  /**
   * Media insights, lifetime figures in Graph's shape. A retired metric fails the whole request (as Meta does since
   * v22); a deleted or unknown media is 100/33; a token without the insights permission gets (#10).
   */
  private insights(req: SimRequest): SimReply {
    const mediaId = req.params[0] ?? '';
    const metrics = (params(req).get('metric') ?? '')
      .split(',')
      .map((m) => m.trim())
      .filter(Boolean);
    if (metrics.length === 0) throw invalid('(#100) The parameter metric is required');
    const unsupported = metrics.find((m) => !INSIGHT_METRICS.has(m));
    if (unsupported) {
      throw invalid(
        `(#100) metric[${metrics.indexOf(unsupported)}] must be one of the following values: ${[...INSIGHT_METRICS].join(', ')}`,
      );
    }
    if (this.metrics.permissionDenied) {
      throw new SimHttpError('invalid', '(#10) Application does not have permission for this action', 403, { code: 10 });
    }
    // Media kept in a state file from before metrics existed count from their publishing.
    const known = [...this.media.values()].flat().find((m) => m.id === mediaId);
    if (known) this.metrics.published(mediaId, known.publishedAt);
    const counts = this.metrics.read(mediaId);
    if (counts === 'gone') {
      throw new SimHttpError(
        'not_found',
        `Unsupported get request. Object with ID '${mediaId}' does not exist, ` +
          'cannot be loaded due to missing permissions, or does not support this operation.',
      );
    }
    const value: Record<string, number> = { ...counts, saved: counts.saves, total_interactions: counts.interactions };
    return {
      status: 200,
      body: {
        data: metrics.map((name) => ({
          name,
          period: 'lifetime',
          values: [{ value: value[name] ?? 0 }],
          title: name,
          description: `Lifetime ${name} of the reel.`,
          id: `${mediaId}/insights/${name}/lifetime`,
        })),
      },
    };
  }

  private listMedia(req: SimRequest): SimReply {
    const limit = Math.max(1, Number(params(req).get('limit') ?? 25) || 25);
    const items = (this.media.get(req.params[0] ?? '') ?? []).slice(0, limit);
    return {
      status: 200,
      body: { data: items.map(({ id, permalink, timestamp }) => ({ id, permalink, timestamp })), paging: { cursors: {} } },
    };
  }

  private findContainer(id: string): Container {
    const container = this.containers.get(id);
    if (!container) {
      throw new SimHttpError(
        'not_found',
        `Unsupported get request. Object with ID '${id}' does not exist, ` +
          'cannot be loaded due to missing permissions, or does not support this operation.',
      );
    }
    return container;
  }

  private statusOf(c: Container): { status_code: string; status: string } {
    if (c.mediaId) return { status_code: 'PUBLISHED', status: 'Published' };
    const state = c.task.state();
    if (state === 'failed') return { status_code: 'ERROR', status: 'Error: Unknown upload error (2207053)' };
    if (Date.now() - c.createdAt > this.containerTtlMs) return { status_code: 'EXPIRED', status: 'Expired' };
    if (state === 'processing') return { status_code: 'IN_PROGRESS', status: 'In Progress' };
    return { status_code: 'FINISHED', status: 'Finished' };
  }
}

/** Graph takes parameters from the query string or a form / JSON body. */
function params(req: SimRequest): URLSearchParams {
  const merged = new URLSearchParams(req.url.searchParams);
  const type = req.header('content-type') ?? '';
  if (req.body.length === 0) return merged;
  if (type.startsWith('application/x-www-form-urlencoded')) {
    for (const [k, v] of new URLSearchParams(req.body.toString('utf8'))) merged.set(k, v);
  } else if (type.startsWith('application/json')) {
    const body = req.json();
    if (body && typeof body === 'object') {
      for (const [k, v] of Object.entries(body)) merged.set(k, typeof v === 'string' ? v : JSON.stringify(v));
    }
  }
  return merged;
}

function invalid(message: string): SimHttpError {
  return new SimHttpError('invalid', message, undefined, { code: 100 });
}

/** Graph ids: 17-18 digit decimal strings. */
function graphId(): string {
  return `179${String(randomInt(0, 1e9)).padStart(9, '0')}${String(randomInt(0, 1e6)).padStart(6, '0')}`;
}
