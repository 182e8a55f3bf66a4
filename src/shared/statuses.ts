/**
 * The status values of jobs (automation_queue) and recommendations
 * (competitive_recommendations), defined once: the database's CHECK
 * constraints (src/db/schema.ts), input validation, metrics, the API's types
 * and the demo read them from here, so a status added here reaches all of them
 * (and the database through `npm run db:generate`). No Node imports (workflow
 * sandbox).
 */

export const JOB_STATUSES = ['queued', 'processing', 'completed', 'failed', 'cancelled'] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];
/** A job that may still run: in its provider's line or running. */
export const OPEN_JOB_STATUSES = ['queued', 'processing'] as const satisfies readonly JobStatus[];
export type OpenJobStatus = (typeof OPEN_JOB_STATUSES)[number];

/**
 * rejected: an editor said no at an approval step (nothing more is spent on it).
 * partially_published: posted on some platforms, failed on others (each one's error is on its job).
 */
export const RECOMMENDATION_STATUSES = [
  'pending',
  'in_production',
  'published',
  'partially_published',
  'expired',
  'failed',
  'cancelled',
  'rejected',
] as const;
export type RecommendationStatus = (typeof RECOMMENDATION_STATUSES)[number];
/** A recommendation that may still be made (and so may still start or own a workflow). */
export const OPEN_RECOMMENDATION_STATUSES = ['pending', 'in_production'] as const satisfies readonly RecommendationStatus[];
/** A recommendation whose story is over (every status that is not open): nothing will change it again. */
export function isFinalRecommendationStatus(status: string): boolean {
  return (
    (RECOMMENDATION_STATUSES as readonly string[]).includes(status) && !(OPEN_RECOMMENDATION_STATUSES as readonly string[]).includes(status)
  );
}

/** Where a watched competitor channel lives; manual channels are fed by add-video only. */
export const CHANNEL_PLATFORMS = ['youtube', 'instagram', 'manual'] as const;
export type ChannelPlatform = (typeof CHANNEL_PLATFORMS)[number];

/**
 * A competitor video's row: analysed (transcribed and analysed once, never again),
 * unavailable (private, removed, geo-blocked, bot check: the reason says which) or
 * too_long (over the configured length, with the figure) or no_speech (the transcript is empty or a few
 * words: music, a silent clip; nothing to analyse, no recommendation).
 */
export const COMPETITOR_VIDEO_STATUSES = ['analysed', 'unavailable', 'too_long', 'no_speech'] as const;
export type CompetitorVideoStatus = (typeof COMPETITOR_VIDEO_STATUSES)[number];

/** Where a competitor video lives (competitive_videos.platform); web is any other page yt-dlp can read. */
export const COMPETITOR_PLATFORMS = ['youtube', 'instagram', 'tiktok', 'web'] as const;
export type CompetitorPlatform = (typeof COMPETITOR_PLATFORMS)[number];
