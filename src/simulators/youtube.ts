/**
 * Local YouTube Data API v3: resumable upload sessions (Location header,
 * 308 Resume Incomplete with Range, `Content-Range: bytes * /total` queries),
 * then processing for taskDurationMs before the video reads as processed.
 *
 * Quotas, on the Data API's calendar day (midnight Pacific, or every windowMs when time is compressed): the
 * project's units (videos.insert costs insertCost, a videos.list listCost; past them 403 quotaExceeded) and each
 * channel's uploads (one channel per OAuth token; past them 400 uploadLimitExceeded). Both unlimited by default.
 * Knobs: GET/POST /__sim/quotas {dailyUnits, insertCost, listCost, thumbnailCost, channelUploadsPerDay, windowMs, timeZone}.
 *
 * Covers: POST /upload/youtube/v3/thumbnails/set?videoId=… with a JPEG or PNG of at most 2 MB as the body, on a
 * video of the caller's channel (thumbnailCost units); `thumbnailsForbidden` answers 403 forbidden, as Google does
 * to a channel that may not set custom thumbnails (not verified), and thumbnailsSet() lists what was set.
 */
import { randomBytes } from 'node:crypto';
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
import { insertBodySchema, type InsertBody } from '../providers/youtube/schemas';
import { YouTubeDiscoverySim } from './youtube-discovery';
import { MediaHost } from './media';
import { CalendarQuota, calendarKnobsPatch } from './quota';
import { PostMetricsSim, type SimPostCounts } from './post-metrics';
import { PACIFIC } from '../providers/calendar';

export interface YouTubeSimulatorOptions extends SimulatorOptions {
  /** The project's Data API units per day (Google's default: 10 000). Default unlimited, as before quotas were simulated. */
  dailyUnits?: number | null;
  /**
   * Units a videos.insert costs. Default 1600: Google's quota page now lists 100 inserts a day in a bucket of their
   * own, while older copies (and its own summary) say 1600 of the 10 000 (providers-2.md §6).
   */
  insertCost?: number;
  /** Units a videos.list (status read) costs. Default 1. */
  listCost?: number;
  /** Units a thumbnails.set costs. Default 50 (Google's quota page). */
  thumbnailCost?: number;
  /** Uploads per channel per day (uploadLimitExceeded; Google publishes no number). Default unlimited. */
  channelUploadsPerDay?: number | null;
  /** Day length in ms for time-compressed runs; default null, the real day ending at midnight of timeZone. */
  windowMs?: number | null;
  /** Default America/Los_Angeles. */
  timeZone?: string;
}

/** The simulator serves one Cloud project: every token spends the same units. */
const PROJECT = 'project';

const quotaPatch = z
  .object({
    dailyUnits: z.number().int().min(0).nullable(),
    insertCost: z.number().int().min(0),
    listCost: z.number().int().min(0),
    thumbnailCost: z.number().int().min(0),
    channelUploadsPerDay: z.number().int().min(0).nullable(),
    windowMs: z.number().int().min(1).nullable(),
    timeZone: calendarKnobsPatch.shape.timeZone,
  })
  .partial()
  .strict();

interface Session {
  id: string;
  /** The channel (OAuth token) uploading; absent in state files from before covers. */
  channel?: string;
  resource: InsertBody;
  chunks: Buffer[];
  received: number;
  videoId?: string;
}

interface Video {
  id: string;
  channel?: string;
  resource: InsertBody;
  bytes: number;
  task: SimTask;
}

const GOOGLE: Record<SimErrorKind, { status: number; reason: string; domain: string; statusText: string; message?: string }> = {
  unauthorized: {
    status: 401,
    reason: 'required',
    domain: 'global',
    statusText: 'UNAUTHENTICATED',
    message:
      'Request is missing required authentication credential. ' +
      'Expected OAuth 2 access token, login cookie or other valid authentication credential.',
  },
  rate_limited: { status: 429, reason: 'rateLimitExceeded', domain: 'youtube.quota', statusText: 'RESOURCE_EXHAUSTED' },
  server_error: { status: 500, reason: 'backendError', domain: 'global', statusText: 'INTERNAL' },
  unavailable: { status: 503, reason: 'backendError', domain: 'global', statusText: 'UNAVAILABLE' },
  invalid: { status: 400, reason: 'badRequest', domain: 'youtube.video', statusText: 'INVALID_ARGUMENT' },
  not_found: { status: 404, reason: 'notFound', domain: 'global', statusText: 'NOT_FOUND' },
};

interface SavedYouTube {
  /** Stored bytes of an unfinished session, base64: a resumed upload continues where it stopped. */
  sessions: Array<Omit<Session, 'chunks'> & { bytes: string }>;
  videos: Array<Omit<Video, 'task'> & { task: SimTaskJson }>;
  /** Units and uploads spent in the current day (absent in files written before quotas). */
  units?: ReturnType<CalendarQuota['toJSON']>;
  uploads?: ReturnType<CalendarQuota['toJSON']>;
}

const UPLOAD_PATH = '/upload/youtube/v3/videos';
const THUMBNAIL_MAX_BYTES = 2 * 1024 * 1024;
const THUMBNAIL_TYPES: Record<string, (bytes: Buffer) => boolean> = {
  'image/jpeg': (b) => b.length > 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff,
  'image/png': (b) => b.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])),
};

/** A cover set with thumbnails.set. */
export interface SimThumbnail {
  videoId: string;
  bytes: Buffer;
  contentType: string;
}

export class YouTubeSimulator extends SimulatorServer {
  /** Competitor channels: feeds, channel pages and the Data API's reads (youtube-discovery.ts). */
  readonly discovery = this.extend(
    new YouTubeDiscoverySim(
      () => this.url,
      () => this.recordQuotaRefusal(),
    ),
  );
  /** Watch pages and media files yt-dlp downloads competitor audio from (media.ts). */
  readonly media = this.extend(new MediaHost(() => this.url));
  /** Our uploads' statistics as they grow (post-metrics.ts): videos.list?part=statistics. */
  readonly metrics = this.extend(new PostMetricsSim());
  /** Store at most this many bytes per PUT and answer 308, as a server keeping a partial chunk would. Default unlimited. */
  maxBytesPerPut = Number.POSITIVE_INFINITY;
  /** The next N data PUTs keep what maxBytesPerPut allows, then answer 503, like a connection dropped mid-upload. */
  failNextPuts = 0;
  /** thumbnails.set answers 403 forbidden: the channel may not set custom thumbnails (not verified). */
  thumbnailsForbidden = false;
  /** The next N thumbnails.set answer 503 backendError. */
  failNextThumbnails = 0;
  insertCost: number;
  listCost: number;
  thumbnailCost: number;
  private readonly costs: { insertCost: number; listCost: number; thumbnailCost: number };
  /** The project's units per day. */
  readonly units: CalendarQuota;
  /** Each channel's uploads per day (same day as the units). */
  readonly uploads: CalendarQuota;
  private sessions = new Map<string, Session>();
  private videos = new Map<string, Video>();
  private thumbnails: SimThumbnail[] = [];

  constructor(options: YouTubeSimulatorOptions = {}) {
    super('youtube', options);
    const day = { windowMs: options.windowMs ?? null, timeZone: options.timeZone ?? PACIFIC };
    this.units = new CalendarQuota({ limit: options.dailyUnits ?? null, ...day });
    this.uploads = new CalendarQuota({ limit: options.channelUploadsPerDay ?? null, ...day });
    this.costs = { insertCost: options.insertCost ?? 1600, listCost: options.listCost ?? 1, thumbnailCost: options.thumbnailCost ?? 50 };
    this.insertCost = this.costs.insertCost;
    this.listCost = this.costs.listCost;
    this.thumbnailCost = this.costs.thumbnailCost;
    this.route('POST', /^\/upload\/youtube\/v3\/videos$/, (req) => this.openSession(req));
    this.route('PUT', /^\/upload\/youtube\/v3\/videos$/, (req) => this.putBytes(req));
    this.route('GET', /^\/youtube\/v3\/videos$/, (req) => this.listVideos(req));
    this.route('POST', /^\/upload\/youtube\/v3\/thumbnails\/set$/, (req) => this.setThumbnail(req));
  }

  /** Every cover set, in order (a second set of the same video is listed again). */
  thumbnailsSet(): SimThumbnail[] {
    return this.thumbnails.map((t) => ({ ...t }));
  }

  protected override quotaKnobs() {
    return {
      dailyUnits: this.units.knobs.limit,
      insertCost: this.insertCost,
      listCost: this.listCost,
      thumbnailCost: this.thumbnailCost,
      channelUploadsPerDay: this.uploads.knobs.limit,
      windowMs: this.units.knobs.windowMs,
      timeZone: this.units.knobs.timeZone,
    };
  }

  protected override setQuotaKnobs(patch: unknown): ReturnType<YouTubeSimulator['quotaKnobs']> {
    const { dailyUnits, insertCost, listCost, thumbnailCost, channelUploadsPerDay, ...day } = quotaPatch.parse(patch);
    this.units.configure({ ...day, ...(dailyUnits !== undefined ? { limit: dailyUnits } : {}) });
    this.uploads.configure({ ...day, ...(channelUploadsPerDay !== undefined ? { limit: channelUploadsPerDay } : {}) });
    if (insertCost !== undefined) this.insertCost = insertCost;
    if (listCost !== undefined) this.listCost = listCost;
    if (thumbnailCost !== undefined) this.thumbnailCost = thumbnailCost;
    return this.quotaKnobs();
  }

  protected override onReset(): void {
    this.units.reset();
    this.uploads.reset();
    Object.assign(this, this.costs);
    this.sessions = new Map();
    this.videos = new Map();
    this.thumbnails = [];
    this.maxBytesPerPut = Number.POSITIVE_INFINITY;
    this.failNextPuts = 0;
    this.thumbnailsForbidden = false;
    this.failNextThumbnails = 0;
  }
  protected override saveState(): SavedYouTube {
    return {
      sessions: [...this.sessions.values()].map(({ chunks, ...rest }) => ({ ...rest, bytes: Buffer.concat(chunks).toString('base64') })),
      videos: [...this.videos.values()].map((v) => ({ ...v, task: v.task.toJSON() })),
      units: this.units.toJSON(),
      uploads: this.uploads.toJSON(),
    };
  }

  protected override loadState(state: SavedYouTube): void {
    for (const { bytes, ...rest } of state.sessions) {
      const stored = Buffer.from(bytes, 'base64');
      this.sessions.set(rest.id, { ...rest, chunks: stored.length ? [stored] : [] });
    }
    for (const v of state.videos) this.videos.set(v.id, { ...v, task: this.restoreTask(v.task) });
    this.units.load(state.units);
    this.uploads.load(state.uploads);
  }

  protected errorReply(kind: SimErrorKind, message: string, extra: Record<string, unknown>): SimReply {
    const g = GOOGLE[kind];
    const reason = typeof extra.reason === 'string' ? extra.reason : g.reason;
    const text = g.message ?? message;
    // A 403 (forbidden) carries its own code and status in the body, as Google sends them.
    const status = typeof extra.status === 'number' ? extra.status : g.status;
    const statusText = status === 403 ? 'PERMISSION_DENIED' : g.statusText;
    return {
      status,
      body: { error: { code: status, message: text, errors: [{ message: text, domain: g.domain, reason }], status: statusText } },
    };
  }

  private openSession(req: SimRequest): SimReply {
    const q = req.url.searchParams;
    if (q.get('uploadType') !== 'resumable') throw invalid('The simulator implements uploadType=resumable only', 'badRequest');
    if (!q.get('part')) throw invalid('Required parameter: part', 'required');
    const parsed = insertBodySchema.safeParse(req.json());
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const field = issue?.path.join('.') ?? '';
      const reason = field.endsWith('title')
        ? 'invalidTitle'
        : field.endsWith('description')
          ? 'invalidDescription'
          : 'invalidVideoMetadata';
      throw invalid(`${field || 'body'}: ${issue?.message ?? 'invalid'}`, reason);
    }
    // Units first (the project's day), then the channel's own upload count; a refusal spends neither.
    const refusal = this.spendUnits(this.insertCost) ?? this.spendUpload(bearer(req));
    if (refusal) return refusal;
    const id = randomBytes(12).toString('base64url');
    this.recordSubmission(req);
    this.sessions.set(id, { id, channel: bearer(req), resource: parsed.data, chunks: [], received: 0 });
    return { status: 200, headers: { Location: `${this.url}${UPLOAD_PATH}?uploadType=resumable&upload_id=${id}` }, body: '' };
  }

  private putBytes(req: SimRequest): SimReply {
    const session = this.sessions.get(req.url.searchParams.get('upload_id') ?? '');
    if (!session) throw new SimHttpError('not_found', 'Upload session not found or expired');
    const range = req.header('content-range');
    const query = range ? /^bytes \*\/(\d+)$/.exec(range) : null;
    if (query) {
      return session.videoId ? this.videoReply(session.videoId, 200) : incomplete(session);
    }
    if (session.videoId) return this.videoReply(session.videoId, 200);

    let start = 0;
    let total = req.body.length;
    if (range) {
      const m = /^bytes (\d+)-(\d+)\/(\d+)$/.exec(range);
      if (!m) throw invalid(`Invalid Content-Range: ${range}`, 'badRequest');
      start = Number(m[1]);
      total = Number(m[3]);
      if (Number(m[2]) - start + 1 !== req.body.length) throw invalid('Content-Range does not match the body length', 'badRequest');
    } else {
      // A whole-file PUT restarts the session's bytes.
      session.chunks = [];
      session.received = 0;
    }
    if (total === 0) throw invalid('The request does not include the video content', 'mediaBodyRequired');
    if (start !== session.received) return incomplete(session);

    const kept = req.body.subarray(0, Math.min(req.body.length, this.maxBytesPerPut));
    session.chunks.push(Buffer.from(kept));
    session.received += kept.length;
    if (this.failNextPuts > 0 && session.received < total) {
      this.failNextPuts -= 1;
      throw new SimHttpError('unavailable', 'upload interrupted (simulated failNextPuts)');
    }
    if (session.received < total) return incomplete(session);

    const videoId = randomBytes(8).toString('base64url').slice(0, 11);
    session.videoId = videoId;
    const task = this.startTask();
    this.videos.set(videoId, { id: videoId, channel: session.channel, resource: session.resource, bytes: session.received, task });
    // Public once processed: its age counts from then.
    this.metrics.published(videoId, task.readyAt);
    session.chunks = [];
    return this.videoReply(videoId, 201);
  }

  private listVideos(req: SimRequest): SimReply {
    const refusal = this.spendUnits(this.listCost);
    if (refusal) return refusal;
    const q = req.url.searchParams;
    const part = q.get('part');
    if (!part) throw invalid('Required parameter: part', 'required');
    const ids = (q.get('id') ?? '').split(',').filter(Boolean);
    if (ids.length === 0) throw invalid('No filter selected. Expected one of: id, myRating, chart', 'missingRequiredParameter');
    const parts = new Set(part.split(',').map((p) => p.trim()));
    if (parts.has('statistics') && this.metrics.permissionDenied) {
      throw new SimHttpError('invalid', 'The request is not properly authorized to retrieve the specified video.', 403, {
        reason: 'forbidden',
        status: 403,
      });
    }
    // A deleted video is simply missing from items, as are unknown ids. A post added through /__sim/metrics/posts
    // has no upload here: it reads as a processed public video.
    const items = ids.flatMap((id) => {
      const video = this.videos.get(id);
      if (this.metrics.isDeleted(id) || (!video && !this.metrics.knows(id))) return [];
      // Uploads kept in a state file from before metrics existed count from their processing's end.
      if (video) this.metrics.published(id, video.task.readyAt);
      return [video ? this.resource(video, parts) : this.postResource(id, parts)];
    });
    return {
      status: 200,
      body: { kind: 'youtube#videoListResponse', items, pageInfo: { totalResults: items.length, resultsPerPage: items.length } },
    };
  }

  /** thumbnails.set: checks as Google documents them, then the units; a refusal spends none. */
  private setThumbnail(req: SimRequest): SimReply {
    const videoId = req.url.searchParams.get('videoId');
    if (!videoId) throw invalid('Required parameter: videoId', 'required');
    if (this.failNextThumbnails > 0) {
      this.failNextThumbnails -= 1;
      throw new SimHttpError('unavailable', 'Backend Error (simulated failNextThumbnails)');
    }
    const video = this.videos.get(videoId);
    // Another channel's video reads as missing, as it does to videos.list with this token.
    if (!video || (video.channel !== undefined && video.channel !== bearer(req))) {
      return thumbnailRefusal(404, 'videoNotFound', 'The video that you are trying to update cannot be found.');
    }
    if (this.thumbnailsForbidden) {
      return thumbnailRefusal(
        403,
        'forbidden',
        "The authenticated user doesn't have permissions to upload and set custom video thumbnails.",
      );
    }
    const type = (req.header('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
    if (req.body.length === 0) return thumbnailRefusal(400, 'mediaBodyRequired', 'The request does not include the image content.');
    if (req.body.length > THUMBNAIL_MAX_BYTES) {
      return thumbnailRefusal(413, 'mediaBodyTooLarge', `Media is too large: ${req.body.length} bytes, at most ${THUMBNAIL_MAX_BYTES}.`);
    }
    if (!THUMBNAIL_TYPES[type]?.(req.body)) {
      const expected = Object.keys(THUMBNAIL_TYPES).join(' or ');
      return thumbnailRefusal(
        400,
        'invalidImage',
        `The provided image content is invalid (Content-Type ${type || 'missing'}; ${expected} expected).`,
      );
    }
    const refusal = this.spendUnits(this.thumbnailCost);
    if (refusal) return refusal;
    this.thumbnails.push({ videoId, bytes: Buffer.from(req.body), contentType: type });
    const size = (name: string, width: number, height: number) => ({ url: `https://i.ytimg.com/vi/${videoId}/${name}.jpg`, width, height });
    return {
      status: 200,
      body: {
        kind: 'youtube#thumbnailSetResponse',
        etag: randomBytes(8).toString('hex'),
        items: [{ default: size('default', 120, 90), medium: size('mqdefault', 320, 180), high: size('hqdefault', 480, 360) }],
      },
    };
  }

  private spendUnits(cost: number): SimReply | undefined {
    const spent = this.units.spend(PROJECT, cost);
    if (spent.ok) return undefined;
    this.recordQuotaRefusal();
    return googleReply(
      403,
      'quotaExceeded',
      'youtube.quota',
      'The request cannot be completed because you have exceeded your <a href="/youtube/v3/getting-started#quota">quota</a>.',
    );
  }

  private spendUpload(channel: string): SimReply | undefined {
    const spent = this.uploads.spend(channel, 1);
    if (spent.ok) return undefined;
    this.recordQuotaRefusal();
    return googleReply(400, 'uploadLimitExceeded', 'youtube.video', 'The user has exceeded the number of videos they may upload.');
  }

  private postResource(id: string, parts: Set<string>): Record<string, unknown> {
    const counts = this.metrics.read(id);
    return {
      kind: 'youtube#video',
      id,
      ...(parts.has('status') ? { status: { uploadStatus: 'processed', privacyStatus: 'public' } } : {}),
      ...(parts.has('statistics') && counts !== 'gone' ? { statistics: statistics(counts) } : {}),
    };
  }

  private videoReply(videoId: string, status: number): SimReply {
    const video = this.videos.get(videoId);
    if (!video) throw new SimHttpError('server_error', 'video vanished');
    return { status, body: this.resource(video, new Set(['snippet', 'status'])) };
  }

  private resource(video: Video, parts: Set<string>): Record<string, unknown> {
    const state = video.task.state();
    const out: Record<string, unknown> = { kind: 'youtube#video', id: video.id };
    if (parts.has('snippet')) out.snippet = { ...video.resource.snippet, publishedAt: new Date(video.task.createdAt).toISOString() };
    if (parts.has('status')) {
      out.status = {
        uploadStatus: state === 'processing' ? 'uploaded' : state === 'succeeded' ? 'processed' : 'failed',
        ...(state === 'failed' ? { failureReason: 'codec' } : {}),
        privacyStatus: video.resource.status?.privacyStatus ?? 'public',
      };
    }
    if (parts.has('statistics')) {
      const counts = this.metrics.read(video.id);
      if (counts !== 'gone') out.statistics = statistics(counts);
    }
    if (parts.has('processingDetails')) {
      const span = Math.max(1, video.task.readyAt - video.task.createdAt);
      const done = Math.min(1, (Date.now() - video.task.createdAt) / span);
      out.processingDetails =
        state === 'processing'
          ? {
              processingStatus: 'processing',
              processingProgress: {
                partsTotal: 100,
                partsProcessed: Math.floor(done * 100),
                timeLeftMs: Math.max(0, video.task.readyAt - Date.now()),
              },
            }
          : state === 'succeeded'
            ? { processingStatus: 'succeeded' }
            : { processingStatus: 'failed', processingFailureReason: 'transcodeFailed' };
    }
    return out;
  }
}

/** videos.list statistics: uint64 counts travel as JSON strings. */
function statistics(counts: SimPostCounts): Record<string, string> {
  return {
    viewCount: String(counts.views),
    likeCount: String(counts.likes),
    favoriteCount: '0',
    commentCount: String(counts.comments),
  };
}

/** The OAuth token stands for the channel it uploads to. */
function bearer(req: SimRequest): string {
  return /^Bearer\s+(\S+)/i.exec(req.header('authorization') ?? '')?.[1] ?? '';
}

// A 400 is a precondition for the quota answers above; thumbnails.set's 400s pass INVALID_ARGUMENT.
const STATUS_TEXT: Record<number, string> = { 403: 'PERMISSION_DENIED', 404: 'NOT_FOUND', 413: 'INVALID_ARGUMENT' };

/**
 * Google's error envelope (errors page: 403 quotaExceeded in youtube.quota, 400 uploadLimitExceeded; thumbnails.set's
 * 400 invalidImage, 403 forbidden, 404 videoNotFound, 413 mediaBodyTooLarge).
 */
function googleReply(status: number, reason: string, domain: string, message: string, statusText = STATUS_TEXT[status]): SimReply {
  return {
    status,
    body: { error: { code: status, message, errors: [{ message, domain, reason }], status: statusText ?? 'FAILED_PRECONDITION' } },
  };
}

function thumbnailRefusal(status: number, reason: string, message: string): SimReply {
  return googleReply(status, reason, 'youtube.thumbnail', message, status === 400 ? 'INVALID_ARGUMENT' : undefined);
}

/** 308 Resume Incomplete; Range only once something is stored. */
function incomplete(session: Session): SimReply {
  return { status: 308, headers: session.received > 0 ? { Range: `bytes=0-${session.received - 1}` } : {}, body: '' };
}

function invalid(message: string, reason: string): SimHttpError {
  return new SimHttpError('invalid', message, undefined, { reason });
}
