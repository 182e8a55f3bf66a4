/**
 * YouTube Data API v3 shapes for resumable videos.insert and videos.list
 * (developers.google.com/youtube/v3: resumable upload guide, videos resource, errors).
 */
import { z } from 'zod';

const PRIVACY_STATUS = ['public', 'unlisted', 'private'] as const;

/** The video resource sent when opening an upload session (also parsed by the simulator). */
export const insertBodySchema = z.object({
  snippet: z.object({
    title: z.string().trim().min(1, 'title is required').max(100),
    description: z.string().max(5000).optional(),
    tags: z.array(z.string()).optional(),
    categoryId: z.string().optional(),
  }),
  status: z
    .object({
      privacyStatus: z.enum(PRIVACY_STATUS).optional(),
      selfDeclaredMadeForKids: z.boolean().optional(),
    })
    .optional(),
});
export type InsertBody = z.infer<typeof insertBodySchema>;

export const videoResourceSchema = z.object({ id: z.string().min(1), kind: z.string().optional() });

export const videoListSchema = z.object({
  items: z.array(
    z.object({
      id: z.string(),
      status: z
        .object({
          uploadStatus: z.string().optional(),
          failureReason: z.string().optional(),
          rejectionReason: z.string().optional(),
          privacyStatus: z.string().optional(),
        })
        .optional(),
      processingDetails: z
        .object({
          processingStatus: z.string().optional(),
          processingFailureReason: z.string().optional(),
        })
        .optional(),
    }),
  ),
});

/** thumbnails.set's answer: the sizes YouTube made of the image (items[0].default/medium/high/…). */
export const thumbnailSetSchema = z.object({
  kind: z.string().optional(),
  items: z.array(z.record(z.string(), z.object({ url: z.string() }).passthrough())).optional(),
});

export const googleErrorSchema = z.object({
  error: z.object({
    code: z.number().int().optional(),
    message: z.string(),
    status: z.string().optional(),
    errors: z.array(z.object({ reason: z.string().optional(), domain: z.string().optional(), message: z.string().optional() })).optional(),
  }),
});

/** A uint64 count, which the Data API sends as a JSON string. */
const countString = z
  .union([z.string().regex(/^\d+$/), z.number().int().nonnegative()])
  .transform((v) => Number(v))
  .optional();

/**
 * videos.list?part=statistics&id=…: likeCount / commentCount are left out when the owner hides them; a deleted,
 * private or unknown id is simply missing from items (providers-2.md §1.2).
 */
export const videoStatisticsListSchema = z.object({
  items: z
    .array(
      z.object({
        id: z.string(),
        statistics: z
          .object({ viewCount: countString, likeCount: countString, favoriteCount: countString, commentCount: countString })
          .optional(),
      }),
    )
    .default([]),
});
