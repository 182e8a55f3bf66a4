/**
 * The daily bargains (BargainAnalyzer's "chollos del día"): the best value
 * players of our roster, one P1 recommendation each. Run every morning by a
 * Temporal Schedule (src/schedule/daily-bargains.ts) or by hand
 * (`reelflow bargains`); running it twice the same Madrid day proposes
 * nothing new (dedupe key per player and day).
 *
 * Who is a bargain is the rules' verdict (assessPlayer and its thresholds),
 * so a player the daily video calls a chollo is never one the competitor
 * rules call a bust. The verdict already requires `fit`: doubtful and injured
 * players are never a bargain.
 *
 * planDailyBargains is the pure part (ranking, titles, keys); the analyzer
 * reads the roster and enqueues through RecommendationService.enqueue, the
 * same path as `reelflow enqueue`, so each new idea gets its workflow.
 */
import { z } from 'zod';
import type { Priority } from '../config/priorities';
import type { Db } from '../db/client';
import { players, type Player, type Recommendation } from '../db/schema';
import type { RecommendationService } from '../services/recommendations';
import { parseInput, type EnqueueRecommendationInput } from '../validation';
import { assessPlayer, RECOMMENDATION_THRESHOLDS, type RecommendationThresholds } from './rules';

/** The studio's calendar: a "day" of bargains is a day in Madrid, not in UTC. */
export const BARGAIN_TIME_ZONE = 'Europe/Madrid';

/** A chollo is stale after the next round: P1, whose default deadline is 48 h. */
const BARGAIN_PRIORITY: Priority = 'P1';

export const dailyBargainsOptionsSchema = z
  .object({
    /** Players per day. Default 3; at most 10, each one is a paid VEO3 video. */
    limit: z
      .number({ invalid_type_error: 'must be a whole number from 1 to 10' })
      .int('must be a whole number from 1 to 10')
      .min(1, 'must be a whole number from 1 to 10')
      .max(10, 'must be a whole number from 1 to 10')
      .default(3),
    /** Any moment of the day the bargains are for (its Madrid calendar day). Default: now. */
    date: z.date({ invalid_type_error: 'must be a date' }).optional(),
  })
  .strict();
export type DailyBargainsOptions = z.input<typeof dailyBargainsOptionsSchema>;

const madridDay = new Intl.DateTimeFormat('en-CA', { timeZone: BARGAIN_TIME_ZONE, year: 'numeric', month: '2-digit', day: '2-digit' });
const spanishNumber = new Intl.NumberFormat('es-ES', { maximumFractionDigits: 2 });

/** YYYY-MM-DD of the moment in Europe/Madrid (2025-10-18T23:30Z is already the 19th there). */
export function bargainDay(at: Date): string {
  return madridDay.format(at);
}

function bargainDedupeKey(playerId: string, day: string): string {
  return `bargain:${playerId}:${day}`;
}

export interface PlannedBargain {
  player: Player;
  /** What RecommendationService.enqueue receives. */
  input: EnqueueRecommendationInput & { dedupeKey: string; targetPlayer: string };
}

export interface BargainPlan {
  day: string;
  /** Players whose verdict is `bargain`, before the limit. */
  candidates: number;
  bargains: PlannedBargain[];
}

/** Best points per million first, then form; the id keeps ties deterministic. */
export function planDailyBargains(input: {
  players: readonly Player[];
  day: string;
  limit: number;
  thresholds?: RecommendationThresholds;
}): BargainPlan {
  const t = input.thresholds ?? RECOMMENDATION_THRESHOLDS;
  const maxMinutes = Math.max(0, ...input.players.map((p) => p.minutes));
  const candidates = input.players
    .map((player) => ({ player, a: assessPlayer(player, maxMinutes, t) }))
    .filter(({ a }) => a.verdict === 'bargain')
    .sort(
      (x, y) =>
        y.a.pointsPerMillion - x.a.pointsPerMillion || y.player.recentForm - x.player.recentForm || x.player.id.localeCompare(y.player.id),
    );
  const bargains = candidates.slice(0, input.limit).map(({ player, a }, i) => ({
    player,
    input: {
      title: `Chollo del día: ${player.name} (${player.team}) a ${spanishNumber.format(player.price)} M`,
      type: 'bargain' as const,
      priority: BARGAIN_PRIORITY,
      source: 'bargain' as const,
      targetPlayer: player.id,
      ourData: {
        day: input.day,
        rank: i + 1,
        player: { id: player.id, name: player.name, team: player.team, position: player.position },
        price: player.price,
        points: player.points,
        recentForm: player.recentForm,
        minutes: player.minutes,
        minutesShare: a.minutesShare,
        pointsPerMillion: a.pointsPerMillion,
        injuryStatus: player.injuryStatus,
        reasons: a.reasons,
        explanation: {
          rule: "bargain: among the day's best points per million of fit starters (the daily bargains)",
          because: [`#${i + 1} de hoy`, ...a.reasons],
        },
      },
      dedupeKey: bargainDedupeKey(player.id, input.day),
    },
  }));
  return { day: input.day, candidates: candidates.length, bargains };
}

export interface BargainAnalyzerOptions {
  db: Db;
  /** Its enqueue inserts (dedupe key) and starts the workflow; start heals a row left without one. */
  service: Pick<RecommendationService, 'enqueue' | 'start'>;
  /** Default: the wall clock. */
  now?: () => Date;
  /** Default RECOMMENDATION_THRESHOLDS. */
  thresholds?: Partial<RecommendationThresholds>;
}

export interface DailyBargainsResult {
  /** The Madrid day the bargains are for (YYYY-MM-DD). */
  day: string;
  candidates: number;
  /** Recommendations inserted by this run, best bargain first; each has its workflow. */
  created: Recommendation[];
  ids: string[];
  /** Bargains of the day that already existed (same dedupe key). */
  skipped: number;
  /** Existing ones that had no workflow recorded yet and were started again. */
  reenqueued: string[];
}

export function createBargainAnalyzer(options: BargainAnalyzerOptions) {
  const { db, service } = options;
  const now = options.now ?? (() => new Date());
  const thresholds = { ...RECOMMENDATION_THRESHOLDS, ...options.thresholds };

  return {
    async generateDailyBargains(opts: DailyBargainsOptions = {}): Promise<DailyBargainsResult> {
      const { limit, date } = parseInput(dailyBargainsOptionsSchema, opts, 'bargains');
      const day = bargainDay(date ?? now());
      const roster = await db.select().from(players);
      const plan = planDailyBargains({ players: roster, day, limit, thresholds });

      const created: Recommendation[] = [];
      const reenqueued: string[] = [];
      // One at a time, best first: a failed start leaves no row (the service removes it) and the next run picks up from there.
      for (const { input } of plan.bargains) {
        const result = await service.enqueue(input);
        if (result.started) created.push(result.recommendation);
        else if (!result.recommendation.workflowId) {
          await service.start(result.recommendation.id);
          reenqueued.push(result.recommendation.id);
        }
      }
      return {
        day,
        candidates: plan.candidates,
        created,
        ids: created.map((r) => r.id),
        skipped: plan.bargains.length - created.length,
        reenqueued,
      };
    },
  };
}
