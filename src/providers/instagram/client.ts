/**
 * Instagram Reels through the Graph API: create a REELS container from a
 * public video URL, poll it, publish it. The container id is the handle.
 */
import { notReady, postGone, ProviderError, quotaExhausted, type ProviderErrorKind } from '../errors';
import { HttpClient, kindForStatus, statusError, tryJson, type HttpResponse, type QueryValue } from '../http';
import type { PostMetrics, Publisher, PublishRequest, UploadStatus } from '../types';
import {
  containerSchema,
  graphErrorSchema,
  idSchema,
  insightsSchema,
  mediaListSchema,
  publishingLimitSchema,
  REELS_INSIGHT_METRICS,
  type GraphError,
} from './schemas';

const PROVIDER = 'instagram';

export interface InstagramClientOptions {
  /** Host plus pinned version, e.g. https://graph.instagram.com/v24.0 */
  baseUrl: string;
  accessToken: string;
  /** The professional account's IG user id. */
  userId: string;
  /** Default 30 000 ms. */
  timeoutMs?: number;
  /** Also show the reel in the main profile grid. Default true. */
  shareToFeed?: boolean;
}

/** The account's publishing quota as Instagram reports it. */
export interface PublishingLimit {
  /** Posts published through the API in the moving window. */
  used: number;
  /** config.quota_total: posts allowed per window (the reference says 50 today). */
  limit: number;
  /** config.quota_duration: the moving window's length (86 400 s today). */
  windowSeconds: number;
}

// Graph pages media 25 at a time by default; a window of 50 posts is read in one page of at most this many.
const MEDIA_PAGE_MAX = 100;

// Media ids learned from publish(), for getStatus() on the same worker; bounded so a long-lived worker does not grow.
const REMEMBERED_MEDIA = 1_000;

export class InstagramClient implements Publisher {
  readonly provider = PROVIDER;
  private readonly http: HttpClient;
  private readonly mediaIds = new Map<string, string>();

  constructor(private readonly options: InstagramClientOptions) {
    this.http = new HttpClient({
      provider: PROVIDER,
      baseUrl: options.baseUrl,
      timeoutMs: options.timeoutMs,
      describeError: (res) => {
        const err = describeGraphError(res);
        // The publishing limit is the IG user's; publish() adds the reset.
        return err?.kind === 'quota_exhausted'
          ? new ProviderError(PROVIDER, err.kind, err.message.replace(/^instagram: /, ''), { ...err.details, account: options.userId })
          : err;
      },
    });
  }

  async createUpload(request: PublishRequest): Promise<{ handle: string }> {
    const { id } = await this.http.json(
      {
        method: 'POST',
        path: `/${this.options.userId}/media`,
        query: this.params({
          media_type: 'REELS',
          video_url: request.videoUrl,
          caption: request.caption,
          ...(request.coverUrl ? { cover_url: request.coverUrl } : {}),
          share_to_feed: this.options.shareToFeed ?? true,
        }),
      },
      idSchema,
    );
    return { handle: id };
  }

  async getStatus(handle: string): Promise<UploadStatus> {
    const container = await this.http
      .json({ method: 'GET', path: `/${handle}`, query: this.params({ fields: 'status_code,status' }) }, containerSchema)
      .catch((err: unknown) => {
        // Graph answers 100/33 for an object it no longer has. A container we created and that is
        // gone was never published (a published one still reads PUBLISHED), so it is as good as
        // expired: a new container is free and cannot post twice.
        if (err instanceof ProviderError && err.details.code === GRAPH_NO_SUCH_OBJECT) return undefined;
        throw err;
      });
    if (!container) return { state: 'expired' };
    switch (container.status_code) {
      case 'IN_PROGRESS':
        return { state: 'processing' };
      case 'FINISHED':
        return { state: 'ready' };
      case 'PUBLISHED':
        return { state: 'published', ...(await this.mediaFor(handle)) };
      case 'EXPIRED':
        return { state: 'expired' };
      case 'ERROR': {
        const subcode = /\b(\d{6,})\b/.exec(container.status ?? '')?.[1];
        return {
          state: 'failed',
          message: container.status || 'container processing failed',
          ...(subcode ? { code: Number(subcode) } : {}),
        };
      }
    }
  }

  /**
   * Reads the container first: a container publishes once, so after a lost
   * media_publish response the retry finds it PUBLISHED instead of failing.
   */
  async publish(handle: string): Promise<{ postId: string; url?: string }> {
    const status = await this.getStatus(handle);
    switch (status.state) {
      case 'published':
        return { postId: status.postId, ...(status.url ? { url: status.url } : {}) };
      case 'processing':
        throw notReady(PROVIDER, `container ${handle} is still IN_PROGRESS`);
      case 'expired':
        throw new ProviderError(PROVIDER, 'permanent', `container ${handle} expired (not published within 24 h); create a new one`, {
          code: 'EXPIRED',
        });
      case 'failed':
        throw new ProviderError(PROVIDER, 'permanent', `container ${handle} failed: ${status.message}`, {
          ...(status.code !== undefined ? { code: status.code } : {}),
        });
      case 'ready':
        break;
    }
    const { id } = await this.http
      .json({ method: 'POST', path: `/${this.options.userId}/media_publish`, query: this.params({ creation_id: handle }) }, idSchema)
      .catch(async (err: unknown) => {
        if (err instanceof ProviderError && err.details.code === PUBLISHING_LIMIT_SUBCODE) throw await this.publishingLimitError(err);
        throw err;
      });
    this.remember(handle, id);
    return { postId: id };
  }

  /**
   * The reel's lifetime insights: `GET /<ig-media-id>/insights?metric=views,reach,likes,comments,shares,saved,total_interactions`.
   * Graph answers a media it no longer has (deleted, or out of this token's reach) with 100/33: the post is gone.
   * A token without instagram_manage_insights (instagram_business_manage_insights) gets (#10), a permanent error.
   */
  async readMetrics(mediaId: string): Promise<PostMetrics> {
    const { data } = await this.http
      .json(
        { method: 'GET', path: `/${mediaId}/insights`, query: this.params({ metric: REELS_INSIGHT_METRICS.join(',') }) },
        insightsSchema,
      )
      .catch((err: unknown) => {
        if (err instanceof ProviderError && err.details.code === GRAPH_NO_SUCH_OBJECT) {
          throw postGone(PROVIDER, `media ${mediaId} is gone: ${err.message.replace(/^instagram: /, '')}`, { ...err.details });
        }
        throw err;
      });
    const value = (name: (typeof REELS_INSIGHT_METRICS)[number]): number | null => {
      const entry = data.find((m) => m.name === name);
      return entry?.total_value?.value ?? entry?.values?.[0]?.value ?? null;
    };
    return {
      views: value('views'),
      reach: value('reach'),
      likes: value('likes'),
      comments: value('comments'),
      shares: value('shares'),
      saves: value('saved'),
      interactions: value('total_interactions'),
    };
  }

  /** The account's quota figures: `GET /<ig-user-id>/content_publishing_limit?fields=config,quota_usage`. */
  async getPublishingLimit(): Promise<PublishingLimit> {
    const { data } = await this.http.json(
      {
        method: 'GET',
        path: `/${this.options.userId}/content_publishing_limit`,
        query: this.params({ fields: 'config,quota_usage' }),
      },
      publishingLimitSchema,
    );
    const row = data[0]!;
    return { used: row.quota_usage, limit: row.config.quota_total, windowSeconds: row.config.quota_duration };
  }

  /**
   * When a unit of the moving window frees: the oldest post still in it leaves the window its length after it
   * was published (Graph stamps posts to the second, so one second is added: never early, at most a second late).
   * Read from the publishing limit and the account's newest media; null when the window holds no post.
   * The account's media may include posts made outside the API, which do not count: then the estimate is early.
   */
  async publishingLimitResetAt(): Promise<Date | null> {
    const limit = await this.getPublishingLimit();
    const { data } = await this.http.json(
      {
        method: 'GET',
        path: `/${this.options.userId}/media`,
        query: this.params({ fields: 'id,timestamp', limit: Math.max(1, Math.min(limit.limit, MEDIA_PAGE_MAX)) }),
      },
      mediaListSchema,
    );
    const windowMs = limit.windowSeconds * 1000;
    const now = Date.now();
    const leaves = data.map((m) => Date.parse(m.timestamp ?? '') + 1000 + windowMs).filter((t) => Number.isFinite(t) && t > now);
    return leaves.length > 0 ? new Date(Math.min(...leaves)) : null;
  }

  /** 9 / 2207042 names no reset: publishingLimitResetAt() computes it; when that read fails the error goes without. */
  private async publishingLimitError(err: ProviderError): Promise<ProviderError> {
    const account = this.options.userId;
    const message = err.message.replace(/^instagram: /, '');
    const details = {
      account,
      ...(err.details.status !== undefined ? { status: err.details.status } : {}),
      code: PUBLISHING_LIMIT_SUBCODE,
    };
    const resetAt = await this.publishingLimitResetAt().catch(() => null);
    if (!resetAt) return quotaExhausted(PROVIDER, message, details);
    return quotaExhausted(PROVIDER, `${message}; the oldest post in the window leaves it at ${resetAt.toISOString()}`, {
      ...details,
      resetAt,
    });
  }

  /**
   * A container does not expose the media it became. Known from publish() on
   * this worker; otherwise (worker restarted after a lost publish response) the
   * account's newest media — exact unless two reels of the account were
   * published in that same window.
   */
  private async mediaFor(handle: string): Promise<{ postId: string; url?: string }> {
    const known = this.mediaIds.get(handle);
    if (known) return { postId: known };
    const { data } = await this.http.json(
      {
        method: 'GET',
        path: `/${this.options.userId}/media`,
        query: this.params({ fields: 'id,permalink,timestamp', limit: 1 }),
      },
      mediaListSchema,
    );
    const latest = data[0];
    if (!latest) throw new ProviderError(PROVIDER, 'malformed', `container ${handle} is PUBLISHED but the account lists no media`);
    this.remember(handle, latest.id);
    return { postId: latest.id, ...(latest.permalink ? { url: latest.permalink } : {}) };
  }

  private remember(handle: string, mediaId: string): void {
    this.mediaIds.set(handle, mediaId);
    if (this.mediaIds.size > REMEMBERED_MEDIA) this.mediaIds.delete(this.mediaIds.keys().next().value!);
  }

  /** The token travels as the documented access_token parameter. */
  private params(values: Record<string, QueryValue>): Record<string, QueryValue> {
    return { ...values, access_token: this.options.accessToken };
  }
}

function describeGraphError(res: HttpResponse): ProviderError | undefined {
  const parsed = graphErrorSchema.safeParse(tryJson(res.text));
  if (!parsed.success) return undefined;
  const e = parsed.data.error;
  const ids = [
    e.code !== undefined ? `code ${e.code}` : undefined,
    e.error_subcode !== undefined ? `subcode ${e.error_subcode}` : undefined,
    e.fbtrace_id ? `fbtrace_id ${e.fbtrace_id}` : undefined,
  ].filter(Boolean);
  const message = `${e.message}${e.error_user_msg ? ` — ${e.error_user_msg}` : ''}${ids.length ? ` (${ids.join(', ')})` : ''}`;
  const code = e.error_subcode ?? e.code;
  return statusError(PROVIDER, res, message, { kind: kindForGraphError(e, res.status), ...(code !== undefined ? { code } : {}) });
}

/** 9 / 2207042: the moving-window publishing limit (content_publishing_limit) is reached. */
const PUBLISHING_LIMIT_SUBCODE = 2207042;

/** Graph's subcode for "object does not exist, cannot be loaded due to missing permissions, or does not support this operation". */
const GRAPH_NO_SUCH_OBJECT = 33;

// Subcodes decide before codes: code 4 is a throttle, but 4/2207051 is a spam block.
const SUBCODE_KIND: Record<number, ProviderErrorKind> = {
  2207001: 'transient', // Instagram server error
  2207003: 'transient', // media download timed out
  2207020: 'transient', // media expired: retry with a new container
  2207032: 'transient', // container creation failed: re-create
  2207053: 'transient', // unknown upload error: new container
  2207008: 'transient', // temporary publish error
  2207052: 'transient', // media could not be fetched: retry once, then check hosting
  2207027: 'transient', // not ready to publish yet
  2207042: 'quota_exhausted', // publishing limit of the moving 24 h window
  2207051: 'permanent', // restricted as spam
  2207057: 'permanent', // thumb_offset outside the video
  2207006: 'permanent', // media not found / permission / expired token
  2207050: 'permanent', // account inactive or restricted
  2207026: 'permanent', // unsupported video format
};

// 4 app, 17 user, 32 page, 613 custom-level throttles; 80002 Instagram business-use-case throttle. Code 9 without
// its subcode 2207042 is not documented as the publishing limit, so it stays a throttle.
const THROTTLE_CODES = new Set([4, 9, 17, 32, 613, 80002]);
// -2/-1 Instagram server side, 1 unknown error, 2 service temporarily unavailable.
const TRANSIENT_CODES = new Set([-2, -1, 1, 2]);

export function kindForGraphError(e: GraphError, httpStatus: number): ProviderErrorKind {
  const bySubcode = e.error_subcode !== undefined ? SUBCODE_KIND[e.error_subcode] : undefined;
  if (bySubcode) return bySubcode;
  if (e.code !== undefined && THROTTLE_CODES.has(e.code)) return 'rate_limited';
  if (e.is_transient) return 'transient';
  if (e.code !== undefined && TRANSIENT_CODES.has(e.code)) return 'transient';
  return kindForStatus(httpStatus);
}
