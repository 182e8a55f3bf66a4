/**
 * Instagram Graph API shapes for Reels publishing
 * (developers.facebook.com/docs/instagram-platform: content-publishing, ig-container, error-codes).
 * Graph ids are JSON strings.
 */
import { z } from 'zod';

const CONTAINER_STATUS = ['IN_PROGRESS', 'FINISHED', 'PUBLISHED', 'ERROR', 'EXPIRED'] as const;

export const idSchema = z.object({ id: z.string().min(1) });

export const containerSchema = z.object({
  id: z.string().optional(),
  status_code: z.enum(CONTAINER_STATUS),
  /** For ERROR, carries the error subcode / description. */
  status: z.string().nullish(),
});

export const mediaListSchema = z.object({
  data: z.array(z.object({ id: z.string(), permalink: z.string().optional(), timestamp: z.string().optional() })),
});

/**
 * GET /<ig-user-id>/content_publishing_limit?fields=config,quota_usage: posts published through the API in the
 * moving window, out of config.quota_total per config.quota_duration seconds (86400 today).
 */
export const publishingLimitSchema = z.object({
  data: z
    .array(
      z.object({
        quota_usage: z.number().int().min(0),
        config: z.object({ quota_total: z.number().int().min(0), quota_duration: z.number().positive() }),
      }),
    )
    .min(1),
});

/**
 * The Reels insights asked for: only metrics Meta still answers (providers-2.md §5.1). plays, impressions,
 * video_views and clips_replays_count are retired, and one retired name fails the whole request.
 */
export const REELS_INSIGHT_METRICS = ['views', 'reach', 'likes', 'comments', 'shares', 'saved', 'total_interactions'] as const;

const insightValue = z.number().nonnegative();

/**
 * GET /<ig-media-id>/insights?metric=…: one entry per metric, the lifetime figure in values[0].value (or, asked
 * with metric_type=total_value, in total_value.value). A metric not available yet is left out (an empty data set,
 * not 0), so every entry and field is optional past the name.
 */
export const insightsSchema = z.object({
  data: z.array(
    z.object({
      name: z.string(),
      period: z.string().optional(),
      values: z.array(z.object({ value: insightValue })).optional(),
      total_value: z.object({ value: insightValue }).optional(),
    }),
  ),
});

export const graphErrorSchema = z.object({
  error: z.object({
    message: z.string(),
    type: z.string().optional(),
    code: z.number().int().optional(),
    error_subcode: z.number().int().optional(),
    is_transient: z.boolean().optional(),
    error_user_title: z.string().optional(),
    error_user_msg: z.string().optional(),
    fbtrace_id: z.string().optional(),
  }),
});
export type GraphError = z.infer<typeof graphErrorSchema>['error'];
