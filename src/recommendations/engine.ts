/**
 * The recommendation engine: loads the lookback window's competitor videos
 * and our players, runs the rules (rules.ts) and saves what they propose
 * through insertRecommendation, the same validation and schedule-window rule
 * as `reelflow enqueue`, then hands each new idea to its video workflow. Run
 * hourly by a Temporal Schedule; running it twice never proposes the same
 * idea twice (dedupe_key).
 */
import { and, eq, gte, sql } from 'drizzle-orm';
import type { Db } from '../db/client';
import { competitiveVideos, players, type Recommendation } from '../db/schema';
import { insertRecommendation } from '../services/recommendation-commands';
import { type EnqueueRecommendationInput } from '../validation';
import { BadInputError, EnqueueFailedError } from '../shared/errors';
import { priorityRank } from '../config/priorities';
import { loadPerformanceSamples } from '../services/post-metrics';
import { adjustForPerformance, buildPerformanceModel, type LearningSettings, type PerformanceSample } from './performance';
import {
  planRecommendations,
  RECOMMENDATION_THRESHOLDS,
  type Plan,
  type PlanInput,
  type PlannedRecommendation,
  type RecommendationThresholds,
} from './rules';

export interface RecommendationEngineOptions {
  db: Db;
  /** Default: the wall clock. */
  now?: () => Date;
  /**
   * Starts a recommendation's video workflow. Must be idempotent and record
   * competitive_recommendations.workflow_id once the workflow exists
   * (RecommendationService.start does both): a planned recommendation still
   * pending without a workflow id is offered again on the next run, which is
   * how a failed start heals.
   */
  enqueue: (recommendationId: string) => Promise<unknown>;
  /** Default RECOMMENDATION_THRESHOLDS. */
  thresholds?: Partial<RecommendationThresholds>;
  /** Default planRecommendations; tests swap in rules of their own. */
  rules?: (input: PlanInput) => Plan;
  /** How past performance moves priorities (performance.ts); default LEARNING_DEFAULTS. */
  learning?: Partial<LearningSettings>;
  /** Default: posts with a +24 h reading from content_performance (last 90 days). */
  performance?: () => Promise<PerformanceSample[]>;
}

export interface RejectedRecommendation {
  dedupeKey: string;
  /** The BadInputError message `reelflow enqueue` would have printed for the same idea. */
  reason: string;
}

export interface GenerateResult {
  /** Recommendations inserted by this run, most urgent first. */
  created: Recommendation[];
  /** Planned ideas that already existed (same dedupe key). */
  skipped: number;
  /** Ideas pending with no workflow yet (planned again by this run, or left so by an earlier one), enqueued again. */
  reenqueued: string[];
  /** Planned ideas that failed enqueue's validation or window rule: not saved, the rest of the run goes on. */
  rejected: RejectedRecommendation[];
  unreadableVideos: string[];
}

/** An idea pending with no workflow for this long is an orphan, not one whose enqueue is still starting it. */
const ORPHAN_AFTER_MS = 60_000;

/** A planned idea in the shape `reelflow enqueue` and the API accept. */
export function toEnqueueInput(r: PlannedRecommendation): EnqueueRecommendationInput {
  return {
    title: r.title,
    type: r.type,
    priority: r.priority,
    source: 'competitor',
    ...(r.targetPlayer !== null ? { targetPlayer: r.targetPlayer } : {}),
    ourData: r.ourData,
    ...(r.sourceVideoId !== null ? { sourceVideoId: r.sourceVideoId } : {}),
    ...(r.scheduleAfter ? { scheduleAfter: r.scheduleAfter.toISOString() } : {}),
    ...(r.deadline ? { deadline: r.deadline.toISOString() } : {}),
    dedupeKey: r.dedupeKey,
  };
}

export function createRecommendationEngine(options: RecommendationEngineOptions) {
  const { db, enqueue } = options;
  const now = options.now ?? (() => new Date());
  const thresholds = { ...RECOMMENDATION_THRESHOLDS, ...options.thresholds };
  const rules = options.rules ?? planRecommendations;
  const performance = options.performance ?? (() => loadPerformanceSamples(db.$client, now()));

  return {
    /** @param lookbackDays default 7: a week of competitor videos, about one La Liga round. */
    async generateRecommendations({ lookbackDays = 7 }: { lookbackDays?: number } = {}): Promise<GenerateResult> {
      if (!Number.isInteger(lookbackDays) || lookbackDays < 1 || lookbackDays > 90) {
        throw new RangeError(`lookbackDays must be an integer from 1 to 90, got ${lookbackDays}`);
      }
      const at = now();
      const since = new Date(at.getTime() - lookbackDays * 86_400_000);
      const [videoRows, playerRows] = await Promise.all([
        db
          .select()
          .from(competitiveVideos)
          // Unavailable and too_long rows have no transcript or analysis: nothing to act on.
          .where(
            and(
              eq(competitiveVideos.status, 'analysed'),
              gte(sql`coalesce(${competitiveVideos.publishedAt}, ${competitiveVideos.createdAt})`, since),
            ),
          ),
        db.select().from(players),
      ]);
      const plan = rules({ videos: videoRows, players: playerRows, now: at, lookbackDays, thresholds });
      // What our own videos did moves priorities within bounds; a stable sort keeps the rules' order among equals.
      const model = buildPerformanceModel(await performance(), options.learning);
      plan.recommendations = plan.recommendations
        .map((r) => adjustForPerformance(r, model))
        .sort((a, b) => priorityRank(a.priority) - priorityRank(b.priority));

      // In plan order, so `created` stays most urgent first.
      const created: Recommendation[] = [];
      const existing: Recommendation[] = [];
      const rejected: RejectedRecommendation[] = [];
      for (const planned of plan.recommendations) {
        try {
          const { recommendation, created: isNew } = await insertRecommendation(db, toEnqueueInput(planned), at);
          (isNew ? created : existing).push(recommendation);
        } catch (err) {
          // One bad idea (a roster name too long for a title…) must not block the run's other ideas every hour.
          if (!(err instanceof BadInputError)) throw err;
          rejected.push({ dedupeKey: planned.dedupeKey, reason: err.message });
        }
      }
      // Every idea left pending with no workflow (its start failed on every try of an earlier run), whichever rule or
      // generator made it: only those planned again were started, and one no rule plans again (its video aged out, a
      // spotlight's week over) waited for good, in no line and on no screen. Not this run's, nor one an enqueue is
      // starting right now (its row is written first).
      const { rows: orphans } = await db.execute<{ id: string }>(
        sql`SELECT id FROM competitive_recommendations
             WHERE status = 'pending' AND workflow_id IS NULL AND created_at < ${new Date(at.getTime() - ORPHAN_AFTER_MS)}
             ORDER BY created_at`,
      );
      const reenqueued = [
        ...new Set([
          ...existing.filter((r) => r.status === 'pending' && r.workflowId === null).map((r) => r.id),
          ...orphans.map((o) => o.id),
        ]),
      ];

      const failed: string[] = [];
      let firstError: unknown;
      for (const id of [...created.map((r) => r.id), ...reenqueued]) {
        try {
          await enqueue(id);
        } catch (err) {
          failed.push(id);
          firstError ??= err;
        }
      }
      if (failed.length) throw new EnqueueFailedError(failed, firstError);
      return { created, skipped: existing.length, reenqueued, rejected, unreadableVideos: plan.unreadableVideos };
    },
  };
}
