/**
 * Local YouTube Data API v3: resumable upload sessions (Location header,
 * 308 Resume Incomplete with Range, `Content-Range: bytes * /total` queries),
 * then processing for taskDurationMs before the video reads as processed.
 */
import { randomBytes } from 'node:crypto';
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

interface Session {
  id: string;
  resource: InsertBody;
  chunks: Buffer[];
  received: number;
  videoId?: string;
}

interface Video {
  id: string;
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
}

const UPLOAD_PATH = '/upload/youtube/v3/videos';

export class YouTubeSimulator extends SimulatorServer {
  /** Competitor channels: feeds, channel pages and the Data API's reads (youtube-discovery.ts). */
  readonly discovery = this.extend(new YouTubeDiscoverySim(() => this.url));
  /** Watch pages and media files yt-dlp downloads competitor audio from (media.ts). */
  readonly media = this.extend(new MediaHost(() => this.url));
  /** Store at most this many bytes per PUT and answer 308, as a server keeping a partial chunk would. Default unlimited. */
  maxBytesPerPut = Number.POSITIVE_INFINITY;
  /** The next N data PUTs keep what maxBytesPerPut allows, then answer 503, like a connection dropped mid-upload. */
  failNextPuts = 0;
  private sessions = new Map<string, Session>();
  private videos = new Map<string, Video>();

  constructor(options: SimulatorOptions = {}) {
    super('youtube', options);
    this.route('POST', /^\/upload\/youtube\/v3\/videos$/, (req) => this.openSession(req));
    this.route('PUT', /^\/upload\/youtube\/v3\/videos$/, (req) => this.putBytes(req));
    this.route('GET', /^\/youtube\/v3\/videos$/, (req) => this.listVideos(req));
  }

  protected override onReset(): void {
    this.sessions = new Map();
    this.videos = new Map();
    this.maxBytesPerPut = Number.POSITIVE_INFINITY;
    this.failNextPuts = 0;
  }
  protected override saveState(): SavedYouTube {
    return {
      sessions: [...this.sessions.values()].map(({ chunks, ...rest }) => ({ ...rest, bytes: Buffer.concat(chunks).toString('base64') })),
      videos: [...this.videos.values()].map((v) => ({ ...v, task: v.task.toJSON() })),
    };
  }

  protected override loadState(state: SavedYouTube): void {
    for (const { bytes, ...rest } of state.sessions) {
      const stored = Buffer.from(bytes, 'base64');
      this.sessions.set(rest.id, { ...rest, chunks: stored.length ? [stored] : [] });
    }
    for (const v of state.videos) this.videos.set(v.id, { ...v, task: this.restoreTask(v.task) });
  }

  protected errorReply(kind: SimErrorKind, message: string, extra: Record<string, unknown>): SimReply {
    const g = GOOGLE[kind];
    const reason = typeof extra.reason === 'string' ? extra.reason : g.reason;
    const text = g.message ?? message;
    return {
      status: g.status,
      body: { error: { code: g.status, message: text, errors: [{ message: text, domain: g.domain, reason }], status: g.statusText } },
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
    const id = randomBytes(12).toString('base64url');
    this.recordSubmission();
    this.sessions.set(id, { id, resource: parsed.data, chunks: [], received: 0 });
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
    this.videos.set(videoId, { id: videoId, resource: session.resource, bytes: session.received, task: this.startTask() });
    session.chunks = [];
    return this.videoReply(videoId, 201);
  }

  private listVideos(req: SimRequest): SimReply {
    const q = req.url.searchParams;
    const part = q.get('part');
    if (!part) throw invalid('Required parameter: part', 'required');
    const ids = (q.get('id') ?? '').split(',').filter(Boolean);
    if (ids.length === 0) throw invalid('No filter selected. Expected one of: id, myRating, chart', 'missingRequiredParameter');
    const parts = new Set(part.split(',').map((p) => p.trim()));
    const items = ids.flatMap((id) => {
      const video = this.videos.get(id);
      return video ? [this.resource(video, parts)] : [];
    });
    return {
      status: 200,
      body: { kind: 'youtube#videoListResponse', items, pageInfo: { totalResults: items.length, resultsPerPage: items.length } },
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

/** 308 Resume Incomplete; Range only once something is stored. */
function incomplete(session: Session): SimReply {
  return { status: 308, headers: session.received > 0 ? { Range: `bytes=0-${session.received - 1}` } : {}, body: '' };
}

function invalid(message: string, reason: string): SimHttpError {
  return new SimHttpError('invalid', message, undefined, { reason });
}
