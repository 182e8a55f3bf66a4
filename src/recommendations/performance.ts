/**
 * Learning from how our videos did (pure; the engine loads the figures and applies it).
 *
 * Each post with a +24 h reading is compared with our median on its platform (a view on TikTok is not a view on
 * YouTube): its views at +24 h divided by that median. An idea type, and a player, is then the median of its posts'
 * ratios. An idea whose type or player clearly performs (ratio ≥ raiseAt) moves up one priority, one that clearly
 * flops (≤ lowerAt) down one; both at once cancel out. Bounds: one level at most, never to P0 (urgency is the
 * rules' call, not popularity's) and never out of P0, never below P3. A cold start (fewer than minPosts posts
 * with a +24 h reading) changes nothing, explanation included; otherwise the explanation gets the figures used.
 */
import { PRIORITIES, priorityRank, type Priority } from '../config/priorities';
import type { PlannedRecommendation } from './rules';

export interface PerformanceSample {
  /** The idea the post is of (its recommendation): one video posted on three platforms is three samples, one video. */
  video: string;
  type: string;
  /** Roster id of the video's player, if it had one. */
  player: string | null;
  platform: string;
  views24h: number;
}

export interface LearningSettings {
  /** Posts with a +24 h reading needed before anything changes (cold start). Default 10 (REELFLOW_LEARNING_MIN_POSTS). */
  minPosts: number;
  /**
   * Videos a type or player needs before its figure counts (its posts on several platforms are one video). Default
   * 3: one lucky video is not a pattern.
   */
  minGroupPosts: number;
  /** A group's median ratio at or above this raises its ideas. Default 1.5. */
  raiseAt: number;
  /** At or below this lowers them. Default 0.5. */
  lowerAt: number;
}

export const LEARNING_DEFAULTS: LearningSettings = { minPosts: 10, minGroupPosts: 3, raiseAt: 1.5, lowerAt: 0.5 };

export interface GroupFigures {
  posts: number;
  /** Median of its posts' views at +24 h. */
  medianViews24h: number;
  /** Median of its posts' views at +24 h over their platform's median. */
  ratio: number;
}

export interface PerformanceModel {
  coldStart: boolean;
  posts: number;
  /** Median views at +24 h of all our posts. */
  medianViews24h: number | null;
  byType: Map<string, GroupFigures>;
  byPlayer: Map<string, GroupFigures>;
  settings: LearningSettings;
}

export function median(values: readonly number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export function buildPerformanceModel(samples: readonly PerformanceSample[], settings: Partial<LearningSettings> = {}): PerformanceModel {
  const s = { ...LEARNING_DEFAULTS, ...settings };
  const platformMedian = new Map<string, number>();
  for (const platform of new Set(samples.map((x) => x.platform))) {
    platformMedian.set(platform, median(samples.filter((x) => x.platform === platform).map((x) => x.views24h))!);
  }
  // A platform whose median is 0 gives no scale to compare with: its posts are left out of the ratios.
  const rated = samples.flatMap((x) => {
    const m = platformMedian.get(x.platform)!;
    return m > 0 ? [{ ...x, ratio: x.views24h / m }] : [];
  });
  const group = (key: (x: (typeof rated)[number]) => string | null) => {
    const out = new Map<string, GroupFigures>();
    for (const k of new Set(rated.map(key))) {
      if (k === null) continue;
      const list = rated.filter((x) => key(x) === k);
      if (new Set(list.map((x) => x.video)).size < s.minGroupPosts) continue;
      out.set(k, { posts: list.length, medianViews24h: median(list.map((x) => x.views24h))!, ratio: median(list.map((x) => x.ratio))! });
    }
    return out;
  };
  return {
    coldStart: samples.length < s.minPosts,
    posts: samples.length,
    medianViews24h: median(samples.map((x) => x.views24h)),
    byType: group((x) => x.type),
    byPlayer: group((x) => x.player),
    settings: s,
  };
}

export interface PerformanceAdjustment {
  from: Priority;
  to: Priority;
  type: (GroupFigures & { verdict: Verdict }) | null;
  player: (GroupFigures & { verdict: Verdict }) | null;
  ourMedianViews24h: number | null;
  posts: number;
}

type Verdict = 'performs' | 'flops' | 'average';

/** The recommendation with its priority moved (or not) and, past a cold start, the figures in its explanation. */
export function adjustForPerformance(rec: PlannedRecommendation, model: PerformanceModel): PlannedRecommendation {
  if (model.coldStart) return rec;
  const { raiseAt, lowerAt } = model.settings;
  const judge = (g: GroupFigures | undefined) =>
    g ? { ...g, verdict: (g.ratio >= raiseAt ? 'performs' : g.ratio <= lowerAt ? 'flops' : 'average') as Verdict } : null;
  const type = judge(model.byType.get(rec.type));
  const player = judge(rec.targetPlayer ? model.byPlayer.get(rec.targetPlayer) : undefined);
  if (!type && !player) return rec;
  const vote = (g: ReturnType<typeof judge>) => (g?.verdict === 'performs' ? 1 : g?.verdict === 'flops' ? -1 : 0);
  const step = Math.sign(vote(type) + vote(player));
  const rank = priorityRank(rec.priority);
  // Up means a lower rank; P0 is neither reached nor left by learning.
  const next = rank === 0 ? 0 : Math.min(PRIORITIES.length - 1, Math.max(1, rank - step));
  const to = PRIORITIES[next]!;
  const adjustment: PerformanceAdjustment = {
    from: rec.priority,
    to,
    type,
    player,
    ourMedianViews24h: model.medianViews24h,
    posts: model.posts,
  };
  return {
    ...rec,
    priority: to,
    ourData: { ...rec.ourData, performance: adjustment, explanation: withLine(rec.ourData.explanation, explain(rec, adjustment)) },
  };
}

/** Thousands with a dot, as the studio writes them (not left to the runtime's locale data). */
const fmt = (n: number) => String(Math.round(n)).replace(/\B(?=(\d{3})+(?!\d))/g, '.');
const times = (r: number) => `${r.toFixed(1).replace('.', ',')}×`;

function explain(rec: PlannedRecommendation, a: PerformanceAdjustment): string {
  const parts = [
    ...(a.type ? [`${rec.type} ${times(a.type.ratio)} (${a.type.posts} publicaciones, mediana ${fmt(a.type.medianViews24h)})`] : []),
    ...(a.player
      ? [`${rec.targetPlayer} ${times(a.player.ratio)} (${a.player.posts} publicaciones, mediana ${fmt(a.player.medianViews24h)})`]
      : []),
  ];
  const outcome = a.from === a.to ? `prioridad ${a.to} sin cambio` : `prioridad ${a.from} → ${a.to}`;
  const ours = a.ourMedianViews24h === null ? '' : `; nuestra mediana ${fmt(a.ourMedianViews24h)} en ${a.posts} publicaciones`;
  return `Rendimiento pasado (vistas a las 24 h frente a nuestra mediana${ours}): ${parts.join('; ')} → ${outcome}`;
}

function withLine(explanation: unknown, line: string): { rule: string; because: string[] } {
  const e = explanation as { rule?: unknown; because?: unknown } | undefined;
  const because = Array.isArray(e?.because) ? (e.because as string[]) : [];
  return { ...(e ?? {}), rule: typeof e?.rule === 'string' ? e.rule : 'past performance', because: [...because, line] };
}
