/**
 * Golden tests of competitor analysis -> recommendations on the shipped
 * sample, against a real PostgreSQL database of their own.
 */
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { count, eq, inArray, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { competitiveRecommendations, competitiveVideos, players } from '../../src/db/schema';
import {
  buildAnalysisPrompt,
  competitorAnalysisJsonSchema,
  competitorAnalysisSchema,
  type CompetitorAnalysis,
} from '../../src/recommendations/analysis';
import { analysisResponder } from '../../src/simulators/analysis-stand-in';
import { createRecommendationEngine, toEnqueueInput } from '../../src/recommendations/engine';
import { windowStart, type PlannedRecommendation } from '../../src/recommendations/rules';
import { readRecommendationStats } from '../../src/recommendations/stats';
import { createNameResolver, type NameResolver } from '../../src/recommendations/names';
import { loadRosterFile, readRosterFile, RosterFileError } from '../../src/recommendations/roster';
import {
  canonicalVideoUrl,
  readSampleCompetitorVideos,
  resolveAnalysisPlayers,
  saveCompetitorVideo,
  type CompetitorVideo,
} from '../../src/recommendations/save-video';
import { createRecommendationService } from '../../src/services/recommendations';
import { BadInputError, EnqueueFailedError, MalformedAnalysisError } from '../../src/shared/errors';
import { insertRecommendation } from '../../src/services/recommendation-commands';
import { createTestDatabase, type TestDatabase } from '../helpers/test-db';

const SAMPLE = path.resolve(__dirname, '../../data/sample');
const NOW = new Date('2025-10-18T12:00:00Z'); // a Saturday: the 7-day bucket started Thursday 16th
const HOUR = 3_600_000;

let tdb: TestDatabase;
let resolver: NameResolver;
let videos: CompetitorVideo[];
const db = () => tdb.database.db;

/** What the simulator's model answers, through the same schema the OpenAI client validates with. */
function analyse(video: CompetitorVideo): CompetitorAnalysis {
  const { system, user } = buildAnalysisPrompt(video);
  return competitorAnalysisSchema.parse(
    analysisResponder([
      { role: 'system', content: system },
      { role: 'user', content: user },
    ]),
  );
}

async function ingest(video: CompetitorVideo, now = NOW) {
  const analysis = analyse(video);
  return saveCompetitorVideo(db(), { ...video, analysis, resolution: resolveAnalysisPlayers(resolver, analysis) }, now);
}

function engineWithRecorder(enqueue?: (id: string) => Promise<void>) {
  const calls: string[] = [];
  const engine = createRecommendationEngine({
    db: db(),
    now: () => new Date(NOW.getTime() + HOUR),
    enqueue: async (id) => {
      calls.push(id);
      if (enqueue) return enqueue(id);
      // What RecommendationService.start does once the workflow exists.
      await db()
        .update(competitiveRecommendations)
        .set({ workflowId: `recommendation-${id}` })
        .where(eq(competitiveRecommendations.id, id));
    },
  });
  return { engine, calls };
}

const videoCount = async () => (await db().select({ n: count() }).from(competitiveVideos))[0]!.n;
const byUrl = async (url: string) => (await db().select().from(competitiveVideos).where(eq(competitiveVideos.url, url)))[0];

beforeAll(async () => {
  tdb = await createTestDatabase();
  await loadRosterFile(db(), path.join(SAMPLE, 'players.json'));
  resolver = createNameResolver(await db().select().from(players));
  videos = await readSampleCompetitorVideos(path.join(SAMPLE, 'competitor-videos.json'), NOW);
  for (const video of videos) await ingest(video);
});

afterAll(async () => {
  await tdb?.drop();
});

describe('competitor videos', () => {
  it('stores each sample video once, with resolved ids and flagged names', async () => {
    expect(await videoCount()).toBe(videos.length);
    const bombazo = await byUrl('https://www.youtube.com/watch?v=cFt8Jr08aLv');
    expect(bombazo?.playersMentioned).toEqual(['carlos-alvarez', 'jorge-de-frutos', 'kylian-mbappe', 'robert-lewandowski']);
    expect(bombazo?.viralPotential).toBeGreaterThanOrEqual(8);

    const trampa = await byUrl('https://www.youtube.com/watch?v=LfPj8Xk2sQ4');
    expect(trampa?.playersMentioned).toEqual(['jorge-de-frutos', 'antoine-griezmann']);
    expect(trampa?.ambiguousNames).toEqual([
      { name: 'Álvarez', team: null, reason: 'ambiguous', candidates: ['carlos-alvarez', 'julian-alvarez'] },
      { name: 'I. Romero', team: null, reason: 'ambiguous', candidates: ['isaac-romero', 'ivan-romero'] },
    ]);

    // The strong claim of the issue: "Carlos Álvarez REGALADO en jornada 8".
    const analysis = bombazo?.analysis as {
      players: Array<{ playerId: string | null; claims: Array<{ stance: string; round: number | null }> }>;
    };
    const carlos = analysis.players.find((p) => p.playerId === 'carlos-alvarez');
    expect(carlos?.claims[0]).toMatchObject({ stance: 'strong_buy', round: 8 });
  });

  it('re-processing a video (any URL form) updates its row, never duplicates it', async () => {
    const first = videos[0]!;
    const before = await byUrl(first.url);
    const again = await ingest({ ...first, url: 'https://youtu.be/cFt8Jr08aLv?si=share', views: first.views + 1000 });
    expect(again.id).toBe(before!.id);
    expect(again.views).toBe(first.views + 1000);
    expect(await videoCount()).toBe(videos.length);
    expect(canonicalVideoUrl('https://m.youtube.com/shorts/cFt8Jr08aLv')).toBe(first.url);
    await ingest(first); // back to the sample's numbers for the golden test
  });

  it('an Instagram reel or a TikTok video pasted in another form (share parameters, /p/, /reels/) is the same row', async () => {
    const reel = await ingest({ ...videos[0]!, url: 'https://www.instagram.com/p/DCx_Ab-12/?igsh=MTc4MmM1YmI2Ng==' });
    expect(reel.url).toBe('https://www.instagram.com/reel/DCx_Ab-12/');
    for (const form of [
      'https://instagram.com/reels/DCx_Ab-12',
      'https://m.instagram.com/reel/DCx_Ab-12/?utm_source=ig_web_copy_link',
      'https://www.instagram.com/canalchollos/reel/DCx_Ab-12/',
    ]) {
      expect(canonicalVideoUrl(form)).toBe(reel.url);
      expect((await ingest({ ...videos[0]!, url: form })).id).toBe(reel.id);
    }
    // A shortcode is case-sensitive: another letter case is another video.
    expect(canonicalVideoUrl('https://www.instagram.com/reel/dcx_ab-12/')).not.toBe(reel.url);
    const tiktok = await ingest({
      ...videos[0]!,
      url: 'https://www.tiktok.com/@canal.chollos/video/7441234567890?is_from_webapp=1&sender_device=pc',
    });
    expect(tiktok.url).toBe('https://www.tiktok.com/@canal.chollos/video/7441234567890');
    expect((await ingest({ ...videos[0]!, url: 'https://m.tiktok.com/@canal.chollos/video/7441234567890/' })).id).toBe(tiktok.id);
    // An Instagram profile or a page that is not a post keeps its own form (add-video refuses those before this).
    expect(canonicalVideoUrl('https://www.instagram.com/canalchollos/')).toBe('https://www.instagram.com/canalchollos/');
    await db()
      .delete(competitiveVideos)
      .where(inArray(competitiveVideos.id, [reel.id, tiktok.id]));
  });

  it('drizzle/0049 moves rows saved before to these forms; of one video saved twice the oldest row takes the form', async () => {
    const migration = await readFile(path.join(__dirname, '../../drizzle/0049_competitor_url_forms.sql'), 'utf8');
    const rows = [
      ['https://www.instagram.com/p/OLDform1/?igsh=abc', '2026-01-01'],
      ['https://instagram.com/reels/OLDform1/', '2026-01-02'],
      ['https://www.tiktok.com/@someone/video/123456?lang=es', '2026-01-03'],
      ['https://www.instagram.com/reel/TAKEN1/?igsh=x', '2026-01-04'],
      ['https://www.instagram.com/reel/TAKEN1/', '2026-01-05'],
      ['https://example.com/watch?id=1', '2026-01-06'],
    ];
    for (const [url, at] of rows) {
      await tdb.database.pool.query(
        `INSERT INTO competitive_videos (url, channel, title, views, transcript, created_at) VALUES ($1, 'c', 't', 1, 'x', $2)`,
        [url, at],
      );
    }
    await tdb.database.pool.query(migration);
    const { rows: after } = await tdb.database.pool.query<{ url: string }>(
      `SELECT url FROM competitive_videos WHERE created_at >= '2026-01-01' AND created_at < '2026-01-07' ORDER BY created_at`,
    );
    expect(after.map((r) => r.url)).toEqual([
      'https://www.instagram.com/reel/OLDform1/',
      'https://instagram.com/reels/OLDform1/',
      'https://www.tiktok.com/@someone/video/123456',
      'https://www.instagram.com/reel/TAKEN1/?igsh=x',
      'https://www.instagram.com/reel/TAKEN1/',
      'https://example.com/watch?id=1',
    ]);
    // Every moved url is what the code computes for the old one.
    expect(after[0]!.url).toBe(canonicalVideoUrl(rows[0]![0]!));
    expect(after[2]!.url).toBe(canonicalVideoUrl(rows[2]![0]!));
    await tdb.database.pool.query(`DELETE FROM competitive_videos WHERE created_at >= '2026-01-01' AND created_at < '2026-01-07'`);
  });

  it('saves a video whose channel was removed while it was analysed, with no channel, instead of failing the paid save', async () => {
    const video = { ...videos[0]!, url: 'https://www.youtube.com/watch?v=chanGone001' };
    const analysis = analyse(video);
    const [channel] = (
      await tdb.database.pool.query(
        `INSERT INTO competitor_channels (platform, external_id, handle, display_name) VALUES ('youtube', 'UCgone', '@gone', 'Gone')
         RETURNING id`,
      )
    ).rows as Array<{ id: string }>;
    await tdb.database.pool.query('DELETE FROM competitor_channels WHERE id = $1', [channel!.id]);
    const saved = await saveCompetitorVideo(
      db(),
      { ...video, channelId: channel!.id, analysis, resolution: resolveAnalysisPlayers(resolver, analysis) },
      NOW,
    );
    expect(saved).toMatchObject({ status: 'analysed', channelId: null });
    await tdb.database.pool.query('DELETE FROM competitive_videos WHERE id = $1', [saved.id]);
  });

  it('rejects malformed model output and stores nothing', async () => {
    const video = { ...videos[1]!, url: 'https://www.youtube.com/watch?v=malformed01' };
    const good = analyse(video);
    const broken: Array<[string, unknown]> = [
      ['viral potential out of range', { ...good, viralPotential: 14 }],
      [
        'unknown stance',
        { ...good, players: [{ name: 'Budimir', team: null, claims: [{ text: 'a la luna', stance: 'moon', round: null }] }] },
      ],
      ['missing players', { topic: good.topic, sentiment: good.sentiment, viralPotential: good.viralPotential }],
      ['extra key (strict mode would never send it)', { ...good, confidence: 0.9 }],
      ['not an object', 'Lo siento, no puedo ayudar con eso.'],
    ];
    for (const [why, analysis] of broken) {
      const parsed = competitorAnalysisSchema.safeParse(analysis);
      expect(parsed.success, why).toBe(false);
      await expect(
        saveCompetitorVideo(db(), { ...video, analysis, resolution: resolveAnalysisPlayers(resolver, good) }, NOW),
        why,
      ).rejects.toBeInstanceOf(MalformedAnalysisError);
    }
    expect(await byUrl(video.url)).toBeUndefined();
    expect(await videoCount()).toBe(videos.length);
  });

  it('keeps the strict JSON Schema sent to OpenAI in step with the zod schema', () => {
    expect([...competitorAnalysisJsonSchema.required].sort()).toEqual(Object.keys(competitorAnalysisSchema.shape).sort());
    const player = competitorAnalysisJsonSchema.properties.players.items;
    expect([...player.required].sort()).toEqual(['claims', 'name', 'team']);
    expect(player.properties.claims.items.properties.stance.enum).toEqual(['strong_buy', 'buy', 'hold', 'sell', 'strong_sell']);
  });
});

describe('recommendation engine (golden, shipped sample)', () => {
  const runAt = new Date(NOW.getTime() + HOUR);
  const bucket = windowStart(NOW, 7);
  const at = (hours: number) => new Date(runAt.getTime() + hours * HOUR);
  const videoId = async (url: string) => (await byUrl(url))!.id;
  /** A pending recommendation as the engine should create it: deadline `hours` after the run, dedupe key in this week's bucket. */
  const pending = async (type: string, target: string, priority: string, hours: number, sourceUrl?: string) => ({
    type,
    target,
    priority,
    deadline: at(hours),
    source: sourceUrl ? await videoId(sourceUrl) : null,
    key: `${type}:${target}:${bucket}`,
    status: 'pending',
  });

  it('finds each kind of idea once, with its priority, deadline and source', async () => {
    expect(bucket).toBe('2025-10-16');
    const { engine, calls } = engineWithRecorder();
    const result = await engine.generateRecommendations();

    expect(result.unreadableVideos).toEqual([]);
    expect(result.skipped).toBe(0);
    expect(
      result.created.map((r) => ({
        type: r.recommendationType,
        target: r.targetPlayer,
        priority: r.priority,
        deadline: r.urgencyDeadline,
        source: r.sourceVideoId,
        key: r.dedupeKey,
        status: r.status,
      })),
    ).toEqual([
      // A viral video calls Carlos Álvarez "REGALADO": doubtful, 2.2 pts/round, 43% of minutes.
      await pending('counter_argument', 'carlos-alvarez', 'P0', 24, 'https://www.youtube.com/watch?v=cFt8Jr08aLv'),
      // 650k views, 10 h old, hype: an urgent opportunity, answered within 24 h about Lamine Yamal.
      await pending('viral_response', 'lamine-yamal', 'P0', 24, 'https://www.youtube.com/watch?v=Dn4ViR4l650'),
      // "Vended a Budimir" on a small channel, while he is our best value forward.
      await pending('counter_argument', 'ante-budimir', 'P1', 48, 'https://www.youtube.com/watch?v=rM8t2QpLx0w'),
      // De Frutos on three channels (Carlos Álvarez too, but his counter-argument wins).
      await pending('trend_jump', 'jorge-de-frutos', 'P1', 48, 'https://www.youtube.com/watch?v=cFt8Jr08aLv'),
      // "Arda Güler es imprescindible": our data rates him average (1.57 pts/M) while Carlos Vicente gives 7.75 in midfield.
      {
        ...(await pending('counter_argument', 'arda-guler', 'P1', 48, 'https://www.youtube.com/watch?v=FaN1c0W1ll8')),
        key: `counter_argument:arda-guler:${windowStart(new Date(NOW.getTime() - 70 * HOUR), 7)}`,
      },
      // Bargains nobody covers, best two only (Fornals is third; Iván Romero may be the ambiguous "I. Romero").
      await pending('player_spotlight', 'roger-brugue', 'P2', 24 * 7),
      await pending('player_spotlight', 'carlos-vicente', 'P2', 24 * 7),
    ]);

    const targets = result.created.map((r) => r.targetPlayer);
    expect(targets).not.toContain('pedri'); // "PEDRI REGALADO" is 200 h old: outside the window
    expect(targets).not.toContain('ivan-romero');
    expect(targets).not.toContain('pablo-fornals');

    const counter = result.created[0]!;
    expect(counter.source).toBe('competitor');
    // Saved through enqueue's validation, so its job config has enqueue's defaults.
    expect(counter.jobConfig).toEqual({ provider: 'veo3', platforms: ['instagram', 'tiktok', 'youtube'], aspectRatio: '9:16' });
    expect(counter.ourData).toMatchObject({
      player: { id: 'carlos-alvarez', price: 9.5, points: 18, recentForm: 2.2, injuryStatus: 'doubtful', verdict: 'bust' },
      claim: { stance: 'strong_buy', round: 8 },
      video: { channel: 'Chollos Fantasy TV', views: 482000 },
    });
    const of = (target: string) => result.created.find((r) => r.targetPlayer === target)!.ourData as Record<string, unknown>;
    expect(of('ante-budimir')).toMatchObject({ player: { verdict: 'bargain', pointsPerMillion: 7.74 }, claim: { stance: 'sell' } });
    expect(of('jorge-de-frutos')).toMatchObject({ channels: ['Chollos Fantasy TV', 'El Rincón del Míster', 'LaLiga Fantasy Pro'] });
    // The average player hyped as essential: answered with the better options at his position, and why.
    expect(of('arda-guler')).toMatchObject({
      player: { verdict: 'neutral', pointsPerMillion: 1.57 },
      claim: { stance: 'strong_buy' },
      betterOptions: [{ id: 'carlos-vicente', pointsPerMillion: 7.75 }, { id: 'pablo-fornals' }],
    });
    // Every idea says which rule fired and on what evidence.
    for (const r of result.created) {
      const explanation = (r.ourData as { explanation?: { rule: string; because: string[] } }).explanation;
      expect(explanation?.rule, r.dedupeKey!).toMatch(new RegExp(`^${r.recommendationType}: `));
      expect(explanation!.because.length, r.dedupeKey!).toBeGreaterThan(0);
    }
    expect((of('arda-guler').explanation as { because: string[] }).because.join(' ')).toContain('Carlos Vicente (7.75 pts/M');

    expect(calls).toEqual(result.created.map((r) => r.id));
  });

  it('a second run proposes nothing new and enqueues nothing', async () => {
    const { engine, calls } = engineWithRecorder();
    const result = await engine.generateRecommendations();
    expect(result.created).toEqual([]);
    expect(result.skipped).toBe(7);
    expect(result.reenqueued).toEqual([]);
    expect(calls).toEqual([]);
    expect((await db().select({ n: count() }).from(competitiveRecommendations))[0]!.n).toBe(7);
    // A shorter lookback (`generate --limit 3`) sees some of the same videos: the same ideas, keyed by their week.
    const shorter = await engine.generateRecommendations({ lookbackDays: 3 });
    expect(shorter.created).toEqual([]);
    expect(shorter.skipped).toBeGreaterThan(0);
    expect(calls).toEqual([]);
  });

  it('a recommendation whose workflow did not start is offered again until it does', async () => {
    const [spotlight] = await db()
      .update(competitiveRecommendations)
      .set({ workflowId: null })
      .where(eq(competitiveRecommendations.targetPlayer, 'roger-brugue'))
      .returning();

    const failing = engineWithRecorder(async () => {
      throw new Error('Temporal unavailable');
    });
    await expect(failing.engine.generateRecommendations()).rejects.toBeInstanceOf(EnqueueFailedError);
    expect(failing.calls).toEqual([spotlight!.id]);

    const healthy = engineWithRecorder();
    const result = await healthy.engine.generateRecommendations();
    expect(result.created).toEqual([]);
    expect(result.reenqueued).toEqual([spotlight!.id]);
    expect(healthy.calls).toEqual([spotlight!.id]);
  });

  it('an idea left pending with no workflow that no rule plans again is started by the next run all the same', async () => {
    // A bargain of an earlier day (another generator, the rules here never plan it), whose start failed on every try.
    const { recommendation } = await insertRecommendation(
      db(),
      { title: 'Chollo de ayer', type: 'bargain', priority: 'P2', source: 'manual', dedupeKey: 'orphan:test' },
      NOW,
    );
    const healthy = engineWithRecorder();
    const result = await healthy.engine.generateRecommendations();
    expect(result.created).toEqual([]);
    expect(result.reenqueued).toEqual([recommendation.id]);
    expect(healthy.calls).toEqual([recommendation.id]);
    await db().delete(competitiveRecommendations).where(eq(competitiveRecommendations.id, recommendation.id));
  });

  it('reports counts, conversion and time to publish', async () => {
    await db()
      .update(competitiveRecommendations)
      .set({ status: 'published', publishedAt: sql`created_at + interval '6 hours'` })
      .where(eq(competitiveRecommendations.targetPlayer, 'carlos-alvarez'));
    await db()
      .update(competitiveRecommendations)
      .set({ status: 'published', publishedAt: sql`created_at + interval '10 hours'` })
      .where(eq(competitiveRecommendations.targetPlayer, 'lamine-yamal'));
    const stats = await readRecommendationStats(db());
    expect(stats).toEqual({
      total: 7,
      byStatus: { pending: 5, in_production: 0, published: 2, partially_published: 0, expired: 0, failed: 0, cancelled: 0, rejected: 0 },
      byType: { counter_argument: 3, trend_jump: 1, player_spotlight: 2, viral_response: 1, bargain: 0, breaking_news: 0 },
      byPriority: { P0: 2, P1: 3, P2: 2, P3: 0 },
      published: 2,
      conversionRate: 0.29,
      avgTimeToPublishSeconds: 8 * 3600,
    });
  });
});

describe("one insert path: the engine saves through enqueue's validation and window rule", () => {
  const runAt = new Date(NOW.getTime() + HOUR);
  const idea = (over: Partial<PlannedRecommendation>): PlannedRecommendation => ({
    type: 'player_spotlight',
    priority: 'P2',
    title: 'El chollo del que nadie habla: Roger Brugué',
    targetPlayer: 'roger-brugue',
    ourData: { test: true },
    sourceVideoId: null,
    dedupeKey: `insert-path:${Math.random()}`,
    ...over,
  });
  const bad: Array<[string, PlannedRecommendation]> = [
    ['a title too short', idea({ title: 'Ok' })],
    ['a target player too long for the column', idea({ targetPlayer: 'x'.repeat(121) })],
    ['a deadline already past', idea({ deadline: new Date(runAt.getTime() - HOUR) })],
    [
      'a deadline before it may start',
      idea({ scheduleAfter: new Date(runAt.getTime() + 48 * HOUR), deadline: new Date(runAt.getTime() + 24 * HOUR) }),
    ],
  ];

  it('rejects exactly what enqueue rejects, with the same message, saves none of it, and keeps the good ideas', async () => {
    // Validation and the window rule run before the service touches Temporal, so no client is needed here.
    const service = createRecommendationService({
      database: tdb.database,
      client: undefined as never,
      taskQueue: 'unused',
      now: () => runAt,
    });
    const expected: Array<{ dedupeKey: string; reason: string }> = [];
    for (const [why, planned] of bad) {
      const err = await service.enqueue(toEnqueueInput(planned)).catch((e: unknown) => e);
      expect(err, why).toBeInstanceOf(BadInputError);
      expected.push({ dedupeKey: planned.dedupeKey, reason: (err as Error).message });
    }
    expect(expected.map((e) => e.reason)).toEqual([
      'enqueue: title must be at least 3 characters',
      'enqueue: targetPlayer must be at most 120 characters',
      'enqueue: deadline must be in the future',
      'enqueue: deadline must be after scheduleAfter, or the video could never be made in time',
    ]);

    const good = idea({ scheduleAfter: new Date(runAt.getTime() + 24 * HOUR) });
    const calls: string[] = [];
    const engine = createRecommendationEngine({
      db: db(),
      now: () => runAt,
      enqueue: async (id) => void calls.push(id),
      rules: () => ({ recommendations: [...bad.map(([, p]) => p), good], unreadableVideos: [] }),
    });
    const result = await engine.generateRecommendations();
    expect(result.rejected).toEqual(expected);
    expect(result.created.map((r) => r.dedupeKey)).toEqual([good.dedupeKey]);
    // The window rule: a scheduled P2 has its week from when it may start, as through enqueue.
    expect(result.created[0]!.scheduleAfter).toEqual(good.scheduleAfter);
    expect(result.created[0]!.urgencyDeadline).toEqual(new Date(good.scheduleAfter!.getTime() + 7 * 24 * HOUR));
    expect(calls).toEqual([result.created[0]!.id]);
    const saved = await db()
      .select({ key: competitiveRecommendations.dedupeKey })
      .from(competitiveRecommendations)
      .where(sql`${competitiveRecommendations.dedupeKey} LIKE 'insert-path:%'`);
    expect(saved.map((r) => r.key)).toEqual([good.dedupeKey]);
  });
});

describe('roster files', () => {
  it('loads CSV as well as JSON, and applies a file with a bad row not at all', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'reelflow-roster-'));
    const header = 'id,name,team,position,price,points,recent_form,minutes,injury_status,aliases';
    const good = path.join(dir, 'good.csv');
    await writeFile(
      good,
      `${header}\n` +
        'carlos-alvarez,Carlos Álvarez,Levante,MID,9.9,18,2.2,310,doubtful,"Carlitos|C. Álvarez"\n' +
        'new-guy,"Pérez, Juan",Elche,DEF,1.5,3,1,90,,\n',
    );
    expect(await readRosterFile(good)).toEqual([
      expect.objectContaining({ id: 'carlos-alvarez', price: 9.9, aliases: ['Carlitos', 'C. Álvarez'] }),
      expect.objectContaining({ id: 'new-guy', name: 'Pérez, Juan', injuryStatus: 'fit', aliases: [] }),
    ]);

    const bad = path.join(dir, 'bad.csv');
    await writeFile(bad, `${header}\nivan-romero,Iván Romero,Levante,FWD,99,34,7.2,600,fit,\nx,X,Elche,STRIKER,1,1,1,1,fit,\n`);
    await expect(loadRosterFile(db(), bad)).rejects.toThrow(
      new RosterFileError('bad.csv row 2 (line 3), field "position": must be one of GK, DEF, MID, FWD'),
    );
    const price = path.join(dir, 'price.json');
    await writeFile(
      price,
      JSON.stringify([{ id: 'x', name: 'X', team: 'Elche', position: 'MID', price: 'barato', points: 1, recentForm: 1, minutes: 1 }]),
    );
    await expect(readRosterFile(price)).rejects.toThrow(/price.json row 1, field "price": Expected number, received string/);

    const [ivan] = await db().select().from(players).where(eq(players.id, 'ivan-romero'));
    expect(ivan?.price).toBe(3.1); // the valid first row of bad.csv was not applied
  });
});
