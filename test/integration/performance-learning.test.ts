/**
 * The engine learns from recorded metrics, on a real PostgreSQL database: post_metrics rows written the way the
 * metrics workflow writes them (recordPostMetrics), read back through the content_performance view (views at
 * +24 h, spend per view), raise a performing type and player and lower a flopping one when the engine saves its
 * ideas; a cold start saves them as the rules planned them. The same report through GET /api/performance and
 * `reelflow performance`.
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRecommendationEngine } from '../../src/recommendations/engine';
import type { PlannedRecommendation } from '../../src/recommendations/rules';
import { readPerformance, recordPostMetrics } from '../../src/services/post-metrics';
import type { Priority } from '../../src/config/priorities';
import { createTestDatabase, type TestDatabase } from '../helpers/test-db';
import { dbOnlyService, sample, startTestApi } from '../api/support';
import { createMetrics } from '../../src/metrics/registry';

const NOW = new Date('2026-11-20T12:00:00Z');
const DAY = 86_400_000;

let tdb: TestDatabase;
beforeAll(async () => {
  tdb = await createTestDatabase();
});
afterAll(async () => tdb?.drop());

const q = async <T = Record<string, unknown>>(text: string, params: unknown[] = []) =>
  (await tdb.database.pool.query(text, params)).rows as T[];

let seq = 0;
/** A published recommendation with one post read at +1 h and (unless young) at +24 h, and its render's cost. */
async function publishedPost(type: string, player: string, views24h: number | null, opts: { cost?: number; platform?: string } = {}) {
  seq += 1;
  const [rec] = await q<{ id: string }>(
    `INSERT INTO competitive_recommendations (priority, status, recommendation_type, title, target_player, published_at)
     VALUES ('P2', 'published', $1, $2, $3, $4) RETURNING id`,
    [type, `${type} ${player} ${seq}`, player, new Date(NOW.getTime() - 3 * DAY)],
  );
  await q(
    `INSERT INTO automation_queue (priority, status, job_type, api_provider, estimated_duration_seconds, workflow_id, step,
       recommendation_id, cost) VALUES ('P2', 'completed', 'veo3_player_spotlight', 'veo3', 300, $1, 'generate', $2, $3)`,
    [`recommendation-${rec!.id}`, rec!.id, opts.cost ?? 60],
  );
  const platform = (opts.platform ?? 'instagram') as 'instagram';
  const base = { recommendationId: rec!.id, platform, postId: `post-${seq}`, publishedAt: new Date(NOW.getTime() - 3 * DAY).toISOString() };
  const metrics = (views: number) => ({ views, reach: null, likes: null, comments: null, shares: null, saves: null, interactions: null });
  // The +1 h reading is small for every post: if it counted, everything would look like a flop.
  await recordPostMetrics(tdb.database.pool, { ...base, readAt: NOW.toISOString(), ageSeconds: 3_600, jobId: null, metrics: metrics(5) });
  if (views24h !== null) {
    await recordPostMetrics(tdb.database.pool, {
      ...base,
      readAt: NOW.toISOString(),
      ageSeconds: 86_400,
      jobId: null,
      metrics: metrics(views24h),
    });
  }
  return rec!.id;
}

const idea = (type: string, player: string, priority: Priority, key: string): PlannedRecommendation => ({
  type: type as PlannedRecommendation['type'],
  priority,
  title: `Idea ${key}`,
  targetPlayer: player,
  ourData: { explanation: { rule: 'test rule', because: ['the rule fired'] } },
  sourceVideoId: null,
  dedupeKey: `learning:${key}`,
});

function engine(ideas: PlannedRecommendation[], minPosts: number) {
  return createRecommendationEngine({
    db: tdb.database.db,
    now: () => NOW,
    enqueue: async () => undefined,
    rules: () => ({ recommendations: ideas, unreadableVideos: [] }),
    learning: { minPosts },
  });
}

describe('the engine learns from recorded metrics', () => {
  it('a cold start saves the ideas exactly as the rules planned them', async () => {
    await publishedPost('player_spotlight', 'star', 3_000);
    await publishedPost('trend_jump', 'dud', 200);
    const plannedIdea = idea('player_spotlight', 'star', 'P2', 'cold');
    const { created } = await engine([plannedIdea], 10).generateRecommendations();
    expect(created.map((r) => r.priority)).toEqual(['P2']);
    expect(created[0]!.ourData).toEqual(plannedIdea.ourData);
  });

  it('raises what performs, lowers what flops, within bounds, with the figures in the explanation', async () => {
    // 12 posts with +24 h views (2 from the cold-start test): star's spotlights ~3x our median, dud's trends ~0.2x.
    for (let i = 0; i < 3; i++) await publishedPost('player_spotlight', 'star', 3_000, { cost: 60 });
    for (let i = 0; i < 3; i++) await publishedPost('trend_jump', 'dud', 200);
    for (let i = 0; i < 4; i++) await publishedPost('counter_argument', 'mid', 1_000);
    // Young posts (no +24 h reading yet) never count as flops.
    for (let i = 0; i < 5; i++) await publishedPost('player_spotlight', 'star', null);

    const { created } = await engine(
      [
        idea('player_spotlight', 'star', 'P2', 'raise'),
        idea('trend_jump', 'dud', 'P2', 'lower'),
        idea('player_spotlight', 'star', 'P1', 'bounded'),
        idea('counter_argument', 'mid', 'P2', 'average'),
      ],
      10,
    ).generateRecommendations();
    const byKey = new Map(created.map((r) => [r.dedupeKey, r]));
    expect(byKey.get('learning:raise')!.priority).toBe('P1');
    expect(byKey.get('learning:lower')!.priority).toBe('P3');
    // Never P0 by learning alone.
    expect(byKey.get('learning:bounded')!.priority).toBe('P1');
    expect(byKey.get('learning:average')!.priority).toBe('P2');
    // The window follows the new priority (P1: 48 h).
    const raised = byKey.get('learning:raise')!;
    expect(raised.urgencyDeadline!.getTime() - NOW.getTime()).toBe(2 * DAY);
    const because = (raised.ourData as { explanation: { because: string[] } }).explanation.because;
    expect(because[0]).toBe('the rule fired');
    expect(because[1]).toMatch(/nuestra mediana 1\.000 en 12 publicaciones/);
    expect(because[1]).toContain('player_spotlight 3,0× (4 publicaciones, mediana 3.000)');
    expect(because[1]).toContain('prioridad P2 → P1');
    const lowered = (byKey.get('learning:lower')!.ourData as { explanation: { because: string[] } }).explanation.because;
    expect(lowered[1]).toContain('trend_jump 0,2× (4 publicaciones, mediana 200)');
    expect(lowered[1]).toContain('prioridad P2 → P3');
  });

  it('content_performance gives views at +24 h and spend per view', async () => {
    const report = await readPerformance(tdb.database.pool, { type: 'player_spotlight' }, NOW);
    const measured = report.posts.filter((p) => p.views24h !== null);
    expect(measured.length).toBe(4);
    for (const p of measured) {
      expect(p.views24h).toBe(3_000);
      expect(p.viewsLatest).toBe(3_000);
      expect(p.spend).toBe(60);
      expect(p.spendPerView).toBeCloseTo(60 / 3_000);
      expect(p.series.map((s) => [s.age, s.views])).toEqual([
        ['1h', 5],
        ['24h', 3_000],
      ]);
    }
    const young = report.posts.filter((p) => p.views24h === null);
    expect(young.every((p) => p.viewsLatest === 5 && p.lastAge === '1h')).toBe(true);
    expect(report.byType).toEqual([expect.objectContaining({ key: 'player_spotlight', posts: 9, medianViews24h: 3_000 })]);
  });

  it('a second copy on the same platform (republish --again) is its own row, not hidden behind the first', async () => {
    const [rec] = await q<{ id: string }>(
      `INSERT INTO competitive_recommendations (priority, status, recommendation_type, title, target_player, published_at)
       VALUES ('P2', 'published', 'bargain', 'Dos copias', 'pedri', $1) RETURNING id`,
      [new Date(NOW.getTime() - 2 * DAY)],
    );
    for (const [postId, views] of [
      ['copy-a', 100],
      ['copy-b', 900],
    ] as const) {
      await recordPostMetrics(tdb.database.pool, {
        recommendationId: rec!.id,
        platform: 'instagram',
        postId,
        publishedAt: new Date(NOW.getTime() - 2 * DAY).toISOString(),
        readAt: new Date(NOW.getTime() - DAY).toISOString(),
        ageSeconds: 86_400,
        jobId: null,
        metrics: { views, reach: null, likes: null, comments: null, shares: null, saves: null, interactions: null },
      });
    }
    const report = await readPerformance(tdb.database.pool, { type: 'bargain' }, NOW);
    const copies = report.posts.filter((p) => p.recommendationId === rec!.id);
    expect(copies.map((p) => [p.postId, p.views24h]).sort()).toEqual([
      ['copy-a', 100],
      ['copy-b', 900],
    ]);
    await q(`DELETE FROM competitive_recommendations WHERE id = $1`, [rec!.id]);
  });

  it('a missed +24 h read leaves "+24 h" empty (never the +72 h count), and a group by platform counts a video once', async () => {
    const [rec] = await q<{ id: string }>(
      `INSERT INTO competitive_recommendations (priority, status, recommendation_type, title, target_player, published_at)
       VALUES ('P2', 'published', 'bargain', 'Sin lectura de 24 h', 'pedri', $1) RETURNING id`,
      [new Date(NOW.getTime() - 4 * DAY)],
    );
    await q(
      `INSERT INTO automation_queue (priority, status, job_type, api_provider, estimated_duration_seconds, workflow_id, step,
         recommendation_id, cost) VALUES ('P2', 'completed', 'veo3_player_spotlight', 'veo3', 300, $1, 'generate', $2, 90)`,
      [`recommendation-${rec!.id}`, rec!.id],
    );
    // Instagram's +24 h read was missed (its quota spent that day): only +1 h and +72 h. TikTok has its +24 h.
    for (const [platform, ageSeconds, views] of [
      ['instagram', 3_600, 10],
      ['instagram', 259_200, 50_000],
      ['tiktok', 86_400, 1_000],
      ['tiktok', 259_200, 2_000],
    ] as const) {
      await recordPostMetrics(tdb.database.pool, {
        recommendationId: rec!.id,
        platform,
        postId: `missed-${platform}`,
        publishedAt: new Date(NOW.getTime() - 4 * DAY).toISOString(),
        readAt: new Date(NOW.getTime() - 4 * DAY + ageSeconds * 1_000).toISOString(),
        ageSeconds,
        jobId: null,
        metrics: { views, reach: null, likes: null, comments: null, shares: null, saves: null, interactions: null },
      });
    }
    const report = await readPerformance(tdb.database.pool, { type: 'bargain' }, NOW);
    const views = Object.fromEntries(report.posts.map((p) => [p.platform, [p.views24h, p.viewsLatest]]));
    expect(views).toEqual({ instagram: [null, 50_000], tiktok: [1_000, 2_000] });
    expect(report.byType).toEqual([expect.objectContaining({ key: 'bargain', medianViews24h: 1_000, spend: 90 })]);
    // The one render of 90 credits, once across the platforms: 45 each, not 90 on each.
    expect(report.byPlatform.map((g) => [g.key, g.spend]).sort()).toEqual([
      ['instagram', 45],
      ['tiktok', 45],
    ]);
    expect(report.byPlatform.find((g) => g.key === 'tiktok')!.spendPerView).toBeCloseTo(45 / 2_000);
    await q(`DELETE FROM competitive_recommendations WHERE id = $1`, [rec!.id]);
  });
});

describe('the performance report, through the API, the CLI and /metrics', () => {
  it('exports per platform and per type what Grafana charts', async () => {
    const text = await createMetrics({ database: tdb.database, defaultMetrics: false }).scrape();
    expect(sample(text, 'reelflow_post_views_first_day_median', { type: 'player_spotlight' })).toBe(3_000);
    expect(sample(text, 'reelflow_post_views_first_day_median', { type: 'counter_argument' })).toBe(1_000);
    expect(sample(text, 'reelflow_post_views_first_day_median', { type: 'bargain' })).toBe(0);
    // trend_jump: four ideas of 60 credits each, 200 views each.
    expect(sample(text, 'reelflow_spend_per_view', { type: 'trend_jump' })).toBeCloseTo(0.3);
    expect(sample(text, 'reelflow_posts_measured', { platform: 'instagram' })).toBe(17);
    // Published more than a week before the real clock: none is among the week's posts.
    expect(sample(text, 'reelflow_post_views', { platform: 'instagram' })).toBe(0);
  });

  it('GET /api/performance filters by type and platform and names a bad field', async () => {
    const api = await startTestApi(tdb, { service: dbOnlyService(tdb) });
    try {
      expect((await api.call(null, { method: 'GET', url: '/api/performance' })).statusCode).toBe(401);
      const res = await api.call('read', { method: 'GET', url: '/api/performance?type=trend_jump&platform=instagram&since=2026-11-01' });
      expect(res.statusCode).toBe(200);
      const { data } = res.json() as { data: { posts: Array<{ type: string; views24h: number }>; byType: Array<{ key: string }> } };
      expect(data.posts.length).toBe(4);
      expect(data.posts.every((p) => p.type === 'trend_jump' && p.views24h === 200)).toBe(true);
      expect(data.byType.map((g) => g.key)).toEqual(['trend_jump']);
      const bad = await api.call('read', { method: 'GET', url: '/api/performance?platform=facebook' });
      expect(bad.statusCode).toBe(400);
      expect(bad.json().error.message).toBe('query: platform must be one of instagram, tiktok, youtube');
      const since = await api.call('read', { method: 'GET', url: '/api/performance?since=yesterday' });
      expect(since.statusCode).toBe(400);
      expect(since.json().error.message).toMatch(/^query: since must be an age \(7d, 48h, 90m\) or a date/);
      // An age past where PostgreSQL's timestamps stop is all of it, not a 500.
      const forever = await api.call('read', { method: 'GET', url: '/api/performance?type=trend_jump&platform=instagram&since=99999999d' });
      expect(forever.statusCode).toBe(200);
      expect((forever.json() as { data: { posts: unknown[] } }).data.posts.length).toBe(4);
    } finally {
      await api.app.close();
    }
  });

  it('reelflow performance prints the posts and the groups, and --json the same report', async () => {
    const run = promisify(execFile);
    const cli = path.resolve(__dirname, '../../src/cli/main.ts');
    const env = { ...process.env, DATABASE_URL: tdb.url };
    const human = await run(
      process.execPath,
      ['-r', 'tsx/cjs', cli, 'performance', '--since', '2026-11-01', '--type', 'player_spotlight'],
      {
        env,
      },
    );
    expect(human.stdout).toContain('player_spotlight');
    expect(human.stdout).toMatch(/by type[\s\S]*player_spotlight[\s\S]*by player[\s\S]*star/);
    expect(human.stdout).toContain('3,000');
    const json = await run(process.execPath, ['-r', 'tsx/cjs', cli, 'performance', '--since', '2026-11-01', '--json'], { env });
    const report = JSON.parse(json.stdout) as { posts: unknown[]; byType: Array<{ key: string; medianViews24h: number }> };
    // 2 posts of the cold start, 15 of the learning test (5 of them young).
    expect(report.posts.length).toBe(17);
    expect(report.byType.find((g) => g.key === 'counter_argument')!.medianViews24h).toBe(1_000);
    const bad = await run(process.execPath, ['-r', 'tsx/cjs', cli, 'performance', '--platform', 'facebook'], { env }).catch(
      (e: { code: number; stderr: string }) => e,
    );
    expect((bad as { code: number }).code).not.toBe(0);
    expect((bad as { stderr: string }).stderr).toContain('platform must be one of instagram, tiktok, youtube');
  });

  it('a post published but not read yet is counted as unread until its first reading, in the report and the CLI', async () => {
    const [rec] = await q<{ id: string }>(
      `INSERT INTO competitive_recommendations (priority, status, recommendation_type, title, target_player, published_at)
       VALUES ('P1', 'published', 'breaking_news', 'Recién publicado', 'pedri', $1) RETURNING id`,
      [new Date(NOW.getTime() - 3_600_000)],
    );
    // The publish job as the publish activity completes it (its result names the post), an hour before NOW.
    await q(
      `INSERT INTO automation_queue (priority, status, job_type, api_provider, estimated_duration_seconds, workflow_id, step,
         recommendation_id, result, completed_at)
       VALUES ('P1', 'completed', 'publish', 'tiktok', 60, $1, 'publish:tiktok', $2, $3, $4)`,
      [`recommendation-${rec!.id}`, rec!.id, { platform: 'tiktok', postId: 'fresh-1' }, new Date(NOW.getTime() - 3_600_000)],
    );
    const report = await readPerformance(tdb.database.pool, {}, NOW);
    expect(report.unread).toEqual([
      expect.objectContaining({
        recommendationId: rec!.id,
        platform: 'tiktok',
        postId: 'fresh-1',
        title: 'Recién publicado',
        // No series recorded for it (as for a post published before drizzle/0042): no time is made up.
        firstReadAt: null,
      }),
    ]);
    expect(report.firstReadingAt).toBeNull();
    expect(report.posts.some((p) => p.postId === 'fresh-1')).toBe(false);
    // The filters apply: another platform, another type, or a window that starts after it.
    expect((await readPerformance(tdb.database.pool, { platform: 'instagram' }, NOW)).unread).toEqual([]);
    expect((await readPerformance(tdb.database.pool, { type: 'bargain' }, NOW)).unread).toEqual([]);
    expect((await readPerformance(tdb.database.pool, { since: NOW }, NOW)).unread).toEqual([]);
    // Older than the default window (the series' 7 days) with no date asked: not listed.
    expect((await readPerformance(tdb.database.pool, {}, new Date(NOW.getTime() + 8 * DAY))).unread).toEqual([]);

    const run = promisify(execFile);
    const cli = path.resolve(__dirname, '../../src/cli/main.ts');
    const env = { ...process.env, DATABASE_URL: tdb.url };
    const human = await run(process.execPath, ['-r', 'tsx/cjs', cli, 'performance', '--since', '2026-11-01', '--platform', 'tiktok'], {
      env,
    });
    expect(human.stdout).toContain('1 not read yet (no reading scheduled yet), the newest published 2026-11-20 11:00');

    // Its series as startPostMetricsWorkflows records it: the first timer at +1 h of its age, on the real clock, then
    // on the demo's (an hour a second). The report and the CLI say when, on the clock the series runs.
    const series = (hourMs: number) =>
      q(
        `INSERT INTO post_metric_series (platform, post_id, recommendation_id, published_at, reads_seconds, hour_ms)
         VALUES ('tiktok', 'fresh-1', $1, $2, '{3600,21600}', $3)
         ON CONFLICT (platform, post_id) DO UPDATE SET hour_ms = EXCLUDED.hour_ms`,
        [rec!.id, new Date(NOW.getTime() - 3_600_000), hourMs],
      );
    // Each unread post's first reading, and the report's soonest of them (what the CLI and the dashboard say).
    const readings = async () => {
      const r = await readPerformance(tdb.database.pool, {}, NOW);
      return { each: r.unread.map((u) => u.firstReadAt), first: r.firstReadingAt };
    };
    await series(3_600_000);
    expect(await readings()).toEqual({ each: ['2026-11-20T12:00:00.000Z'], first: '2026-11-20T12:00:00.000Z' });
    const cliArgs = ['-r', 'tsx/cjs', cli, 'performance', '--since', '2026-11-01', '--platform', 'tiktok'];
    expect((await run(process.execPath, cliArgs, { env })).stdout).toContain(
      '1 not read yet (the first reading due 2026-11-20 12:00), the newest published 2026-11-20 11:00',
    );
    // A newer post (YouTube, published half an hour before NOW) read later: the soonest is not the newest.
    await q(
      `INSERT INTO automation_queue (priority, status, job_type, api_provider, estimated_duration_seconds, workflow_id, step,
         recommendation_id, result, completed_at)
       VALUES ('P1', 'completed', 'publish', 'youtube', 60, $1, 'publish:youtube', $2, $3, $4)`,
      [`recommendation-${rec!.id}`, rec!.id, { platform: 'youtube', postId: 'fresh-yt' }, new Date(NOW.getTime() - 1_800_000)],
    );
    await q(
      `INSERT INTO post_metric_series (platform, post_id, recommendation_id, published_at, reads_seconds, hour_ms)
       VALUES ('youtube', 'fresh-yt', $1, $2, '{3600}', 3600000)`,
      [rec!.id, new Date(NOW.getTime() - 1_800_000)],
    );
    expect(await readings()).toEqual({
      each: ['2026-11-20T12:30:00.000Z', '2026-11-20T12:00:00.000Z'],
      first: '2026-11-20T12:00:00.000Z',
    });
    await series(1_000);
    expect(await readings()).toEqual({
      each: ['2026-11-20T12:30:00.000Z', '2026-11-20T11:00:01.000Z'],
      first: '2026-11-20T11:00:01.000Z',
    });

    // Its first reading: from then on it is a measured post, not an unread one.
    await recordPostMetrics(tdb.database.pool, {
      recommendationId: rec!.id,
      platform: 'tiktok',
      postId: 'fresh-1',
      publishedAt: new Date(NOW.getTime() - 3_600_000).toISOString(),
      readAt: NOW.toISOString(),
      ageSeconds: 3_600,
      jobId: null,
      metrics: { views: 40, reach: null, likes: null, comments: null, shares: null, saves: null, interactions: null },
    });
    const after = await readPerformance(tdb.database.pool, {}, NOW);
    expect(after.unread.map((u) => u.postId)).toEqual(['fresh-yt']);
    expect(after.firstReadingAt).toBe('2026-11-20T12:30:00.000Z');
    expect(after.posts.filter((p) => p.postId === 'fresh-1').map((p) => p.viewsLatest)).toEqual([40]);

    // The YouTube post's first read finds it gone (deleted): its series ends. It is never read, and says why, instead
    // of "the first reading due" ever further in the past.
    await q(
      `INSERT INTO automation_queue (priority, status, job_type, api_provider, estimated_duration_seconds, workflow_id, step,
         recommendation_id, result, completed_at)
       VALUES ('P3', 'completed', 'youtube_metrics', 'youtube_data', 5, 'post-metrics-youtube-fresh-yt', 'metrics:3600', $1, $2, $3)`,
      [rec!.id, { at: NOW.toISOString(), gone: true, reason: 'youtube: video fresh-yt is gone (deleted)' }, NOW],
    );
    const ended = await readPerformance(tdb.database.pool, {}, NOW);
    expect(ended.unread).toEqual([expect.objectContaining({ postId: 'fresh-yt', ended: 'youtube: video fresh-yt is gone (deleted)' })]);
    expect(ended.firstReadingAt).toBeNull();
    const endedCli = await run(process.execPath, ['-r', 'tsx/cjs', cli, 'performance', '--since', '2026-11-01'], { env });
    expect(endedCli.stdout).toContain('never read: youtube post fresh-yt (Recién publicado): youtube: video fresh-yt is gone (deleted)');
    expect(endedCli.stdout).not.toContain('not read yet');
  });
});
