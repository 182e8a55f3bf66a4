/**
 * After publishing, against the real Temporal server, PostgreSQL and the simulators (time compressed: timers at
 * +2 s, +4 s, +6 s, one hour of a post's age every 100 ms):
 * - each post of a published recommendation gets one metrics workflow, which reads it through the gate (a job of
 *   the post's platform per timer) and records a row at each timer, with counts that grow;
 * - starting a post's series again starts nothing (REJECT_DUPLICATE);
 * - a post deleted between two timers ends its series with that reason, and no read is taken after it;
 * - a missing permission fails that one read (one attempt, the platform's code), and the series goes on;
 * - a Temporal server restart between timers loses no timer (durable timers; own dev server on its own port).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startTemporalServer } from '../../src/dev/temporal-server';
import { readPerformance, recordPostMetrics, startPostMetricsWorkflows } from '../../src/services/post-metrics';
import { RecommendationGoneError } from '../../src/shared/errors';
import { POST_METRICS_WORKFLOW, postMetricsWorkflowId } from '../../src/shared/workflow-ids';
import type { PostMetricsInput, PostMetricsResult } from '../../src/workflows/post-metrics';
import { recommendationInput, startHarness, type Harness } from '../helpers/harness';
import { spawnWorker } from '../helpers/processes';
import { waitUntil } from '../helpers/wait';
import { sleep } from '../../src/shared/sleep';

const READS = '2,4,6';
const HOUR_MS = 100;

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!().catch(() => undefined);
});

const q = async <T = Record<string, unknown>>(h: Harness, text: string, params: unknown[] = []) =>
  (await h.db.database.pool.query(text, params)).rows as T[];
const compress = (h: Harness) => {
  for (const sim of [h.sims.instagram, h.sims.tiktok, h.sims.youtube]) sim.metrics.hourMs = HOUR_MS;
};
/** A recommendation's readings, by platform and age. */
const readingsOf = (h: Harness, recommendationId: string) =>
  q<{ platform: string; age_seconds: number; age_bucket: string; views: string; read_at: Date; published_at: Date }>(
    h,
    `SELECT * FROM post_metrics WHERE recommendation_id = $1 ORDER BY platform, age_seconds`,
    [recommendationId],
  );
/** [platform, age, bucket] for each platform in that order, at each [age, bucket]. */
const onEachPlatform = (...ages: Array<[number, string]>) =>
  ['instagram', 'tiktok', 'youtube'].flatMap((p) => ages.map(([age, bucket]) => [p, age, bucket]));
/** A recommendation row for posts the test makes up (post_metrics references it). */
const recommendationRow = async (h: Harness, title: string) =>
  (
    await q<{ id: string }>(
      h,
      `INSERT INTO competitive_recommendations (priority, status, recommendation_type, title, target_player)
       VALUES ('P2', 'published', 'player_spotlight', $1, 'carlos-alvarez') RETURNING id`,
      [title],
    )
  )[0]!.id;

describe('post metrics workflow', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ env: { REELFLOW_METRICS_READS: READS, REELFLOW_METRICS_READ_WAIT_SECONDS: '10' } });
  });
  afterAll(async () => h?.stop());

  it('reads every post of a published recommendation at each timer, through the gate, and records each reading', async () => {
    compress(h);
    const { recommendation, workflowId } = await h.service.enqueue(recommendationInput({ title: 'metrics end to end' }));
    const outcome = await h.client.workflow.getHandle(workflowId).result();
    expect(outcome.status).toBe('published');
    const posts = outcome.posts as Array<{ platform: string; postId: string }>;
    expect(posts).toHaveLength(3);
    const results = await Promise.all(
      posts.map((p) => h.client.workflow.getHandle(postMetricsWorkflowId(p.platform, p.postId)).result() as Promise<PostMetricsResult>),
    );
    for (const r of results) {
      expect(r.status).toBe('complete');
      expect(r.reads.map((x) => x.offsetSeconds)).toEqual([2, 4, 6]);
    }
    const rows = await readingsOf(h, recommendation.id);
    expect(rows.map((r) => [r.platform, r.age_seconds, r.age_bucket])).toEqual(onEachPlatform([2, '2s'], [4, '4s'], [6, '6s']));
    const published = await q<{ completed_at: Date; step: string }>(
      h,
      `SELECT step, completed_at FROM automation_queue WHERE recommendation_id = $1 AND step LIKE 'publish:%'`,
      [recommendation.id],
    );
    for (const r of rows) {
      // Each read waited for its timer, counted from the post's publish.
      const publishedAt = published.find((p) => p.step === `publish:${r.platform}`)!.completed_at.getTime();
      expect(r.read_at.getTime() - publishedAt).toBeGreaterThanOrEqual(r.age_seconds * 1_000);
    }
    for (const platform of ['instagram', 'tiktok', 'youtube']) {
      const views = rows.filter((r) => r.platform === platform).map((r) => Number(r.views));
      expect(views[0], platform).toBeGreaterThan(0);
      expect(views[2]!, platform).toBeGreaterThan(views[0]!);
    }
    // Every read was a job of the platform's read API (not its publishing line), completed through the gate; none
    // tied to the recommendation's plan.
    const jobs = await q<{ job_type: string; api_provider: string; status: string; step: string; priority: string }>(
      h,
      `SELECT job_type, api_provider, status, step, priority FROM automation_queue
        WHERE workflow_id LIKE 'post-metrics-%' ORDER BY job_type, step`,
    );
    expect(jobs.map((j) => [j.job_type, j.api_provider, j.status, j.step, j.priority])).toEqual(
      [
        ['instagram', 'instagram_graph'],
        ['tiktok', 'tiktok_data'],
        ['youtube', 'youtube_data'],
      ].flatMap(([p, line]) => ['metrics:2', 'metrics:4', 'metrics:6'].map((s) => [`${p}_metrics`, line, 'completed', s, 'P3'])),
    );
    const events = await q<{ n: number }>(
      h,
      `SELECT count(*)::int AS n FROM job_events e JOIN automation_queue j ON j.id = e.job_id
        WHERE j.workflow_id LIKE 'post-metrics-%' AND e.event = 'started'`,
    );
    expect(events[0]!.n).toBe(9);

    // markPublished again (a retried activity): no second series.
    const started = await startPostMetricsWorkflows(
      h.db.database.pool,
      { client: h.client, taskQueue: h.taskQueue, readsSeconds: [2, 4, 6] },
      recommendation.id,
    );
    expect(started).toEqual([]);
  });

  it('a post deleted between two timers ends its series with that reason', async () => {
    compress(h);
    const recommendationId = await recommendationRow(h, 'deleted later');
    // Workflow ids live as long as the shared server's history: a post id of this run only.
    const postId = `179${Date.now()}${Math.floor(Math.random() * 1_000)}`;
    h.sims.instagram.metrics.published(postId, Date.now());
    const input: PostMetricsInput = {
      recommendationId,
      platform: 'instagram',
      postId,
      publishedAt: new Date().toISOString(),
      readsSeconds: [2, 4, 6],
    };
    const handle = await h.client.workflow.start(POST_METRICS_WORKFLOW, {
      taskQueue: h.taskQueue,
      workflowId: postMetricsWorkflowId('instagram', postId),
      args: [input],
      workflowIdReusePolicy: 'REJECT_DUPLICATE',
    });
    await waitUntil(async () => (await q(h, `SELECT 1 FROM post_metrics WHERE post_id = $1`, [postId])).length === 1, {
      what: 'the first reading',
      timeoutMs: 15_000,
    });
    h.sims.instagram.metrics.delete(postId);
    const result = (await handle.result()) as PostMetricsResult;
    expect(result.status).toBe('post_gone');
    expect(result.reason).toMatch(/is gone/);
    expect(result.reads.map((r) => r.offsetSeconds)).toEqual([2, 4]);
    expect(await q(h, `SELECT age_seconds FROM post_metrics WHERE post_id = $1`, [postId])).toEqual([{ age_seconds: 2 }]);
    // The read that found it gone completed (an answer, not a failure); none was enqueued after it.
    const jobs = await q<{ step: string; status: string }>(
      h,
      `SELECT step, status FROM automation_queue WHERE workflow_id = $1 ORDER BY step`,
      [handle.workflowId],
    );
    expect(jobs).toEqual([
      { step: 'metrics:2', status: 'completed' },
      { step: 'metrics:4', status: 'completed' },
    ]);
  });

  it('a series behind its timers is flagged with why: the post gone, or its workflow ended with readings still due', async () => {
    compress(h);
    const t0 = new Date();
    const recommendationId = await recommendationRow(h, 'measured, then no longer');
    const start = async (platform: 'instagram' | 'tiktok' | 'youtube', readsSeconds: number[]) => {
      const postId = `179${Date.now()}${Math.floor(Math.random() * 1_000)}`;
      h.sims[platform].metrics.published(postId, Date.now());
      const input: PostMetricsInput = { recommendationId, platform, postId, publishedAt: new Date().toISOString(), readsSeconds };
      // As startPostMetricsWorkflows records it: the report reads the series' timers from it.
      await q(
        h,
        `INSERT INTO post_metric_series (platform, post_id, recommendation_id, published_at, reads_seconds, hour_ms, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $4)`,
        [platform, postId, recommendationId, input.publishedAt, readsSeconds, 3_600_000],
      );
      const handle = await h.client.workflow.start(POST_METRICS_WORKFLOW, {
        taskQueue: h.taskQueue,
        workflowId: postMetricsWorkflowId(platform, postId),
        args: [input],
        workflowIdReusePolicy: 'REJECT_DUPLICATE',
      });
      await waitUntil(async () => (await q(h, `SELECT 1 FROM post_metrics WHERE post_id = $1`, [postId])).length === 1, {
        what: 'the first reading',
        timeoutMs: 15_000,
      });
      return { postId, handle };
    };
    // Deleted after its first reading: the next read finds it gone and the series ends.
    const deleted = await start('instagram', [2, 4]);
    h.sims.instagram.metrics.delete(deleted.postId);
    await deleted.handle.result();
    // Terminated after its first reading, its +1 h timer still ahead: no read will ever come.
    const stopped = await start('tiktok', [2, 3_600]);
    await stopped.handle.terminate('operator: by mistake');
    // Its token loses the read scope after its first reading: the next read fails (not retried), the series ends.
    const refused = await start('youtube', [2, 4]);
    h.sims.youtube.metrics.permissionDenied = true;
    try {
      await refused.handle.result();
    } finally {
      h.sims.youtube.metrics.permissionDenied = false;
    }

    const behindOf = async (at: Date) =>
      new Map(
        (await readPerformance(h.db.database.pool, {}, at, 10_000)).posts
          .filter((p) => p.recommendationId === recommendationId)
          .map((p) => [p.platform, p.behind]),
      );
    // Each has a reading: as a young post doing fine, until its missing one is due and past the read's wait twice.
    expect(await behindOf(t0)).toEqual(
      new Map([
        ['instagram', null],
        ['tiktok', null],
        ['youtube', null],
      ]),
    );
    const later = await behindOf(new Date(Date.now() + 2 * 3_600_000));
    expect(later.get('instagram')).toMatchObject({
      age: '4s',
      reason: expect.stringMatching(/^the post is gone \(.*is gone.*\): its series ended$/),
    });
    expect(later.get('tiktok')).toMatchObject({
      age: '1h',
      reason: `no +1h read was taken: its series stopped (temporal workflow describe --workflow-id ${stopped.handle.workflowId})`,
    });
    expect(later.get('youtube')).toMatchObject({
      age: '4s',
      reason: expect.stringMatching(/^its \+4s read failed: youtube: .*not properly authorized.*\(forbidden\)$/),
    });
  });

  it('a series started late reads the last timer due, not each past one under its own age (a post adopted days later)', async () => {
    const recommendationId = await recommendationRow(h, 'adopted late');
    const postId = `179${Date.now()}${Math.floor(Math.random() * 1_000)}`;
    const publishedAt = Date.now() - 20_000;
    h.sims.instagram.metrics.published(postId, publishedAt);
    const input: PostMetricsInput = {
      recommendationId,
      platform: 'instagram',
      postId,
      publishedAt: new Date(publishedAt).toISOString(),
      readsSeconds: [2, 4, 12, 24],
    };
    const handle = await h.client.workflow.start(POST_METRICS_WORKFLOW, {
      taskQueue: h.taskQueue,
      workflowId: postMetricsWorkflowId('instagram', postId),
      args: [input],
    });
    const result = (await handle.result()) as PostMetricsResult;
    expect(result.status).toBe('complete');
    // At 20 s of age, +2 s, +4 s and +12 s are all past: reading each would give the same count three ages.
    expect(result.reads.map((r) => [r.offsetSeconds, r.error === null])).toEqual([
      [2, false],
      [4, false],
      [12, true],
      [24, true],
    ]);
    expect(result.reads[0]!.error).toMatch(/^not read: overdue/);
    const rows = await q<{ age_seconds: number }>(h, `SELECT age_seconds FROM post_metrics WHERE post_id = $1 ORDER BY age_seconds`, [
      postId,
    ]);
    expect(rows.map((r) => r.age_seconds)).toEqual([12, 24]);
  });

  it('a read behind a spent quota is given up at its wait (its deadline), once, and the series goes on', async () => {
    const recommendationId = await recommendationRow(h, 'quota spent');
    const postId = `yt${Date.now().toString(36)}q`;
    h.sims.youtube.metrics.published(postId, Date.now());
    await q(h, `UPDATE provider_quotas SET parked_until = now() + interval '1 hour' WHERE name = 'youtube_api_units'`);
    try {
      const started = Date.now();
      const result = (await h.client.workflow.execute(POST_METRICS_WORKFLOW, {
        taskQueue: h.taskQueue,
        workflowId: postMetricsWorkflowId('youtube', postId),
        args: [{ recommendationId, platform: 'youtube', postId, publishedAt: new Date().toISOString(), readsSeconds: [1] }],
      })) as PostMetricsResult;
      // Given up at the 10 s wait (REELFLOW_METRICS_READ_WAIT_SECONDS), not timed out after the hour and tried again.
      expect(result.status).toBe('complete');
      expect(result.reads).toEqual([expect.objectContaining({ offsetSeconds: 1, views: null, error: expect.stringMatching(/deadline/) })]);
      expect(Date.now() - started).toBeLessThan(40_000);
      const jobs = await q<{ status: string; attempts: number }>(
        h,
        `SELECT status, attempts FROM automation_queue WHERE workflow_id = $1`,
        [postMetricsWorkflowId('youtube', postId)],
      );
      expect(jobs).toEqual([{ status: 'cancelled', attempts: 1 }]);
    } finally {
      await q(h, `UPDATE provider_quotas SET parked_until = NULL WHERE name = 'youtube_api_units'`);
    }
  });

  it('a series whose recommendation is no longer in the database ends at its next timer, reading nothing more', async () => {
    compress(h);
    // The demo's database started over while Temporal kept the last run's series: their +1 h timers fired against the
    // new database, read the post, and retried the reading's row for good (its recommendation is not there).
    const recommendationId = await recommendationRow(h, 'deleted after the first reading');
    const postId = `179${Date.now()}${Math.floor(Math.random() * 1_000)}`;
    h.sims.instagram.metrics.published(postId, Date.now());
    const handle = await h.client.workflow.start(POST_METRICS_WORKFLOW, {
      taskQueue: h.taskQueue,
      workflowId: postMetricsWorkflowId('instagram', postId),
      args: [
        { recommendationId, platform: 'instagram', postId, publishedAt: new Date().toISOString(), readsSeconds: [2, 4, 6] },
      ] satisfies PostMetricsInput[],
      workflowIdReusePolicy: 'REJECT_DUPLICATE',
    });
    await waitUntil(async () => (await q(h, `SELECT 1 FROM post_metrics WHERE post_id = $1`, [postId])).length === 1, {
      what: 'the first reading',
      timeoutMs: 15_000,
    });
    await q(h, `DELETE FROM competitive_recommendations WHERE id = $1`, [recommendationId]);
    const result = (await handle.result()) as PostMetricsResult;
    expect(result.status).toBe('recommendation_gone');
    expect(result.reason).toMatch(/^recommendation \S+ is not in this database/);
    expect(result.reads.map((r) => r.offsetSeconds)).toEqual([2]);
    // No read enqueued after it: nothing spent on the platform's read quota.
    const steps = await q<{ step: string }>(h, `SELECT step FROM automation_queue WHERE workflow_id = $1 ORDER BY step`, [
      handle.workflowId,
    ]);
    expect(steps.map((j) => j.step)).toEqual(['metrics:2']);

    // A reading whose recommendation went between its read and its row: the same end, not a retry for good.
    await expect(
      recordPostMetrics(h.db.database.pool, {
        recommendationId,
        platform: 'instagram',
        postId,
        publishedAt: new Date().toISOString(),
        readAt: new Date().toISOString(),
        ageSeconds: 4,
        jobId: null,
        metrics: { views: 1, reach: null, likes: null, comments: null, shares: null, saves: null, interactions: null },
      }),
    ).rejects.toBeInstanceOf(RecommendationGoneError);
  });

  it('a missing permission fails that read only (not retried); the series goes on once the token is fixed', async () => {
    compress(h);
    const recommendationId = await recommendationRow(h, 'permission');
    const postId = `7${Date.now()}${Math.floor(Math.random() * 1_000)}`;
    h.sims.tiktok.metrics.published(postId, Date.now());
    h.sims.tiktok.metrics.permissionDenied = true;
    const input: PostMetricsInput = {
      recommendationId,
      platform: 'tiktok',
      postId,
      publishedAt: new Date().toISOString(),
      readsSeconds: [2, 4],
    };
    const handle = await h.client.workflow.start(POST_METRICS_WORKFLOW, {
      taskQueue: h.taskQueue,
      workflowId: postMetricsWorkflowId('tiktok', postId),
      args: [input],
    });
    const failed = await waitUntil(
      async () =>
        (
          await q<{ status: string; attempts: number; error: string }>(h, `SELECT * FROM automation_queue WHERE workflow_id = $1`, [
            handle.workflowId,
          ])
        )[0],
      { until: (j) => j?.status === 'failed', what: 'the first read to fail', timeoutMs: 15_000 },
    );
    // Permanent: one attempt, the platform's own code in the message.
    expect(failed!.attempts).toBe(1);
    expect(failed!.error).toContain('scope_not_authorized');
    h.sims.tiktok.metrics.permissionDenied = false;
    const result = (await handle.result()) as PostMetricsResult;
    expect(result.status).toBe('complete');
    expect(result.reads.map((r) => [r.offsetSeconds, r.error === null])).toEqual([
      [2, false],
      [4, true],
    ]);
    expect(await q(h, `SELECT age_seconds FROM post_metrics WHERE post_id = $1`, [postId])).toEqual([{ age_seconds: 4 }]);
  });
});

describe('post metrics on a compressed clock (REELFLOW_METRICS_HOUR_MS, as in the demo)', () => {
  it('reads each post at +1 h and +2 h of its age within seconds, and records the nominal ages', { timeout: 60_000 }, async () => {
    const h = await startHarness({ env: { REELFLOW_METRICS_READS: '3600,7200', REELFLOW_METRICS_HOUR_MS: '1000' } });
    cleanups.push(() => h.stop());
    for (const sim of [h.sims.instagram, h.sims.tiktok, h.sims.youtube]) sim.metrics.hourMs = 1_000;
    const { recommendation, workflowId } = await h.service.enqueue(recommendationInput({ title: 'metrics on the demo clock' }));
    const outcome = await h.client.workflow.getHandle(workflowId).result();
    const posts = outcome.posts as Array<{ platform: string; postId: string }>;
    expect(posts).toHaveLength(3);
    for (const p of posts) {
      const result = (await h.client.workflow.getHandle(postMetricsWorkflowId(p.platform, p.postId)).result()) as PostMetricsResult;
      expect(result.status).toBe('complete');
    }
    const rows = await readingsOf(h, recommendation.id);
    expect(rows.map((r) => [r.platform, r.age_seconds, r.age_bucket])).toEqual(onEachPlatform([3600, '1h'], [7200, '2h']));
    // Each series recorded the schedule it runs on, from its post's publish: what the reports say "first reading" from.
    const series = await q<{ platform: string; reads_seconds: number[]; hour_ms: number; published_at: Date; completed_at: Date }>(
      h,
      `SELECT s.platform, s.reads_seconds, s.hour_ms, s.published_at, q.completed_at FROM post_metric_series s
         JOIN automation_queue q ON q.recommendation_id = s.recommendation_id AND q.step = 'publish:' || s.platform
        WHERE s.recommendation_id = $1 ORDER BY s.platform`,
      [recommendation.id],
    );
    expect(series.map((s) => [s.platform, s.reads_seconds, s.hour_ms, s.published_at.getTime() - s.completed_at.getTime()])).toEqual(
      ['instagram', 'tiktok', 'youtube'].map((p) => [p, [3600, 7200], 1_000, 0]),
    );
    for (const r of rows) {
      // An hour of age is a second here: each read waited for its (compressed) timer, and not for an hour.
      const waited = r.read_at.getTime() - r.published_at.getTime();
      expect(waited, `${r.platform} ${r.age_bucket}`).toBeGreaterThanOrEqual(r.age_seconds / 3.6);
      expect(waited, `${r.platform} ${r.age_bucket}`).toBeLessThan(30_000);
    }
    for (const platform of ['instagram', 'tiktok', 'youtube']) {
      const views = rows.filter((r) => r.platform === platform).map((r) => Number(r.views));
      expect(views[1]!, platform).toBeGreaterThan(views[0]!);
    }
  });
});

describe('a series whose every read failed', () => {
  it('is reported as never read, with why, not as due days ago', { timeout: 60_000 }, async () => {
    const h = await startHarness({ env: { REELFLOW_METRICS_READS: '3600,7200', REELFLOW_METRICS_HOUR_MS: '1000' } });
    cleanups.push(() => h.stop());
    h.sims.tiktok.metrics.hourMs = 1_000;
    // The token lacks video.list for the whole series.
    h.sims.tiktok.metrics.permissionDenied = true;
    const { recommendation, workflowId } = await h.service.enqueue(
      recommendationInput({ title: 'sin permiso de lectura', jobConfig: { platforms: ['tiktok'] } }),
    );
    const outcome = await h.client.workflow.getHandle(workflowId).result();
    const [post] = outcome.posts as Array<{ platform: string; postId: string }>;
    const series = (await h.client.workflow.getHandle(postMetricsWorkflowId('tiktok', post!.postId)).result()) as PostMetricsResult;
    expect(series.reads.map((r) => r.error !== null)).toEqual([true, true]);
    const report = await readPerformance(h.db.database.pool, {});
    expect(report.posts.filter((p) => p.recommendationId === recommendation.id)).toEqual([]);
    expect(report.unread.filter((u) => u.recommendationId === recommendation.id)).toEqual([
      expect.objectContaining({ platform: 'tiktok', ended: expect.stringMatching(/^every read failed; the last: .*scope_not_authorized/) }),
    ]);
    // Nothing left to read: the report's next reading is not this post's, in the past.
    expect(report.firstReadingAt).toBeNull();
  });
});

describe('post metrics across a Temporal restart', () => {
  it('a timer due while the server is down fires once it is back; every reading is recorded once', { timeout: 120_000 }, async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'reelflow-metrics-restart-'));
    const dbFile = path.join(dir, 'temporal.sqlite');
    // Its own ports: faults.test.ts uses 7933 for the same kind of test.
    const opts = { port: 7943, uiPort: 8943, dbFile, logFile: `${dbFile}.log` };
    let server = await startTemporalServer(opts);
    cleanups.push(() => server.stop());
    const h = await startHarness({ temporalAddress: server.address, workers: false, env: { REELFLOW_METRICS_READS: READS } });
    cleanups.push(() => h.stop());
    compress(h);
    const worker = await spawnWorker(h.childEnv);
    cleanups.push(() => worker.kill('SIGKILL'));
    const recommendationId = await recommendationRow(h, 'restart');
    const postId = `yt${Date.now().toString(36)}`;
    h.sims.youtube.metrics.published(postId, Date.now());
    const input: PostMetricsInput = {
      recommendationId,
      platform: 'youtube',
      postId,
      publishedAt: new Date().toISOString(),
      // The last timer well after the outage: with it due by the time the +4 s one fires (a loaded machine's slow first
      // reading and restart, 2026-12-08), the +4 s one is rightly skipped as overdue, and this test read [2, 6].
      readsSeconds: [2, 4, 20],
    };
    const workflowId = postMetricsWorkflowId('youtube', postId);
    await h.client.workflow.start(POST_METRICS_WORKFLOW, { taskQueue: h.taskQueue, workflowId, args: [input] });
    await waitUntil(async () => (await q(h, `SELECT 1 FROM post_metrics WHERE post_id = $1`, [postId])).length === 1, {
      what: 'the first reading',
      timeoutMs: 30_000,
    });
    await server.stop();
    // The +4 s timer comes due while the server is down.
    await sleep(3_000);
    server = await startTemporalServer(opts);
    const result = (await h.client.workflow.getHandle(workflowId).result()) as PostMetricsResult;
    expect(result.status).toBe('complete');
    const rows = await q<{ age_seconds: number; views: string }>(
      h,
      `SELECT age_seconds, views FROM post_metrics WHERE post_id = $1 ORDER BY age_seconds`,
      [postId],
    );
    expect(rows.map((r) => r.age_seconds)).toEqual([2, 4, 20]);
    expect(Number(rows[2]!.views)).toBeGreaterThan(Number(rows[0]!.views));
    const jobs = await q<{ n: number }>(h, `SELECT count(*)::int AS n FROM automation_queue WHERE workflow_id = $1`, [workflowId]);
    expect(jobs[0]!.n).toBe(3);
  });
});
