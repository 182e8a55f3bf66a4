/** The rules issue 13 asked for, on hand-made rows: urgent viral answers, and counter-arguments beyond busts. */
import { describe, expect, it } from 'vitest';
import type { CompetitiveVideo, Player } from '../../src/db/schema';
import { planRecommendations } from '../../src/recommendations/rules';

const NOW = new Date('2025-10-18T12:00:00Z');
const HOUR = 3_600_000;

function player(id: string, over: Partial<Player> = {}): Player {
  return {
    id,
    name: id,
    team: 'Levante',
    position: 'MID',
    price: 10,
    points: 20,
    recentForm: 4,
    minutes: 600,
    injuryStatus: 'fit',
    aliases: [],
    apiFootballId: null,
    rating: null,
    appearances: null,
    goals: null,
    assists: null,
    injuryReason: null,
    photoUrl: null,
    statsUpdatedAt: null,
    updatedAt: NOW,
    ...over,
  };
}

function video(id: string, over: Partial<CompetitiveVideo>, claims: Array<[playerId: string, stance: string]> = []): CompetitiveVideo {
  return {
    id,
    status: 'analysed',
    statusReason: null,
    platform: 'youtube',
    externalId: id,
    channelId: null,
    durationSeconds: 60,
    audioSha256: null,
    transcriptSegments: null,
    viewHistory: [],
    viewVelocity: null,
    channel: `canal-${id}`,
    url: `https://example.com/${id}`,
    title: `vídeo ${id}`,
    views: 1_000,
    viralPotential: 5,
    transcript: 'x',
    analysis: {
      topic: 't',
      sentiment: 'positive',
      viralPotential: 5,
      players: claims.map(([playerId, stance]) => ({
        name: playerId,
        team: null,
        playerId,
        claims: [{ text: `${playerId}!`, stance, round: null }],
      })),
    },
    playersMentioned: claims.map(([p]) => p),
    ambiguousNames: [],
    publishedAt: new Date(NOW.getTime() - 3 * HOUR),
    processedAt: NOW,
    createdAt: NOW,
    updatedAt: NOW,
    ...over,
  } as CompetitiveVideo;
}

const plan = (videos: CompetitiveVideo[], players: Player[]) =>
  planRecommendations({ videos, players, now: NOW, lookbackDays: 7 }).recommendations;

describe('viral_response', () => {
  const roster = [player('star', { price: 40, points: 40 })];

  it('a fresh video taking off is urgent (P0) even before it is big', () => {
    const [rec] = plan([video('v1', { views: 20_000, viewVelocity: 8_000 }, [['star', 'hold']])], roster);
    expect(rec).toMatchObject({ type: 'viral_response', priority: 'P0', targetPlayer: 'star' });
    expect((rec!.ourData.explanation as { because: string[] }).because.join(' ')).toMatch(/Gana 8\.?000 visualizaciones por hora/);
  });

  it('a big video two days old that has stopped growing is answered, but not urgently (P1)', () => {
    const [rec] = plan(
      [video('v2', { views: 150_000, viralPotential: 9, publishedAt: new Date(NOW.getTime() - 40 * HOUR) }, [['star', 'hold']])],
      roster,
    );
    expect(rec).toMatchObject({ type: 'viral_response', priority: 'P1' });
  });

  it('a small, slow video is not a viral opportunity', () => {
    expect(plan([video('v3', { views: 5_000, viewVelocity: 100 }, [['star', 'hold']])], roster)).toEqual([]);
  });
});

describe('counter_argument beyond busts', () => {
  // Everyone plays and is fit: only points per million tell them apart.
  const roster = [
    player('average', { price: 10, points: 20, recentForm: 4 }), // 2 pts/M, neutral
    player('bargain', { price: 4, points: 30, recentForm: 7 }), // 7.5 pts/M, bargain
    player('best-value', { position: 'FWD', price: 5, points: 18, recentForm: 5 }), // 3.6 pts/M, top of FWD, neutral
    player('pricey-fwd', { position: 'FWD', price: 12, points: 20, recentForm: 4 }),
    player('pricey-fwd-2', { position: 'FWD', price: 14, points: 22, recentForm: 4 }),
    player('pricey-fwd-3', { position: 'FWD', price: 11, points: 15, recentForm: 4 }),
  ];

  it('"regalado" on an average player, with a clearly better bargain at his position, is answered with it', () => {
    const recs = plan([video('v4', {}, [['average', 'strong_buy']])], roster);
    const counter = recs.find((r) => r.targetPlayer === 'average');
    expect(counter).toMatchObject({ type: 'counter_argument', priority: 'P1' });
    expect(counter!.title).toContain('bargain');
    expect(counter!.ourData.betterOptions).toMatchObject([{ id: 'bargain', pointsPerMillion: 7.5 }]);
  });

  it('a plain "buy" on an average player is a matter of taste: no counter-argument', () => {
    expect(plan([video('v5', {}, [['average', 'buy']])], roster).filter((r) => r.type === 'counter_argument')).toEqual([]);
  });

  it('"huid" on the best value at his position is answered', () => {
    const recs = plan([video('v6', {}, [['best-value', 'strong_sell']])], roster);
    expect(recs.find((r) => r.targetPlayer === 'best-value')).toMatchObject({ type: 'counter_argument' });
  });
});
