/**
 * Graph API Business Discovery shapes (providers-2.md §2): the target account's
 * public fields and one page of its media. Which media fields are public for
 * another account is partly unconfirmed, so everything but id is optional:
 * media_url in particular is omitted for reels with licensed audio.
 */
import { z } from 'zod';

export const discoveryMediaSchema = z.object({
  id: z.string().min(1),
  caption: z.string().optional(),
  media_type: z.string().optional(),
  media_product_type: z.string().optional(),
  media_url: z.string().url().optional(),
  permalink: z.string().url().optional(),
  timestamp: z.string().optional(),
  like_count: z.number().int().optional(),
  comments_count: z.number().int().optional(),
});
export type DiscoveryMedia = z.infer<typeof discoveryMediaSchema>;

export const businessDiscoverySchema = z.object({
  business_discovery: z.object({
    id: z.string().optional(),
    username: z.string().optional(),
    name: z.string().optional(),
    followers_count: z.number().int().optional(),
    media_count: z.number().int().optional(),
    media: z
      .object({
        data: z.array(discoveryMediaSchema),
        paging: z
          .object({
            cursors: z.object({ before: z.string().optional(), after: z.string().optional() }).optional(),
            next: z.string().optional(),
          })
          .optional(),
      })
      .optional(),
  }),
});
