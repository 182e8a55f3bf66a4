/**
 * TikTok Content Posting API shapes (developers.tiktok.com: direct post,
 * get video status, API v2 error handling). Every answer is
 * `{data, error:{code, message, log_id}}` with error.code "ok" on success.
 */
import { z } from 'zod';

const PRIVACY_LEVELS = ['PUBLIC_TO_EVERYONE', 'MUTUAL_FOLLOW_FRIENDS', 'FOLLOWER_OF_CREATOR', 'SELF_ONLY'] as const;
const PUBLISH_STATUS = ['PROCESSING_UPLOAD', 'PROCESSING_DOWNLOAD', 'SEND_TO_USER_INBOX', 'PUBLISH_COMPLETE', 'FAILED'] as const;

const errorSchema = z.object({
  code: z.string(),
  message: z.string().optional(),
  log_id: z.string().optional(),
});

export const envelopeSchema = z.object({ data: z.unknown().optional(), error: errorSchema });

/** Request body of /v2/post/publish/video/init/ (direct post), also parsed by the simulator. */
export const initRequestSchema = z.object({
  post_info: z.object({
    title: z.string().max(2200).optional(),
    privacy_level: z.enum(PRIVACY_LEVELS),
    disable_duet: z.boolean().optional(),
    disable_comment: z.boolean().optional(),
    disable_stitch: z.boolean().optional(),
    video_cover_timestamp_ms: z.number().int().min(0).optional(),
    brand_content_toggle: z.boolean().optional(),
    brand_organic_toggle: z.boolean().optional(),
    is_aigc: z.boolean().optional(),
  }),
  source_info: z.discriminatedUnion('source', [
    z.object({ source: z.literal('PULL_FROM_URL'), video_url: z.string().url() }),
    z.object({
      source: z.literal('FILE_UPLOAD'),
      video_size: z.number().int().positive(),
      chunk_size: z.number().int().positive(),
      total_chunk_count: z.number().int().positive(),
    }),
  ]),
});
export type InitRequest = z.infer<typeof initRequestSchema>;

export const initDataSchema = z.object({ publish_id: z.string().min(1), upload_url: z.string().optional() });

export const statusDataSchema = z.object({
  status: z.enum(PUBLISH_STATUS),
  fail_reason: z.string().nullish(),
  /** int64 ids, read as strings (see POST_ID_FIELD in the client). */
  publicaly_available_post_id: z.array(z.union([z.string(), z.number()]).transform((id): string => String(id))).nullish(),
  uploaded_bytes: z.number().optional(),
  downloaded_bytes: z.number().optional(),
});

/** The counts asked of /v2/video/query/ (providers-2.md §5.2): `fields` is a query parameter, the ids go in the body. */
export const VIDEO_QUERY_FIELDS = ['id', 'create_time', 'view_count', 'like_count', 'comment_count', 'share_count'] as const;

const count = z.number().int().nonnegative().optional();

/** data of /v2/video/query/: the videos asked for that belong to the token's user (≤ 20 ids a request). */
export const videoQueryDataSchema = z.object({
  videos: z
    .array(
      z.object({
        /** int64, read as a string (quoteVideoIds in the client). */
        id: z.union([z.string(), z.number()]).transform((id): string => String(id)),
        create_time: z.number().optional(),
        view_count: count,
        like_count: count,
        comment_count: count,
        share_count: count,
      }),
    )
    .default([]),
  cursor: z.number().optional(),
  has_more: z.boolean().optional(),
});
