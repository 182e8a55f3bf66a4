/**
 * How the recommendations are doing: counts by status, type and priority,
 * conversion to published and time to publish (`reelflow recommendations stats`).
 */
import { inArray, sql } from 'drizzle-orm';
import { PRIORITIES, type Priority } from '../config/priorities';
import type { Db } from '../db/client';
import { competitiveRecommendations } from '../db/schema';
import { RECOMMENDATION_STATUSES } from '../shared/statuses';
import { RECOMMENDATION_TYPES } from '../validation';

export interface RecommendationStats {
  total: number;
  byStatus: Record<string, number>;
  byType: Record<string, number>;
  byPriority: Record<Priority, number>;
  published: number;
  /** published / all recommendations; null when there are none. */
  conversionRate: number | null;
  /** Mean created -> published time of published recommendations; null when none is published. */
  avgTimeToPublishSeconds: number | null;
}

const zeroes = <K extends string>(keys: readonly K[]) => Object.fromEntries(keys.map((k) => [k, 0])) as Record<K, number>;
const round2 = (n: number) => Math.round(n * 100) / 100;

export async function readRecommendationStats(db: Db): Promise<RecommendationStats> {
  const groups = await db
    .select({
      status: competitiveRecommendations.status,
      type: competitiveRecommendations.recommendationType,
      priority: competitiveRecommendations.priority,
      n: sql<number>`count(*)::int`,
    })
    .from(competitiveRecommendations)
    .groupBy(competitiveRecommendations.status, competitiveRecommendations.recommendationType, competitiveRecommendations.priority);
  const [timing] = await db
    .select({
      avg: sql<
        number | null
      >`avg(extract(epoch FROM ${competitiveRecommendations.publishedAt} - ${competitiveRecommendations.createdAt}))::float8`,
    })
    .from(competitiveRecommendations)
    // A partly published video was published: it counts for the time it took.
    .where(inArray(competitiveRecommendations.status, ['published', 'partially_published']));

  const byStatus: Record<string, number> = zeroes(RECOMMENDATION_STATUSES);
  const byType: Record<string, number> = zeroes(RECOMMENDATION_TYPES);
  const byPriority = zeroes(PRIORITIES);
  let total = 0;
  for (const g of groups) {
    total += g.n;
    byStatus[g.status] = (byStatus[g.status] ?? 0) + g.n;
    byType[g.type] = (byType[g.type] ?? 0) + g.n;
    byPriority[g.priority as Priority] += g.n;
  }
  const published = (byStatus.published ?? 0) + (byStatus.partially_published ?? 0);
  return {
    total,
    byStatus,
    byType,
    byPriority,
    published,
    conversionRate: total ? round2(published / total) : null,
    avgTimeToPublishSeconds: timing?.avg == null ? null : Math.round(timing.avg),
  };
}
