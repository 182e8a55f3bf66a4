/**
 * YouTube Data API v3 shapes read by competitor discovery: channels.list,
 * playlistItems.list and videos.list (developers.google.com/youtube/v3/docs,
 * providers-2.md §1.2). Counts are JSON strings (uint64); an unknown handle is
 * HTTP 200 with no items, and whether `items` is then absent or [] is not
 * documented, so both read as [].
 */
import { z } from 'zod';

const count = z
  .string()
  .regex(/^\d+$/, 'must be a whole number in a string')
  .transform((s) => Number(s));

export const channelListSchema = z.object({
  items: z
    .array(
      z.object({
        id: z.string().min(1),
        snippet: z.object({ title: z.string(), customUrl: z.string().optional() }).partial().optional(),
        contentDetails: z.object({ relatedPlaylists: z.object({ uploads: z.string().optional() }).optional() }).optional(),
      }),
    )
    .optional()
    .transform((items) => items ?? []),
});

export const playlistItemsSchema = z.object({
  items: z
    .array(
      z.object({
        snippet: z
          .object({
            title: z.string().optional(),
            publishedAt: z.string().optional(),
            resourceId: z.object({ videoId: z.string() }).optional(),
          })
          .optional(),
        contentDetails: z.object({ videoId: z.string(), videoPublishedAt: z.string().optional() }),
      }),
    )
    .optional()
    .transform((items) => items ?? []),
  nextPageToken: z.string().optional(),
});

export const discoveryVideoListSchema = z.object({
  items: z
    .array(
      z.object({
        id: z.string(),
        snippet: z
          .object({ title: z.string().optional(), publishedAt: z.string().optional(), liveBroadcastContent: z.string().optional() })
          .optional(),
        // likeCount / commentCount may be absent when hidden; viewCount is what discovery needs.
        statistics: z.object({ viewCount: count.optional() }).optional(),
        contentDetails: z.object({ duration: z.string().optional() }).optional(),
      }),
    )
    .optional()
    .transform((items) => items ?? []),
});

/** ISO 8601 durations as YouTube writes them (PT59S, PT1M5S, PT1H2M3S, P1DT2H); null when unreadable. */
export function parseIsoDuration(value: string | undefined): number | null {
  if (!value) return null;
  const m = /^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$/.exec(value);
  if (!m || value === 'P' || value === 'PT') return null;
  const [, d, h, min, s] = m;
  return Number(d ?? 0) * 86_400 + Number(h ?? 0) * 3_600 + Number(min ?? 0) * 60 + Number(s ?? 0);
}
