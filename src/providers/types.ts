/**
 * The three provider contracts. Activities depend on these, never on a
 * concrete client, so tests and the demo swap in clients pointed at simulators.
 */
import type { z } from 'zod';
import type { ProviderError } from './errors';

export interface VideoRequest {
  prompt: string;
  /** 9:16 for Reels / TikTok / Shorts. */
  aspectRatio: '9:16' | '16:9' | 'Auto';
  model?: 'veo3' | 'veo3_fast';
  /** Optional image: the first frame, or with `reference` the material every segment is drawn from. */
  imageUrl?: string;
  /** Use imageUrl as a reference image (REFERENCE_2_VIDEO, veo3_fast only) instead of the first frame. */
  reference?: boolean;
  seeds?: number;
  /**
   * Names this paid call in KIE's callback (callBackUrl/<key>): an attempt that never got the call's answer
   * (its worker died inside the request) learns the task it created from the callback.
   */
  callbackKey?: string;
}

export type VideoTaskStatus =
  | { state: 'generating' }
  | { state: 'succeeded'; videoUrl: string; resolution?: string }
  | { state: 'failed'; code?: number | string; message: string };

/**
 * A task as KIE's record shows it: its state, and what it was made from (record-info's `paramJson`, the request's
 * parameters) when KIE says. `retry --task` reads it to refuse a task made for something else.
 */
export interface VideoTaskRecord {
  status: VideoTaskStatus;
  madeFrom: {
    /** The prompt the task was made from (left out when KIE_PARAMJSON_PROMPT=unreliable). */
    prompt?: string;
    /** The submit key its callback URL names (ours: `<job id>.<8 hex>`), when it was made with one. */
    callbackKey?: string;
  } | null;
}

/** A new segment continuing a finished task (KIE `extend`): same scene, look and audio bed. */
export interface ExtendRequest {
  /** The finished task to continue (a generate or an earlier extend). */
  taskId: string;
  prompt: string;
  seeds?: number;
  /**
   * Names this paid call in KIE's callback (callBackUrl/<key>): an attempt that never got the call's answer
   * (its worker died inside the request) learns the task it created from the callback.
   */
  callbackKey?: string;
}

/** VEO3 through KIE.ai: submit and extend are paid, status polling is free. */
export interface VideoGenerator {
  readonly provider: 'veo3';
  submit(request: VideoRequest): Promise<{ taskId: string }>;
  extend(request: ExtendRequest): Promise<{ taskId: string }>;
  getStatus(taskId: string): Promise<VideoTaskStatus>;
  /** getStatus with what the task was made from (one record-info read, as getStatus). */
  describeTask(taskId: string): Promise<VideoTaskRecord>;
}

export interface Transcript {
  text: string;
  language?: string;
  durationSeconds?: number;
  segments?: Array<{ start: number; end: number; text: string }>;
}

/** OpenAI: Whisper transcription and structured JSON (validated by the caller's zod schema). */
export interface TextIntelligence {
  readonly provider: 'openai';
  /** `prompt`: text the audio continues (the previous chunk's last words), so a split recording reads as one. */
  transcribe(input: { audio: Uint8Array; filename: string; language?: string; prompt?: string }): Promise<Transcript>;
  /**
   * Asks the model for JSON matching `schema` (sent as a strict json_schema) and
   * validates the answer with zod. Malformed output throws ProviderError('malformed').
   */
  generateJson<T>(input: {
    name: string;
    schema: z.ZodType<T>;
    jsonSchema: Record<string, unknown>;
    system: string;
    user: string;
  }): Promise<T>;
}

export interface PublishRequest {
  videoUrl: string;
  caption: string;
  title: string;
  /** The cover image (a reel's cover frame); a platform given none picks a frame itself. */
  coverUrl?: string;
  /** Where that frame is in the video, in ms: TikTok takes no image, only this (video_cover_timestamp_ms). */
  coverAtMs?: number;
}

export type UploadStatus =
  /** Provider still ingesting / transcoding. */
  | { state: 'processing' }
  /** Ready for the explicit publish call (Instagram container FINISHED). */
  | { state: 'ready' }
  /** Already live; postId known. */
  | { state: 'published'; postId: string; url?: string }
  | { state: 'failed'; message: string; code?: string | number }
  /** Handle no longer usable (Instagram container EXPIRED): start a new upload. */
  | { state: 'expired' };

/**
 * A published post's counts as its platform reports them now (lifetime totals, organic only on Instagram).
 * Null where the platform has no such figure (TikTok and YouTube give no reach or saves) or hides it.
 */
export interface PostMetrics {
  views: number | null;
  reach: number | null;
  likes: number | null;
  comments: number | null;
  shares: number | null;
  saves: number | null;
  /** Instagram's total_interactions; the others: likes + comments + shares (+ saves) where known. */
  interactions: number | null;
}

/**
 * Instagram Reels, TikTok, YouTube Shorts share one shape:
 * createUpload (returns the handle, which we persist) -> getStatus until ready/published -> publish,
 * then readMetrics(postId) as the post ages.
 */
export interface Publisher {
  readonly provider: 'instagram' | 'tiktok' | 'youtube';
  /**
   * `coverError`: the upload is made but its cover (request.coverUrl) could not be set, and why. A cover is best
   * effort where the platform sets it in a second call (YouTube): failing the upload for it would upload again.
   */
  createUpload(request: PublishRequest): Promise<{ handle: string; coverError?: string }>;
  getStatus(handle: string): Promise<UploadStatus>;
  /**
   * Units of the platform's per-call quota one getStatus spends (YouTube's videos.list: 1), on top of the post's
   * priced cost: the publish counts each read it makes while the video processes. Absent: status reads are free.
   */
  readonly statusReadUnits?: number;
  /** Makes a ready upload live. Platforms that publish on their own return the post once status says published. */
  publish(handle: string): Promise<{ postId: string; url?: string }>;
  /**
   * What a failed upload's status means, where the platform reports more there than a failure (TikTok's daily cap
   * as a fail_reason: a spent quota, not a broken video). Absent or null: a permanent failure.
   */
  statusError?(handle: string, status: Extract<UploadStatus, { state: 'failed' }>): ProviderError | null;
  /**
   * The post's counts now. A deleted post throws postGone() (permanent, code POST_GONE); a token without the
   * read permission a permanent error naming the missing permission.
   */
  readMetrics(postId: string): Promise<PostMetrics>;
  /**
   * readMetrics does not see the posts this account makes (TikTok's video/query answers public videos only, and posts
   * are SELF_ONLY until the app is audited): a post an operator found on the platform cannot be checked there.
   */
  readonly hidesOwnPosts?: boolean;
  /**
   * The upload's handle is the post's own id (YouTube's video id, returned once every byte is stored): a post whose
   * workflow ended with the handle known is there, and that id is what `republish --post` records.
   */
  readonly handleIsPostId?: boolean;
}

export interface Providers {
  veo3: VideoGenerator;
  openai: TextIntelligence;
  instagram: Publisher;
  tiktok: Publisher;
  youtube: Publisher;
}
