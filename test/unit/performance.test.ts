/**
 * Learning from past performance (src/recommendations/performance.ts), pure: the bounds (one level at most, never
 * to or out of P0, never past P3), a type and a player that disagree cancel out, each platform is its own scale,
 * small groups do not count, and a cold start changes nothing at all.
 */
import { describe, expect, it } from 'vitest';
import { adjustForPerformance, buildPerformanceModel, type PerformanceSample } from '../../src/recommendations/performance';
import type { PlannedRecommendation } from '../../src/recommendations/rules';
import type { Priority } from '../../src/config/priorities';

const samples = (type: string, player: string, platform: string, views: number, n = 4): PerformanceSample[] =>
  Array.from({ length: n }, (_, i) => ({ video: `${type}-${player}-${platform}-${i}`, type, player, platform, views24h: views }));

// Instagram median 1,000 and TikTok median 10,000: the same ratios on two scales.
const HISTORY = [
  ...samples('player_spotlight', 'star', 'instagram', 3_000),
  ...samples('trend_jump', 'dud', 'instagram', 200),
  ...samples('counter_argument', 'mid', 'instagram', 1_000),
  ...samples('player_spotlight', 'star', 'tiktok', 30_000),
  ...samples('trend_jump', 'dud', 'tiktok', 2_000),
  ...samples('counter_argument', 'mid', 'tiktok', 10_000),
];

const planned = (type: string, player: string | null, priority: Priority): PlannedRecommendation => ({
  type: type as PlannedRecommendation['type'],
  priority,
  title: `${type} ${player}`,
  targetPlayer: player,
  ourData: { explanation: { rule: 'r', because: ['b'] } },
  sourceVideoId: null,
  dedupeKey: `${type}:${player}:${priority}`,
});

describe('adjustForPerformance', () => {
  const model = buildPerformanceModel(HISTORY, { minPosts: 10 });

  it('raises what performs and lowers what flops, one level, each platform on its own scale', () => {
    expect(model.byType.get('player_spotlight')!.ratio).toBe(3);
    expect(model.byType.get('trend_jump')!.ratio).toBeCloseTo(0.2);
    expect(model.byPlayer.get('mid')!.ratio).toBe(1);
    expect(adjustForPerformance(planned('player_spotlight', 'star', 'P2'), model).priority).toBe('P1');
    expect(adjustForPerformance(planned('player_spotlight', 'star', 'P3'), model).priority).toBe('P2');
    expect(adjustForPerformance(planned('trend_jump', 'dud', 'P2'), model).priority).toBe('P3');
    expect(adjustForPerformance(planned('trend_jump', 'dud', 'P1'), model).priority).toBe('P2');
    expect(adjustForPerformance(planned('counter_argument', 'mid', 'P2'), model).priority).toBe('P2');
  });

  it('never reaches P0 by learning, never leaves P0, never passes P3', () => {
    expect(adjustForPerformance(planned('player_spotlight', 'star', 'P1'), model).priority).toBe('P1');
    expect(adjustForPerformance(planned('trend_jump', 'dud', 'P0'), model).priority).toBe('P0');
    expect(adjustForPerformance(planned('trend_jump', 'dud', 'P3'), model).priority).toBe('P3');
  });

  it('a performing type with a flopping player cancels out; a player alone moves it', () => {
    expect(adjustForPerformance(planned('player_spotlight', 'dud', 'P2'), model).priority).toBe('P2');
    expect(adjustForPerformance(planned('counter_argument', 'star', 'P2'), model).priority).toBe('P1');
    // A type nobody measured and no player: nothing to go on.
    const unknown = planned('bargain', null, 'P2');
    expect(adjustForPerformance(unknown, model)).toBe(unknown);
  });

  it('shows the figures used in the explanation, and keeps the rules lines', () => {
    const rec = adjustForPerformance(planned('player_spotlight', 'star', 'P2'), model);
    const because = (rec.ourData.explanation as { because: string[] }).because;
    expect(because[0]).toBe('b');
    expect(because[1]).toMatch(
      /^Rendimiento pasado \(vistas a las 24 h frente a nuestra mediana; nuestra mediana [\d.]+ en 24 publicaciones\)/,
    );
    expect(because[1]).toContain('player_spotlight 3,0× (8 publicaciones, mediana');
    expect(because[1]).toContain('star 3,0× (8 publicaciones');
    expect(because[1]).toContain('prioridad P2 → P1');
    expect(rec.ourData.performance).toMatchObject({ from: 'P2', to: 'P1', type: { verdict: 'performs', posts: 8 } });
  });

  it('ignores groups with fewer posts than minGroupPosts', () => {
    const few = buildPerformanceModel([...HISTORY, ...samples('bargain', 'lucky', 'instagram', 50_000, 2)], { minPosts: 10 });
    expect(few.byType.has('bargain')).toBe(false);
    expect(few.byPlayer.has('lucky')).toBe(false);
    // One video on three platforms is three posts but one video: no pattern either.
    const everywhere = ['instagram', 'tiktok', 'youtube'].map((platform) => ({
      video: 'one-lucky-video',
      type: 'bargain',
      player: 'lucky',
      platform,
      views24h: 50_000,
    }));
    const one = buildPerformanceModel([...HISTORY, ...everywhere], { minPosts: 10 });
    expect(one.byType.has('bargain')).toBe(false);
    expect(one.byPlayer.has('lucky')).toBe(false);
  });

  it('a cold start changes nothing, explanation included', () => {
    const cold = buildPerformanceModel(HISTORY.slice(0, 9), { minPosts: 10 });
    expect(cold.coldStart).toBe(true);
    const rec = planned('player_spotlight', 'star', 'P2');
    expect(adjustForPerformance(rec, cold)).toBe(rec);
    expect(buildPerformanceModel([]).coldStart).toBe(true);
  });
});
