/**
 * YouTube Shorts through the resumable videos.insert protocol. The video is
 * fetched from videoUrl and PUT to the session URI; interruptions are resumed
 * from what the session says it stored. The video id is the handle. A reel's
 * cover frame is then set with thumbnails.set, best effort (see setCover).
 */
import { DEFAULT_ACCOUNT, madeNothing, notReady, postGone, ProviderError, quotaExhausted, unsent, type ProviderErrorKind } from '../errors';
import { HttpClient, kindForStatus, parseJson, statusError, tryJson, type HttpResponse } from '../http';
import { nextMidnight, PACIFIC } from '../calendar';
import { sleep } from '../../shared/sleep';
import type { PostMetrics, Publisher, PublishRequest, UploadStatus } from '../types';
import {
  googleErrorSchema,
  thumbnailSetSchema,
  videoListSchema,
  videoResourceSchema,
  videoStatisticsListSchema,
  type InsertBody,
} from './schemas';

const PROVIDER = 'youtube';

export interface YouTubeClientOptions {
  /** e.g. https://www.googleapis.com/upload/youtube/v3 */
  uploadBaseUrl: string;
  /** e.g. https://www.googleapis.com/youtube/v3 */
  apiBaseUrl: string;
  accessToken: string;
  /** Default private: unverified API projects get private uploads anyway. */
  privacyStatus?: 'public' | 'unlisted' | 'private';
  /** Default 22 (People & Blogs). */
  categoryId?: string;
  /** Timeout of metadata calls. Default 30 000 ms. */
  timeoutMs?: number;
  /** Timeout of the video download and each upload PUT. Default 600 000 ms. */
  transferTimeoutMs?: number;
  /** The channel / Cloud project this token spends, named in quota errors (details.account). Default 'default'. */
  account?: string;
  /** Clock for the quota reset (tests). */
  now?: () => number;
  /** Largest cover thumbnails.set takes; a bigger one is not sent. Default 2 MB (Google's stated limit). */
  coverMaxBytes?: number;
  /** Wait before the one retry of a cover refused for a transient reason or a rate limit. Default 1 000 ms. */
  coverRetryMs?: number;
  /**
   * The whole cover step (download, thumbnails.set, its retry) ends by then. It runs before the activity records the
   * video id, so it must stay well inside the job's time limit: an attempt failed there would upload again.
   * Default 30 000 ms.
   */
  coverTimeoutMs?: number;
}

/** The upload's handle, and why the cover frame is not set when it is not (the video is up either way). */
export interface YouTubeUpload {
  handle: string;
  coverError?: string;
}

// Rounds in a row without new bytes stored before giving up on the session (the caller's retry opens a new one).
const MAX_STALLED_ROUNDS = 4;
const RESUME_BACKOFF_MS = 250;
const COVER_MAX_BYTES = 2 * 1024 * 1024;
// A Retry-After longer than this is not waited for: the cover is reported as not set instead.
const COVER_RETRY_CAP_MS = 5_000;

export class YouTubeClient implements Publisher {
  readonly provider = PROVIDER;
  /** videos.list: 1 unit a call (Google's quota page), every poll while a Short processes. */
  readonly statusReadUnits = 1;
  readonly handleIsPostId = true;
  private readonly api: HttpClient;
  private readonly upload: HttpClient;
  /** No credentials: the video host must never see the YouTube token. */
  private readonly media: HttpClient;
  private readonly transferTimeoutMs: number;
  private readonly coverRetryMs: number;

  constructor(private readonly options: YouTubeClientOptions) {
    const auth = { bearerToken: options.accessToken, describeError: googleErrorDescriber(PROVIDER, options.account, options.now) };
    this.api = new HttpClient({ provider: PROVIDER, baseUrl: options.apiBaseUrl, timeoutMs: options.timeoutMs, ...auth });
    this.upload = new HttpClient({ provider: PROVIDER, baseUrl: options.uploadBaseUrl, timeoutMs: options.timeoutMs, ...auth });
    this.media = new HttpClient({ provider: PROVIDER, baseUrl: options.apiBaseUrl, timeoutMs: options.timeoutMs });
    this.transferTimeoutMs = options.transferTimeoutMs ?? 600_000;
    this.coverRetryMs = options.coverRetryMs ?? 1_000;
  }

  /**
   * Returns the video id only once YouTube has stored every byte, so a handle
   * always names a real video. There is no idempotency key: a retry after a
   * failure here opens a new session. A lost final response is recovered
   * inside this call by querying the session, so that case does not duplicate.
   * For the same reason nothing after the transfer throws: the cover is best effort.
   */
  async createUpload(request: PublishRequest): Promise<YouTubeUpload> {
    const video = await this.download(request.videoUrl).catch((err: unknown) => {
      throw unsent(err);
    });
    // A session with no byte in it never becomes a video: its failure, whatever the answer, posted nothing.
    const sessionUri = await this.openSession(request, video).catch((err: unknown) => {
      throw madeNothing(err);
    });
    const handle = await this.transfer(sessionUri, video);
    if (!request.coverUrl) return { handle };
    const coverError = await this.setCover(handle, request.coverUrl);
    return coverError ? { handle, coverError } : { handle };
  }

  /**
   * `POST {upload}/thumbnails/set?videoId=…` with the image as the body (50 units). One try, and one more after
   * coverRetryMs when the refusal is transient or a rate limit; anything else is returned as the reason, never
   * thrown. A 403 forbidden is what a channel that may not set custom thumbnails gets (not phone-verified).
   */
  private async setCover(videoId: string, coverUrl: string): Promise<string | undefined> {
    const timeoutMs = this.options.coverTimeoutMs ?? 30_000;
    const signal = AbortSignal.timeout(timeoutMs);
    for (let attempt = 1; ; attempt += 1) {
      try {
        const image = await this.downloadCover(coverUrl, signal);
        await this.upload.json(
          {
            method: 'POST',
            path: '/thumbnails/set',
            query: { videoId },
            body: image.bytes,
            headers: { 'Content-Type': image.type },
            signal,
          },
          thumbnailSetSchema,
        );
        return undefined;
      } catch (err) {
        if (signal.aborted) return coverFailure(videoId, `the cover step gave up after ${timeoutMs} ms (coverTimeoutMs)`);
        const wait = err instanceof ProviderError && retryableCover(err) ? (err.details.retryAfterMs ?? this.coverRetryMs) : undefined;
        if (attempt > 1 || wait === undefined || wait > COVER_RETRY_CAP_MS) return coverFailure(videoId, err);
        await sleep(wait);
      }
    }
  }

  private async downloadCover(coverUrl: string, signal: AbortSignal): Promise<{ bytes: Uint8Array; type: string }> {
    const res = await this.media.send({ method: 'GET', path: coverUrl, signal });
    if (res.status < 200 || res.status >= 300) throw statusError(PROVIDER, res, `cover download failed: HTTP ${res.status}`);
    if (res.bytes.length === 0) throw new ProviderError(PROVIDER, 'permanent', 'cover download returned an empty file');
    const max = this.options.coverMaxBytes ?? COVER_MAX_BYTES;
    if (res.bytes.length > max) {
      throw new ProviderError(PROVIDER, 'permanent', `the cover is ${res.bytes.length} bytes; thumbnails.set takes at most ${max}`, {
        code: 'mediaBodyTooLarge',
      });
    }
    // The host's type when it is one YouTube takes, else what the bytes say; YouTube judges anything else.
    const type = (res.headers.get('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
    if (type === 'image/jpeg' || type === 'image/png') return { bytes: res.bytes, type };
    return { bytes: res.bytes, type: isPng(res.bytes) ? 'image/png' : 'image/jpeg' };
  }

  async getStatus(handle: string): Promise<UploadStatus> {
    const { items } = await this.api.json(
      { method: 'GET', path: '/videos', query: { part: 'status,processingDetails', id: handle } },
      videoListSchema,
    );
    const item = items[0];
    if (!item) return { state: 'failed', message: `video ${handle} not found (deleted, or not visible to this token)`, code: 'notFound' };
    const upload = item.status?.uploadStatus;
    const processing = item.processingDetails?.processingStatus;
    if (upload === 'failed' || upload === 'rejected' || upload === 'deleted') {
      const reason = item.status?.failureReason ?? item.status?.rejectionReason;
      return { state: 'failed', message: `upload ${upload}${reason ? `: ${reason}` : ''}`, code: reason ?? upload };
    }
    if (processing === 'failed' || processing === 'terminated') {
      const reason = item.processingDetails?.processingFailureReason;
      return { state: 'failed', message: `processing ${processing}${reason ? `: ${reason}` : ''}`, code: reason ?? processing };
    }
    if (processing === 'succeeded' || upload === 'processed') {
      return { state: 'published', postId: item.id, url: `https://www.youtube.com/shorts/${item.id}` };
    }
    return { state: 'processing' };
  }

  /** The upload already carries its privacy status: "publishing" is waiting for processing to succeed. */
  async publish(handle: string): Promise<{ postId: string; url?: string }> {
    const status = await this.getStatus(handle);
    if (status.state === 'published') return { postId: status.postId, ...(status.url ? { url: status.url } : {}) };
    if (status.state === 'failed') {
      throw new ProviderError(
        PROVIDER,
        'permanent',
        `video ${handle}: ${status.message}`,
        status.code !== undefined ? { code: status.code } : {},
      );
    }
    throw notReady(PROVIDER, `video ${handle} is still processing`);
  }

  /**
   * `GET /videos?part=statistics&id=…` (1 unit). A video missing from items was deleted, made private or is not
   * visible to this token; a token without the youtube.readonly scope gets 403 forbidden (permanent).
   */
  async readMetrics(videoId: string): Promise<PostMetrics> {
    const { items } = await this.api.json(
      { method: 'GET', path: '/videos', query: { part: 'statistics', id: videoId } },
      videoStatisticsListSchema,
    );
    const item = items.find((i) => i.id === videoId);
    if (!item) throw postGone(PROVIDER, `video ${videoId} is not listed (deleted, private, or not visible to this token)`);
    const stats = item.statistics ?? {};
    const likes = stats.likeCount ?? null;
    const comments = stats.commentCount ?? null;
    return {
      views: stats.viewCount ?? null,
      reach: null,
      likes,
      comments,
      shares: null,
      saves: null,
      interactions: likes !== null && comments !== null ? likes + comments : null,
    };
  }

  private async download(videoUrl: string): Promise<{ bytes: Uint8Array; type: string }> {
    const res = await this.media.send({ method: 'GET', path: videoUrl, timeoutMs: this.transferTimeoutMs });
    if (res.status < 200 || res.status >= 300) {
      throw statusError(PROVIDER, res, `video download failed: HTTP ${res.status} from the video host`);
    }
    if (res.bytes.length === 0) throw new ProviderError(PROVIDER, 'permanent', 'video download returned an empty file');
    const type = res.headers.get('content-type') ?? '';
    return { bytes: res.bytes, type: /^video\//i.test(type) ? type : 'video/mp4' };
  }

  private async openSession(request: PublishRequest, video: { bytes: Uint8Array; type: string }): Promise<string> {
    const body: InsertBody = {
      snippet: {
        // Titles are limited to 100 characters and reject angle brackets.
        title: request.title.replace(/[<>]/g, '').slice(0, 100) || 'Untitled',
        description: request.caption.replace(/[<>]/g, '').slice(0, 5000),
        categoryId: this.options.categoryId ?? '22',
      },
      status: { privacyStatus: this.options.privacyStatus ?? 'private', selfDeclaredMadeForKids: false },
    };
    const res = await this.upload.send({
      method: 'POST',
      path: '/videos',
      query: { uploadType: 'resumable', part: 'snippet,status' },
      json: body,
      headers: {
        'Content-Type': 'application/json; charset=UTF-8',
        'X-Upload-Content-Length': String(video.bytes.length),
        'X-Upload-Content-Type': video.type,
      },
    });
    if (res.status < 200 || res.status >= 300) throw this.upload.error(res);
    const location = res.headers.get('location');
    if (!location)
      throw new ProviderError(PROVIDER, 'malformed', 'upload session opened without a Location header', { status: res.status });
    return location;
  }

  private async transfer(sessionUri: string, video: { bytes: Uint8Array; type: string }): Promise<string> {
    const total = video.bytes.length;
    let offset = 0;
    let mustQuery = false;
    let stalled = 0;
    for (;;) {
      let res: HttpResponse | undefined;
      try {
        res = mustQuery ? await this.queryStored(sessionUri, total) : await this.putFrom(sessionUri, video, offset);
      } catch (err) {
        if (!(err instanceof ProviderError) || err.kind !== 'transient') throw err;
      }
      if (res && (res.status === 200 || res.status === 201)) return parseJson(PROVIDER, res, videoResourceSchema).id;
      if (res && res.status === 308) {
        const next = storedUntil(res.headers.get('range'));
        stalled = next > offset ? 0 : stalled + 1;
        offset = next;
        mustQuery = false;
      } else if (res && res.status === 404) {
        throw new ProviderError(PROVIDER, 'transient', 'upload session expired; a new upload must start over', {
          status: 404,
          code: 'session_expired',
        });
      } else if (res && res.status < 500) {
        throw this.upload.error(res);
      } else {
        // 5xx or a dropped connection: ask the session what it kept before sending more.
        mustQuery = true;
        stalled += 1;
      }
      if (stalled > MAX_STALLED_ROUNDS) {
        throw new ProviderError(
          PROVIDER,
          'transient',
          `upload made no progress after ${MAX_STALLED_ROUNDS} resumes (${offset}/${total} bytes stored)`,
          {
            code: 'upload_stalled',
          },
        );
      }
      if (stalled > 0) await sleep(RESUME_BACKOFF_MS * 2 ** (stalled - 1));
    }
  }

  private putFrom(sessionUri: string, video: { bytes: Uint8Array; type: string }, offset: number): Promise<HttpResponse> {
    const total = video.bytes.length;
    return this.upload.send({
      method: 'PUT',
      path: sessionUri,
      body: video.bytes.subarray(offset),
      headers: {
        'Content-Type': video.type,
        ...(offset > 0 ? { 'Content-Range': `bytes ${offset}-${total - 1}/${total}` } : {}),
      },
      timeoutMs: this.transferTimeoutMs,
    });
  }

  private queryStored(sessionUri: string, total: number): Promise<HttpResponse> {
    return this.upload.send({ method: 'PUT', path: sessionUri, body: '', headers: { 'Content-Range': `bytes */${total}` } });
  }
}

// A malformed 2xx is not retried: the cover was most likely set.
const retryableCover = (err: ProviderError) => err.kind === 'transient' || err.kind === 'rate_limited';

function coverFailure(videoId: string, err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  const code = err instanceof ProviderError ? err.details.code : undefined;
  if (code === 'forbidden') {
    return (
      `cover not set on video ${videoId}: this channel may not set custom thumbnails ` +
      `(expected until the channel is verified; the video is up with a frame YouTube picks): ${message}`
    );
  }
  return `cover not set on video ${videoId} (the video is up with a frame YouTube picks): ${message}`;
}

const PNG_MAGIC = [0x89, 0x50, 0x4e, 0x47];
const isPng = (bytes: Uint8Array) => PNG_MAGIC.every((b, i) => bytes[i] === b);

/** `Range: bytes=0-N` means N+1 bytes are stored; no header means none. */
function storedUntil(range: string | null): number {
  const match = /bytes=0-(\d+)/.exec(range ?? '');
  return match ? Number(match[1]) + 1 : 0;
}

/**
 * Reads Google's error envelope. The daily quota (quotaExceeded, dailyLimitExceeded) and the channel's upload
 * cap (uploadLimitExceeded) are quota_exhausted until the next midnight Pacific, when the Data API's day ends;
 * Google publishes no window for the upload cap, so the same reset is the best estimate.
 */
export function googleErrorDescriber(
  provider: string,
  account = DEFAULT_ACCOUNT,
  now: () => number = Date.now,
): (res: HttpResponse) => ProviderError | undefined {
  return (res) => {
    const parsed = googleErrorSchema.safeParse(tryJson(res.text));
    if (!parsed.success) return undefined;
    const reasons = (parsed.data.error.errors ?? []).map((e) => e.reason).filter((r): r is string => Boolean(r));
    const message = `${parsed.data.error.message}${reasons.length ? ` (${reasons.join(', ')})` : ''}`;
    const kind = kindForGoogleError(reasons, res.status);
    const code = reasons[0] ?? parsed.data.error.code ?? res.status;
    if (kind !== 'quota_exhausted') return statusError(provider, res, message, { kind, code });
    const at = now();
    const resetAt = nextMidnight(PACIFIC, new Date(at));
    return quotaExhausted(provider, `${message}; the quota resets at midnight Pacific (${resetAt.toISOString()})`, {
      account,
      resetAt,
      status: res.status,
      code,
      now: at,
    });
  };
}

// Caps that last until the Data API's day ends (midnight Pacific).
const QUOTA_REASONS = new Set(['quotaExceeded', 'dailyLimitExceeded', 'uploadLimitExceeded']);
// Short throttles: back off and retry.
const THROTTLE_REASONS = new Set(['rateLimitExceeded', 'userRateLimitExceeded']);
const TRANSIENT_REASONS = new Set(['backendError', 'internalError', 'serviceUnavailable']);

export function kindForGoogleError(reasons: string[], httpStatus: number): ProviderErrorKind {
  if (reasons.some((r) => QUOTA_REASONS.has(r))) return 'quota_exhausted';
  if (reasons.some((r) => THROTTLE_REASONS.has(r))) return 'rate_limited';
  if (reasons.some((r) => TRANSIENT_REASONS.has(r))) return 'transient';
  return kindForStatus(httpStatus);
}
