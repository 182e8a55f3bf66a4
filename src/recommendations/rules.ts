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
  /** Under a day old the video is still being watched: an answer now reaches the same audience (P0, 24 h). */
  viralUrgentMaxAgeHours: number;
  /** Views gained per hour (re-read after discovery) that mean a video is taking off right now. */
  viralMinVelocity: number;
  /** Better bargains at his position cited when a competitor hypes a player our data rates only average. */
  counterBetterOptions: number;
  /**
   * A "regalado" on an average player is worth answering only when a bargain at his position gives this
   * many times his points per million: a small gap is a matter of taste, not a mistake.
   */
  counterMinValueRatio: number;
  /** Top share of his position by points per million: selling him is a mistake even if he is no "bargain". */
  counterSellTopShare: number;
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
  viralUrgentMaxAgeHours: 24,
  viralMinVelocity: 5_000,
  counterBetterOptions: 3,
  counterMinValueRatio: 1.5,
  counterSellTopShare: 0.25,
  trendMinChannels: 3,
  bargainMinForm: 6,
  bargainMinPointsPerMillion: 4,
  bargainMinMinutesShare: 0.6,
  bustMaxForm: 3,
  bustMaxMinutesShare: 0.3,
  spotlightMaxPerRun: 2,
};

/**
 * Priority per rule. counter_argument is P0 only when the claim is on a viral video;
 * viral_response is P0 when the opportunity is urgent (fresh and taking off), P1 otherwise.
 */
const PRIORITY: Record<'counterViral' | 'counter' | 'trend' | 'viralUrgent' | 'viral' | 'spotlight', Priority> = {
  counterViral: 'P0',
  counter: 'P1',
  trend: 'P1',
  viralUrgent: 'P0',
  viral: 'P1',
  spotlight: 'P2',
};

/** Why an idea was proposed, stored with it (ourData.explanation) and shown by status, the API and the dashboard. */
export interface Explanation {
  /** The rule that fired, in words. */
  rule: string;
  /** The evidence and the figures used, one line each, in the studio's language. */
  because: string[];
}

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
/** An idea's dedupe key names its week: `<type>:<subject>:<week start>` (docs/operations.md). */
const DEDUPE_WEEK_DAYS = 7;

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
  // Keyed by the week whatever the lookback: keyed by a 3-day bucket, `generate --limit 3` made again (and paid
  // again for) every idea the hourly 7-day run had made.
  const key = (type: RecommendationType, subject: string, at: Date) => `${type}:${subject}:${windowStart(at, DEDUPE_WEEK_DAYS)}`;
  const byDate = (a: ReadVideo, b: ReadVideo) => a.at.getTime() - b.at.getTime() || a.row.id.localeCompare(b.row.id);

  // One idea per player (or per player-less video) per run; `rank` decides between candidates.
  const chosen = new Map<string, { rec: PlannedRecommendation; rank: number[] }>();
  const offer = (subject: string, rec: PlannedRecommendation, rank: number[]) => {
    const current = chosen.get(subject);
    if (!current || compareRanks(rank, current.rank) < 0) chosen.set(subject, { rec, rank });
  };

  // Better bargains at each position: the answer to "X is a chollo" when our data rates X only average.
  const bargainsAt = (position: string, than: Player) =>
    input.players
      .filter((p) => p.position === position && p.id !== than.id && assessments.get(p.id)!.verdict === 'bargain')
      .filter((p) => assessments.get(p.id)!.pointsPerMillion > assessments.get(than.id)!.pointsPerMillion)
      .sort((a, b) => assessments.get(b.id)!.pointsPerMillion - assessments.get(a.id)!.pointsPerMillion || a.id.localeCompare(b.id))
      .slice(0, t.counterBetterOptions);
  /** Whether a player is in the top share of his position by points per million (and plays). */
  const topOfPosition = (player: Player) => {
    const a = assessments.get(player.id)!;
    const peers = input.players.filter((p) => p.position === player.position).map((p) => assessments.get(p.id)!.pointsPerMillion);
    const better = peers.filter((ppm) => ppm > a.pointsPerMillion).length;
    return (
      player.injuryStatus === 'fit' &&
      a.minutesShare >= t.bargainMinMinutesShare &&
      better < Math.max(1, peers.length * t.counterSellTopShare)
    );
  };
  const claimLine = (v: ReadVideo, claim: { text: string; stance: Stance }) =>
    `${v.row.channel} (${v.row.views.toLocaleString('es-ES')} visualizaciones): «${clip(claim.text, 160)}» (${claim.stance})`;

  // counter_argument: a competitor's claim our data disagrees with. Hard: a buy on a bust, a sell on a
  // bargain. Relative: a buy on a player our data rates average while better bargains play his position,
  // or a sell on one of the best at his position by points per million.
  for (const v of videos) {
    for (const entry of v.analysis.players) {
      const player = entry.playerId ? roster.get(entry.playerId) : undefined;
      if (!player) continue;
      const a = assessments.get(player.id)!;
      for (const claim of entry.claims) {
        const buys = BUY.includes(claim.stance);
        const sells = SELL.includes(claim.stance);
        const hard = (buys && a.verdict === 'bust') || (sells && a.verdict === 'bargain');
        // Only the strongest hype ("regalado", "chollazo") on an average player, and only against a clearly better option.
        const better =
          claim.stance === 'strong_buy' && a.verdict === 'neutral' && !topOfPosition(player) ? bargainsAt(player.position, player) : [];
        const clearlyBetter =
          better.length > 0 &&
          assessments.get(better[0]!.id)!.pointsPerMillion >= t.counterMinValueRatio * Math.max(a.pointsPerMillion, 0.01);
        const relative = !hard && (clearlyBetter || (claim.stance === 'strong_sell' && a.verdict === 'neutral' && topOfPosition(player)));
        if (!hard && !relative) continue;
        const priority = isViral(v) ? PRIORITY.counterViral : PRIORITY.counter;
        const ours =
          `${a.pointsPerMillion} pts/M, forma ${player.recentForm} pts/jornada, ` + `${Math.round(a.minutesShare * 100)}% de los minutos`;
        const options = better.map((p) => `${p.name} (${assessments.get(p.id)!.pointsPerMillion} pts/M, ${p.price} M)`);
        const word = claim.stance === 'strong_buy' ? 'regalado' : 'chollo';
        const title = buys
          ? hard
            ? `¿${player.name} ${word}? Nuestros datos dicen que no`
            : `¿Fichar a ${player.name}? ${better[0]!.name} da más puntos por millón`
          : hard
            ? `¿Vender a ${player.name}? Nuestros datos dicen que es un chollo`
            : `¿Vender a ${player.name}? Es de los mejores en su puesto por precio`;
        const explanation: Explanation = {
          rule: hard
            ? buys
              ? 'counter_argument: a competitor calls a player a buy; our data says he is a bust'
              : 'counter_argument: a competitor says sell; our data says he is a bargain'
            : buys
              ? 'counter_argument: a competitor hypes a player our data rates average; better bargains play his position'
              : 'counter_argument: a competitor says sell; he is among the best at his position by points per million',
          because: [
            claimLine(v, claim),
            `${player.name}: ${ours}${a.reasons.length ? ` (${a.reasons.join('; ')})` : ''}`,
            ...(options.length ? [`Mejores opciones de ${player.position}: ${options.join(', ')}`] : []),
            ...(isViral(v) ? ['Vídeo viral: la afirmación llega a mucha gente sin respuesta (P0)'] : []),
          ],
        };
        offer(
          player.id,
          {
            type: 'counter_argument',
            priority,
            title,
            targetPlayer: player.id,
            sourceVideoId: v.row.id,
            dedupeKey: key('counter_argument', player.id, v.at),
            ourData: {
              player: playerSnapshot(player, a),
              claim: { text: claim.text, stance: claim.stance, round: claim.round },
              ...(options.length ? { betterOptions: better.map((p) => playerSnapshot(p, assessments.get(p.id)!)) } : {}),
              video: videoSnapshot(v),
              window: windowOf(v.at),
              explanation,
            },
          },
          [
            // A hard contradiction beats every other angle on the player; a relative one yields to a trend or a viral answer.
            hard ? PRECEDENCE.indexOf('counter_argument') : PRECEDENCE.indexOf('viral_response') + 0.5,
            priorityRank(priority),
            -v.row.views,
            -STRENGTH[claim.stance],
            -v.at.getTime(),
          ],
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
          explanation: {
            rule: `trend_jump: ${t.trendMinChannels} or more channels talk about one player in one window`,
            because: [
              `${channels.size} canales: ${[...new Set(list.map((v) => v.row.channel))].sort().join(', ')}`,
              `Nuestros datos: ${assessments.get(playerId)!.verdict} ` +
                `(${assessments.get(playerId)!.pointsPerMillion} pts/M, forma ${player.recentForm})`,
            ],
          } satisfies Explanation,
        },
      },
      [PRECEDENCE.indexOf('trend_jump'), priorityRank(PRIORITY.trend), -channels.size],
    );
  }

  // viral_response: a recent video that is big, hyped or taking off, answered about the player it is mostly
  // about. Urgent (P0, 24 h) while it is under a day old and still gaining fast or rated viral by the model.
  for (const v of videos) {
    const ageHours = (now.getTime() - v.at.getTime()) / 3_600_000;
    const velocity = v.row.viewVelocity ?? 0;
    const big = v.row.views >= t.viralMinViews;
    const hyped = (v.row.viralPotential ?? 0) >= t.viralMinPotential;
    const rising = velocity >= t.viralMinVelocity;
    if (ageHours > t.viralResponseMaxAgeHours || !(big || rising)) continue;
    const urgent = ageHours <= t.viralUrgentMaxAgeHours && (rising || hyped);
    const priority = urgent ? PRIORITY.viralUrgent : PRIORITY.viral;
    const main = [...v.analysis.players]
      .filter((p) => p.playerId && roster.has(p.playerId))
      .sort((a, b) => b.claims.length - a.claims.length)[0];
    const player = main?.playerId ? roster.get(main.playerId) : undefined;
    const explanation: Explanation = {
      rule: urgent
        ? 'viral_response: a fresh video taking off; answered while its audience is still watching (P0)'
        : 'viral_response: a big, hyped video from the last two days',
      because: [
        `${v.row.channel}: «${clip(v.row.title, 120)}», ` +
          `${v.row.views.toLocaleString('es-ES')} visualizaciones en ${Math.round(ageHours)} h`,
        ...(velocity ? [`Gana ${Math.round(velocity).toLocaleString('es-ES')} visualizaciones por hora`] : []),
        `Potencial viral ${v.row.viralPotential ?? '?'} / 10`,
        ...(player ? [`Sobre todo habla de ${player.name} (${main!.claims.length} afirmaciones)`] : []),
      ],
    };
    offer(
      player?.id ?? `video-${v.row.id}`,
      {
        type: 'viral_response',
        priority,
        title: player
          ? `Respuesta rápida a "${clip(v.row.title, 80)}": los datos de ${player.name}`
          : `Respuesta rápida a "${clip(v.row.title, 120)}"`,
        targetPlayer: player?.id ?? null,
        sourceVideoId: v.row.id,
        dedupeKey: key('viral_response', player?.id ?? `video-${v.row.id}`, v.at),
        ourData: {
          player: player ? playerSnapshot(player, assessments.get(player.id)!) : null,
          video: { ...videoSnapshot(v), viewVelocity: v.row.viewVelocity ?? null },
          claims: main?.claims ?? [],
          window: windowOf(v.at),
          explanation,
        },
      },
      [PRECEDENCE.indexOf('viral_response'), priorityRank(priority), -velocity, -v.row.views],
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
        ourData: {
          player: playerSnapshot(p, assessments.get(p.id)!),
          window: windowOf(now),
          explanation: {
            rule: 'player_spotlight: one of our best bargains that no competitor mentioned in the window',
            because: [...assessments.get(p.id)!.reasons, 'Ningún canal lo menciona (ni como nombre ambiguo) en la ventana'],
          } satisfies Explanation,
        },
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
