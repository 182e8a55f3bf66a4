/**
 * TikTok direct post with PULL_FROM_URL: TikTok downloads the video and
 * publishes on its own, so publish() only reports the post once the status
 * says PUBLISH_COMPLETE. The publish_id is the handle.
 */
import { DEFAULT_ACCOUNT, notReady, postGone, ProviderError, quotaExhausted, type ProviderErrorKind } from '../errors';
import { nextMidnight } from '../calendar';
import {
  HttpClient,
  kindForStatus,
  parseJson,
  statusError,
  tryJson,
  validate,
  type HttpResponse,
  type ProviderEndpoint,
  type Schema,
  type ParseOptions,
} from '../http';
import type { PostMetrics, Publisher, PublishRequest, UploadStatus } from '../types';
import { envelopeSchema, initDataSchema, statusDataSchema, VIDEO_QUERY_FIELDS, videoQueryDataSchema, type InitRequest } from './schemas';

const PROVIDER = 'tiktok';

export interface TikTokClientOptions extends ProviderEndpoint {
  accessToken: string;
  /** Must be one of the creator's privacy_level_options; unaudited apps may only use SELF_ONLY. Default SELF_ONLY. */
  privacyLevel?: string;
  /** The creator's open_id, named in quota errors (details.account). Default 'default'. */
  account?: string;
  /**
   * Time zone whose midnight ends the creator's posting day. TikTok documents a daily cap but not when it resets
   * (providers-2.md §6), so this is a setting. Default 'UTC'.
   */
  quotaResetTimeZone?: string;
  /** Clock for the quota reset (tests). */
  now?: () => number;
}

export class TikTokClient implements Publisher {
  readonly provider = PROVIDER;
  private readonly http: HttpClient;

  /** video/query lists public videos only: a post made with any other privacy level is not there to read. */
  get hidesOwnPosts(): boolean {
    return (this.options.privacyLevel ?? 'SELF_ONLY') !== 'PUBLIC_TO_EVERYONE';
  }

  constructor(private readonly options: TikTokClientOptions) {
    const { baseUrl, timeoutMs, accessToken } = options;
    this.http = new HttpClient({
      provider: PROVIDER,
      baseUrl,
      timeoutMs,
      bearerToken: accessToken,
      describeError: (res) => {
        const parsed = envelopeSchema.safeParse(tryJson(res.text));
        return parsed.success ? this.error(res, parsed.data.error) : undefined;
      },
    });
  }

  /** Each init may create another post (no idempotency): callers persist the handle and never re-init a live one. */
  async createUpload(request: PublishRequest): Promise<{ handle: string }> {
    const body: InitRequest = {
      post_info: {
        title: request.caption,
        privacy_level: (this.options.privacyLevel ?? 'SELF_ONLY') as InitRequest['post_info']['privacy_level'],
        disable_duet: false,
        disable_comment: false,
        disable_stitch: false,
        // TikTok takes no cover image, only the time of the frame to show: the reel's cover frame.
        ...(request.coverAtMs !== undefined ? { video_cover_timestamp_ms: request.coverAtMs } : {}),
      },
      source_info: { source: 'PULL_FROM_URL', video_url: request.videoUrl },
    };
    const data = await this.call('/v2/post/publish/video/init/', body, initDataSchema);
    return { handle: data.publish_id };
  }

  async getStatus(handle: string): Promise<UploadStatus> {
    const data = await this.call('/v2/post/publish/status/fetch/', { publish_id: handle }, statusDataSchema, {
      prepare: quotePostIds,
    });
    switch (data.status) {
      case 'PROCESSING_UPLOAD':
      case 'PROCESSING_DOWNLOAD':
        return { state: 'processing' };
      case 'PUBLISH_COMPLETE':
      case 'SEND_TO_USER_INBOX':
        // Private (SELF_ONLY) posts and posts still in moderation have no public id yet;
        // the publish_id then stands in so the job can finish.
        return { state: 'published', postId: data.publicaly_available_post_id?.[0] ?? handle };
      case 'FAILED':
        return {
          state: 'failed',
          message: data.fail_reason ? `publish failed: ${data.fail_reason}` : 'publish failed',
          ...(data.fail_reason ? { code: data.fail_reason } : {}),
        };
    }
  }

  async publish(handle: string): Promise<{ postId: string; url?: string }> {
    const status = await this.getStatus(handle);
    if (status.state === 'published') return { postId: status.postId };
    if (status.state === 'failed') {
      throw (
        this.statusError(handle, status) ??
        new ProviderError(PROVIDER, 'permanent', status.message, status.code !== undefined ? { code: status.code } : {})
      );
    }
    throw notReady(PROVIDER, `publish ${handle} is still processing`);
  }

  /** Third-party code reports the creator's daily cap as a FAILED publish's fail_reason too (providers.md §4): a quota. */
  statusError(_handle: string, status: { message: string; code?: string | number }): ProviderError | null {
    return status.code === CREATOR_DAILY_CAP ? this.quotaError(status.message, { code: CREATOR_DAILY_CAP }) : null;
  }

  /**
   * `POST /v2/video/query/?fields=id,…,view_count,like_count,comment_count,share_count` with the post id (scope
   * video.list). TikTok answers only the token's own public videos: a post missing from the answer was deleted or
   * made private. A publish that never got a public post id (SELF_ONLY, unaudited apps) has nothing to read.
   */
  async readMetrics(postId: string): Promise<PostMetrics> {
    if (!/^\d+$/.test(postId)) {
      throw postGone(PROVIDER, `${postId} is a publish id, not a public post id (SELF_ONLY or never out of moderation): no public metrics`);
    }
    const data = await this.call(
      `/v2/video/query/?fields=${VIDEO_QUERY_FIELDS.join(',')}`,
      { filters: { video_ids: [postId] } },
      videoQueryDataSchema,
      { prepare: quoteVideoIds },
    );
    const video = data.videos.find((v) => v.id === postId);
    if (!video) throw postGone(PROVIDER, `video ${postId} is not among the creator's public videos (deleted or made private)`);
    const counts = [video.like_count, video.comment_count, video.share_count];
    return {
      views: video.view_count ?? null,
      reach: null,
      likes: video.like_count ?? null,
      comments: video.comment_count ?? null,
      shares: video.share_count ?? null,
      saves: null,
      interactions: counts.every((c) => c !== undefined) ? counts.reduce((a, b) => a! + b!, 0)! : null,
    };
  }

  private async call<T>(path: string, json: unknown, dataSchema: Schema<T>, parse?: ParseOptions): Promise<T> {
    const res = await this.http.send({
      method: 'POST',
      path,
      json,
      headers: { 'Content-Type': 'application/json; charset=UTF-8' },
    });
    if (res.status < 200 || res.status >= 300) throw this.http.error(res);
    const envelope = parseJson(PROVIDER, res, envelopeSchema, parse);
    if (envelope.error.code !== 'ok') throw this.error(res, envelope.error);
    return validate(PROVIDER, dataSchema, envelope.data, res.status);
  }

  private error(res: HttpResponse, error: { code: string; message?: string | undefined; log_id?: string | undefined }): ProviderError {
    const message = `${error.message || error.code} (${error.code}${error.log_id ? `, log_id ${error.log_id}` : ''})`;
    const kind = kindForTikTokCode(error.code, res.status);
    if (kind === 'quota_exhausted') return this.quotaError(message, { status: res.status, code: error.code });
    return statusError(PROVIDER, res, message, { kind, code: error.code });
  }

  /** The creator's posts for the day are spent: until the next midnight of quotaResetTimeZone. */
  private quotaError(message: string, details: { status?: number; code: string }): ProviderError {
    const now = (this.options.now ?? Date.now)();
    const resetAt = nextMidnight(this.options.quotaResetTimeZone ?? 'UTC', new Date(now));
    return quotaExhausted(PROVIDER, `${message}; the creator's daily posts reset around ${resetAt.toISOString()}`, {
      ...details,
      account: this.options.account ?? DEFAULT_ACCOUNT,
      resetAt,
      now,
    });
  }
}

/** spam_risk_too_many_posts: the creator's posts for the day are spent. */
const CREATOR_DAILY_CAP = 'spam_risk_too_many_posts';

// Throttles that lift within minutes (per-minute caps) or that are the app's, not a creator's daily count
// (reached_active_user_cap: unaudited apps' 5 posting users per 24 h).
const THROTTLES = new Set(['rate_limit_exceeded', 'reached_active_user_cap']);

export function kindForTikTokCode(code: string, httpStatus: number): ProviderErrorKind {
  if (code === CREATOR_DAILY_CAP) return 'quota_exhausted';
  if (THROTTLES.has(code)) return 'rate_limited';
  if (code === 'internal_error') return 'transient';
  return httpStatus >= 400 ? kindForStatus(httpStatus) : 'permanent';
}

/**
 * publicaly_available_post_id holds int64 numbers beyond 2^53, which
 * JSON.parse would round; quote them before parsing.
 */
export function quotePostIds(text: string): string {
  return text.replace(/("publicaly_available_post_id"\s*:\s*\[)([^\]]*)(\])/g, (_m, open: string, inner: string, close: string) => {
    return open + inner.replace(/(^|,)(\s*)(-?\d+)(\s*)(?=,|$)/g, '$1$2"$3"$4') + close;
  });
}

/** Video ids in /v2/video/query/ answers are int64 too: quoted before parsing when sent as bare numbers. */
export function quoteVideoIds(text: string): string {
  return text.replace(/("id"\s*:\s*)(-?\d+)/g, '$1"$2"');
}
