/**
 * Local TikTok Content Posting API (direct post, PULL_FROM_URL): a publish
 * stays PROCESSING_DOWNLOAD for taskDurationMs, then PUBLISH_COMPLETE with a
 * post id written as a raw int64, exactly as TikTok sends it.
 *
 * Each creator (one per access token) may post creatorPostsPerDay a day: past it video/init answers 403
 * spam_risk_too_many_posts. TikTok names no reset time; the simulator's day ends at midnight of timeZone (UTC),
 * or every windowMs when time is compressed. Third-party code also reports the cap as a FAILED publish's fail_reason
 * (unconfirmed): with capReportedAt 'status', init is accepted past the cap and the publish ends FAILED with
 * spam_risk_too_many_posts, posting nothing. Knobs: GET/POST /__sim/quotas {creatorPostsPerDay, windowMs, timeZone,
 * capReportedAt}.
 */
import { randomInt } from 'node:crypto';
import { z } from 'zod';
import {
  SimHttpError,
  SimulatorServer,
  STATUS_OF,
  type SimErrorKind,
  type SimReply,
  type SimRequest,
  type SimTask,
  type SimTaskJson,
  type SimulatorOptions,
} from './server';
import { initRequestSchema } from '../providers/tiktok/schemas';
import { CalendarQuota, calendarKnobsPatch } from './quota';
import { PostMetricsSim } from './post-metrics';

export interface TikTokSimulatorOptions extends SimulatorOptions {
  /**
   * Direct posts per creator per day. TikTok's guidelines say "typically around 15"; third parties say 6 or 25
   * (providers-2.md §6). Default unlimited, so the demo's posts (kept across restarts) never hit it by surprise.
   */
  creatorPostsPerDay?: number | null;
  /** Day length in ms for time-compressed runs; default null, the real day ending at midnight of timeZone. */
  windowMs?: number | null;
  /** Default UTC. */
  timeZone?: string;
  /** Where a post past the cap is refused: video/init's 403 (default), or the publish's status (FAILED). */
  capReportedAt?: CapReportedAt;
}

type CapReportedAt = 'init' | 'status';

interface SavedTikTok {
  publishes: Array<Omit<Publish, 'task'> & { task: SimTaskJson }>;
  posts: ReturnType<CalendarQuota['toJSON']>;
}

interface Publish {
  publishId: string;
  postId: string;
  task: SimTask;
  /** source_info.video_url: what TikTok would pull (absent in state files from before it was kept). */
  videoUrl?: string;
  /** post_info.video_cover_timestamp_ms, when the post named its cover frame. */
  coverTimestampMs?: number;
  /** Accepted past the creator's cap (capReportedAt 'status'): it ends FAILED, posting nothing. */
  overCap?: boolean;
}

const TIKTOK_CODES: Record<SimErrorKind, string> = {
  unauthorized: 'access_token_invalid',
  rate_limited: 'rate_limit_exceeded',
  server_error: 'internal_error',
  unavailable: 'internal_error',
  invalid: 'invalid_params',
  not_found: 'invalid_params',
};

const statusRequestSchema = z.object({ publish_id: z.string().min(1) });

/** /v2/video/query/: up to 20 ids, as strings (int64) — numbers are accepted too, as lenient JSON clients send them. */
const videoQuerySchema = z.object({
  filters: z.object({
    video_ids: z
      .array(z.union([z.string(), z.number()]).transform(String))
      .min(1)
      .max(20),
  }),
});

/** The fields video/query allows (providers-2.md §5.2); any other name is invalid_params. */
const VIDEO_FIELDS = new Set([
  'id',
  'create_time',
  'cover_image_url',
  'share_url',
  'video_description',
  'duration',
  'height',
  'width',
  'title',
  'embed_html',
  'embed_link',
  'like_count',
  'comment_count',
  'share_count',
  'view_count',
]);

const quotaPatch = z
  .object({
    creatorPostsPerDay: calendarKnobsPatch.shape.limit,
    windowMs: calendarKnobsPatch.shape.windowMs,
    timeZone: calendarKnobsPatch.shape.timeZone,
    capReportedAt: z.enum(['init', 'status']),
  })
  .partial()
  .strict();

export class TikTokSimulator extends SimulatorServer {
  /** Each creator's direct posts of the day, keyed by access token. */
  readonly posts: CalendarQuota;
  /** Published videos' counts as they grow (post-metrics.ts): POST /v2/video/query/. */
  readonly metrics = this.extend(new PostMetricsSim());
  private publishes = new Map<string, Publish>();
  private capReportedAt: CapReportedAt;

  constructor(options: TikTokSimulatorOptions = {}) {
    super('tiktok', options);
    this.capReportedAt = options.capReportedAt ?? 'init';
    this.posts = new CalendarQuota({
      limit: options.creatorPostsPerDay ?? null,
      windowMs: options.windowMs ?? null,
      timeZone: options.timeZone ?? 'UTC',
    });
    this.route('POST', /^\/v2\/post\/publish\/video\/init\/?$/, (req) => this.init(req));
    this.route('POST', /^\/v2\/post\/publish\/status\/fetch\/?$/, (req) => this.status(req));
    this.route('POST', /^\/v2\/video\/query\/?$/, (req) => this.videoQuery(req));
  }

  protected override onReset(): void {
    this.publishes = new Map();
    this.posts.reset();
  }

  protected override quotaKnobs(): {
    creatorPostsPerDay: number | null;
    windowMs: number | null;
    timeZone: string;
    capReportedAt: CapReportedAt;
  } {
    const { limit, windowMs, timeZone } = this.posts.knobs;
    return { creatorPostsPerDay: limit, windowMs, timeZone, capReportedAt: this.capReportedAt };
  }

  protected override setQuotaKnobs(patch: unknown): ReturnType<TikTokSimulator['quotaKnobs']> {
    const { creatorPostsPerDay, capReportedAt, ...day } = quotaPatch.parse(patch);
    this.posts.configure({ ...day, ...(creatorPostsPerDay !== undefined ? { limit: creatorPostsPerDay } : {}) });
    if (capReportedAt) this.capReportedAt = capReportedAt;
    return this.quotaKnobs();
  }

  protected override saveState(): SavedTikTok {
    return { publishes: [...this.publishes.values()].map((p) => ({ ...p, task: p.task.toJSON() })), posts: this.posts.toJSON() };
  }

  /** Files written before quotas hold the bare list of publishes. */
  protected override loadState(state: SavedTikTok | SavedTikTok['publishes']): void {
    const saved = Array.isArray(state) ? { publishes: state, posts: {} } : state;
    for (const p of saved.publishes) this.publishes.set(p.publishId, { ...p, task: this.restoreTask(p.task) });
    this.posts.load(saved.posts);
  }

  protected errorReply(kind: SimErrorKind, message: string, extra: Record<string, unknown>): SimReply {
    const code = typeof extra.code === 'string' ? extra.code : TIKTOK_CODES[kind];
    const text = kind === 'unauthorized' && extra.code === undefined ? 'The access token is invalid or not found in the request.' : message;
    return { status: STATUS_OF[kind], body: { data: {}, error: { code, message: text, log_id: this.logId() } } };
  }

  /** The URL each direct post was to pull its video from, in order (a test checks it is our signed copy). */
  pulledUrls(): string[] {
    return [...this.publishes.values()].flatMap((p) => (p.videoUrl ? [p.videoUrl] : []));
  }

  /** Each direct post's post_info.video_cover_timestamp_ms (null: TikTok picks the frame), in order. */
  coverTimestamps(): Array<number | null> {
    return [...this.publishes.values()].map((p) => p.coverTimestampMs ?? null);
  }

  private init(req: SimRequest): SimReply {
    const parsed = initRequestSchema.safeParse(req.json());
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new SimHttpError('invalid', `${issue?.path.join('.') || 'body'}: ${issue?.message ?? 'invalid'}`);
    }
    if (parsed.data.source_info.source !== 'PULL_FROM_URL') {
      throw new SimHttpError('invalid', 'source_info.source: the simulator implements PULL_FROM_URL only');
    }
    const creator = /^Bearer\s+(\S+)/i.exec(req.header('authorization') ?? '')?.[1] ?? '';
    const overCap = !this.posts.spend(creator, 1).ok;
    if (overCap && this.capReportedAt === 'init') {
      this.recordQuotaRefusal();
      throw new SimHttpError('invalid', 'The user has exceeded the number of posts allowed today.', 403, {
        code: 'spam_risk_too_many_posts',
      });
    }
    const publishId = `v_pub_url~v2-1.${randomInt(1e9, 9e9)}${randomInt(1e8, 9e8)}`;
    this.recordSubmission(req);
    const publish: Publish = {
      publishId,
      postId: `7${String(randomInt(0, 1e9)).padStart(9, '0')}${String(randomInt(0, 1e9)).padStart(9, '0')}`,
      task: this.startTask(),
      videoUrl: parsed.data.source_info.video_url,
      ...(parsed.data.post_info.video_cover_timestamp_ms !== undefined
        ? { coverTimestampMs: parsed.data.post_info.video_cover_timestamp_ms }
        : {}),
    };
    if (overCap) {
      // Refused after processing: the publish ends FAILED and posts nothing.
      this.recordQuotaRefusal();
      this.publishes.set(publishId, { ...publish, overCap: true });
      return this.ok({ publish_id: publishId });
    }
    this.publishes.set(publishId, publish);
    // The post goes public when processing ends: its age counts from then.
    this.metrics.published(publish.postId, publish.task.readyAt);
    // PULL_FROM_URL: TikTok fetches and posts the video whether or not its answer gets back (answerLostNext).
    return this.lostAnswer() ?? this.ok({ publish_id: publishId });
  }

  private status(req: SimRequest): SimReply {
    const parsed = statusRequestSchema.safeParse(req.json());
    if (!parsed.success) throw new SimHttpError('invalid', 'publish_id is required');
    const entry = this.publishes.get(parsed.data.publish_id);
    if (!entry) throw new SimHttpError('invalid', `publish_id ${parsed.data.publish_id} not found`);
    const state = entry.task.state();
    const size = 4096;
    if (state === 'processing') {
      const done = Math.min(1, (Date.now() - entry.task.createdAt) / Math.max(1, entry.task.readyAt - entry.task.createdAt));
      return this.ok({ status: 'PROCESSING_DOWNLOAD', downloaded_bytes: Math.floor(size * done), uploaded_bytes: 0 });
    }
    if (state === 'failed') return this.ok({ status: 'FAILED', fail_reason: 'file_format_check_failed', downloaded_bytes: size });
    if (entry.overCap) return this.ok({ status: 'FAILED', fail_reason: 'spam_risk_too_many_posts', downloaded_bytes: size });
    return this.ok({
      status: 'PUBLISH_COMPLETE',
      publicaly_available_post_id: [BigInt(entry.postId)],
      downloaded_bytes: size,
      uploaded_bytes: 0,
    });
  }

  /**
   * The creator's own public videos among the ids asked for, with the fields asked for. A deleted video is left
   * out (the ids are filtered, not refused); a token without video.list gets 401 scope_not_authorized.
   */
  private videoQuery(req: SimRequest): SimReply {
    const fields = (req.url.searchParams.get('fields') ?? '')
      .split(',')
      .map((f) => f.trim())
      .filter(Boolean);
    const unknown = fields.find((f) => !VIDEO_FIELDS.has(f));
    if (fields.length === 0 || unknown) throw new SimHttpError('invalid', unknown ? `invalid field: ${unknown}` : 'fields is required');
    const parsed = videoQuerySchema.safeParse(req.json());
    if (!parsed.success) throw new SimHttpError('invalid', 'filters.video_ids: between 1 and 20 video ids are required');
    if (this.metrics.permissionDenied) {
      throw new SimHttpError('unauthorized', 'The user did not authorize the scope required for completing this request.', 401, {
        code: 'scope_not_authorized',
      });
    }
    const now = Date.now();
    // Publishes kept in a state file from before metrics existed count from their processing's end.
    for (const p of this.publishes.values()) if (p.task.state() === 'succeeded') this.metrics.published(p.postId, p.task.readyAt);
    const videos = parsed.data.filters.video_ids.flatMap((id) => {
      const counts = this.metrics.read(id, now);
      if (counts === 'gone' || !/^\d+$/.test(id)) return [];
      const all: Record<string, unknown> = {
        id: BigInt(id),
        create_time: Math.floor((this.metrics.publishedAt(id) ?? now) / 1000),
        view_count: counts.views,
        like_count: counts.likes,
        comment_count: counts.comments,
        share_count: counts.shares,
        title: '',
        duration: 8,
        share_url: `https://www.tiktok.com/@reelflow/video/${id}`,
      };
      return [Object.fromEntries(fields.filter((f) => f in all).map((f) => [f, all[f]]))];
    });
    return this.ok({ videos, cursor: 0, has_more: false });
  }

  /** Serialises bigint as a bare JSON number, as TikTok does for int64 ids. */
  private ok(data: Record<string, unknown>): SimReply {
    const body = JSON.stringify({ data, error: { code: 'ok', message: '', log_id: this.logId() } }, (_k, v: unknown) =>
      typeof v === 'bigint' ? `__int64:${v}` : v,
    ).replace(/"__int64:(-?\d+)"/g, '$1');
    return { status: 200, headers: { 'Content-Type': 'application/json; charset=utf-8' }, body };
  }

  private logId(): string {
    return `${new Date().toISOString().replace(/\D/g, '').slice(0, 14)}${this.newId('', 8).toUpperCase()}`;
  }
}
