/**
 * The recommendation rules: which videos the studio should make, from what
 * competitors said over the lookback window and our data on each player.
 * Pure (no database, no clock, no I/O): the golden tests pin it, and the
 * engine (engine.ts) loads its input and saves its answer.
 *
 * Each idea carries a dedupe key, so running the rules twice over the same
 * evidence never proposes the same idea twice.
 */
import { z } from 'zod';
import { priorityRank, type Priority } from '../config/priorities';
import type { CompetitiveVideo, Player } from '../db/schema';
import type { RecommendationType } from '../validation';
import { flaggedNameSchema, storedAnalysisSchema, type Stance, type StoredAnalysis } from './analysis';

export interface RecommendationThresholds {
  /** Views from which a video reaches a large share of the Fantasy audience: its claims spread unanswered. */
  viralMinViews: number;
  /** The model's 8+/10 is kept for hype videos that are still growing. */
  viralMinPotential: number;
  /** After two days the comment section has moved on; an answer is no longer a response. */
  viralResponseMaxAgeHours: number;
  /** Two channels can be a coincidence; three is the community noticing a player. */
  trendMinChannels: number;
  /** Six points a round over the last five is a starter who scores, not a lucky week. */
  bargainMinForm: number;
  /** Points per million of price: what makes a player a "chollo" rather than just good. */
  bargainMinPointsPerMillion: number;
  /** Share of the busiest player's minutes: a bargain must be a starter, not a sub with one good cameo. */
  bargainMinMinutesShare: number;
  /** Under three points a round he scores like a bench player, whatever his price. */
  bustMaxForm: number;
  /** Under 30% of the available minutes he does not play enough to score. */
  bustMaxMinutesShare: number;
  /** Spotlights the studio can record per window beside the urgent responses. */
  spotlightMaxPerRun: number;
}

export const RECOMMENDATION_THRESHOLDS: RecommendationThresholds = {
  viralMinViews: 100_000,
  viralMinPotential: 8,
  viralResponseMaxAgeHours: 48,
  trendMinChannels: 3,
  bargainMinForm: 6,
  bargainMinPointsPerMillion: 4,
  bargainMinMinutesShare: 0.6,
  bustMaxForm: 3,
  bustMaxMinutesShare: 0.3,
  spotlightMaxPerRun: 2,
};

/** Priority per rule. counter_argument is P0 only when the claim is on a viral video. */
const PRIORITY: Record<'counterViral' | 'counter' | 'trend' | 'viral' | 'spotlight', Priority> = {
  counterViral: 'P0',
  counter: 'P1',
  trend: 'P1',
  viral: 'P1',
  spotlight: 'P2',
};

/** When a player qualifies for several ideas in one run, one video is enough: the more urgent angle wins. */
const PRECEDENCE: readonly RecommendationType[] = ['counter_argument', 'trend_jump', 'viral_response', 'player_spotlight'];

export type Verdict = 'bargain' | 'bust' | 'neutral';

export interface Assessment {
  verdict: Verdict;
  pointsPerMillion: number;
  minutesShare: number;
  /** Why, in the studio's language, ready for a script. */
  reasons: string[];
}

const round2 = (n: number) => Math.round(n * 100) / 100;
const clip = (text: string, max: number) => (text.length <= max ? text : `${text.slice(0, max - 1).trimEnd()}…`);

/** Our data's opinion of a player, from price, points, form, minutes and injury status. */
export function assessPlayer(player: Player, maxMinutes: number, t: RecommendationThresholds = RECOMMENDATION_THRESHOLDS): Assessment {
  const pointsPerMillion = round2(player.price > 0 ? player.points / player.price : 0);
  const minutesShare = round2(maxMinutes > 0 ? player.minutes / maxMinutes : 0);
  const bust: string[] = [];
  if (player.injuryStatus === 'injured') bust.push('lesionado');
  if (player.recentForm < t.bustMaxForm) bust.push(`forma reciente ${player.recentForm} pts/jornada (< ${t.bustMaxForm})`);
  if (minutesShare < t.bustMaxMinutesShare)
    bust.push(`solo ${player.minutes} minutos jugados (${Math.round(minutesShare * 100)}% del máximo)`);
  if (bust.length) return { verdict: 'bust', pointsPerMillion, minutesShare, reasons: bust };
  const bargain =
    player.injuryStatus === 'fit' &&
    player.recentForm >= t.bargainMinForm &&
    pointsPerMillion >= t.bargainMinPointsPerMillion &&
    minutesShare >= t.bargainMinMinutesShare;
  if (bargain) {
    return {
      verdict: 'bargain',
      pointsPerMillion,
      minutesShare,
      reasons: [
        `${pointsPerMillion} puntos por millón (≥ ${t.bargainMinPointsPerMillion})`,
        `forma reciente ${player.recentForm} pts/jornada (≥ ${t.bargainMinForm})`,
        `titular: ${Math.round(minutesShare * 100)}% de los minutos`,
      ],
    };
  }
  return { verdict: 'neutral', pointsPerMillion, minutesShare, reasons: [] };
}

/**
 * Start of the window bucket a moment falls in: buckets of `lookbackDays` days
 * counted from the Unix epoch. For 7 days they start on Thursday 00:00 UTC,
 * between two La Liga rounds (Friday to Monday), which is where a week's
 * ideas naturally split.
 */
export function windowStart(at: Date, lookbackDays: number): string {
  const size = lookbackDays * 86_400_000;
  return new Date(Math.floor(at.getTime() / size) * size).toISOString().slice(0, 10);
}

export interface PlannedRecommendation {
  type: RecommendationType;
  priority: Priority;
  title: string;
  targetPlayer: string | null;
  ourData: Record<string, unknown>;
  sourceVideoId: string | null;
  /**
   * When the video may start, for a rule that answers a known future moment.
   * Unset (every rule today): at once. The priority's window counts from it.
   */
  scheduleAfter?: Date;
  /** An explicit deadline; unset, the priority's window decides. Must come after now and scheduleAfter. */
  deadline?: Date;
  /**
   * `${type}:${player or video}:${window start}`. The window is the bucket of
   * the evidence (the video, or the moment a trend crossed its threshold), not
   * of the run, so a video still inside the lookback after a bucket boundary
   * does not produce its idea a second time.
   */
  dedupeKey: string;
}

const BUY: readonly Stance[] = ['strong_buy', 'buy'];
const SELL: readonly Stance[] = ['strong_sell', 'sell'];
const STRENGTH: Record<Stance, number> = { strong_buy: 2, buy: 1, hold: 0, sell: 1, strong_sell: 2 };

interface ReadVideo {
  row: CompetitiveVideo;
  at: Date;
  analysis: StoredAnalysis;
  /** Roster ids some ambiguous name of this video could be. */
  maybe: string[];
}

export interface PlanInput {
  videos: readonly CompetitiveVideo[];
  players: readonly Player[];
  now: Date;
  lookbackDays: number;
  thresholds?: RecommendationThresholds;
}

export interface Plan {
  recommendations: PlannedRecommendation[];
  /** Rows whose analysis column does not parse (written by hand or an older format): ignored. */
  unreadableVideos: string[];
}

function playerSnapshot(p: Player, a: Assessment) {
  return {
    id: p.id,
    name: p.name,
    team: p.team,
    position: p.position,
    price: p.price,
    points: p.points,
    recentForm: p.recentForm,
    minutes: p.minutes,
    injuryStatus: p.injuryStatus,
    pointsPerMillion: a.pointsPerMillion,
    minutesShare: a.minutesShare,
    verdict: a.verdict,
    reasons: a.reasons,
  };
}

function videoSnapshot(v: ReadVideo) {
  return {
    id: v.row.id,
    channel: v.row.channel,
    url: v.row.url,
    title: v.row.title,
    views: v.row.views,
    viralPotential: v.row.viralPotential,
    publishedAt: v.at.toISOString(),
  };
}

export function planRecommendations(input: PlanInput): Plan {
  const t = input.thresholds ?? RECOMMENDATION_THRESHOLDS;
  const { now, lookbackDays } = input;
  const unreadableVideos: string[] = [];
  const videos: ReadVideo[] = [];
  for (const row of input.videos) {
    const analysis = storedAnalysisSchema.safeParse(row.analysis);
    if (!analysis.success) {
      unreadableVideos.push(row.id);
      continue;
    }
    const flagged = z.array(flaggedNameSchema).safeParse(row.ambiguousNames);
    const maybe = flagged.success ? flagged.data.flatMap((f) => f.candidates) : [];
    videos.push({ row, at: row.publishedAt ?? row.createdAt, analysis: analysis.data, maybe });
  }

  const roster = new Map(input.players.map((p) => [p.id, p]));
  const maxMinutes = Math.max(0, ...input.players.map((p) => p.minutes));
  const assessments = new Map(input.players.map((p) => [p.id, assessPlayer(p, maxMinutes, t)]));
  const isViral = (v: ReadVideo) => v.row.views >= t.viralMinViews || (v.row.viralPotential ?? 0) >= t.viralMinPotential;
  const windowOf = (at: Date) => ({ lookbackDays, start: windowStart(at, lookbackDays) });
  const channelOf = (v: ReadVideo) => v.row.channel.trim().toLowerCase();
  const key = (type: RecommendationType, subject: string, at: Date) => `${type}:${subject}:${windowStart(at, lookbackDays)}`;
  const byDate = (a: ReadVideo, b: ReadVideo) => a.at.getTime() - b.at.getTime() || a.row.id.localeCompare(b.row.id);

  // One idea per player (or per player-less video) per run; `rank` decides between candidates.
  const chosen = new Map<string, { rec: PlannedRecommendation; rank: number[] }>();
  const offer = (subject: string, rec: PlannedRecommendation, rank: number[]) => {
    const current = chosen.get(subject);
    if (!current || compareRanks(rank, current.rank) < 0) chosen.set(subject, { rec, rank });
  };

  // counter_argument: a competitor's buy on a player our data calls a bust, or sell on a bargain.
  for (const v of videos) {
    for (const entry of v.analysis.players) {
      const player = entry.playerId ? roster.get(entry.playerId) : undefined;
      if (!player) continue;
      const a = assessments.get(player.id)!;
      for (const claim of entry.claims) {
        const contradicts =
          (BUY.includes(claim.stance) && a.verdict === 'bust') || (SELL.includes(claim.stance) && a.verdict === 'bargain');
        if (!contradicts) continue;
        const priority = isViral(v) ? PRIORITY.counterViral : PRIORITY.counter;
        const claimsBuy = BUY.includes(claim.stance);
        offer(
          player.id,
          {
            type: 'counter_argument',
            priority,
            title: claimsBuy
              ? `¿${player.name} ${claim.stance === 'strong_buy' ? 'regalado' : 'chollo'}? Nuestros datos dicen que no`
              : `¿Vender a ${player.name}? Nuestros datos dicen que es un chollo`,
            targetPlayer: player.id,
            sourceVideoId: v.row.id,
            dedupeKey: key('counter_argument', player.id, v.at),
            ourData: {
              player: playerSnapshot(player, a),
              claim: { text: claim.text, stance: claim.stance, round: claim.round },
              video: videoSnapshot(v),
              window: windowOf(v.at),
            },
          },
          [PRECEDENCE.indexOf('counter_argument'), priorityRank(priority), -v.row.views, -STRENGTH[claim.stance], -v.at.getTime()],
        );
      }
    }
  }

  // trend_jump: one player, several channels, one window.
  const mentions = new Map<string, ReadVideo[]>();
  for (const v of videos) {
    for (const id of new Set(v.row.playersMentioned)) {
      const list = mentions.get(id) ?? [];
      if (!list.length) mentions.set(id, list);
      list.push(v);
    }
  }
  for (const [playerId, list] of mentions) {
    const player = roster.get(playerId);
    const channels = new Set(list.map(channelOf));
    if (!player || channels.size < t.trendMinChannels) continue;
    // The trend "happened" when the Nth channel joined; later mentions do not make it a new idea.
    const seen = new Set<string>();
    const crossedAt = [...list].sort(byDate).find((v) => seen.add(channelOf(v)).size >= t.trendMinChannels)!.at;
    const loudest = [...list].sort((a, b) => b.row.views - a.row.views || byDate(a, b))[0]!;
    offer(
      playerId,
      {
        type: 'trend_jump',
        priority: PRIORITY.trend,
        title: `${player.name}: ${channels.size} canales hablan de él. ¿Merece la pena?`,
        targetPlayer: playerId,
        sourceVideoId: loudest.row.id,
        dedupeKey: key('trend_jump', playerId, crossedAt),
        ourData: {
          player: playerSnapshot(player, assessments.get(playerId)!),
          channels: [...new Set(list.map((v) => v.row.channel))].sort(),
          videos: [...list].sort(byDate).map(videoSnapshot),
          window: windowOf(crossedAt),
        },
      },
      [PRECEDENCE.indexOf('trend_jump'), priorityRank(PRIORITY.trend), -channels.size],
    );
  }

  // viral_response: a big, hyped, recent video, answered about the player it is mostly about.
  for (const v of videos) {
    const ageHours = (now.getTime() - v.at.getTime()) / 3_600_000;
    if (v.row.views < t.viralMinViews || (v.row.viralPotential ?? 0) < t.viralMinPotential || ageHours > t.viralResponseMaxAgeHours)
      continue;
    const main = [...v.analysis.players]
      .filter((p) => p.playerId && roster.has(p.playerId))
      .sort((a, b) => b.claims.length - a.claims.length)[0];
    const player = main?.playerId ? roster.get(main.playerId) : undefined;
    offer(
      player?.id ?? `video-${v.row.id}`,
      {
        type: 'viral_response',
        priority: PRIORITY.viral,
        title: player
          ? `Respuesta rápida a "${clip(v.row.title, 80)}": los datos de ${player.name}`
          : `Respuesta rápida a "${clip(v.row.title, 120)}"`,
        targetPlayer: player?.id ?? null,
        sourceVideoId: v.row.id,
        dedupeKey: key('viral_response', player?.id ?? `video-${v.row.id}`, v.at),
        ourData: {
          player: player ? playerSnapshot(player, assessments.get(player.id)!) : null,
          video: videoSnapshot(v),
          claims: main?.claims ?? [],
          window: windowOf(v.at),
        },
      },
      [PRECEDENCE.indexOf('viral_response'), priorityRank(PRIORITY.viral), -v.row.views],
    );
  }

  // player_spotlight: our bargains nobody covers (an ambiguous "Romero" might be him: not "nobody").
  const covered = new Set(videos.flatMap((v) => [...v.row.playersMentioned, ...v.maybe]));
  const spotlights = input.players
    .filter((p) => assessments.get(p.id)!.verdict === 'bargain' && !covered.has(p.id))
    .map((p) => ({ p, score: p.recentForm * assessments.get(p.id)!.pointsPerMillion }))
    .sort((a, b) => b.score - a.score || a.p.id.localeCompare(b.p.id))
    .slice(0, t.spotlightMaxPerRun);
  for (const { p, score } of spotlights) {
    offer(
      p.id,
      {
        type: 'player_spotlight',
        priority: PRIORITY.spotlight,
        title: `El chollo del que nadie habla: ${p.name}`,
        targetPlayer: p.id,
        sourceVideoId: null,
        dedupeKey: key('player_spotlight', p.id, now),
        ourData: { player: playerSnapshot(p, assessments.get(p.id)!), window: windowOf(now) },
      },
      [PRECEDENCE.indexOf('player_spotlight'), priorityRank(PRIORITY.spotlight), -score],
    );
  }

  // Most urgent first, then by rule and strength of the case; the key makes ties deterministic.
  const recommendations = [...chosen.values()]
    .sort(
      (a, b) =>
        priorityRank(a.rec.priority) - priorityRank(b.rec.priority) ||
        compareRanks(a.rank, b.rank) ||
        a.rec.dedupeKey.localeCompare(b.rec.dedupeKey),
    )
    .map((c) => c.rec);
  return { recommendations, unreadableVideos };
}

/** Lexicographic: the first differing number decides; lower wins. */
function compareRanks(a: number[], b: number[]): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const d = (a[i] ?? 0) - (b[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}
